/**
 * HTTP benchmark of the broker on loopback, in one run: produce (binary and
 * JSON) against a bare `Deno.serve` ceiling and Redis Streams, fetch
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
  Http1Connection,
  type Http1Connection as Conn,
  type Http1Response,
  jsonBody,
} from "./http1.ts";
import { encodeXadds, RespConnection, startRedis } from "./redis_peer.ts";
import { readBatchHeader, splitBatches } from "../runtime/format/mod.ts";

const RECORDS_PER_REQUEST = 1000;
const CONNECTIONS = 4;
const LATENCY_RATE = 1000;
const FETCH_MAX_BYTES = 4 * 2 ** 20;
const BATCHES_MIME = "application/vnd.edgelog.batches";
const RESULTS = new URL("./results/http.json", import.meta.url);

const seconds = Number(flagValue("--seconds") ?? "5");
const profile = Deno.args.includes("--profile");

function flagValue(name: string): string | undefined {
  const at = Deno.args.indexOf(name);
  return at >= 0 ? Deno.args[at + 1] : undefined;
}

/** Throughput of one phase. */
interface Rate {
  records: number;
  bytes: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
}

function rate(records: number, bytes: number, ms: number): Rate {
  const s = ms / 1000;
  return {
    records,
    bytes,
    seconds: s,
    recordsPerSec: records / s,
    mbPerSec: bytes / s / 1e6,
  };
}

/**
 * Runs one loop per connection to `url` for `ms` milliseconds; each call of
 * `step(conn, worker, i)` returns the records and bytes it moved.
 */
async function load(
  url: string,
  ms: number,
  step: (conn: Conn, worker: number, i: number) => Promise<[number, number]>,
): Promise<Rate> {
  const conns = await Promise.all(
    Array.from({ length: CONNECTIONS }, () => Http1Connection.connect(url)),
  );
  let records = 0;
  let bytes = 0;
  const started = performance.now();
  const until = started + ms;
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
  return rate(records, bytes, performance.now() - started);
}

function expectOk(res: Http1Response, what: string): unknown {
  if (res.status !== 200 && res.status !== 201) {
    throw new Error(
      `${what}: ${res.status} ${new TextDecoder().decode(res.body)}`,
    );
  }
  return jsonBody(res);
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

function postBatches(
  conn: Conn,
  path: string,
  body: Uint8Array,
): Promise<Http1Response> {
  return conn.request(path, {
    method: "POST",
    headers: { "content-type": BATCHES_MIME },
    body,
  });
}

/** The bare Deno.serve: same bodies as the binary produce. */
async function ceiling(batches: Uint8Array[]): Promise<Rate> {
  await using dir = await tempDataDir();
  await using server = await startBroker({
    entry: new URL("./ceiling_server.ts", import.meta.url).pathname,
    dataDir: dir.path,
  });
  return await load(server.url, seconds * 1000, async (conn, w, i) => {
    const body = batches[(w + i * CONNECTIONS) % batches.length]!;
    expectOk(await postBatches(conn, "/produce", body), "ceiling");
    return [RECORDS_PER_REQUEST, body.length];
  });
}

/** Binary produce: one partition per connection. */
function binaryProduce(
  broker: BrokerProcess,
  batches: Uint8Array[],
): Promise<Rate> {
  return load(broker.url, seconds * 1000, async (conn, w, i) => {
    const body = batches[(w + i * CONNECTIONS) % batches.length]!;
    expectOk(
      await postBatches(conn, `/v1/topics/bin/records?partition=${w}`, body),
      "binary produce",
    );
    return [RECORDS_PER_REQUEST, body.length];
  });
}

/** JSON produce, 1000 records with explicit partitions per request. */
function jsonProduce(broker: BrokerProcess): Promise<Rate> {
  const encoder = new TextEncoder();
  const bodies = Array.from(
    { length: CONNECTIONS },
    (_, w) =>
      encoder.encode(JSON.stringify({
        records: jsonRecords(RECORDS_PER_REQUEST, { partition: w }),
      })),
  );
  return load(broker.url, seconds * 1000, async (conn, w) => {
    const body = bodies[w]!;
    expectOk(
      await conn.request("/v1/topics/json/records", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      }),
      "JSON produce",
    );
    return [RECORDS_PER_REQUEST, body.length];
  });
}

