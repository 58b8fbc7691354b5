/**
 * Replication benchmark on loopback. A gateway-like node in this process (a
 * Log over FsStorage in a temp dir, a Replicator and an EdgelogClient)
 * holding buffered records catches up with a broker subprocess; the same
 * records produced straight to the broker as binary batches, with the same
 * request size and requests in flight, are the yardstick. Then the steady
 * state: end-to-end latency from a gateway append to the record being seen
 * by a long-polling consumer of the broker, at a fixed rate.
 * Prints a markdown table and writes bench/results/sync.json.
 *
 * Run: `deno run --allow-all bench/sync_bench.ts [--records N]
 * [--latency-seconds S] [--profile]` (default 1,000,000 records, 5 s;
 * `--profile` starts the broker with `--cpu-prof` into bench/results/prof).
 *
 * @module
 */

import { EdgelogClient } from "../runtime/client/mod.ts";
import { decodeBatch, splitBatches } from "../runtime/format/mod.ts";
import { Log } from "../runtime/log/mod.ts";
import { Replicator } from "../runtime/sync/mod.ts";
import { FsStorage } from "../edge/storage/mod.ts";
import {
  type BrokerProcess,
  readCpuSeconds,
  startBroker,
  tempDataDir,
} from "../test/broker_process.ts";
import { buildBatches, VALUE_BYTES } from "./batches.ts";
import {
  count,
  describeMachine,
  fixed,
  flagValue,
  type LatencySummary,
  type Machine,
  machine,
  machineAfter,
  mark,
  profileFlags,
  summarizeLatency,
  type Throughput,
  throughput,
  writeResults,
} from "./_common.ts";
import { concatBytes } from "../runtime/format/bytes.ts";

const RECORDS_PER_BATCH = 1000;
/** The replicator's defaults, which the direct producer copies. */
const MAX_REQUEST_BYTES = 1 << 20;
const IN_FLIGHT = 3;
const LATENCY_RATE = 1000;

const totalRecords = Number(flagValue("--records") ?? "1000000");
const latencySeconds = Number(flagValue("--latency-seconds") ?? "5");

/** Throughput of one phase and what it cost both processes. */
interface Rate extends Throughput {
  /** CPU of the broker process over the phase, in cores. */
  brokerCores: number;
  /** CPU of this (gateway and client) process over the phase, in cores. */
  gatewayCores: number;
}

/** End-to-end latency of the steady state. */
interface Latency extends LatencySummary {
  ratePerSec: number;
}

async function measure(
  broker: BrokerProcess,
  bytes: number,
  work: () => Promise<number>,
): Promise<Rate> {
  const brokerBefore = await readCpuSeconds(broker.pid) ?? NaN;
  const selfBefore = await readCpuSeconds(Deno.pid) ?? NaN;
  const started = performance.now();
  const records = await work();
  const s = (performance.now() - started) / 1000;
  const brokerCpu = (await readCpuSeconds(broker.pid) ?? NaN) - brokerBefore;
  const selfCpu = (await readCpuSeconds(Deno.pid) ?? NaN) - selfBefore;
  return {
    ...throughput(records, bytes, s),
    brokerCores: brokerCpu / s,
    gatewayCores: selfCpu / s,
  };
}

/** Appends `totalRecords` records to the gateway's `topic` in 1000-record batches. */
async function fillGateway(
  log: Log,
  topic: string,
  batches: readonly Uint8Array[],
): Promise<void> {
  const partition = log.partition(topic, 0);
  const appends = totalRecords / RECORDS_PER_BATCH;
  for (let i = 0; i < appends; i += 8) {
    await Promise.all(
      Array.from(
        { length: Math.min(8, appends - i) },
        (_, j) =>
          partition.appendBatches([batches[(i + j) % batches.length]!.slice()]),
      ),
    );
  }
}

/**
 * Binary produce of the same batches: bodies of as many batches as the
 * replicator packs into one request, {@linkcode IN_FLIGHT} requests at a
 * time, through the same client.
 */
