/**
 * Fault injection on the files of the filesystem storage: torn, garbage and
 * corrupt tails of the active segment, missing and damaged indexes of
 * closed ones. After each, reopening keeps every earlier record intact and
 * appends carry on at the right offset.
 */

import assert from "node:assert/strict";
import { readBatchHeader } from "../runtime/format/batch_header.ts";
import { FsStorage, type FsStorageOptions } from "../edge/storage/mod.ts";
import type { FsPartitionStore } from "../edge/storage/fs_partition_store.ts";
import type { CorruptionReport } from "../runtime/log/types.ts";
import type { PartitionStore } from "../runtime/log/storage.ts";
import { checkedOffsets, makeBatch } from "./fixtures/fs_batches.ts";

const VALUE_BYTES = 40;

interface Fixture {
  dir: string;
  partitionDir: string;
  options: FsStorageOptions;
  batches: Uint8Array[];
}

/** A partition of `count` two-record batches, closed cleanly. */
async function fixture(
  count: number,
  options: FsStorageOptions = {},
): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "edgelog_recovery_" });
  const storage = await FsStorage.open(dir, options);
  const store = await storage.openPartition("t", 0);
  const batches: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const batch = await makeBatch(i * 2, 2, { valueBytes: VALUE_BYTES });
    batches.push(batch);
    await store.append([batch]);
  }
  await storage.close();
  return { dir, partitionDir: `${dir}/topics/t/0`, options, batches };
}

function name(base: number, kind: string): string {
  return `${String(base).padStart(20, "0")}.${kind}`;
}

async function logFiles(partitionDir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(partitionDir)) {
    if (entry.name.endsWith(".log")) found.push(entry.name);
  }
  return found.sort();
}

async function appendBytes(path: string, bytes: Uint8Array): Promise<void> {
  const file = await Deno.open(path, { append: true });
  await file.write(bytes);
  file.close();
}

async function flipByte(path: string, position: number): Promise<void> {
  const bytes = await Deno.readFile(path);
  bytes[position] = bytes[position]! ^ 0xff;
  await Deno.writeFile(path, bytes);
}

/** Checks that a read at each of `offsets` starts with the batch holding it. */
async function assertReadsStartAtHolder(
  store: PartitionStore,
  offsets: readonly number[],
): Promise<void> {
  for (const offset of offsets) {
    const [first] = await store.read(offset, 1);
    const header = readBatchHeader(first!);
    assert.ok(
      header.baseOffset <= offset &&
        offset <= header.baseOffset + header.lastOffsetDelta,
      `read(${offset}) starts with the batch holding it`,
    );
  }
}

/**
 * Reopens the fixture and checks that exactly offsets [0, expectedNext) are
 * there and intact, that appends continue at expectedNext, and that the
 * appended records survive one more reopen.
 */
async function reopenAndCheck(f: Fixture, expectedNext: number): Promise<void> {
  const storage = await FsStorage.open(f.dir, f.options);
  try {
    const store = await storage.openPartition("t", 0);
    assert.equal(store.logStartOffset, 0);
    assert.equal(store.nextOffset, expectedNext);
    const all = Array.from({ length: expectedNext }, (_, i) => i);
    assert.deepEqual(
      await checkedOffsets(await store.read(0, 1 << 30), VALUE_BYTES),
      all,
    );
    await assertReadsStartAtHolder(store, all);
    for (let offset = 0; offset < expectedNext; offset += 2) {
      assert.equal(await store.findBatchByTimestamp(1000 + offset), offset);
    }
    await store.append([
      await makeBatch(expectedNext, 3, { valueBytes: VALUE_BYTES }),
    ]);
    assert.equal(store.nextOffset, expectedNext + 3);
  } finally {
    await storage.close();
  }
  const again = await FsStorage.open(f.dir, f.options);
  try {
    const store = await again.openPartition("t", 0);
    assert.deepEqual(
      await checkedOffsets(await store.read(0, 1 << 30), VALUE_BYTES),
      Array.from({ length: expectedNext + 3 }, (_, i) => i),
    );
  } finally {
    await again.close();
  }
}

/**
 * Reopens a fixture with damage in the middle of a log: every offset below
 * `next` but `lost` reads back intact, the damage is reported once with a
 * copy of its bytes beside the segment, appends go on at `next`, and a
 * further reopen finds the same damage and nothing new.
 */
