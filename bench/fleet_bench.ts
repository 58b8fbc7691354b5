/**
 * Fleet benchmark on loopback: many devices, each its own sync stream,
 * sending small pushes (one batch of 10 × 100-byte records) exactly as the
 * replicator sends them — a registration, then binary batches stamped with
 * producerId, epoch and baseSequence = local offset — to a broker subprocess
 * with fsync always. For each fleet size (streams held) it measures
 * registrations/s, pushes/s at 64 in flight (closed loop), their latency
 * and the broker's RSS and CPU; then, at the largest size, pushes offered
 * as an open-loop arrival process at half the measured maximum, and the
 * broker's restart time with every stream held (clean stop and kill -9).
 * The same client, with the same bodies and the same 64 in flight, drives
 * a bare `Deno.serve` (the plain ceiling) and a durable one (appends and
 * fsyncs each body) in the same run. Prints a markdown table and writes
 * bench/results/fleet.json.
 *
 * Run: `deno run --allow-all bench/fleet_bench.ts [--streams 1000,10000,100000]
 * [--seconds N] [--partitions N] [--profile]` (default 4 partitions;
 * `--profile` starts the broker with
 * `--cpu-prof` into bench/results/prof).
 *
 * @module
 */

import {
  type BrokerProcess,
  readCpuSeconds,
  readRssBytes,
  startBroker,
  tempDataDir,
} from "../test/broker_process.ts";
import { setBaseOffset, setProducer } from "../runtime/format/mod.ts";
import { concatBytes } from "../runtime/format/bytes.ts";
import { sequenceForOffset } from "../runtime/sync/sequence.ts";
import { buildBatch } from "./batches.ts";
import { expectOk, Http1Connection } from "./http1.ts";
import {
  count,
  describeMachine,
  fixed,
  flagValue,
  type Machine,
  machine,
  machineAfter,
  mark,
  percentile,
  profileFlags,
  writeResults,
} from "./_common.ts";

const RECORDS_PER_PUSH = 10;
const IN_FLIGHT = 64;
/** Connections the open-loop phase may use, so arrivals rarely queue. */
const OPEN_LOOP_CONNECTIONS = 128;
/** Partitions of the fleet topic: each group-commits (writes, fsyncs) alone. */
const PARTITIONS = Number(flagValue("--partitions") ?? "4");
const TOPIC = "fleet";
const BATCHES_MIME = "application/vnd.edgelog.batches";

const steps = (flagValue("--streams") ?? "1000,10000,100000").split(",")
  .map(Number);
const seconds = Number(flagValue("--seconds") ?? "5");

/** The simulated devices: one stream each, in parallel arrays. */
interface Fleet {
  producerId: number[];
  epoch: number[];
  /** The local offset of each device's next record. */
  next: number[];
  template: Uint8Array;
}

/** Requests of one phase and what they cost the server. */
interface Rate {
  requests: number;
  seconds: number;
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  serverCores: number;
  /** Server CPU per request: comparable across runs on a busy machine. */
  serverCpuUs: number;
  serverRssMiB: number;
  clientCores: number;
}

/** One fleet size. */
interface Step {
  streams: number;
  registrations: Rate;
  pushes: Rate;
}

const mib = (b: number) => b / 2 ** 20;

/** Runs `work`, which returns per-request latencies, and measures around it. */
async function measure(
  pid: number,
  work: () => Promise<number[]>,
): Promise<Rate> {
  const cpuBefore = await readCpuSeconds(pid) ?? NaN;
  const selfBefore = await readCpuSeconds(Deno.pid) ?? NaN;
  const started = performance.now();
  const latencies = await work();
  const s = (performance.now() - started) / 1000;
  const cpu = (await readCpuSeconds(pid) ?? NaN) - cpuBefore;
  const self = (await readCpuSeconds(Deno.pid) ?? NaN) - selfBefore;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    seconds: s,
    perSec: latencies.length / s,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    serverCores: cpu / s,
    serverCpuUs: (cpu / latencies.length) * 1e6,
    serverRssMiB: mib(await readRssBytes(pid) ?? NaN),
    clientCores: self / s,
  };
}

async function connections(url: string, n: number) {
  return await Promise.all(
    Array.from({ length: n }, () => Http1Connection.connect(url)),
  );
}

