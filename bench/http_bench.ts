/**
 * HTTP benchmark of the broker on loopback, in one run: produce (binary and
 * JSON) against a bare `Deno.serve` ceiling, a durable ceiling (the same
 * server appending and fsyncing each body) and Redis Streams, fetch
 * throughput, produce→consume latency through long polls, and the broker's
 * RSS. Prints a markdown table and writes bench/results/http.json.
 *
 * Run: `deno run --allow-all bench/http_bench.ts [--seconds N] [--profile]`
 * (`--profile` starts the broker with `--cpu-prof` into bench/results/prof).
 *
 * @module
 */

import {
  type BrokerProcess,
  readCpuSeconds,
  readRssBytes,
  RssSampler,
  startBroker,
  tempDataDir,
} from "../test/broker_process.ts";
import {
  buildBatches,
  buildRecords,
  jsonRecords,
  VALUE_BYTES,
} from "./batches.ts";
import {
  expectOk,
  Http1Connection,
  type Http1Connection as Conn,
} from "./http1.ts";
import { encodeXadds, RespConnection, startRedis } from "./redis_peer.ts";
import { readBatchHeader, splitBatches } from "../runtime/format/mod.ts";
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

const RECORDS_PER_REQUEST = 1000;
/** "A few" connections, then many: group commit needs requests in flight. */
const CONCURRENCY = [4, 16] as const;
/** Partitions of the produce topics; connection w writes partition w mod 4. */
const PARTITIONS = 4;
const LATENCY_RATE = 1000;
/**
 * Records sent at the latency rate before the measured ones: the first
 * second compiles the JSON produce and long-poll paths, and a latency
 * target is about the broker in service, not its first second.
 */
const LATENCY_WARMUP = LATENCY_RATE;
/** Kafka's max.partition.fetch.bytes default, and the broker's. */
const FETCH_MAX_BYTES = 2 ** 20;
const BATCHES_MIME = "application/vnd.edgelog.batches";

const seconds = Number(flagValue("--seconds") ?? "4");

/** Throughput of one phase, and what it cost the server process. */
interface Rate extends Throughput {
  /** Server CPU (user + system) over the phase, in cores. */
  serverCores: number;
  /** Server CPU per record: comparable across runs on a busy machine. */
  serverCpuNsPerRecord: number;
  serverRssMiB: number;
}

/** Records and bytes one phase moved. */
type Moved = [records: number, bytes: number];

const mib = (b: number) => b / 2 ** 20;

/** Runs `work` and measures it and the server process `pid` around it. */
async function measure(pid: number, work: () => Promise<Moved>): Promise<Rate> {
  const cpuBefore = await readCpuSeconds(pid) ?? NaN;
  const started = performance.now();
  const [records, bytes] = await work();
  const s = (performance.now() - started) / 1000;
  const cpu = (await readCpuSeconds(pid) ?? NaN) - cpuBefore;
  return {
    ...throughput(records, bytes, s),
    serverCores: cpu / s,
    serverCpuNsPerRecord: (cpu / records) * 1e9,
    serverRssMiB: mib(await readRssBytes(pid) ?? NaN),
  };
}

/**
 * Runs one loop per connection to `url` for `ms` milliseconds; each call of
 * `step(conn, worker, i)` returns the records and bytes it moved.
 */
async function loop(
  url: string,
  connections: number,
  step: (conn: Conn, worker: number, i: number) => Promise<Moved>,
): Promise<Moved> {
  const conns = await Promise.all(
    Array.from({ length: connections }, () => Http1Connection.connect(url)),
  );
  let records = 0;
  let bytes = 0;
  const until = performance.now() + seconds * 1000;
  try {
    await Promise.all(conns.map(async (conn, w) => {
      for (let i = 0; performance.now() < until; i++) {
        const [r, b] = await step(conn, w, i);
        records += r;
        bytes += b;
      }
    }));
  } finally {
    for (const c of conns) c.close();
  }
  return [records, bytes];
}

async function createTopic(
  url: string,
  name: string,
  partitions: number,
): Promise<void> {
  const conn = await Http1Connection.connect(url);
  try {
    expectOk(
      await conn.request("/v1/topics", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, partitions }),
      }),
      `create ${name}`,
    );
  } finally {
    conn.close();
  }
}

/** Binary produce (or the same POSTs to the ceiling server). */
function postBatches(
  server: BrokerProcess,
  connections: number,
  batches: Uint8Array[],
): Promise<Rate> {
  return measure(
    server.pid,
    () =>
      loop(server.url, connections, async (conn, w, i) => {
        const body = batches[(w + i * connections) % batches.length]!;
        expectOk(
          await conn.request(
            `/v1/topics/bin/records?partition=${w % PARTITIONS}`,
            {
              method: "POST",
              headers: { "content-type": BATCHES_MIME },
              body,
            },
          ),
          "binary produce",
        );
        return [RECORDS_PER_REQUEST, body.length];
      }),
  );
}

