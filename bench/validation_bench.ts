/**
 * What the batch check on every append costs (runtime/format/
 * batch_validation.ts), next to the CRC-32C check that appends already
 * paid before it and to a full decode of the same batch. Plain batches of
 * 1, 100 and 1000 records of 100-byte values, and gzip ones (checked after
 * a capped decompression). Prints a markdown table and writes
 * bench/results/validation.json.
 *
 * Run: `deno run --allow-all bench/validation_bench.ts [--rounds N]`
 *
 * @module
 */

import {
  checkBatchSync,
  decodeBatch,
  encodeBatch,
  validateBatch,
  verifyBatchCrc,
} from "../runtime/format/mod.ts";
import { buildRecords } from "./batches.ts";
import {
  describeMachine,
  flagValue,
  type Machine,
  machine,
  machineAfter,
  median,
  writeResults,
} from "./_common.ts";

const SIZES = [1, 100, 1000] as const;
const rounds = Number(flagValue("--rounds") ?? "15");

interface Row {
  records: number;
  compression: "none" | "gzip";
  batchBytes: number;
  /** Median µs per batch of each check. */
  crcUs: number;
  validateUs: number;
  decodeUs: number;
}

/** Median µs per call of `fn` over `rounds` timed loops of `calls` calls. */
async function time(
  calls: number,
  fn: () => unknown | Promise<unknown>,
): Promise<number> {
  for (let i = 0; i < calls; i++) await fn();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    for (let i = 0; i < calls; i++) await fn();
    samples.push((performance.now() - started) * 1000 / calls);
  }
  return median(samples);
}

async function main(): Promise<void> {
  const before: Machine = await machine();
  const rows: Row[] = [];
  for (const compression of ["none", "gzip"] as const) {
    for (const records of SIZES) {
      const batch = await encodeBatch(buildRecords(records, { now: 1 }), {
        compression,
      });
      const calls = Math.max(20, Math.floor(20_000 / records));
      rows.push({
        records,
        compression,
        batchBytes: batch.length,
        crcUs: await time(calls, () => verifyBatchCrc(batch)),
        validateUs: compression === "none"
          ? await time(calls, () => checkBatchSync(batch))
          : await time(calls, () => validateBatch(batch)),
        decodeUs: await time(calls, () => decodeBatch(batch)),
      });
    }
  }
  const results = {
    date: new Date().toISOString(),
    machine: await machineAfter(before),
    rounds,
    rows,
  };
  await writeResults("validation", results);
  console.log(table(results.machine, rows));
}

function table(m: Machine, rows: readonly Row[]): string {
  const f = (x: number) => x.toFixed(1);
  return [
    describeMachine(m),
    "",
    "| batch | bytes | CRC only (before) | full check (now) | check / CRC | decode | check / decode |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.records} rec, ${r.compression} | ${r.batchBytes} | ${
        f(r.crcUs)
      } µs | ${f(r.validateUs)} µs | ${f(r.validateUs / r.crcUs)}× | ${
        f(r.decodeUs)
      } µs | ${f(r.validateUs / r.decodeUs)}× |`
    ),
  ].join("\n");
}

await main();