/** The next push of device `d`: its batch at its next local offset. */
function pushBody(fleet: Fleet, d: number): Uint8Array {
  const body = fleet.template.slice();
  const offset = fleet.next[d]!;
  setBaseOffset(body, offset);
  setProducer(
    body,
    fleet.producerId[d]!,
    fleet.epoch[d]!,
    sequenceForOffset(offset),
  );
  return body;
}

/** Registers devices `from` … `to - 1`, {@linkcode IN_FLIGHT} at a time. */
function register(
  broker: BrokerProcess,
  fleet: Fleet,
  from: number,
  to: number,
): Promise<Rate> {
  return measure(broker.pid, async () => {
    const conns = await connections(broker.url, IN_FLIGHT);
    const latencies: number[] = [];
    let d = from;
    try {
      await Promise.all(conns.map(async (conn) => {
        while (d < to) {
          const device = d++;
          const sent = performance.now();
          const reg = expectOk(
            await conn.request("/v1/sync/streams", {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({
                nodeId: `device-${device}`,
                topic: TOPIC,
                sourcePartition: 0,
              }),
            }),
            "register",
          ) as {
            producerId: number;
            producerEpoch: number;
            ackedOffset: number;
          };
          latencies.push(performance.now() - sent);
          fleet.producerId[device] = reg.producerId;
          fleet.epoch[device] = reg.producerEpoch;
          fleet.next[device] = reg.ackedOffset + 1;
        }
      }));
    } finally {
      for (const c of conns) c.close();
    }
    return latencies;
  });
}

/**
 * Where a push goes: the broker's sync route, its multi-stream route
 * ({@linkcode MULTI_STREAMS} devices' pushes in one request), its plain
 * produce, or a reference server.
 */
type Target = "sync" | "multi" | "produce" | "reference";

/** Streams per request of the multi-stream phase: a gateway's worth. */
const MULTI_STREAMS = 16;

/** Devices `first` … `first + MULTI_STREAMS - 1` (mod `devices`) in one push. */
async function multiPush(
  conn: Http1Connection,
  fleet: Fleet,
  first: number,
  devices: number,
): Promise<void> {
  const ds = Array.from(
    { length: MULTI_STREAMS },
    (_, i) => (first + i) % devices,
  );
  const res = await conn.request("/v1/sync/batches", {
    method: "POST",
    headers: { "content-type": BATCHES_MIME },
    body: concatBytes(ds.map((d) => pushBody(fleet, d))),
  });
  const { results } = expectOk(res, "multi-stream push") as {
    results: { producerId: number; ackedOffset?: number }[];
  };
  ds.forEach((d, i) => {
    const expected = fleet.next[d]! + RECORDS_PER_PUSH - 1;
    if (results[i]?.ackedOffset !== expected) {
      throw new Error(
        `Device ${d}: ${JSON.stringify(results[i])}, expected ack ${expected}`,
      );
    }
    fleet.next[d] = expected + 1;
  });
}

/** Sends device `d`'s next push to `target` and checks the answer. */
async function push(
  conn: Http1Connection,
  fleet: Fleet,
  d: number,
  target: Target,
): Promise<void> {
  // The same bytes; a plain produce refuses batches with a producerId.
  const body = target === "sync" ? pushBody(fleet, d) : fleet.template;
  const path = target === "sync"
    ? `/v1/sync/streams/${fleet.producerId[d]}/batches`
    : `/v1/topics/${TOPIC}/records?partition=${d % PARTITIONS}`;
  const res = await conn.request(path, {
    method: "POST",
    headers: { "content-type": BATCHES_MIME },
    body,
  });
  const answer = expectOk(res, `push to ${target}`) as { ackedOffset?: number };
  if (target !== "sync") return;
  const expected = fleet.next[d]! + RECORDS_PER_PUSH - 1;
  if (answer.ackedOffset !== expected) {
    throw new Error(
      `Device ${d}: ackedOffset ${answer.ackedOffset}, expected ${expected}`,
    );
  }
  fleet.next[d] = expected + 1;
}

/**
 * Closed loop: {@linkcode IN_FLIGHT} connections, each sending the next
 * device's push (round robin over `devices`) as soon as its last answered.
 */