/** JSON produce, 1000 records with explicit partitions per request. */
function jsonProduce(
  broker: BrokerProcess,
  connections: number,
): Promise<Rate> {
  const encoder = new TextEncoder();
  const bodies = Array.from(
    { length: PARTITIONS },
    (_, p) =>
      encoder.encode(JSON.stringify({
        records: jsonRecords(RECORDS_PER_REQUEST, { partition: p }),
      })),
  );
  return measure(
    broker.pid,
    () =>
      loop(broker.url, connections, async (conn, w) => {
        const body = bodies[w % PARTITIONS]!;
        expectOk(
          await conn.request("/v1/topics/json/records", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          }),
          "JSON produce",
        );
        return [RECORDS_PER_REQUEST, body.length];
      }),
  );
}

/** Redis Streams: XADD of the same values, 1000 per pipeline. */
async function redisRates(): Promise<Record<string, Rate>> {
  const server = await startRedis();
  try {
    const values = buildRecords(RECORDS_PER_REQUEST, { now: Date.now() })
      .map((r) => r.value!);
    const encoded = encodeXadds("bench", values);
    const rates: Record<string, Rate> = {};
    for (const connections of CONCURRENCY) {
      rates[`c${connections}`] = await measure(server.pid, async () => {
        const conns = await Promise.all(
          Array.from(
            { length: connections },
            () => RespConnection.connect(server.port),
          ),
        );
        let records = 0;
        const until = performance.now() + seconds * 1000;
        try {
          await Promise.all(conns.map(async (conn) => {
            while (performance.now() < until) {
              await conn.send(encoded, RECORDS_PER_REQUEST);
              records += RECORDS_PER_REQUEST;
            }
          }));
        } finally {
          for (const c of conns) c.close();
        }
        return [records, (records / RECORDS_PER_REQUEST) * encoded.length];
      });
    }
    return rates;
  } finally {
    await server.stop();
  }
}

/** Reads every partition of `bin` from the start as raw batches. */
function fetchAll(broker: BrokerProcess): Promise<Rate> {
  let records = 0;
  let bytes = 0;
  return measure(broker.pid, async () => {
    await Promise.all(
      Array.from({ length: PARTITIONS }, async (_, p) => {
        const conn = await Http1Connection.connect(broker.url);
        try {
          for (let offset = 0;;) {
            const res = await conn.request(
              `/v1/topics/bin/partitions/${p}/records?offset=${offset}&maxBytes=${FETCH_MAX_BYTES}`,
              { headers: { accept: BATCHES_MIME } },
            );
            if (res.status !== 200) expectOk(res, "fetch");
            if (res.body.length === 0) return;
            bytes += res.body.length;
            for (const batch of splitBatches(res.body)) {
              const h = readBatchHeader(batch);
              const last = h.baseOffset + h.lastOffsetDelta;
              if (last < offset) continue;
              records += last + 1 - Math.max(offset, h.baseOffset);
              offset = last + 1;
            }
          }
        } finally {
          conn.close();
        }
      }),
    );
    return [records, bytes];
  });
}

/** Latency from a produce request's start to a long-poll consumer's receipt. */
interface Latency extends LatencySummary {
  /** The same over every record, the warm-up ones too. */
  withWarmup: LatencySummary;
  /** Connections the open-loop producer needed to keep its schedule. */
  producerConnections: number;
}

/**
 * One record per produce request at {@linkcode LATENCY_RATE}/s (open loop:
 * requests start on schedule whether or not earlier ones finished); one
 * consumer long-polls and notes, per record, now − the send time in its
 * value. The first {@linkcode LATENCY_WARMUP} records are summarized apart.
 */
async function latency(broker: BrokerProcess): Promise<Latency> {
  await createTopic(broker.url, "lat", 1);
  const total = LATENCY_WARMUP +
    Math.round(LATENCY_RATE * Math.min(seconds, 5));
  const samples: number[] = [];
  const consumer = (async () => {
    const conn = await Http1Connection.connect(broker.url);
    try {
      let offset = 0;
      while (samples.length < total) {
        const page = expectOk(
          await conn.request(
            `/v1/topics/lat/partitions/0/records?offset=${offset}&maxWaitMs=1000`,
          ),
          "long poll",
        ) as { records: { value: { t: number } }[]; nextOffset: number };
        const now = performance.now();
        for (const r of page.records) samples.push(now - r.value.t);
        offset = page.nextOffset;
      }
    } finally {
      conn.close();
    }
  })();
  const idle: Conn[] = [];
  const opened: Conn[] = [];
  const produceOne = async () => {
    let conn = idle.pop();
    if (conn === undefined) {
      conn = await Http1Connection.connect(broker.url);
      opened.push(conn);
    }
    expectOk(
      await conn.request("/v1/topics/lat/records", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          records: [{ value: { t: performance.now() }, partition: 0 }],
        }),
      }),
      "latency produce",
    );
    idle.push(conn);
  };
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / LATENCY_RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(produceOne());
  }
  await Promise.all(inFlight);
  await consumer;
  for (const c of opened) c.close();
  return {
    ...summarizeLatency(samples.slice(LATENCY_WARMUP)),
    withWarmup: summarizeLatency(samples),
    producerConnections: opened.length,
  };
}

