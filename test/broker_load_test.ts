/**
 * The real broker process under many concurrent long polls: 300 consumers
 * waiting on 6 partitions while producers write for a few seconds. Every
 * request succeeds, every consumer sees every record of its partition in
 * order, long polls wait instead of spinning, and the broker's memory stays
 * bounded.
 */

import assert from "node:assert/strict";
import { RssSampler, startBroker, tempDataDir } from "./broker_process.ts";

const TOPIC = "load";
const PARTITIONS = 6;
const CONSUMERS = 300;
const PRODUCE_MS = 6_000;
/** Each producer (one per partition) sends one request this often. */
const PRODUCE_INTERVAL_MS = 100;
const RECORDS_PER_REQUEST = 10;
const MAX_WAIT_MS = 1_000;
/** Consumers must have caught up this long after producing stopped. */
const CATCH_UP_MS = 8_000;
const RSS_LIMIT_BYTES = 300 * 1024 * 1024;

interface Value {
  partition: number;
  seq: number;
}

interface Page {
  records: { offset: number; value: Value }[];
  nextOffset: number;
}

/** One producer: its partition's acked values in offset order. */
async function produce(
  url: string,
  partition: number,
  until: number,
  errors: string[],
): Promise<{ acked: Value[]; requests: number }> {
  const acked: Value[] = [];
  let requests = 0;
  while (Date.now() < until) {
    const values = Array.from(
      { length: RECORDS_PER_REQUEST },
      (_, i) => ({ partition, seq: acked.length + i }),
    );
    const res = await fetch(`${url}/v1/topics/${TOPIC}/records`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        records: values.map((value) => ({ value, partition })),
      }),
    });
    requests++;
    if (res.status !== 200) {
      errors.push(`produce ${res.status} ${await res.text()}`);
      return { acked, requests };
    }
    const { offsets } = await res.json() as { offsets: { offset: number }[] };
    offsets.forEach((o, i) => assert.equal(o.offset, acked.length + i));
    acked.push(...values);
    await new Promise((r) => setTimeout(r, PRODUCE_INTERVAL_MS));
  }
  return { acked, requests };
}

/**
 * One consumer: long polls its partition from offset 0 until it reaches the
 * target the producers set when they are done (or the deadline passes).
 */
async function consume(
  url: string,
  partition: number,
  target: Promise<number>,
  deadline: number,
  errors: string[],
): Promise<{ seen: Value[]; requests: number }> {
  let end = Infinity;
  target.then((t) => end = t);
  const seen: Value[] = [];
  let offset = 0;
  let requests = 0;
  while (offset < end && Date.now() < deadline) {
    const res = await fetch(
      `${url}/v1/topics/${TOPIC}/partitions/${partition}/records?offset=${offset}&maxWaitMs=${MAX_WAIT_MS}`,
    );
    requests++;
    if (res.status !== 200) {
      errors.push(
        `fetch p${partition}@${offset}: ${res.status} ${await res.text()}`,
      );
      return { seen, requests };
    }
    const page = await res.json() as Page;
    for (const r of page.records) {
      assert.equal(r.offset, offset, `p${partition} skipped or repeated`);
      seen.push(r.value);
      offset++;
    }
    assert.equal(page.nextOffset, offset);
  }
  return { seen, requests };
}

Deno.test("300 long-poll consumers and producers: no errors, all records in order, bounded RSS", async () => {
  await using dir = await tempDataDir();
  await using broker = await startBroker({ dataDir: dir.path });
  const created = await fetch(`${broker.url}/v1/topics`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: TOPIC, partitions: PARTITIONS }),
  });
  assert.equal(created.status, 201, await created.text());

  const rss = new RssSampler(broker.pid);
  const errors: string[] = [];
  const targets = Array.from(
    { length: PARTITIONS },
    () => Promise.withResolvers<number>(),
  );
  const until = Date.now() + PRODUCE_MS;
  const deadline = until + CATCH_UP_MS;
  const consumers = Array.from({ length: CONSUMERS }, (_, i) => {
    const p = i % PARTITIONS;
    return consume(broker.url, p, targets[p]!.promise, deadline, errors);
  });
  const producers = await Promise.all(
    Array.from({ length: PARTITIONS }, async (_, p) => {
      const result = await produce(broker.url, p, until, errors);
      targets[p]!.resolve(result.acked.length);
      return result;
    }),
  );
  const results = await Promise.all(consumers);
  rss.stop();

  assert.deepEqual(errors, []);
  results.forEach((consumer, i) => {
    const producer = producers[i % PARTITIONS]!;
    assert.ok(producer.acked.length > 0);
    assert.deepEqual(consumer.seen, producer.acked, `consumer ${i}`);
    // A long poll that answers empty at once would make a spinning consumer.
    assert.ok(
      consumer.requests <= 2 * producer.requests + 10,
      `consumer ${i}: ${consumer.requests} fetches for ${producer.requests} produce requests`,
    );
  });
  assert.ok(rss.max > 0, "no RSS sample");
  assert.ok(
    rss.max < RSS_LIMIT_BYTES,
    `broker RSS peaked at ${(rss.max / 2 ** 20).toFixed(0)} MiB`,
  );
  assert.equal(await broker.stop(), 0);
});