function closedLoop(
  server: BrokerProcess,
  fleet: Fleet,
  devices: number,
  target: Target,
): Promise<Rate> {
  return measure(server.pid, async () => {
    // The multi-stream phase keeps as many stream pushes in flight as the
    // others, and so never has one device in two requests at once.
    const conns = await connections(
      server.url,
      target === "multi" ? IN_FLIGHT / MULTI_STREAMS : IN_FLIGHT,
    );
    const latencies: number[] = [];
    let turn = 0;
    const until = performance.now() + seconds * 1000;
    try {
      await Promise.all(conns.map(async (conn) => {
        while (performance.now() < until) {
          const sent = performance.now();
          if (target === "multi") {
            const first = turn;
            turn += MULTI_STREAMS;
            await multiPush(conn, fleet, first % devices, devices);
          } else {
            await push(conn, fleet, turn++ % devices, target);
          }
          latencies.push(performance.now() - sent);
        }
      }));
    } finally {
      for (const c of conns) c.close();
    }
    return latencies;
  });
}

/**
 * Open loop: pushes arrive at `rate` a second whatever the answers do; the
 * latency of each is from its arrival time (so queueing counts), the next
 * device's stream in turn each time.
 */
function openLoop(
  broker: BrokerProcess,
  fleet: Fleet,
  devices: number,
  rate: number,
): Promise<Rate> {
  return measure(broker.pid, async () => {
    const free = await connections(broker.url, OPEN_LOOP_CONNECTIONS);
    const all = [...free];
    const queued: ((c: Http1Connection) => void)[] = [];
    const acquire = () =>
      free.pop() ?? new Promise<Http1Connection>((r) => queued.push(r));
    const release = (c: Http1Connection) => {
      const waiter = queued.shift();
      if (waiter) waiter(c);
      else free.push(c);
    };
    const latencies: number[] = [];
    const pending: Promise<void>[] = [];
    const total = Math.round(rate * seconds);
    const started = performance.now();
    try {
      for (let i = 0; i < total;) {
        const now = performance.now();
        for (; i < total && started + (i * 1000) / rate <= now; i++) {
          const arrival = started + (i * 1000) / rate;
          const d = i % devices;
          pending.push((async () => {
            const conn = await acquire();
            try {
              await push(conn, fleet, d, "sync");
            } finally {
              release(conn);
            }
            latencies.push(performance.now() - arrival);
          })());
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      await Promise.all(pending);
    } finally {
      for (const c of all) c.close();
    }
    return latencies;
  });
}

async function createTopic(url: string): Promise<void> {
  const [conn] = await connections(url, 1);
  try {
    expectOk(
      await conn!.request("/v1/topics", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: TOPIC, partitions: PARTITIONS }),
      }),
      "create topic",
    );
  } finally {
    conn!.close();
  }
}

/** The plain or durable reference server's closed-loop rate. */
async function reference(script: string, fleet: Fleet): Promise<Rate> {
  await using dir = await tempDataDir();
  await using server = await startBroker({
    entry: new URL(`./${script}`, import.meta.url).pathname,
    dataDir: dir.path,
  });
  const rate = await closedLoop(server, fleet, steps[0]!, "reference");
  await server.stop();
  return rate;
}

/** Restart of the broker on its data directory, and a push that continues. */
interface Restart {
  /** Start of a broker on an empty directory: the floor of any restart. */
  emptyStartMs: number;
  /**
   * CPU the broker process used until its ready line, clean restart and
   * empty start: on a machine shared with other work, wall time is CPU time
   * divided by the share the process got.
   */
  cleanStartCpuS: number;
  emptyStartCpuS: number;
  stopMs: number;
  cleanStartMs: number;
  kill9StartMs: number;
  rssMiB: number;
}

async function timeStart(dataDir: string): Promise<[BrokerProcess, number]> {
  const started = performance.now();
  const broker = await startBroker({
    dataDir,
    denoFlags: profileFlags(),
    readyTimeoutMs: 120_000,
  });
  return [broker, performance.now() - started];
}

