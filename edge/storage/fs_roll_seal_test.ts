import assert from "node:assert/strict";
import { checkedOffsets, makeBatch } from "../../test/fixtures/fs_batches.ts";
import { FsStorage, type FsStorageOptions } from "./fs_storage.ts";
import { readManifest, writeManifest } from "./segment_manifest.ts";
import { segmentFileName } from "./segment.ts";

const OPTIONS: FsStorageOptions = { fsync: "never", segmentBytes: 500 };

/**
 * A partition of `count` two-record batches of `valueBytes` values, closed
 * cleanly; returns its directory and the batches' sizes.
 */
async function fixture(
  dir: string,
  count: number,
): Promise<{ partitionDir: string; batchBytes: number }> {
  const storage = await FsStorage.open(dir, OPTIONS);
  const store = await storage.openPartition("t", 0);
  let batchBytes = 0;
  for (let i = 0; i < count; i++) {
    const batch = await makeBatch(i * 2, 2, { valueBytes: 40 });
    batchBytes = batch.length;
    await store.append([batch]);
  }
  await storage.close();
  return { partitionDir: `${dir}/topics/t/0`, batchBytes };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "edgelog_seal_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function logs(partitionDir: string): Promise<number[]> {
  const found: number[] = [];
  for await (const entry of Deno.readDir(partitionDir)) {
    if (entry.name.endsWith(".log")) {
      found.push(Number(entry.name.slice(0, 20)));
    }
  }
  return found.sort((a, b) => a - b);
}

/** Cuts the log at `base` to `bytes`, as a crash before its fsync may. */
async function truncateLog(
  partitionDir: string,
  base: number,
  bytes: number,
): Promise<void> {
  const file = await Deno.open(
    `${partitionDir}/${segmentFileName(base, "log")}`,
    { write: true },
  );
  await file.truncate(bytes);
  file.close();
}

/**
 * Reopens and checks that exactly offsets [0, expectedNext) are there in
 * segments starting at `expectedLogs`, that appends continue at
 * expectedNext and survive another reopen.
 */
async function reopenAndCheck(
  dir: string,
  expectedNext: number,
  expectedLogs: number[],
) {
  const storage = await FsStorage.open(dir, OPTIONS);
  try {
    const store = await storage.openPartition("t", 0);
    assert.equal(store.nextOffset, expectedNext);
    assert.deepEqual(await logs(`${dir}/topics/t/0`), expectedLogs);
    assert.deepEqual(
      await checkedOffsets(await store.read(0, 1 << 30), 40),
      Array.from({ length: expectedNext }, (_, i) => i),
    );
    await store.append([await makeBatch(expectedNext, 2, { valueBytes: 40 })]);
  } finally {
    await storage.close();
  }
  const again = await FsStorage.open(dir, OPTIONS);
  try {
    const store = await again.openPartition("t", 0);
    assert.deepEqual(
      await checkedOffsets(await store.read(0, 1 << 30), 40),
      Array.from({ length: expectedNext + 2 }, (_, i) => i),
    );
  } finally {
    await again.close();
  }
}

Deno.test("flush waits for the background seal of a rolled segment", async () => {
  await withDir(async (dir) => {
    const storage = await FsStorage.open(dir, OPTIONS);
    try {
      const store = await storage.openPartition("t", 0);
      for (let i = 0; i < 12; i++) {
        await store.append([await makeBatch(i * 2, 2, { valueBytes: 40 })]);
      }
      await store.flush();
      const partitionDir = `${dir}/topics/t/0`;
      const bases = await logs(partitionDir);
      assert.ok(bases.length >= 3, "the appends rolled segments");
      const manifest = readManifest(partitionDir)!;
      assert.equal(manifest.activeBase, bases.at(-1));
      assert.deepEqual(
        manifest.closed.map((e) => e.baseOffset),
        bases.slice(0, -1),
      );
      for (const entry of manifest.closed) {
        const path = `${partitionDir}/${
          segmentFileName(entry.baseOffset, "log")
        }`;
        assert.equal((await Deno.stat(path)).size, entry.sizeBytes);
        await Deno.stat(
          `${partitionDir}/${segmentFileName(entry.baseOffset, "index")}`,
        );
      }
    } finally {
      await storage.close();
    }
  });
});

Deno.test("a closed segment shorter than the manifest says cuts the log there", async () => {
  await withDir(async (dir) => {
    const { partitionDir, batchBytes } = await fixture(dir, 12);
    const bases = await logs(partitionDir);
    const last = bases.at(-2)!;
    await truncateLog(partitionDir, last, batchBytes + 10);
    await reopenAndCheck(dir, last + 2, bases.slice(0, -1));
  });
});

Deno.test("a crash before a rolled segment's fsync and manifest loses only its tail", async () => {
  await withDir(async (dir) => {
    const { partitionDir, batchBytes } = await fixture(dir, 12);
    const bases = await logs(partitionDir);
    const last = bases.at(-2)!;
    const manifest = readManifest(partitionDir)!;
    await writeManifest(partitionDir, {
      closed: manifest.closed.slice(0, -1),
      activeBase: last,
    });
    await Deno.writeFile(`${partitionDir}/segments.rolling`, new Uint8Array());
    await truncateLog(partitionDir, last, 2 * batchBytes - 1);
    await reopenAndCheck(dir, last + 2, bases.slice(0, -1));
  });
});

Deno.test("a crash after a roll whose old segment reached the disk loses nothing", async () => {
  await withDir(async (dir) => {
    const { partitionDir } = await fixture(dir, 12);
    const bases = await logs(partitionDir);
    const manifest = readManifest(partitionDir)!;
    await writeManifest(partitionDir, {
      closed: manifest.closed.slice(0, -1),
      activeBase: bases.at(-2)!,
    });
    await Deno.writeFile(`${partitionDir}/segments.rolling`, new Uint8Array());
    await reopenAndCheck(dir, 24, bases);
    await assert.rejects(Deno.stat(`${partitionDir}/segments.rolling`));
  });
});