/** Binary produce rates of a bench server (`script` in bench/). */
async function serverRates(
  script: string,
  batches: Uint8Array[],
): Promise<Record<string, Rate>> {
  await using dir = await tempDataDir();
  await using server = await startBroker({
    entry: new URL(`./${script}`, import.meta.url).pathname,
    dataDir: dir.path,
  });
  return await perConcurrency((c) => postBatches(server, c, batches));
}

/** Runs `phase` once per concurrency level, keyed `c4`, `c16`. */
async function perConcurrency(
  phase: (connections: number) => Promise<Rate>,
): Promise<Record<string, Rate>> {
  const rates: Record<string, Rate> = {};
  for (const c of CONCURRENCY) rates[`c${c}`] = await phase(c);
  return rates;
}

async function main(): Promise<void> {
  const before = await machine();
  const batches = await buildBatches(8, RECORDS_PER_REQUEST, {
    now: Date.now(),
  });
  console.error(
    `batch: ${RECORDS_PER_REQUEST} × ${VALUE_BYTES}-byte records = ${
      batches[0]!.length
    } bytes; ${CONCURRENCY.join(" and ")} connections; ${seconds} s a phase`,
  );

  console.error("ceiling …");
  const ceiling = await serverRates("ceiling_server.ts", batches);
  console.error("durable ceiling …");
  const durable = await serverRates("durable_ceiling_server.ts", batches);
  console.error("redis …");
  const redis = await redisRates();

  await using dir = await tempDataDir();
  await using broker = await startBroker({
    dataDir: dir.path,
    denoFlags: profileFlags(),
  });
  const rssStart = await readRssBytes(broker.pid) ?? NaN;
  const rss = new RssSampler(broker.pid);
  await createTopic(broker.url, "bin", PARTITIONS);
  await createTopic(broker.url, "json", PARTITIONS);
  console.error("binary produce …");
  const binary = await perConcurrency((c) => postBatches(broker, c, batches));
  console.error("JSON produce …");
  const json = await jsonProduce(broker, CONCURRENCY[0]);
  console.error("fetch …");
  const fetched = await fetchAll(broker);
  console.error("latency …");
  const lat = await latency(broker);
  rss.stop();
  await new Promise((r) => setTimeout(r, 1000));
  const rssAfter = await readRssBytes(broker.pid) ?? NaN;
  const exitCode = await broker.stop();

  const ratios: Record<string, Ratios> = {};
  for (const c of CONCURRENCY) {
    const key = `c${c}`;
    const rate = (r: Record<string, Rate>) => r[key]!.recordsPerSec;
    ratios[key] = {
      overCeiling: rate(binary) / rate(ceiling),
      overDurableCeiling: rate(binary) / rate(durable),
      durableOverCeiling: rate(durable) / rate(ceiling),
      overRedis: rate(binary) / rate(redis),
    };
  }
  const results: Results = {
    date: new Date().toISOString(),
    machine: await machineAfter(before),
    setup: {
      recordsPerRequest: RECORDS_PER_REQUEST,
      valueBytes: VALUE_BYTES,
      requestBytes: batches[0]!.length,
      concurrency: [...CONCURRENCY],
      partitions: PARTITIONS,
      secondsPerPhase: seconds,
      client: "bench/http1.ts (HTTP/1.1 keep-alive over Deno.connect)",
      brokerFsync: "default: always, group commit per partition",
      redis: "appendonly yes, appendfsync everysec, save ''",
    },
    ceiling,
    durableCeiling: durable,
    redis,
    binaryProduce: binary,
    jsonProduce: json,
    fetch: fetched,
    latency: lat,
    rss: {
      startMiB: mib(rssStart),
      maxDuringMiB: mib(rss.max),
      afterMiB: mib(rssAfter),
    },
    ratios,
    brokerExitCode: exitCode,
  };
  await writeResults("http", results);
  console.log(table(results));
}