/** Pushes once from a few devices and checks the acknowledged offsets. */
async function checkResumed(broker: BrokerProcess, fleet: Fleet) {
  const [conn] = await connections(broker.url, 1);
  try {
    for (const d of [0, fleet.producerId.length - 1]) {
      await push(conn!, fleet, d, "sync");
    }
  } finally {
    conn!.close();
  }
}

async function restarts(
  first: BrokerProcess,
  fleet: Fleet,
  devices: number,
): Promise<Restart> {
  const started = performance.now();
  const code = await first.stop();
  if (code !== 0) throw new Error(`Broker exited with ${code}`);
  const stopMs = performance.now() - started;
  const [second, cleanStartMs] = await timeStart(first.dataDir);
  const cleanStartCpuS = await readCpuSeconds(second.pid) ?? NaN;
  await checkResumed(second, fleet);
  const rssMiB = mib(await readRssBytes(second.pid) ?? NaN);
  await closedLoop(second, fleet, devices, "sync");
  await second.kill9();
  const [third, kill9StartMs] = await timeStart(first.dataDir);
  await checkResumed(third, fleet);
  const exit = await third.stop();
  if (exit !== 0) throw new Error(`Broker exited with ${exit}`);
  await using empty = await tempDataDir();
  const [fresh, emptyStartMs] = await timeStart(empty.path);
  const emptyStartCpuS = await readCpuSeconds(fresh.pid) ?? NaN;
  await fresh.stop();
  return {
    emptyStartMs,
    cleanStartCpuS,
    emptyStartCpuS,
    stopMs,
    cleanStartMs,
    kill9StartMs,
    rssMiB,
  };
}

/** What a run writes to bench/results/fleet.json. */
interface Results {
  date: string;
  machine: Machine;
  setup: Record<string, string | number>;
  ceiling: Rate;
  durableCeiling: Rate;
  produce: Rate;
  multi: Rate;
  steps: Step[];
  openLoop: Rate & { offeredPerSec: number };
  restart: Restart;
}

async function main(): Promise<void> {
  const before = await machine();
  const now = Date.now();
  const largest = steps.at(-1)!;
  const fleet: Fleet = {
    producerId: new Array(largest).fill(0),
    epoch: new Array(largest).fill(0),
    next: new Array(largest).fill(0),
    template: await buildBatch(RECORDS_PER_PUSH, { now }),
  };
  await using dir = await tempDataDir();
  const broker = await startBroker({
    dataDir: dir.path,
    denoFlags: profileFlags(),
  });
  let results: Results;
  try {
    await createTopic(broker.url);
    const done: Step[] = [];
    let held = 0;
    for (const streams of steps) {
      console.error(`registering up to ${streams} streams …`);
      const registrations = await register(broker, fleet, held, streams);
      held = streams;
      console.error(`pushing over ${streams} streams …`);
      const pushes = await closedLoop(broker, fleet, streams, "sync");
      done.push({ streams, registrations, pushes });
    }
    console.error(`multi-stream pushes, ${MULTI_STREAMS} streams each …`);
    const multi = await closedLoop(broker, fleet, held, "multi");
    const max = done.at(-1)!.pushes.perSec;
    console.error(`open loop at ${Math.round(max / 2)}/s …`);
    const open = await openLoop(broker, fleet, held, max / 2);
    console.error("binary produce of the same bodies …");
    const produce = await closedLoop(broker, fleet, steps[0]!, "produce");
    console.error("restarts …");
    const restart = await restarts(broker, fleet, held);
    console.error("ceilings …");
    const ceiling = await reference("ceiling_server.ts", fleet);
    const durableCeiling = await reference("durable_ceiling_server.ts", fleet);
    results = {
      date: new Date().toISOString(),
      machine: await machineAfter(before),
      setup: {
        recordsPerPush: RECORDS_PER_PUSH,
        pushBytes: fleet.template.length,
        inFlight: IN_FLIGHT,
        openLoopConnections: OPEN_LOOP_CONNECTIONS,
        partitions: PARTITIONS,
        multiStreams: MULTI_STREAMS,
        seconds,
        broker: "edge/serve.ts subprocess (fsync always), loopback",
        client:
          "bench/http1.ts keep-alive connections, one per request in flight",
      },
      ceiling,
      durableCeiling,
      produce,
      multi,
      steps: done,
      openLoop: { ...open, offeredPerSec: max / 2 },
      restart,
    };
  } finally {
    await broker[Symbol.asyncDispose]();
  }
  await writeResults("fleet", results);
  console.log(table(results));
}

