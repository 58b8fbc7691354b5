/**
 * What the Kafka mirror's process tests share: waiting on a broker
 * process's mirror state (from `GET /v1/topics/{topic}`), reading a Kafka
 * topic back with kcat and an edgelog data directory back in-process, as
 * rows "partition offset key value".
 *
 * @module
 */

import assert from "node:assert/strict";
import { startBroker as startInProcess } from "../../edge/broker.ts";
import type { BrokerProcess } from "../broker_process.ts";
import { seededRandom } from "../fault_proxy.ts";
import { TcpFaultProxy } from "../tcp_fault_proxy.ts";
import { type KafkaProcess, startKafka } from "./kafka_process.ts";

const decoder = new TextDecoder();

/** Why kcat cannot run here, or undefined when it can. */
export async function kcatUnavailable(): Promise<string | undefined> {
  try {
    await new Deno.Command("kcat", { args: ["-V"], stdout: "null" }).output();
    return undefined;
  } catch {
    return "kcat is not installed (apt-get install -y kcat)";
  }
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, ms));

/** A partition's `kafkaMirror` field. */
export interface MirrorInfo {
  state: string;
  lag: number;
  mirroredOffset: number;
  error: string | null;
}

async function mirrorInfo(url: string, topic: string): Promise<MirrorInfo[]> {
  const res = await fetch(`${url}/v1/topics/${topic}`);
  const body = await res.json();
  return body.partitions.map((p: { kafkaMirror: MirrorInfo }) => p.kafkaMirror);
}

/**
 * Waits (bounded, about 30 s) until the mirror of each of `partitions`
 * partitions of `topic` passes `done`; fails at once on a stopped one.
 */
export async function waitMirror(
  broker: BrokerProcess,
  topic: string,
  partitions: number,
  done: (info: MirrorInfo) => boolean,
  what: string,
): Promise<void> {
  let last: MirrorInfo[] = [];
  for (let i = 0; i < 600; i++) {
    last = await mirrorInfo(broker.url, topic).catch(() => []);
    if (last.length === partitions && last.every(done)) return;
    if (last.some((m) => m?.state === "stopped")) break;
    await sleep(50);
  }
  throw new Error(
    `Mirror not ${what}: ${JSON.stringify(last)}\n${broker.output()}`,
  );
}

/** Every record of `topic` in Kafka as "partition offset key value", by kcat. */
export async function readKafka(
  bootstrap: string,
  topic: string,
): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command("kcat", {
    args: [
      "-C",
      "-b",
      bootstrap,
      "-t",
      topic,
      "-o",
      "beginning",
      "-e",
      "-q",
      "-f",
      "%p %o %k %s\\n",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, decoder.decode(stderr));
  const rows = decoder.decode(stdout).split("\n").filter((l) => l !== "");
  const key = (row: string) => row.split(" ", 2).map(Number);
  return rows.sort((a, b) => {
    const [pa, oa] = key(a);
    const [pb, ob] = key(b);
    return pa! - pb! || oa! - ob!;
  });
}

/**
 * Every record of `topic` in the edgelog data directory `dataDir` (no
 * process may hold it) as "partition offset key value", in log order.
 */
export async function readEdgelog(
  dataDir: string,
  topic: string,
  partitions: number,
): Promise<string[]> {
  const broker = await startInProcess({ port: 0, dataDir, fsync: "never" });
  try {
    const rows: string[] = [];
    for (let p = 0; p < partitions; p++) {
      const log = broker.log.partition(topic, p);
      const { records } = await log.read(0, { maxBytes: 64 << 20 });
      assert.equal(records.length, log.highWatermark);
      for (const r of records) {
        rows.push(
          `${p} ${r.offset} ${decoder.decode(r.key!)} ${
            decoder.decode(r.value!)
          }`,
        );
      }
    }
    return rows;
  } finally {
    await broker.close();
  }
}

/** Creates `topic` on a broker process over HTTP. */
export async function createTopic(
  url: string,
  topic: string,
  partitions: number,
): Promise<void> {
  const res = await fetch(`${url}/v1/topics`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: topic, partitions }),
  });
  assert.equal(res.status, 201, await res.text());
}

/** What a producer sends next: to which broker, which JSON records. */
export interface Send {
  url: string;
  records: unknown[];
}

/**
 * `workers` producers writing `topic` over HTTP until stopped, each
 * sending what `next` says and then pausing `pauseMs()`; failures (a dead
 * broker) are ignored.
 */
export function produceLoop(
  topic: string,
  workers: number,
  next: (worker: number) => Send,
  pauseMs: () => number,
): { stop(): Promise<void> } {
  let running = true;
  const worker = async (id: number) => {
    while (running) {
      const { url, records } = next(id);
      await fetch(`${url}/v1/topics/${topic}/records`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ records }),
      }).then((res) => res.body?.cancel()).catch(() => sleep(50));
      await sleep(pauseMs());
    }
  };
  const loops = Array.from({ length: workers }, (_, i) => worker(i));
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** What a mirror process test runs on. */
export interface MirrorSetup {
  /** Seeded from `EDGELOG_SEED`, else the clock; the seed is printed. */
  random: () => number;
  proxy: TcpFaultProxy;
  /** Kafka, advertising the proxy: every client goes through it. */
  kafka: KafkaProcess;
  /** A temporary directory for data directories. */
  dir: string;
  /** The broker config file mirroring the topic. */
  config: string;
  /** Stops Kafka and the proxy, removes `dir`. */
  close(): Promise<void>;
}

/** Starts Kafka behind a TCP fault proxy and writes a mirror config for `topic`. */
export async function mirrorSetup(
  test: string,
  topic: string,
  mode: "dedicated" | "shared",
): Promise<MirrorSetup> {
  const seed = Number(Deno.env.get("EDGELOG_SEED") ?? Date.now() % 1e9);
  console.log(`${test} seed ${seed}`);
  const proxy = TcpFaultProxy.start({ lingerMs: 1500 });
  const kafka = await startKafka({ advertisedPort: proxy.port });
  proxy.setTarget(kafka.listener);
  const dir = await Deno.makeTempDir({ prefix: `edgelog-${test}-` });
  const path = `${dir}/config.json`;
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      fsync: "never",
      kafkaMirror: { bootstrap: [kafka.bootstrap], topics: [topic], mode },
    }),
  );
  return {
    random: seededRandom(seed),
    proxy,
    kafka,
    dir,
    config: path,
    async close() {
      await proxy.close();
      await kafka.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
