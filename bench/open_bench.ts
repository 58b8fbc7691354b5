/**
 * Open (recovery) time of a filesystem partition with 10 and with 1000
 * segments. Opening reads the partition's segment manifest and scans only
 * the active segment (no directory listing, no stat per closed segment), so
 * the time should not grow with the segment count. Every partition has an
 * active segment of the same size, so only the number of closed segments
 * differs. A second partition of 1000 segments, built and timed the same
 * way, shows the run-to-run variance. Prints a markdown table and writes
 * bench/results/open.json.
 *
 * Run: `deno run --allow-all bench/open_bench.ts [--opens N]`
 *
 * @module
 */

import { PartitionLog } from "../runtime/log/mod.ts";
import { FsStorage } from "../edge/storage/mod.ts";
import { buildBatches } from "./batches.ts";
import {
  describeMachine,
  flagValue,
  type Machine,
  machine,
  median,
  writeResults,
} from "./_common.ts";

const SEGMENT_COUNTS = [10, 1000, 1000] as const;
const RECORDS_PER_BATCH = 10;
/** A segment rolls after this many batches (segmentBytes is sized to it). */
const BATCHES_PER_SEGMENT = 10;
/** Batches in the active segment, the one an open scans. */
const ACTIVE_BATCHES = 5;

const opens = Number(flagValue("--opens") ?? "21");

/** Open times of one partition. */
interface OpenTimes {
  segments: number;
  records: number;
  bytes: number;
  buildSeconds: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  samplesMs: number[];
}

/** Fills a partition in `dir` until it has `segments` segment files. */
async function build(
  dir: string,
  segments: number,
  batch: Uint8Array[],
): Promise<{ records: number; bytes: number }> {
  const segmentBytes = batch[0]!.length * BATCHES_PER_SEGMENT;
  const storage = await FsStorage.open(dir, { fsync: "never", segmentBytes });
  const log = new PartitionLog(await storage.openPartition("t", 0), {
    topic: "t",
    partition: 0,
  });
  const total = (segments - 1) * BATCHES_PER_SEGMENT + ACTIVE_BATCHES;
  for (let i = 0; i < total; i++) {
    await log.appendBatches([batch[i % batch.length]!.slice()]);
  }
  const result = { records: log.highWatermark, bytes: log.sizeBytes };
  await log.close();
  await storage.close();
  let files = 0;
  for await (const entry of Deno.readDir(`${dir}/topics/t/0`)) {
    if (entry.name.endsWith(".log")) files++;
  }
  if (files !== segments) {
    throw new Error(`Built ${files} segments, wanted ${segments}`);
  }
  return result;
}

/** Opens the storage and the partition `opens` times (after one warm-up). */
async function timeOpens(dir: string): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i <= opens; i++) {
    const started = performance.now();
    const storage = await FsStorage.open(dir);
    const store = await storage.openPartition("t", 0);
    const ms = performance.now() - started;
    if (store.nextOffset === 0) throw new Error("Opened an empty partition");
    await storage.close();
    if (i > 0) samples.push(ms);
  }
  return samples;
}

/** What a run writes to bench/results/open.json. */
interface Results {
  date: string;
  machine: Machine;
  setup: Record<string, string | number>;
  partitions: OpenTimes[];
  /** Median open time of each 1000-segment partition / the 10-segment one. */
  ratios: number[];
}

async function main(): Promise<void> {
  const before = await machine();
  const batches = await buildBatches(4, RECORDS_PER_BATCH, { now: Date.now() });
  const partitions: OpenTimes[] = [];
  for (const segments of SEGMENT_COUNTS) {
    const dir = await Deno.makeTempDir({ prefix: "edgelog-open-" });
    try {
      console.error(`building ${segments} segments …`);
      const started = performance.now();
      const { records, bytes } = await build(dir, segments, batches);
      const buildSeconds = (performance.now() - started) / 1000;
      const samplesMs = await timeOpens(dir);
      partitions.push({
        segments,
        records,
        bytes,
        buildSeconds,
        medianMs: median(samplesMs),
        minMs: Math.min(...samplesMs),
        maxMs: Math.max(...samplesMs),
        samplesMs,
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  const results: Results = {
    date: new Date().toISOString(),
    machine: { ...before, loadAverageAfter: (await machine()).loadAverage },
    setup: {
      recordsPerBatch: RECORDS_PER_BATCH,
      batchBytes: batches[0]!.length,
      batchesPerSegment: BATCHES_PER_SEGMENT,
      activeSegmentBatches: ACTIVE_BATCHES,
      opens,
      timed: "FsStorage.open + openPartition (warm page cache)",
    },
    partitions,
    ratios: partitions.slice(1).map((p) =>
      p.medianMs / partitions[0]!.medianMs
    ),
  };
  await writeResults("open", results);
  console.log(table(results));
}

function table(r: Results): string {
  const f = (x: number, d = 2) => x.toFixed(d);
  return [
    describeMachine(r.machine),
    "",
    "| partition | records | open median | min / max |",
    "| --- | --- | --- | --- |",
    ...r.partitions.map((p, i) =>
      `| ${p.segments} segments${i > 1 ? " (again)" : ""} | ${
        p.records.toLocaleString("en-US")
      } | ${f(p.medianMs)} ms | ${f(p.minMs)} / ${f(p.maxMs)} ms |`
    ),
    ...r.ratios.map((ratio, i) =>
      `| ratio 1000${i > 0 ? " (again)" : ""} / 10 segments | | ${
        f(ratio)
      } × | target: near 1 |`
    ),
  ].join("\n");
}

await main();