/** Redis Streams: XADD of the same values, 1000 per pipeline. */
async function redis(): Promise<Rate> {
  const server = await startRedis();
  try {
    const values = buildRecords(RECORDS_PER_REQUEST, { now: Date.now() })
      .map((r) => r.value!);
    const encoded = encodeXadds("bench", values);
    const conns = await Promise.all(
      Array.from(
        { length: CONNECTIONS },
        () => RespConnection.connect(server.port),
      ),
    );
    let records = 0;
    const started = performance.now();
    const until = started + seconds * 1000;
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
    return rate(
      records,
      (records / RECORDS_PER_REQUEST) * encoded.length,
      performance.now() - started,
    );
  } finally {
    await server.stop();
  }
}

/** Reads every partition of `bin` from the start as raw batches. */
async function fetchAll(
  broker: BrokerProcess,
  partitions: number,
): Promise<Rate> {
  let records = 0;
  let bytes = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: partitions }, async (_, p) => {
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
  return rate(records, bytes, performance.now() - started);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ??
    NaN;
}

/** Latency from a produce request's start to a long-poll consumer's receipt. */
interface Latency {
  records: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Connections the open-loop producer needed to keep its schedule. */
  producerConnections: number;
}

/**
 * One record per produce request at {@linkcode LATENCY_RATE}/s (open loop:
 * requests start on schedule whether or not earlier ones finished); one
 * consumer long-polls and notes, per record, now − the send time in its
 * value.
 */
async function latency(broker: BrokerProcess): Promise<Latency> {
  await createTopic(broker.url, "lat", 1);
  const total = Math.round(LATENCY_RATE * Math.min(seconds, 5));
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
  samples.sort((a, b) => a - b);
  return {
    records: samples.length,
    p50Ms: percentile(samples, 0.5),
    p99Ms: percentile(samples, 0.99),
    maxMs: samples.at(-1) ?? NaN,
    producerConnections: opened.length,
  };
}

const mib = (b: number) => b / 2 ** 20;

async function main(): Promise<void> {
  const batches = await buildBatches(8, RECORDS_PER_REQUEST, {
    now: Date.now(),
  });
  console.error(
    `batch: ${RECORDS_PER_REQUEST} × ${VALUE_BYTES}-byte records = ${
      batches[0]!.length
    } bytes; ${CONNECTIONS} connections; ${seconds} s per phase`,
  );

  console.error("ceiling …");
  const ceilingRate = await ceiling(batches);
  console.error("redis …");
  const redisRate = await redis();

  await using dir = await tempDataDir();
  const profDir = new URL("./results/prof", import.meta.url).pathname;
  await using broker = await startBroker({
    dataDir: dir.path,
    denoFlags: profile ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [],
  });
  const rss = new RssSampler(broker.pid);
  await createTopic(broker.url, "bin", CONNECTIONS);
  await createTopic(broker.url, "json", CONNECTIONS);
  console.error("binary produce …");
  const binaryRate = await binaryProduce(broker, batches);
  console.error("JSON produce …");
  const jsonRate = await jsonProduce(broker);
  console.error("fetch …");
  const fetchRate = await fetchAll(broker, CONNECTIONS);
  console.error("latency …");
  const lat = await latency(broker);
  rss.stop();
  await new Promise((r) => setTimeout(r, 1000));
  const rssAfter = await readRssBytes(broker.pid) ?? NaN;
  const exitCode = await broker.stop();

  const results = {
    date: new Date().toISOString(),
    machine: {
      cpus: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
      os: Deno.build.os,
    },
    setup: {
      recordsPerRequest: RECORDS_PER_REQUEST,
      valueBytes: VALUE_BYTES,
      requestBytes: batches[0]!.length,
      connections: CONNECTIONS,
      secondsPerPhase: seconds,
      brokerFsync: "default (always, group commit)",
      redis: "appendonly yes, appendfsync everysec, save ''",
    },
    ceiling: ceilingRate,
    binaryProduce: binaryRate,
    jsonProduce: jsonRate,
    redis: redisRate,
    fetch: fetchRate,
    latency: lat,
    rss: { maxDuringMiB: mib(rss.max), afterMiB: mib(rssAfter) },
    ratios: {
      binaryOverCeiling: binaryRate.recordsPerSec / ceilingRate.recordsPerSec,
      binaryOverRedis: binaryRate.recordsPerSec / redisRate.recordsPerSec,
    },
    brokerExitCode: exitCode,
  };
  await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(RESULTS, JSON.stringify(results, null, 2) + "\n");
  console.log(table(results));
}

