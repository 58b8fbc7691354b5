import assert from "node:assert/strict";
import { ManualClock } from "../../runtime/clock.ts";
import { Log } from "../../runtime/log/mod.ts";
import { runStorageConformance } from "../../runtime/log/storage_conformance.ts";
import { FsStorage } from "./fs_storage.ts";

runStorageConformance("filesystem", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgelog_fs_" });
  const options = { segmentBytes: 4096, indexIntervalBytes: 512 };
  return {
    storage: await FsStorage.open(dir, options),
    reopen: () => FsStorage.open(dir, options),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});

runStorageConformance(
  "filesystem (fsync never, an index entry per batch)",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "edgelog_fs_" });
    const options = {
      segmentBytes: 3000,
      indexIntervalBytes: 1,
      fsync: "never" as const,
    };
    return {
      storage: await FsStorage.open(dir, options),
      reopen: () => FsStorage.open(dir, options),
      cleanup: () => Deno.remove(dir, { recursive: true }),
    };
  },
);

runStorageConformance("filesystem (fsync every 5 ms)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgelog_fs_" });
  const options = { segmentBytes: 4096, fsync: { intervalMs: 5 } };
  return {
    storage: await FsStorage.open(dir, options),
    reopen: () => FsStorage.open(dir, options),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});

Deno.test("the Log runs on FsStorage across a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgelog_fs_log_" });
  const clock = new ManualClock(1_700_000_000_000);
  const encoder = new TextEncoder();
  try {
    let log = await Log.open({
      storage: await FsStorage.open(dir, { segmentBytes: 2048 }),
      clock,
    });
    await log.createTopic("orders", { partitions: 2 });
    await log.createTopic("doomed", { partitions: 1 });
    const positions = await log.produce(
      "orders",
      Array.from({ length: 60 }, (_, i) => ({
        key: encoder.encode(`k${i % 7}`),
        value: encoder.encode(`v${i}`.padEnd(50, ".")),
      })),
    );
    await log.deleteTopic("doomed");
    await log.close();

    log = await Log.open({
      storage: await FsStorage.open(dir, { segmentBytes: 2048 }),
      clock,
    });
    assert.deepEqual(log.listTopics().map((t) => t.name), ["orders"]);
    for (const partition of [0, 1]) {
      const expected = positions.filter((p) => p.partition === partition);
      const { records } = await log.partition("orders", partition).read(0, {
        maxRecords: 1000,
      });
      assert.deepEqual(
        records.map((r) => r.offset),
        expected.map((p) => p.offset),
      );
    }
    await log.close();
    assert.equal(
      await Deno.stat(`${dir}/topics/doomed`).catch(() => undefined),
      undefined,
      "a deleted topic's files are gone",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("deleting every partition of a topic at once never fails", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgelog_fs_del_" });
  try {
    const storage = await FsStorage.open(dir);
    for (let round = 0; round < 20; round++) {
      const stores = await Promise.all(
        [0, 1, 2, 3].map((p) => storage.openPartition("t", p)),
      );
      await Promise.all(stores.map((s) => s.close()));
      await Promise.all(
        [0, 1, 2, 3].map((p) => storage.deletePartition("t", p)),
      );
      assert.equal(await exists(`${dir}/topics/t`), false, `round ${round}`);
    }
    await storage.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a topic create or delete cut short is finished at the next open", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgelog_fs_pending_" });
  try {
    let log = await Log.open({ storage: await FsStorage.open(dir) });
    await log.createTopic("kept", { partitions: 2 });
    await log.produce("kept", [{ value: new Uint8Array([1]), partition: 1 }]);
    await log.close();

    // What a kill -9 leaves: partitions on disk and the pending record, with
    // no topic record (a create before its end, a delete after its start).
    const storage = await FsStorage.open(dir);
    for (const p of [0, 1, 2]) {
      await (await storage.openPartition("orphan", p)).close();
    }
    await storage.meta.set("topic-pending/orphan", { partitions: 3 });
    await storage.meta.set("topic-pending/kept", { partitions: 2 });
    await storage.close();

    log = await Log.open({ storage: await FsStorage.open(dir) });
    assert.equal(await exists(`${dir}/topics/orphan`), false);
    assert.deepEqual(log.listTopics().map((t) => t.name), ["kept"]);
    assert.equal(log.partition("kept", 1).highWatermark, 1);
    assert.deepEqual(await log.meta.list("topic-pending/"), []);
    for (let round = 0; round < 10; round++) {
      await log.createTopic("churn", { partitions: 3 });
      await log.deleteTopic("churn");
    }
    assert.equal(await exists(`${dir}/topics/churn`), false);
    await log.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("closed segments' read handles are capped across all partitions and reopen on demand", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgelog_fs_handles_" });
  try {
    const storage = await FsStorage.open(dir, {
      segmentBytes: 1024,
      maxOpenSegments: 3,
    });
    const log = await Log.open({ storage });
    await log.createTopic("t", { partitions: 4 });
    for (let i = 0; i < 40; i++) {
      for (let p = 0; p < 4; p++) {
        await log.produce("t", [{
          value: new TextEncoder().encode(`${p}:${i}`.padEnd(200, ".")),
          partition: p,
        }]);
      }
    }
    for (let round = 0; round < 2; round++) {
      for (let p = 0; p < 4; p++) {
        const { records } = await log.partition("t", p).read(0, {
          maxRecords: 1000,
          maxBytes: 1 << 20,
        });
        assert.equal(records.length, 40);
        assert.equal(storage.openSegments.open, 3);
      }
    }
    await log.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a topic whose partitions fail to open leaves no partition behind", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgelog_fs_emfile_" });
  try {
    const fs = await FsStorage.open(dir);
    const failing = Object.assign(Object.create(fs) as FsStorage, {
      openPartition: (topic: string, p: number) =>
        p === 5
          ? Promise.reject(new Error("Too many open files (os error 24)"))
          : fs.openPartition(topic, p),
      deletePartition: (topic: string, p: number) =>
        fs.deletePartition(topic, p),
      close: () => fs.close(),
    });
    const log = await Log.open({ storage: failing });
    await assert.rejects(
      log.createTopic("wide", { partitions: 8 }),
      /open files/,
    );
    assert.deepEqual(log.listTopics(), []);
    assert.equal(await exists(`${dir}/topics/wide`), false);
    assert.deepEqual(await log.meta.list("topic-pending/"), []);
    await log.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
