/**
 * In-process benchmark of the log core's append and read paths: PartitionLog
 * over MemoryStorage and over FsStorage (fsync per append, group commit with
 * concurrent appenders, fsync every 5 ms), each next to a naive
 * length-prefixed file append measured in the same run, with and without an
 * fsync per batch. Then sequential reads of a whole log, batch level and
 * decoded. Prints a markdown table and writes bench/results/storage.json.
 *
 * Run: `deno run --allow-all bench/storage_bench.ts [--seconds S]`
 * (S is the time box of each append case; default 1.2).
 *
 * @module
 */

import { readBatchHeader } from "../runtime/format/mod.ts";
import { MemoryStorage, PartitionLog } from "../runtime/log/mod.ts";
import type { Storage } from "../runtime/log/storage.ts";
import { FsStorage, type FsyncPolicy } from "../edge/storage/mod.ts";
import { buildBatch, buildBatches, VALUE_BYTES } from "./batches.ts";
import {
  count,
  describeMachine,
  fixed,
  flagValue,
  type Machine,
  machine,
  machineAfter,
  mark,
  type Throughput,
  throughput,
  writeResults,
} from "./_common.ts";

const BATCH_SIZES = [1, 100, 1000] as const;
/** Concurrent appenders of the group-commit case. */
const APPENDERS = 12;
/** Stops a case early so memory and temp files stay bounded. */
const MAX_BYTES = 600e6;
const MAX_MEMORY_BYTES = 250e6;
/** Records in the log the read cases scan. */
const READ_RECORDS = 1_000_000;
const READ_MAX_BYTES = 1 << 20;
/** Records in the case from which the targets are judged. */
const TARGET_BATCH = 1000;

const seconds = Number(flagValue("--seconds") ?? "1.2");

/** One append case at one batch size. */
interface AppendRate extends Throughput {
  case: string;
  batchRecords: number;
  appends: number;
}

/** One read case. */
interface ReadRate extends Throughput {
  case: string;
}

/**
 * Runs `workers` loops until the time box or the record cap; each call of
 * `append()` moves one batch. Counts only acknowledged appends.
 */
async function timed(
  name: string,
  batch: Uint8Array,
  batchRecords: number,
  workers: number,
  append: () => Promise<void>,
  maxBytes = MAX_BYTES,
): Promise<AppendRate> {
  let appends = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  const cap = Math.ceil(maxBytes / batch.length);
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < until && appends < cap) {
        await append();
        appends++;
      }
    }),
  );
  return {
    case: name,
    batchRecords,
    appends,
    ...throughput(
      appends * batchRecords,
      appends * batch.length,
      (performance.now() - started) / 1000,
    ),
  };
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "edgelog-bench-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * PartitionLog.appendBatches over `storage`. The log rewrites baseOffset in
 * place, so each append gets its own copy of the pre-encoded batch (a
 * memcpy, as a producer handing over fresh bytes would).
 */
async function logCase(
  name: string,
  storage: Storage,
  batch: Uint8Array,
  batchRecords: number,
  workers: number,
): Promise<AppendRate> {
  const store = await storage.openPartition("bench", 0);
  const log = new PartitionLog(store, { topic: "bench", partition: 0 });
  const maxBytes = storage.kind === "memory" ? MAX_MEMORY_BYTES : MAX_BYTES;
  try {
    return await timed(name, batch, batchRecords, workers, async () => {
      await log.appendBatches([batch.slice()]);
    }, maxBytes);
  } finally {
    await log.close();
    await storage.close();
  }
}

function fsCase(
  name: string,
  fsync: FsyncPolicy,
  batch: Uint8Array,
  batchRecords: number,
  workers: number,
): Promise<AppendRate> {
  return withTempDir(async (dir) =>
    logCase(
      name,
      await FsStorage.open(dir, { fsync }),
      batch,
      batchRecords,
      workers,
    )
  );
}

/**
 * The naive baseline: one append-mode file, one write per batch of
 * `[u32 length][batch]`, and optionally `syncData` after each.
 */
function naiveCase(
  name: string,
  fsync: boolean,
  batch: Uint8Array,
  batchRecords: number,
): Promise<AppendRate> {
  return withTempDir(async (dir) => {
    const file = await Deno.open(`${dir}/naive.log`, {
      append: true,
      create: true,
    });
    try {
      return await timed(name, batch, batchRecords, 1, async () => {
        const framed = new Uint8Array(4 + batch.length);
        new DataView(framed.buffer).setUint32(0, batch.length);
        framed.set(batch, 4);
        for (let at = 0; at < framed.length;) {
          at += await file.write(framed.subarray(at));
        }
        if (fsync) await file.syncData();
      });
    } finally {
      file.close();
    }
  });
}