function directProduce(
  broker: BrokerProcess,
  client: EdgelogClient,
  batches: readonly Uint8Array[],
): Promise<Rate> {
  const perRequest = Math.max(
    1,
    Math.floor(MAX_REQUEST_BYTES / batches[0]!.length),
  );
  const bodies = Array.from(
    { length: batches.length },
    (_, b) =>
      concatBytes(
        Array.from(
          { length: perRequest },
          (_, i) => batches[(b + i) % batches.length]!,
        ),
      ),
  );
  const requests = Math.ceil(totalRecords / RECORDS_PER_BATCH / perRequest);
  let sent = 0;
  let records = 0;
  return measure(
    broker,
    (totalRecords / RECORDS_PER_BATCH) * batches[0]!.length,
    async () => {
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (sent < requests) {
            const n = sent++;
            const left = totalRecords / RECORDS_PER_BATCH - n * perRequest;
            const body = left >= perRequest
              ? bodies[n % bodies.length]!
              : bodies[n % bodies.length]!.subarray(
                0,
                left * batches[0]!.length,
              );
            const appended = await client.produceBatches("direct", 0, body);
            records += appended.lastOffset - appended.baseOffset + 1;
          }
        }),
      );
      return records;
    },
  );
}

/** Catch-up: the replicator pushes everything the gateway holds. */
async function catchUp(
  broker: BrokerProcess,
  client: EdgelogClient,
  log: Log,
): Promise<Rate> {
  const replicator = new Replicator({
    log,
    client,
    nodeId: "bench-gateway",
    topics: ["sync"],
  });
  const bytes = log.partition("sync", 0).sizeBytes;
  const rate = await measure(broker, bytes, async () => {
    await replicator.syncOnce();
    return replicator.status().streams[0]!.ackedOffset + 1;
  });
  const central = await client.describeTopic("sync");
  const held = central.partitions.reduce((n, p) => n + p.highWatermark, 0);
  if (held !== totalRecords) {
    throw new Error(`Broker holds ${held} synced records, not ${totalRecords}`);
  }
  return rate;
}

/**
 * Steady state: {@linkcode LATENCY_RATE} single-record appends a second
 * (open loop) to the gateway, which replicates them as they come; a
 * consumer long-polls the broker and notes, per record, now − the append's
 * start time carried in the value.
 */
async function latency(client: EdgelogClient, log: Log): Promise<Latency> {
  const replicator = new Replicator({
    log,
    client,
    nodeId: "bench-gateway",
    topics: ["lat"],
  });
  replicator.start();
  const total = Math.round(LATENCY_RATE * latencySeconds);
  const samples: number[] = [];
  const consumer = (async () => {
    let offset = 0;
    for (let polls = 0; samples.length < total && polls < total * 10; polls++) {
      const bytes = await client.fetchBatches("lat", 0, {
        offset,
        maxWaitMs: 1000,
      });
      const now = performance.now();
      for (const batch of bytes.length === 0 ? [] : splitBatches(bytes)) {
        const { records } = await decodeBatch(batch);
        for (const record of records) {
          if (record.offset < offset) continue;
          const view = new DataView(
            record.value!.buffer,
            record.value!.byteOffset,
          );
          samples.push(now - view.getFloat64(0));
          offset = record.offset + 1;
        }
      }
    }
  })();
  const partition = log.partition("lat", 0);
  const appends: Promise<unknown>[] = [];
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / LATENCY_RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const value = new Uint8Array(VALUE_BYTES);
    new DataView(value.buffer).setFloat64(0, performance.now());
    appends.push(partition.appendRecords([{ value }]));
  }
  await Promise.all(appends);
  await consumer;
  await replicator.stop();
  if (samples.length < total) {
    throw new Error(`Consumer saw ${samples.length} of ${total} records`);
  }
  return { ...summarizeLatency(samples), ratePerSec: LATENCY_RATE };
}

/** What a run writes to bench/results/sync.json. */
interface Results {
  date: string;
  machine: Machine;
  setup: Record<string, string | number>;
  fillSeconds: number;
  direct: Rate;
  sync: Rate;
  ratio: number;
  latency: Latency;
}

