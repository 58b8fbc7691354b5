import assert from "node:assert/strict";
import { systemClock } from "../../runtime/clock.ts";
import {
  decodeBatch,
  encodeBatch,
  lastOffset,
  readBatchHeader,
  setBaseOffset,
} from "../../runtime/format/mod.ts";
import { Log } from "../../runtime/log/mod.ts";
import { MemoryStorage } from "../../runtime/log/memory_storage.ts";
import type { KafkaClient } from "./client.ts";
import type { ProduceBatch, ProducePartitionResult } from "./messages.ts";
import { PartitionMirror } from "./partition_mirror.ts";

const encoder = new TextEncoder();

/** A one-partition Kafka that appends what it is sent, `shift` offsets off if told. */
class FakeKafka {
  end = 0;
  shift = 0;
  /** Answer the next Produce with NOT_LEADER_OR_FOLLOWER, appending nothing. */
  failNext = false;
  /** Append the next Produce but answer it with NOT_LEADER_OR_FOLLOWER (a lost answer). */
  loseNextAnswer = false;
  sent: Uint8Array[] = [];
  /** What the partition holds, base offsets set. */
  stored: Uint8Array[] = [];

  createTopics(): Promise<void> {
    return Promise.resolve();
  }

  metadata(topics: string[]) {
    return Promise.resolve({
      clusterId: "c",
      brokers: [],
      topics: topics.map((name) => ({
        name,
        errorCode: 0,
        partitions: [{ errorCode: 0, partition: 0, leader: 1 }],
      })),
    });
  }

  endOffset(): Promise<number> {
    return Promise.resolve(this.end);
  }

  produce(batch: ProduceBatch): Promise<ProducePartitionResult> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.resolve({
        topic: batch.topic,
        partition: batch.partition,
        errorCode: 6,
        baseOffset: -1,
        errorMessage: null,
      });
    }
    this.sent.push(batch.batch);
    const baseOffset = this.end + this.shift;
    this.append(batch.batch);
    const lost = this.loseNextAnswer;
    this.loseNextAnswer = false;
    return Promise.resolve({
      topic: batch.topic,
      partition: batch.partition,
      errorCode: lost ? 6 : 0,
      baseOffset: lost ? -1 : baseOffset,
      errorMessage: null,
    });
  }

  append(batch: Uint8Array): void {
    const copy = batch.slice();
    setBaseOffset(copy, this.end);
    this.stored.push(copy);
    this.end += readBatchHeader(copy).lastOffsetDelta + 1;
  }

  fetch(_topic: string, _partition: number, offset: number) {
    const batches = this.stored.filter((b) =>
      lastOffset(readBatchHeader(b)) >= offset
    );
    const records = new Uint8Array(batches.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of batches) {
      records.set(b, at);
      at += b.length;
    }
    return Promise.resolve({ errorCode: 0, highWatermark: this.end, records });
  }
}

async function setUp(kafka: FakeKafka, shared = false) {
  const log = await Log.open({ storage: new MemoryStorage() });
  await log.createTopic("t", { partitions: 1 });
  await log.produce(
    "t",
    Array.from({ length: 5 }, (_, i) => ({
      value: encoder.encode(`r${i}`),
      partition: 0,
    })),
  );
  const stops: string[] = [];
  const mirror = new PartitionMirror(log.partition("t", 0), {
    client: kafka as unknown as KafkaClient,
    meta: log.meta,
    clock: systemClock,
    producer: () => Promise.resolve({ producerId: 7, producerEpoch: 0 }),
    maxInFlight: 5,
    readBytes: 1 << 20,
    partitions: 1,
    shared,
    createTopic: true,
    replicationFactor: -1,
    onMirrored: () => {},
    onError: () => {},
    onStopped: (err) => stops.push(err.message),
  });
  log.onAppend(() => mirror.notify());
  const stop = new AbortController();
  const running = mirror.run(stop.signal);
  const until = async (state: string) => {
    for (let i = 0; i < 200 && mirror.status().state !== state; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(mirror.status().state, state, JSON.stringify(mirror.status()));
  };
  const close = async () => {
    stop.abort();
    await running;
    await log.close();
  };
  return { log, mirror, stops, until, close };
}

Deno.test("partition mirror: Kafka putting a batch at another offset stops the partition, once, with the offsets", async () => {
  const kafka = new FakeKafka();
  kafka.shift = 2;
  const { mirror, stops, until, close } = await setUp(kafka);
  try {
    await until("stopped");
    assert.match(
      mirror.status().error!,
      /edgelog offset 0 of t-0 at Kafka offset 2, expected 0/,
    );
    assert.equal(stops.length, 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(kafka.sent.length, 1, "nothing is sent after the stop");
  } finally {
    await close();
  }
});

Deno.test("partition mirror: a resume point inside a batch stops it; resuming there sends the batch's tail", async () => {
  const kafka = new FakeKafka();
  const { log, mirror, stops, until, close } = await setUp(kafka);
  const caughtUp = async () => {
    for (let i = 0; i < 200 && mirror.status().lag > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  try {
    await caughtUp();
    assert.equal(kafka.end, 5);
    // Kafka now ends at 3, inside the batch 0-4 it was sent; a fault ends
    // the session and the next one finds the resume point there.
    kafka.end = 3;
    kafka.failNext = true;
    await log.produce("t", [{ value: encoder.encode("r5"), partition: 0 }]);
    await until("stopped");
    assert.match(
      stops[0]!,
      /resume at edgelog offset 3, but edgelog's batch there spans 0-4/,
    );
    assert.throws(() => mirror.resume(9), RangeError);

    mirror.resume(3);
    await until("mirroring");
    await caughtUp();
    assert.equal(kafka.end, 6);
    const tail = kafka.sent[1]!;
    const header = readBatchHeader(tail);
    assert.equal(header.baseSequence, 3, "the sequence is the Kafka offset");
    assert.equal(header.producerId, 7);
    const { records } = await decodeBatch(tail);
    const stored = await log.partition("t", 0).read(3, { maxBytes: 1 << 20 });
    assert.deepEqual(
      records.map((r) => r.value),
      stored.records.slice(0, 2).map((r) => r.value),
    );
    assert.equal(records.length, 2);
    assert.equal(mirror.status().lag, 0);
  } finally {
    await close();
  }
});

Deno.test("partition mirror, shared mode: after a lost answer it resumes after its own last batch in Kafka, among others' batches, not from its stored offset", async () => {
  const kafka = new FakeKafka();
  // Another broker's batch is in the partition first.
  kafka.append(
    await encodeBatch([{ value: encoder.encode("other"), timestamp: 1 }], {
      producerId: 99,
      producerEpoch: 0,
      baseSequence: 0,
    }),
  );
  kafka.loseNextAnswer = true;
  const { log, mirror, until, close } = await setUp(kafka, true);
  try {
    for (let i = 0; i < 200 && mirror.status().mirroredOffset < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await until("mirroring");
    assert.equal(mirror.status().mirroredOffset, 5);
    assert.equal(
      kafka.sent.length,
      1,
      "the batch Kafka holds is not sent again",
    );
    await log.produce("t", [{ value: encoder.encode("r5"), partition: 0 }]);
    for (let i = 0; i < 200 && mirror.status().lag > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(kafka.sent.length, 2);
    const next = readBatchHeader(kafka.sent[1]!);
    assert.equal(next.baseSequence, 5, "sequences go on from the last batch");
    assert.equal(kafka.end, 7);
  } finally {
    await close();
  }
});