async function reopenAndCheckDamaged(
  f: Fixture,
  expected: {
    next: number;
    lost: number[];
    damage: Omit<CorruptionReport, "quarantine">[];
  },
): Promise<void> {
  const kept = Array.from({ length: expected.next }, (_, i) => i)
    .filter((o) => !expected.lost.includes(o));
  for (const round of [0, 1]) {
    const storage = await FsStorage.open(f.dir, f.options);
    try {
      const store = await storage.openPartition("t", 0) as FsPartitionStore;
      assert.equal(store.nextOffset, expected.next + 3 * round);
      const offsets = await checkedOffsets(
        await store.read(0, 1 << 30),
        VALUE_BYTES,
      );
      assert.deepEqual(
        offsets,
        [
          ...kept,
          ...Array.from({ length: 3 * round }, (_, i) => expected.next + i),
        ],
      );
      await assertReadsStartAtHolder(store, kept);
      const reports = store.corruptions();
      assert.deepEqual(
        reports.map(({ quarantine: _, ...range }) => range),
        expected.damage,
      );
      for (const report of reports) {
        const copy = await Deno.readFile(
          `${f.partitionDir}/${report.quarantine}`,
        );
        assert.equal(copy.length, report.toByte - report.fromByte);
      }
      if (round === 0) {
        await store.append([
          await makeBatch(expected.next, 3, { valueBytes: VALUE_BYTES }),
        ]);
      }
    } finally {
      await storage.close();
    }
  }
}

async function cleanup(f: Fixture): Promise<void> {
  await Deno.remove(f.dir, { recursive: true });
}

Deno.test("a half-written batch at the tail is cut off", async () => {
  const f = await fixture(10);
  try {
    const log = `${f.partitionDir}/${name(0, "log")}`;
    const sizeBefore = (await Deno.stat(log)).size;
    const next = await makeBatch(20, 2, { valueBytes: VALUE_BYTES });
    await appendBytes(log, next.subarray(0, next.length >> 1));
    await reopenAndCheck(f, 20);
    let total = 0;
    for (const file of await logFiles(f.partitionDir)) {
      total += (await Deno.stat(`${f.partitionDir}/${file}`)).size;
    }
    const appended = await makeBatch(20, 3, { valueBytes: VALUE_BYTES });
    assert.equal(
      total,
      sizeBefore + appended.length,
      "the torn bytes are gone",
    );
  } finally {
    await cleanup(f);
  }
});

Deno.test("a torn batch header at the tail is cut off", async () => {
  const f = await fixture(4);
  try {
    const next = await makeBatch(8, 2, { valueBytes: VALUE_BYTES });
    await appendBytes(
      `${f.partitionDir}/${name(0, "log")}`,
      next.subarray(0, 20),
    );
    await reopenAndCheck(f, 8);
  } finally {
    await cleanup(f);
  }
});

Deno.test("garbage after the last batch is cut off", async () => {
  const f = await fixture(6);
  try {
    const garbage = crypto.getRandomValues(new Uint8Array(777));
    await appendBytes(`${f.partitionDir}/${name(0, "log")}`, garbage);
    await reopenAndCheck(f, 12);
  } finally {
    await cleanup(f);
  }
});

Deno.test("zeros after the last batch (a pre-allocated tail) are cut off", async () => {
  const f = await fixture(3);
  try {
    await appendBytes(
      `${f.partitionDir}/${name(0, "log")}`,
      new Uint8Array(4096),
    );
    await reopenAndCheck(f, 6);
  } finally {
    await cleanup(f);
  }
});

Deno.test("a flipped byte in the last batch drops that batch only", async () => {
  const f = await fixture(6);
  try {
    const log = `${f.partitionDir}/${name(0, "log")}`;
    const size = (await Deno.stat(log)).size;
    await flipByte(log, size - 5);
    await reopenAndCheck(f, 10);
  } finally {
    await cleanup(f);
  }
});

for (
  const { what, batch, byte } of [
    { what: "a flipped byte in a middle batch", batch: 2, byte: 30 },
    { what: "a flipped baseOffset (outside the CRC)", batch: 3, byte: 7 },
  ]
) {
  Deno.test(`${what} sets that batch aside and keeps the rest`, async () => {
    const f = await fixture(6);
    try {
      const batchBytes = f.batches[0]!.length;
      await flipByte(
        `${f.partitionDir}/${name(0, "log")}`,
        batch * batchBytes + byte,
      );
      await reopenAndCheckDamaged(f, {
        next: 12,
        lost: [2 * batch, 2 * batch + 1],
        damage: [{
          segment: name(0, "log"),
          fromByte: batch * batchBytes,
          toByte: (batch + 1) * batchBytes,
          fromOffset: 2 * batch,
          toOffset: 2 * batch + 1,
        }],
      });
    } finally {
      await cleanup(f);
    }
  });
}

