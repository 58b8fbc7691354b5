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

Deno.test("deleting a topic's partitions at once removes its folder without an error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "edgelog_fs_delete_" });
  try {
    const log = await Log.open({ storage: await FsStorage.open(dir) });
    for (let round = 0; round < 5; round++) {
      await log.createTopic("t", { partitions: 4 });
      await log.produce(
        "t",
        [0, 1, 2, 3].map((partition) => ({
          value: new Uint8Array([partition]),
          partition,
        })),
      );
      await log.deleteTopic("t");
    }
    await log.close();
    const left = [];
    for await (const entry of Deno.readDir(`${dir}/topics`)) left.push(entry);
    assert.deepEqual(left, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
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