function table(r: {
  ceiling: Rate;
  binaryProduce: Rate;
  jsonProduce: Rate;
  redis: Rate;
  fetch: Rate;
  latency: Latency;
  rss: { maxDuringMiB: number; afterMiB: number };
  ratios: { binaryOverCeiling: number; binaryOverRedis: number };
}): string {
  const n = (x: number) => Math.round(x).toLocaleString("en-US");
  const f = (x: number, d = 1) => x.toFixed(d);
  const mark = (ok: boolean) => ok ? "✅" : "❌";
  const rows: [string, string, string, string][] = [
    [
      "ceiling: bare Deno.serve, read body",
      `${n(r.ceiling.recordsPerSec)} rec/s, ${f(r.ceiling.mbPerSec)} MB/s`,
      "",
      "",
    ],
    [
      "broker binary produce (fsync always)",
      `${n(r.binaryProduce.recordsPerSec)} rec/s, ${
        f(r.binaryProduce.mbPerSec)
      } MB/s`,
      "≥ 1,000,000 rec/s",
      mark(r.binaryProduce.recordsPerSec >= 1e6),
    ],
    [
      "binary produce / ceiling",
      `${f(r.ratios.binaryOverCeiling * 100)} %`,
      "≥ 40 %",
      mark(r.ratios.binaryOverCeiling >= 0.4),
    ],
    [
      "broker JSON produce",
      `${n(r.jsonProduce.recordsPerSec)} rec/s, ${
        f(r.jsonProduce.mbPerSec)
      } MB/s`,
      "",
      "",
    ],
    [
      "Redis Streams XADD (AOF everysec)",
      `${n(r.redis.recordsPerSec)} rec/s`,
      "",
      "",
    ],
    [
      "binary produce / Redis",
      `${f(r.ratios.binaryOverRedis, 2)} ×`,
      "≥ 3 ×",
      mark(r.ratios.binaryOverRedis >= 3),
    ],
    [
      "fetch, binary batches",
      `${n(r.fetch.recordsPerSec)} rec/s, ${f(r.fetch.mbPerSec)} MB/s`,
      "≥ 2,000,000 rec/s",
      mark(r.fetch.recordsPerSec >= 2e6),
    ],
    [
      `produce→consume latency at ${n(LATENCY_RATE)} rec/s, p50`,
      `${f(r.latency.p50Ms, 2)} ms`,
      "",
      "",
    ],
    [
      "produce→consume latency, p99",
      `${f(r.latency.p99Ms, 2)} ms`,
      "< 10 ms",
      mark(r.latency.p99Ms < 10),
    ],
    [
      "broker RSS, peak during run",
      `${f(r.rss.maxDuringMiB)} MiB`,
      "< 200 MB",
      mark(r.rss.maxDuringMiB * 2 ** 20 < 200e6),
    ],
    ["broker RSS, 1 s after run", `${f(r.rss.afterMiB)} MiB`, "", ""],
  ];
  return [
    "| measure | result | target | |",
    "| --- | --- | --- | --- |",
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");
}

await main();
