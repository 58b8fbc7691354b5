/**
 * The segment manifest of a filesystem partition is a cache: whether it is
 * missing, damaged, or behind the files (a crash between a roll or a
 * deleteBefore and the manifest write), reopening gives the same
 * logStartOffset, nextOffset, sizeBytes and segments() as before, and
 * writes a manifest that matches the files again.
 */

import assert from "node:assert/strict";
import {
  FsStorage,
  type FsStorageOptions,
  MANIFEST_FILE,
  readManifest,
} from "../edge/storage/mod.ts";
import type { PartitionStore, SegmentInfo } from "../runtime/log/storage.ts";
import { checkedOffsets, makeBatch } from "./fixtures/fs_batches.ts";

const VALUE_BYTES = 40;
const OPTIONS: FsStorageOptions = { fsync: "never", segmentBytes: 1000 };

interface State {
  logStartOffset: number;
  nextOffset: number;
  sizeBytes: number;
  segments: SegmentInfo[];
}

async function stateOf(store: PartitionStore): Promise<State> {
  return {
    logStartOffset: store.logStartOffset,
    nextOffset: store.nextOffset,
    sizeBytes: store.sizeBytes,
    segments: await store.segments(),
  };
}

async function appendUpTo(store: PartitionStore, end: number): Promise<void> {
  while (store.nextOffset < end) {
    await store.append([
      await makeBatch(store.nextOffset, 2, { valueBytes: VALUE_BYTES }),
    ]);
  }
}

/**
 * Builds a partition of 120 records whose oldest segment was deleted, runs
 * `change` on it, closes it, and runs `check` with the state `change` left
 * and the manifest bytes from before `change`.
 */
async function withPartition(
  change: (store: PartitionStore) => Promise<void>,
  check: (f: {
    dir: string;
    partitionDir: string;
    expected: State;
    before: Uint8Array;
  }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "edgelog_manifest_" });
  const partitionDir = `${dir}/topics/t/0`;
  try {
    const storage = await FsStorage.open(dir, OPTIONS);
    const store = await storage.openPartition("t", 0);
    await appendUpTo(store, 120);
    await store.deleteBefore((await store.segments())[0]!.nextOffset);
    const before = await Deno.readFile(`${partitionDir}/${MANIFEST_FILE}`);
    await change(store);
    const expected = await stateOf(store);
    await storage.close();
    await check({ dir, partitionDir, expected, before });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Reopens the partition, checks that it is in the `expected` state with
 * its records intact and that the manifest on disk matches it again, and
 * returns how many times opening listed the directory.
 */
async function reopenAndCheck(dir: string, expected: State): Promise<number> {
  const readDirSync = Deno.readDirSync;
  let listings = 0;
  Object.defineProperty(Deno, "readDirSync", {
    value: (path: string | URL) => {
      listings++;
      return readDirSync(path);
    },
    configurable: true,
    writable: true,
  });
  let storage: FsStorage;
  let store: PartitionStore;
  try {
    storage = await FsStorage.open(dir, OPTIONS);
    store = await storage.openPartition("t", 0);
  } finally {
    Object.defineProperty(Deno, "readDirSync", {
      value: readDirSync,
      configurable: true,
      writable: true,
    });
  }
  try {
    assert.deepEqual(await stateOf(store), expected);
    const start = expected.logStartOffset;
    assert.deepEqual(
      await checkedOffsets(await store.read(0, 1 << 30), VALUE_BYTES),
      Array.from({ length: expected.nextOffset - start }, (_, i) => start + i),
    );
    const manifest = readManifest(`${dir}/topics/t/0`);
    assert.deepEqual(
      manifest?.closed.map((e) => [e.baseOffset, e.nextOffset, e.sizeBytes]),
      expected.segments.map((s) => [s.baseOffset, s.nextOffset, s.sizeBytes]),
    );
    assert.equal(
      manifest?.activeBase,
      expected.segments.at(-1)?.nextOffset ?? start,
    );
  } finally {
    await storage.close();
  }
  return listings;
}

Deno.test("a partition whose manifest matches opens without listing its directory", async () => {
  await withPartition(async () => {}, async ({ dir, expected }) => {
    assert.ok(expected.segments.length >= 5, `${expected.segments.length}`);
    assert.ok(expected.logStartOffset > 0);
    assert.equal(await reopenAndCheck(dir, expected), 0);
    assert.equal(await reopenAndCheck(dir, expected), 0);
  });
});

Deno.test("a missing manifest is rebuilt from the directory", async () => {
  await withPartition(
    async () => {},
    async ({ dir, partitionDir, expected }) => {
      await Deno.remove(`${partitionDir}/${MANIFEST_FILE}`);
      assert.equal(await reopenAndCheck(dir, expected), 1);
      assert.equal(await reopenAndCheck(dir, expected), 0);
    },
  );
});

Deno.test("a damaged manifest is rebuilt from the directory", async () => {
  await withPartition(
    async () => {},
    async ({ dir, partitionDir, expected }) => {
      const path = `${partitionDir}/${MANIFEST_FILE}`;
      const bytes = await Deno.readFile(path);
      bytes[20] = bytes[20]! ^ 0xff;
      await Deno.writeFile(path, bytes);
      assert.equal(await reopenAndCheck(dir, expected), 1);
      await Deno.writeFile(path, new TextEncoder().encode("{}"));
      assert.equal(await reopenAndCheck(dir, expected), 1);
    },
  );
});

Deno.test("a manifest from before a roll (a crash before its write) is rebuilt", async () => {
  await withPartition(
    async (store) => {
      const segments = (await store.segments()).length;
      await appendUpTo(store, 150);
      assert.ok((await store.segments()).length >= segments + 2);
    },
    async ({ dir, partitionDir, expected, before }) => {
      await Deno.writeFile(`${partitionDir}/${MANIFEST_FILE}`, before);
      assert.equal(await reopenAndCheck(dir, expected), 1);
      assert.equal(await reopenAndCheck(dir, expected), 0);
    },
  );
});

Deno.test("a manifest from before a deleteBefore (a crash before its write) is rebuilt", async () => {
  await withPartition(
    async (store) => {
      await store.deleteBefore((await store.segments())[2]!.nextOffset);
    },
    async ({ dir, partitionDir, expected, before }) => {
      await Deno.writeFile(`${partitionDir}/${MANIFEST_FILE}`, before);
      assert.equal(await reopenAndCheck(dir, expected), 1);
      assert.equal(await reopenAndCheck(dir, expected), 0);
    },
  );
});

Deno.test("a deleteBefore cut short after removing a log file is completed on reopen", async () => {
  await withPartition(
    async () => {},
    async ({ dir, partitionDir, expected }) => {
      const [oldest, ...rest] = expected.segments;
      const name = String(oldest!.baseOffset).padStart(20, "0");
      await Deno.remove(`${partitionDir}/${name}.log`);
      const after: State = {
        logStartOffset: oldest!.nextOffset,
        nextOffset: expected.nextOffset,
        sizeBytes: expected.sizeBytes - oldest!.sizeBytes,
        segments: rest,
      };
      assert.equal(await reopenAndCheck(dir, after), 1);
      const left: string[] = [];
      for await (const entry of Deno.readDir(partitionDir)) {
        if (entry.name.startsWith(name)) left.push(entry.name);
      }
      assert.deepEqual(left, [], "its index files are removed too");
    },
  );
});