Deno.test("8 bytes of garbage in the middle of a sealed segment lose only the batch they hit", async () => {
  const f = await fixture(30, { segmentBytes: 1000, indexIntervalBytes: 100 });
  try {
    const logs = await logFiles(f.partitionDir);
    assert.ok(logs.length >= 4, `${logs.length} segments`);
    const sealed = logs[1]!;
    const base = Number(sealed.slice(0, 20));
    const batchBytes = f.batches[0]!.length;
    // The garbage hits the length of the segment's third batch, so a walk
    // by lengths goes astray there unless it skips the damage.
    const bytes = await Deno.readFile(`${f.partitionDir}/${sealed}`);
    bytes.set(crypto.getRandomValues(new Uint8Array(8)), 2 * batchBytes + 6);
    await Deno.writeFile(`${f.partitionDir}/${sealed}`, bytes);
    await reopenAndCheckDamaged(f, {
      next: 60,
      lost: [base + 4, base + 5],
      damage: [{
        segment: sealed,
        fromByte: 2 * batchBytes,
        toByte: 3 * batchBytes,
        fromOffset: base + 4,
        toOffset: base + 5,
      }],
    });
  } finally {
    await cleanup(f);
  }
});

Deno.test("damage at the very start of a sealed segment loses only its first batch", async () => {
  const f = await fixture(30, { segmentBytes: 1000, indexIntervalBytes: 100 });
  try {
    const logs = await logFiles(f.partitionDir);
    const sealed = logs[2]!;
    const base = Number(sealed.slice(0, 20));
    const batchBytes = f.batches[0]!.length;
    await flipByte(`${f.partitionDir}/${sealed}`, 9);
    await reopenAndCheckDamaged(f, {
      next: 60,
      lost: [base, base + 1],
      damage: [{
        segment: sealed,
        fromByte: 0,
        toByte: batchBytes,
        fromOffset: base,
        toOffset: base + 1,
      }],
    });
  } finally {
    await cleanup(f);
  }
});

Deno.test("a torn active segment is cut while closed segments are kept", async () => {
  const f = await fixture(30, { segmentBytes: 1000, indexIntervalBytes: 100 });
  try {
    const logs = await logFiles(f.partitionDir);
    assert.ok(logs.length >= 4, `${logs.length} segments`);
    const active = `${f.partitionDir}/${logs.at(-1)}`;
    const next = await makeBatch(60, 2, { valueBytes: VALUE_BYTES });
    await appendBytes(active, next.subarray(0, next.length - 1));
    await reopenAndCheck(f, 60);
  } finally {
    await cleanup(f);
  }
});

Deno.test("a corrupt active segment can lose every batch and still take appends", async () => {
  const f = await fixture(30, { segmentBytes: 1000 });
  try {
    const logs = await logFiles(f.partitionDir);
    const activeBase = Number(logs.at(-1)!.slice(0, 20));
    const active = `${f.partitionDir}/${logs.at(-1)}`;
    const batchBytes = f.batches[0]!.length;
    const size = (await Deno.stat(active)).size;
    assert.ok(size >= 2 * batchBytes, "the active segment holds batches");
    for (let at = 0; at < size; at += batchBytes) {
      await flipByte(active, at + 40);
    }
    await reopenAndCheck(f, activeBase);
  } finally {
    await cleanup(f);
  }
});

Deno.test("missing indexes are rebuilt from the log", async () => {
  const f = await fixture(30, { segmentBytes: 1000, indexIntervalBytes: 100 });
  try {
    for await (const entry of Deno.readDir(f.partitionDir)) {
      if (!entry.name.endsWith(".log")) {
        await Deno.remove(`${f.partitionDir}/${entry.name}`);
      }
    }
    await reopenAndCheck(f, 60);
    const index = await Deno.readFile(`${f.partitionDir}/${name(0, "index")}`);
    assert.ok(index.length > 0, "the rebuilt index is written back");
  } finally {
    await cleanup(f);
  }
});