/** The broker's binary produce rate over its references, and theirs. */
interface Ratios {
  overCeiling: number;
  overDurableCeiling: number;
  /** What fsyncing every body costs a bare server. */
  durableOverCeiling: number;
  overRedis: number;
}

/** What a run writes to bench/results/http.json. */
interface Results {
  date: string;
  machine: Machine;
  setup: Record<string, string | number | number[]>;
  ceiling: Record<string, Rate>;
  durableCeiling: Record<string, Rate>;
  redis: Record<string, Rate>;
  binaryProduce: Record<string, Rate>;
  jsonProduce: Rate;
  fetch: Rate;
  latency: Latency;
  rss: { startMiB: number; maxDuringMiB: number; afterMiB: number };
  ratios: Record<string, Ratios>;
  brokerExitCode: number;
}

function table(r: Results): string {
  const throughput = (x: Rate) =>
    `${count(x.recordsPerSec)} rec/s, ${fixed(x.mbPerSec)} MB/s`;
  const cost = (x: Rate) =>
    `${fixed(x.serverCores, 2)} cores, ${count(x.serverCpuNsPerRecord)} ns/rec`;
  const rows: string[][] = [];
  for (const c of CONCURRENCY) {
    const key = `c${c}`;
    const binary = r.binaryProduce[key]!;
    const ratio = r.ratios[key]!;
    rows.push(
      [
        `ceiling: bare Deno.serve reads body, ${c} conns`,
        throughput(r.ceiling[key]!),
        cost(r.ceiling[key]!),
        "",
        "",
      ],
      [
        `durable ceiling: the same, appends and fsyncs each body, ${c} conns`,
        throughput(r.durableCeiling[key]!),
        cost(r.durableCeiling[key]!),
        "",
        "",
      ],
      [
        `durable ceiling / ceiling, ${c} conns`,
        `${fixed(ratio.durableOverCeiling * 100)} %`,
        "",
        "",
        "",
      ],
      [
        `Redis Streams XADD pipelined (AOF everysec), ${c} conns`,
        `${count(r.redis[key]!.recordsPerSec)} rec/s`,
        cost(r.redis[key]!),
        "",
        "",
      ],
      [
        `broker binary produce (fsync always), ${c} conns`,
        throughput(binary),
        cost(binary),
        "≥ 1,000,000 rec/s",
        mark(binary.recordsPerSec >= 1e6),
      ],
      [
        `binary produce / ceiling, ${c} conns`,
        `${fixed(ratio.overCeiling * 100)} %`,
        "",
        "≥ 40 %",
        mark(ratio.overCeiling >= 0.4),
      ],
      [
        `binary produce / durable ceiling, ${c} conns`,
        `${fixed(ratio.overDurableCeiling * 100)} %`,
        "",
        "",
        "",
      ],
      [
        `binary produce / Redis, ${c} conns`,
        `${fixed(ratio.overRedis, 2)} ×`,
        "",
        "≥ 3 ×",
        mark(ratio.overRedis >= 3),
      ],
    );
  }
  rows.push(
    [
      `broker JSON produce, ${CONCURRENCY[0]} conns`,
      throughput(r.jsonProduce),
      cost(r.jsonProduce),
      "",
      "",
    ],
    [
      `fetch, binary batches, ${PARTITIONS} conns`,
      throughput(r.fetch),
      cost(r.fetch),
      "≥ 2,000,000 rec/s",
      mark(r.fetch.recordsPerSec >= 2e6),
    ],
    [
      `produce→consume latency at ${count(LATENCY_RATE)} rec/s, p50`,
      `${fixed(r.latency.p50Ms, 2)} ms`,
      "",
      "",
      "",
    ],
    [
      `produce→consume latency, p99 (after ${
        count(LATENCY_WARMUP)
      } warm-up records)`,
      `${fixed(r.latency.p99Ms, 2)} ms (max ${fixed(r.latency.maxMs, 1)})`,
      "",
      "< 10 ms",
      mark(r.latency.p99Ms < 10),
    ],
    [
      "produce→consume latency, p99 with the warm-up",
      `${fixed(r.latency.withWarmup.p99Ms, 2)} ms (max ${
        fixed(r.latency.withWarmup.maxMs, 1)
      })`,
      "",
      "",
      "",
    ],
    [
      "broker RSS: start / peak / 1 s after",
      `${fixed(r.rss.startMiB)} / ${fixed(r.rss.maxDuringMiB)} / ${
        fixed(r.rss.afterMiB)
      } MiB`,
      "",
      "< 200 MB",
      mark(r.rss.maxDuringMiB * 2 ** 20 < 200e6),
    ],
  );
  return [
    describeMachine(r.machine),
    "",
    "| measure | result | server CPU | target | met |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");
}

await main();