function table(r: Results): string {
  const rate = (x: Rate) =>
    `${count(x.perSec)}/s | ${fixed(x.p50Ms)} / ${fixed(x.p99Ms)} | ${
      count(x.serverCpuUs)
    } | ${fixed(x.serverCores, 2)} / ${fixed(x.clientCores, 2)} | ${
      fixed(x.serverRssMiB)
    }`;
  const first = r.steps[0]!.pushes.perSec;
  const last = r.steps.at(-1)!;
  const flat = last.pushes.perSec / first;
  const ratio = last.pushes.perSec / r.ceiling.perSec;
  const minReg = Math.min(...r.steps.map((s) => s.registrations.perSec));
  return [
    `${
      describeMachine(r.machine)
    }; pushes of ${RECORDS_PER_PUSH} × 100-byte records (${r.setup.pushBytes} bytes), ${IN_FLIGHT} in flight`,
    "",
    "| phase | rate | p50 / p99 ms | server CPU µs per request | server / client cores | server RSS MiB |",
    "| --- | --- | --- | --- | --- | --- |",
    `| bare Deno.serve ceiling | ${rate(r.ceiling)} |`,
    `| durable ceiling (append + fsync) | ${rate(r.durableCeiling)} |`,
    `| broker binary produce, same bodies | ${rate(r.produce)} |`,
    ...r.steps.flatMap((s) => [
      `| registrations up to ${count(s.streams)} streams | ${
        rate(s.registrations)
      } |`,
      `| sync pushes over ${count(s.streams)} streams | ${rate(s.pushes)} |`,
    ]),
    `| multi-stream pushes, ${MULTI_STREAMS} streams per request (${
      count(r.multi.perSec * MULTI_STREAMS)
    } stream pushes/s) | ${rate(r.multi)} |`,
    `| open loop, ${count(r.openLoop.offeredPerSec)}/s offered | ${
      rate(r.openLoop)
    } |`,
    "",
    "| target | result | met |",
    "| --- | --- | --- |",
    `| pushes/s ≥ 10 000 at ${count(last.streams)} streams | ${
      count(last.pushes.perSec)
    } | ${mark(last.pushes.perSec >= 10_000)} |`,
    `| ≥ 60 % of the bare ceiling, same run | ${fixed(ratio * 100)} % | ${
      mark(ratio >= 0.6)
    } |`,
    `| flat ${count(r.steps[0]!.streams)} → ${
      count(last.streams)
    } streams (within 10 %) | ${fixed(flat * 100)} % | ${mark(flat >= 0.9)} |`,
    `| server CPU per sync push at ${
      count(last.streams)
    } streams vs the durable ceiling's per body | ${
      count(last.pushes.serverCpuUs)
    } µs vs ${count(r.durableCeiling.serverCpuUs)} µs | |`,
    `| registrations ≥ 5 000/s | ${count(minReg)}/s (slowest step) | ${
      mark(minReg >= 5000)
    } |`,
    `| RSS < 250 MB with ${count(last.streams)} streams | ${
      fixed(last.pushes.serverRssMiB)
    } MiB (after restart ${fixed(r.restart.rssMiB)}) | ${
      mark(last.pushes.serverRssMiB * 1.048576 < 250)
    } |`,
    `| restart < 2 s (ready line, registry loaded) | clean ${
      count(r.restart.cleanStartMs)
    } ms, ${fixed(r.restart.cleanStartCpuS, 2)} s CPU (empty broker ${
      count(r.restart.emptyStartMs)
    } ms, ${fixed(r.restart.emptyStartCpuS, 2)} s CPU), after kill -9 ${
      count(r.restart.kill9StartMs)
    } ms (stop took ${count(r.restart.stopMs)} ms) | ${
      mark(Math.max(r.restart.cleanStartMs, r.restart.kill9StartMs) < 2000)
    } |`,
    `| open-loop p99 < 20 ms at 50 % of max | ${fixed(r.openLoop.p99Ms)} ms | ${
      mark(r.openLoop.p99Ms < 20)
    } |`,
  ].join("\n");
}

await main();