/** Appends `READ_RECORDS` records (1000-record batches) without fsync. */
async function fillLog(storage: Storage): Promise<PartitionLog> {
  const store = await storage.openPartition("read", 0);
  const log = new PartitionLog(store, { topic: "read", partition: 0 });
  const batches = await buildBatches(8, TARGET_BATCH, { now: Date.now() });
  for (let i = 0; i < READ_RECORDS / TARGET_BATCH; i += 8) {
    await Promise.all(
      Array.from(
        { length: 8 },
        (_, j) =>
          log.appendBatches([batches[(i + j) % batches.length]!.slice()]),
      ),
    );
  }
  return log;
}

/** What one read call of a scan moved, and where the next one starts. */
interface Page {
  records: number;
  bytes: number;
  nextOffset: number;
}

/** Times `read` called from offset 0 until the log's high watermark. */
async function scanCase(
  name: string,
  log: PartitionLog,
  read: (offset: number) => Promise<Page>,
): Promise<ReadRate> {
  let records = 0;
  let bytes = 0;
  const started = performance.now();
  for (let offset = 0; offset < log.highWatermark;) {
    const page = await read(offset);
    records += page.records;
    bytes += page.bytes;
    offset = page.nextOffset;
  }
  return {
    case: name,
    ...throughput(records, bytes, (performance.now() - started) / 1000),
  };
}

/** PartitionLog.readBatches from 0 to the high watermark, 1 MiB a call. */
function readBatchesCase(name: string, log: PartitionLog): Promise<ReadRate> {
  return scanCase(name, log, async (offset) => {
    const page = { records: 0, bytes: 0, nextOffset: offset };
    for (const batch of await log.readBatches(offset, READ_MAX_BYTES)) {
      const header = readBatchHeader(batch);
      const last = header.baseOffset + header.lastOffsetDelta;
      page.records += last + 1 - Math.max(page.nextOffset, header.baseOffset);
      page.bytes += batch.length;
      page.nextOffset = last + 1;
    }
    return page;
  });
}

/** PartitionLog.read (decoding every record) over the whole log. */
function readRecordsCase(name: string, log: PartitionLog): Promise<ReadRate> {
  return scanCase(name, log, async (offset) => {
    const { records, nextOffset } = await log.read(offset, {
      maxBytes: READ_MAX_BYTES,
    });
    let bytes = 0;
    for (const r of records) bytes += r.value?.length ?? 0;
    return { records: records.length, bytes, nextOffset };
  });
}

async function readCases(): Promise<ReadRate[]> {
  const out: ReadRate[] = [];
  const memory = await fillLog(new MemoryStorage());
  out.push(await readBatchesCase("memory: readBatches", memory));
  out.push(await readRecordsCase("memory: read (decoded)", memory));
  await memory.close();
  await withTempDir(async (dir) => {
    const storage = await FsStorage.open(dir, { fsync: "never" });
    const log = await fillLog(storage);
    out.push(await readBatchesCase("filesystem: readBatches", log));
    out.push(await readRecordsCase("filesystem: read (decoded)", log));
    await log.close();
    await storage.close();
  });
  return out;
}

/** What a run writes to bench/results/storage.json. */
interface Results {
  date: string;
  machine: Machine;
  setup: Record<string, string | number>;
  appends: AppendRate[];
  reads: ReadRate[];
  ratios: Record<string, number>;
}