async function main(): Promise<void> {
  if (!(totalRecords > 0) || totalRecords % RECORDS_PER_BATCH !== 0) {
    throw new RangeError(
      `--records must be a positive multiple of ${RECORDS_PER_BATCH}`,
    );
  }
  const before = await machine();
  const batches = await buildBatches(8, RECORDS_PER_BATCH, { now: Date.now() });
  await using gatewayDir = await tempDataDir();
  await using brokerDir = await tempDataDir();
  await using broker = await startBroker({
    dataDir: brokerDir.path,
    denoFlags: profileFlags(),
  });
  const client = new EdgelogClient(broker.url, { retry: { attempts: 1 } });
  for (const topic of ["direct", "sync", "lat"]) {
    await client.createTopic(topic, { partitions: 1 });
  }
  const storage = await FsStorage.open(gatewayDir.path);
  const log = await Log.open({ storage });
  await log.createTopic("sync");
  await log.createTopic("lat");

  console.error(`filling the gateway with ${totalRecords} records …`);
  let started = performance.now();
  await fillGateway(log, "sync", batches);
  const fillSeconds = (performance.now() - started) / 1000;
  console.error("direct binary produce …");
  const direct = await directProduce(broker, client, batches);
  console.error("sync catch-up …");
  const sync = await catchUp(broker, client, log);
  console.error(`steady-state latency, ${latencySeconds} s …`);
  started = performance.now();
  const lat = await latency(client, log);
  await log.close();
  const exitCode = await broker.stop();
  if (exitCode !== 0) throw new Error(`Broker exited with ${exitCode}`);

  const results: Results = {
    date: new Date().toISOString(),
    machine: await machineAfter(before),
    setup: {
      records: totalRecords,
      recordsPerBatch: RECORDS_PER_BATCH,
      valueBytes: VALUE_BYTES,
      batchBytes: batches[0]!.length,
      requestBytes: Math.floor(MAX_REQUEST_BYTES / batches[0]!.length) *
        batches[0]!.length,
      inFlight: IN_FLIGHT,
      gateway: "Log over FsStorage (fsync always) in this process",
      broker: "edge/serve.ts subprocess (fsync always), loopback",
      client: "EdgelogClient over global fetch, retry attempts 1",
      latencySeconds,
    },
    fillSeconds,
    direct,
    sync,
    ratio: sync.recordsPerSec / direct.recordsPerSec,
    latency: lat,
  };
  await writeResults("sync", results);
  console.log(table(results));
}

function table(r: Results): string {
  const rate = (x: Rate) =>
    `${count(x.recordsPerSec)} rec/s, ${fixed(x.mbPerSec)} MB/s (${
      fixed(x.seconds, 2)
    } s)`;
  const cpu = (x: Rate) =>
    `broker ${fixed(x.brokerCores, 2)}, gateway+client ${
      fixed(x.gatewayCores, 2)
    }`;
  return [
    `${describeMachine(r.machine)}; ${
      count(r.setup.records as number)
    } records of ${r.setup.valueBytes} bytes`,
    "",
    "| measure | result | CPU (cores) | target | met |",
    "| --- | --- | --- | --- | --- |",
    `| direct binary produce, ${r.setup.requestBytes}-byte bodies, ${r.setup.inFlight} in flight | ${
      rate(r.direct)
    } | ${cpu(r.direct)} | | |`,
    `| sync catch-up (Replicator → broker) | ${rate(r.sync)} | ${
      cpu(r.sync)
    } | | |`,
    `| sync / direct | ${fixed(r.ratio * 100)} % | | ≥ 70 % | ${
      mark(r.ratio >= 0.7)
    } |`,
    `| gateway append → visible at broker, ${
      count(r.latency.ratePerSec)
    } rec/s, p50 | ${fixed(r.latency.p50Ms, 2)} ms | | | |`,
    `| same, p99 | ${fixed(r.latency.p99Ms, 2)} ms (max ${
      fixed(r.latency.maxMs, 1)
    }) | | | |`,
  ].join("\n");
}

await main();