Deno.test("damaged indexes of closed segments are never trusted", async () => {
  const f = await fixture(40, { segmentBytes: 1200, indexIntervalBytes: 1 });
  try {
    const logs = await logFiles(f.partitionDir);
    assert.ok(logs.length >= 5, `${logs.length} segments`);
    const bases = logs.map((l) => Number(l.slice(0, 20)));
    const path = (i: number, kind: string) =>
      `${f.partitionDir}/${name(bases[i]!, kind)}`;
    const garbage = crypto.getRandomValues(new Uint8Array(64));
    await Deno.writeFile(path(0, "index"), garbage);
    await Deno.writeFile(path(0, "timeindex"), new Uint8Array(0));

    const index1 = await Deno.readFile(path(1, "index"));
    await Deno.writeFile(
      path(1, "index"),
      index1.subarray(0, index1.length - 3),
    );
    const time1 = await Deno.readFile(path(1, "timeindex"));
    await Deno.writeFile(
      path(1, "timeindex"),
      time1.subarray(0, time1.length - 12),
    );

    // Sorted and in range, but its middle entry points between batches.
    const index2 = await Deno.readFile(path(2, "index"));
    const view2 = new DataView(index2.buffer);
    view2.setInt32(12, view2.getInt32(4) + 1);
    await Deno.writeFile(path(2, "index"), index2);

    // Sorted and in range, every entry shifted by one byte.
    const index3 = await Deno.readFile(path(3, "index"));
    const view3 = new DataView(index3.buffer);
    for (let at = 4; at < index3.length; at += 8) {
      view3.setInt32(at, view3.getInt32(at) + 1);
    }
    await Deno.writeFile(path(3, "index"), index3);
    await Deno.writeFile(path(3, "timeindex"), new Uint8Array(12));

    await reopenAndCheck(f, 80);

    const storage = await FsStorage.open(f.dir, f.options);
    const store = await storage.openPartition("t", 0);
    const units = await store.segments();
    for (const unit of units) {
      assert.equal(unit.maxTimestamp, 1000 + unit.nextOffset - 1);
    }
    await storage.close();
  } finally {
    await cleanup(f);
  }
});

Deno.test("a crash during a roll (new empty segment, old indexes unwritten) loses nothing", async () => {
  const f = await fixture(10, { segmentBytes: 100_000 });
  try {
    await Deno.remove(`${f.partitionDir}/${name(0, "index")}`);
    await Deno.remove(`${f.partitionDir}/${name(0, "timeindex")}`);
    await Deno.writeFile(
      `${f.partitionDir}/${name(20, "log")}`,
      new Uint8Array(),
    );
    await Deno.writeFile(
      `${f.partitionDir}/${name(7, "index")}`,
      new Uint8Array(8),
    );
    await reopenAndCheck(f, 20);
    const names: string[] = [];
    for await (const entry of Deno.readDir(f.partitionDir)) {
      names.push(entry.name);
    }
    assert.ok(!names.includes(name(7, "index")), "an orphan index is removed");
  } finally {
    await cleanup(f);
  }
});

Deno.test("opening reads only the active segment, however many there are", async () => {
  const f = await fixture(60, { segmentBytes: 500 });
  try {
    const logs = await logFiles(f.partitionDir);
    assert.ok(logs.length >= 20, `${logs.length} segments`);
    const readFile = Deno.readFile;
    const read: string[] = [];
    Object.defineProperty(Deno, "readFile", {
      value: (path: string | URL, options?: Deno.ReadFileOptions) => {
        read.push(String(path));
        return readFile(path, options);
      },
      configurable: true,
      writable: true,
    });
    let storage: FsStorage;
    try {
      storage = await FsStorage.open(f.dir, f.options);
      const store = await storage.openPartition("t", 0);
      assert.equal(store.nextOffset, 120);
      assert.equal(store.logStartOffset, 0);
    } finally {
      Object.defineProperty(Deno, "readFile", {
        value: readFile,
        configurable: true,
        writable: true,
      });
    }
    assert.deepEqual(read, [`${f.partitionDir}/${logs.at(-1)}`]);
    await storage.close();
  } finally {
    await cleanup(f);
  }
});

Deno.test("logStartOffset survives a restart after deleteBefore", async () => {
  const f = await fixture(30, { segmentBytes: 1000 });
  try {
    let storage = await FsStorage.open(f.dir, f.options);
    let store = await storage.openPartition("t", 0);
    const units = await store.segments();
    await store.deleteBefore(units[2]!.nextOffset);
    const start = store.logStartOffset;
    assert.equal(start, units[2]!.nextOffset);
    await storage.close();
    storage = await FsStorage.open(f.dir, f.options);
    store = await storage.openPartition("t", 0);
    assert.equal(store.logStartOffset, start);
    assert.equal(store.nextOffset, 60);
    assert.deepEqual(
      await checkedOffsets(await store.read(0, 1 << 30), VALUE_BYTES),
      Array.from({ length: 60 - start }, (_, i) => start + i),
    );
    assert.deepEqual(
      (await store.segments()).map((u) => u.baseOffset),
      units.slice(3).map((u) => u.baseOffset),
    );
    await storage.close();
  } finally {
    await cleanup(f);
  }
});