async function main(): Promise<void> {
  const before = await machine();
  const appends: AppendRate[] = [];
  for (const size of BATCH_SIZES) {
    const batch = await buildBatch(size, { now: Date.now() });
    console.error(`batches of ${size} (${batch.length} bytes) …`);
    appends.push(
      await naiveCase("naive file append, no fsync", false, batch, size),
      await naiveCase("naive file append, fsync per batch", true, batch, size),
      await logCase("memory", new MemoryStorage(), batch, size, 1),
      await fsCase("fs, fsync always, 1 appender", "always", batch, size, 1),
      await fsCase(
        `fs, fsync always, ${APPENDERS} appenders (group commit)`,
        "always",
        batch,
        size,
        APPENDERS,
      ),
      await fsCase(
        "fs, fsync every 5 ms, 1 appender",
        { intervalMs: 5 },
        batch,
        size,
        1,
      ),
      await fsCase("fs, fsync never, 1 appender", "never", batch, size, 1),
    );
  }
  console.error(`reads of ${READ_RECORDS} records …`);
  const reads = await readCases();
  const at = (name: string, size: number) =>
    appends.find((a) => a.case.startsWith(name) && a.batchRecords === size)!
      .recordsPerSec;
  const ratios: Record<string, number> = {};
  for (const size of BATCH_SIZES) {
    const naive = at("naive file append, no", size);
    const naiveSync = at("naive file append, fsync", size);
    ratios[`groupCommitOverNaiveNoFsync_b${size}`] =
      at("fs, fsync always, 12", size) / naive;
    ratios[`groupCommitOverNaiveFsync_b${size}`] =
      at("fs, fsync always, 12", size) / naiveSync;
    ratios[`alwaysOneAppenderOverNaiveFsync_b${size}`] =
      at("fs, fsync always, 1", size) / naiveSync;
    ratios[`interval5msOverNaiveNoFsync_b${size}`] =
      at("fs, fsync every", size) / naive;
    ratios[`neverOverNaiveNoFsync_b${size}`] = at("fs, fsync never", size) /
      naive;
    ratios[`memoryOverNaiveNoFsync_b${size}`] = at("memory", size) / naive;
  }
  const results: Results = {
    date: new Date().toISOString(),
    machine: await machineAfter(before),
    setup: {
      valueBytes: VALUE_BYTES,
      secondsPerCase: seconds,
      maxBytesPerFileCase: MAX_BYTES,
      maxBytesPerMemoryCase: MAX_MEMORY_BYTES,
      readMbPerSec: "readBatches: batch bytes; read: value bytes",
      groupCommitAppenders: APPENDERS,
      readRecords: READ_RECORDS,
      readMaxBytes: READ_MAX_BYTES,
      tmp: "Deno.makeTempDir (same filesystem for every case)",
    },
    appends,
    reads,
    ratios,
  };
  await writeResults("storage", results);
  console.log(table(results));
}

function table(r: Results): string {
  const lines = [
    describeMachine(r.machine),
    "",
    "| append case | batch | records/s | MB/s | appends |",
    "| --- | --- | --- | --- | --- |",
    ...r.appends.map((a) =>
      `| ${a.case} | ${a.batchRecords} | ${count(a.recordsPerSec)} | ${
        fixed(a.mbPerSec)
      } | ${count(a.appends)} |`
    ),
    "",
    "| ratio (records/s) | batch 1 | batch 100 | batch 1000 |",
    "| --- | --- | --- | --- |",
  ];
  const ratioRows: [string, string][] = [
    ["group commit / naive no-fsync", "groupCommitOverNaiveNoFsync"],
    ["group commit / naive fsync-per-batch", "groupCommitOverNaiveFsync"],
    [
      "fsync always, 1 appender / naive fsync-per-batch",
      "alwaysOneAppenderOverNaiveFsync",
    ],
    ["fsync every 5 ms / naive no-fsync", "interval5msOverNaiveNoFsync"],
    ["fsync never / naive no-fsync", "neverOverNaiveNoFsync"],
    ["memory / naive no-fsync", "memoryOverNaiveNoFsync"],
  ];
  for (const [label, key] of ratioRows) {
    lines.push(
      `| ${label} | ${
        BATCH_SIZES.map((s) => `${fixed(r.ratios[`${key}_b${s}`]! * 100)} %`)
          .join(" | ")
      } |`,
    );
  }
  const strict = r.ratios[`groupCommitOverNaiveNoFsync_b${TARGET_BATCH}`]!;
  const durable = r.ratios[`groupCommitOverNaiveFsync_b${TARGET_BATCH}`]!;
  lines.push(
    "",
    "| target | result | met |",
    "| --- | --- | --- |",
    `| group commit ≥ 50 % of naive, ${TARGET_BATCH}-record batches (vs no-fsync baseline: the stricter bar) | ${
      fixed(strict * 100)
    } % | ${mark(strict >= 0.5)} |`,
    `| group commit ≥ 50 % of naive, ${TARGET_BATCH}-record batches (vs fsync-per-batch baseline: same durability) | ${
      fixed(durable * 100)
    } % | ${mark(durable >= 0.5)} |`,
    ...r.reads.map((x) =>
      `| sequential read ≥ 1 M records/s: ${x.case} (${
        count(x.records)
      } records) | ${count(x.recordsPerSec)} rec/s, ${
        fixed(x.mbPerSec)
      } MB/s | ${mark(x.recordsPerSec >= 1e6)} |`
    ),
  );
  return lines.join("\n");
}

await main();
