/**
 * The broker's Kafka mirror against a real Apache Kafka (single-node KRaft,
 * started from the jars `fetch_jars.ts` caches), read back with kafkajs, a
 * Kafka client nobody here wrote. Skips, saying what to install, when java
 * or the jars are missing.
 */

import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { type Broker, startBroker } from "../../edge/broker.ts";
import { readBatchHeader } from "../../runtime/format/mod.ts";
import type { LogRecord, RecordInput } from "../../runtime/log/types.ts";
import { kafkaUnavailable, startKafka } from "./kafka_process.ts";

const TOPIC = "mirrored";
const PARTITIONS = 3;
const encoder = new TextEncoder();

const unavailable = await kafkaUnavailable();
if (unavailable) console.warn(`kafka_mirror_test skipped: ${unavailable}`);

/** A mix of JSON and binary records, keyed and not, with headers and tombstones. */
function records(round: number, count: number): RecordInput[] {
  return Array.from({ length: count }, (_, i) => {
    const n = round * 1000 + i;
    const headers = i % 3 === 0
      ? [
        { key: "trace", value: encoder.encode(`t-${n}`) },
        { key: "bin", value: new Uint8Array([0, 255, n & 0xff]) },
        { key: "none", value: null },
      ]
      : [];
    const value = i % 7 === 6
      ? null
      : i % 2 === 0
      ? encoder.encode(JSON.stringify({ n, round, text: "é✓" }))
      : new Uint8Array([n & 0xff, 0, 0xff, (n >> 8) & 0xff]);
    const key = i % 5 === 4 ? null : encoder.encode(`device-${i % 11}`);
    return { key, value, headers, timestamp: 1_700_000_000_000 + n };
  });
}

/** Produces in several calls (so several batches), one of them gzip. */
async function produce(broker: Broker, round: number): Promise<void> {
  const all = records(round, 60);
  for (let i = 0; i < all.length; i += 10) {
    await broker.log.produce(TOPIC, all.slice(i, i + 10));
  }
  await broker.log.partition(TOPIC, round % PARTITIONS).appendRecords(
    records(round + 50, 8),
    { compression: "gzip" },
  );
}

/** Waits (bounded) until Kafka acknowledged every record of the topic. */
async function mirrored(broker: Broker): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const status = broker.kafkaMirror!.status();
    if (
      status.length === PARTITIONS &&
      status.every((s) => s.lag === 0 && s.error === null)
    ) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `Mirror did not catch up: ${JSON.stringify(broker.kafkaMirror!.status())}`,
  );
}

interface Seen {
  partition: number;
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: [string, Uint8Array | null][];
}

function bytes(value: Buffer | string | null | undefined): Uint8Array | null {
  if (value === null || value === undefined) return null;
  return typeof value === "string"
    ? encoder.encode(value)
    : new Uint8Array(value);
}

/** Every record of the Kafka topic, read with kafkajs from the beginning. */
async function readKafka(bootstrap: string, expected: number): Promise<Seen[]> {
  const kafka = new Kafka({
    clientId: "mirror-test",
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({
    groupId: `check-${crypto.randomUUID()}`,
    sessionTimeout: 10_000,
  });
  const seen: Seen[] = [];
  let done!: () => void;
  const all = new Promise<void>((resolve) => done = resolve);
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ partition, message }) => {
        seen.push({
          partition,
          offset: Number(message.offset),
          timestamp: Number(message.timestamp),
          key: bytes(message.key),
          value: bytes(message.value),
          headers: Object.entries(message.headers ?? {}).map((
            [k, v],
          ) => [k, bytes(v as Buffer | undefined)]),
        });
        if (seen.length >= expected) done();
        return Promise.resolve();
      },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      all,
      new Promise((resolve) => timer = setTimeout(resolve, 30_000)),
    ]);
    clearTimeout(timer);
    // Anything beyond `expected` would be a duplicate: give it a moment to show.
    await new Promise((resolve) => setTimeout(resolve, 500));
  } finally {
    await consumer.disconnect();
  }
  return seen.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** The end offset of each Kafka partition of the topic. */
async function kafkaEnds(bootstrap: string): Promise<number[]> {
  const admin = new Kafka({
    clientId: "mirror-test",
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(TOPIC);
    return offsets.sort((a, b) => a.partition - b.partition).map((o) =>
      Number(o.high)
    );
  } finally {
    await admin.disconnect();
  }
}

function asSeen(partition: number, r: LogRecord): Seen {
  return {
    partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key,
    value: r.value,
    headers: r.headers.map((h) => [h.key, h.value]),
  };
}

Deno.test({
  name:
    "kafka mirror: every record reaches Kafka once, at its edgelog partition and offset, across a restart",
  ignore: unavailable !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const kafka = await startKafka();
    const dataDir = await Deno.makeTempDir({ prefix: "edgelog-mirror-" });
    const config = {
      port: 0,
      dataDir,
      fsync: "never" as const,
      kafkaMirror: { bootstrap: [kafka.bootstrap], topics: [TOPIC] },
    };
    try {
      let broker = await startBroker(config);
      await broker.log.createTopic(TOPIC, { partitions: PARTITIONS });
      await produce(broker, 1);
      await mirrored(broker);
      const firstRound = broker.kafkaMirror!.status();
      assert.ok(firstRound.every((s) => s.mirroredOffset > 0));
      const metrics = broker.metrics.value(
        "edgelog_kafka_mirror_records_total",
        {
          topic: TOPIC,
          partition: 0,
        },
      );
      assert.equal(metrics, firstRound[0]!.mirroredOffset);

      // Records appended just before a close: the close waits for their
      // answers or leaves them for the next process, never twice.
      await produce(broker, 2);
      await broker.close();

      broker = await startBroker(config);
      await produce(broker, 3);
      await mirrored(broker);

      const expected: Seen[] = [];
      for (let p = 0; p < PARTITIONS; p++) {
        const { records } = await broker.log.partition(TOPIC, p).read(0, {
          maxBytes: 64 << 20,
        });
        assert.equal(
          records.length,
          broker.log.partition(TOPIC, p).highWatermark,
        );
        expected.push(...records.map((r) => asSeen(p, r)));
      }
      assert.equal(expected.length, 3 * 68);
      const seen = await readKafka(kafka.bootstrap, expected.length);
      assert.equal(seen.length, expected.length);
      assert.deepEqual(seen, expected);
      await broker.close();

      // A broker that did not write the Kafka topic refuses to add to it.
      const otherDir = await Deno.makeTempDir({ prefix: "edgelog-mirror-" });
      let other = await startBroker({ ...config, dataDir: otherDir });
      try {
        await other.log.createTopic(TOPIC, { partitions: PARTITIONS });
        await produce(other, 4);
        let errors: (string | null)[] = [];
        for (let i = 0; i < 200; i++) {
          errors = other.kafkaMirror!.status().map((s) => s.error);
          if (errors.length === PARTITIONS && errors.every((e) => e !== null)) {
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        for (const error of errors) {
          assert.match(
            error ?? "",
            /already holds \d+ records this broker did not mirror/,
          );
        }
        assert.ok(
          other.kafkaMirror!.status().every((s) =>
            s.mirroredOffset === 0 && s.state === "stopped"
          ),
        );
        // Stopped is stored: restarted where Kafka cannot be reached (so
        // nothing can be detected again), the partitions are still stopped,
        // not retrying.
        await other.close();
        other = await startBroker({
          ...config,
          dataDir: otherDir,
          kafkaMirror: { bootstrap: ["127.0.0.1:9"], topics: [TOPIC] },
        });
        const states = () => other.kafkaMirror!.status().map((s) => s.state);
        for (
          let i = 0;
          i < 200 && (states().length === 0 || states().includes("starting"));
          i++
        ) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.deepEqual(states(), ["stopped", "stopped", "stopped"]);
        await other.close();
        other = await startBroker({ ...config, dataDir: otherDir });
        const described = await (await fetch(
          `${other.url}/v1/topics/${TOPIC}`,
        )).json();
        assert.equal(described.partitions[0].kafkaMirror.state, "stopped");
        assert.match(
          described.partitions[0].kafkaMirror.error,
          /already holds/,
        );

        // The operator resumes: Kafka's end stands for edgelog offset
        // `from`; partition 0 from inside its first batch (its tail is sent).
        const ends = await kafkaEnds(kafka.bootstrap);
        const [first] = await other.log.partition(TOPIC, 0).readBatches(0, 1);
        const firstLast = readBatchHeader(first!).lastOffsetDelta;
        assert.ok(firstLast > 0, "the first batch holds several records");
        const froms = [1, 0, 0];
        const resume = (p: number, from: number | string) =>
          fetch(
            `${other.url}/v1/topics/${TOPIC}/partitions/${p}/mirror/resume?from=${from}`,
            { method: "POST" },
          );
        const early = await resume(1, 10_000);
        assert.equal(early.status, 416, await early.text());
        const bad = await resume(1, "x");
        assert.equal(bad.status, 400, await bad.text());
        for (let p = 0; p < PARTITIONS; p++) {
          const res = await resume(p, froms[p]!);
          assert.equal(res.status, 202, await res.text());
        }
        const again = await resume(0, 0);
        assert.equal(again.status, 409, await again.text());
        await mirrored(other);
        const after = await kafkaEnds(kafka.bootstrap);
        for (let p = 0; p < PARTITIONS; p++) {
          const hw = other.log.partition(TOPIC, p).highWatermark;
          assert.equal(after[p], ends[p]! + hw - froms[p]!);
        }
      } finally {
        await other.close();
        await Deno.remove(otherDir, { recursive: true }).catch(() => {});
      }
    } finally {
      await kafka.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
