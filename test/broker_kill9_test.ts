/**
 * Crash safety of the real broker process: concurrent producers, SIGKILL at
 * a random moment, restart on the same data directory. Every acknowledged
 * record must be there, once, at the offset it was acknowledged with, and
 * each producer's records keep their order in every partition.
 */

import assert from "node:assert/strict";
import { encodeBatch } from "../runtime/format/mod.ts";
import { startBroker, tempDataDir } from "./broker_process.ts";

const TOPIC = "crash";
const PARTITIONS = 3;
const JSON_PRODUCERS = 4;
/** Stop producing after this long even if the kill has not come yet. */
const PRODUCE_DEADLINE_MS = 6_000;

const encoder = new TextEncoder();

/** What a producer puts in every value, so a record names its origin. */
interface Stamp {
  producer: string;
  seq: number;
}

/** One acknowledged record and where the broker said it put it. */
interface Ack extends Stamp {
  partition: number;
  offset: number;
}

interface FetchedRecord {
  offset: number;
  value: Stamp;
}

async function postJson(url: string, body: unknown): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/**
 * The parsed 200 answer of a request, or undefined when the connection
 * failed (the broker was killed: not acknowledged) or the status was not 200
 * (noted in `errors`).
 */
async function answer(
  request: Promise<Response>,
  errors: string[],
): Promise<unknown> {
  let res: Response;
  try {
    res = await request;
  } catch {
    return undefined;
  }
  if (res.status !== 200) {
    errors.push(`${res.status} ${await res.text().catch(() => "")}`);
    return undefined;
  }
  return await res.json().catch(() => undefined);
}

/**
 * Sends JSON produce requests of 1–5 keyed records until `stop` is aborted
 * or a request fails (the broker died). Only 200 answers are recorded.
 */
async function jsonProducer(
  url: string,
  producer: string,
  acks: Ack[],
  errors: string[],
  stop: AbortSignal,
): Promise<void> {
  let seq = 0;
  while (!stop.aborted) {
    const n = 1 + Math.floor(Math.random() * 5);
    const stamps = Array.from({ length: n }, () => ({ producer, seq: seq++ }));
    const body = await answer(
      postJson(`${url}/v1/topics/${TOPIC}/records`, {
        records: stamps.map((s) => ({
          key: `${producer}-${s.seq % 11}`,
          value: s,
        })),
      }),
      errors,
    );
    if (body === undefined) return;
    const { offsets } = body as {
      offsets: { partition: number; offset: number }[];
    };
    assert.equal(offsets.length, n);
    stamps.forEach((s, i) => acks.push({ ...s, ...offsets[i]! }));
  }
}

/** Sends binary batches of 10–50 records, round robin over partitions. */
async function binaryProducer(
  url: string,
  acks: Ack[],
  errors: string[],
  stop: AbortSignal,
): Promise<void> {
  const producer = "bin";
  let seq = 0;
  for (let request = 0; !stop.aborted; request++) {
    const partition = request % PARTITIONS;
    const n = 10 + Math.floor(Math.random() * 41);
    const stamps = Array.from({ length: n }, () => ({ producer, seq: seq++ }));
    const batch = await encodeBatch(
      stamps.map((s) => ({ value: encoder.encode(JSON.stringify(s)) })),
      { now: Date.now() },
    );
    const body = await answer(
      fetch(`${url}/v1/topics/${TOPIC}/records?partition=${partition}`, {
        method: "POST",
        headers: { "content-type": "application/vnd.edgelog.batches" },
        body: batch as Uint8Array<ArrayBuffer>,
      }),
      errors,
    );
    if (body === undefined) return;
    const ack = body as {
      partition: number;
      baseOffset: number;
      lastOffset: number;
    };
    assert.equal(ack.partition, partition);
    assert.equal(ack.lastOffset - ack.baseOffset + 1, n);
    stamps.forEach((s, i) =>
      acks.push({ ...s, partition, offset: ack.baseOffset + i })
    );
  }
}

async function fetchAll(
  url: string,
  partition: number,
): Promise<FetchedRecord[]> {
  const records: FetchedRecord[] = [];
  let offset: number | "earliest" = "earliest";
  for (let round = 0; round < 10_000; round++) {
    const res: Response = await fetch(
      `${url}/v1/topics/${TOPIC}/partitions/${partition}/records?offset=${offset}&maxRecords=5000`,
    );
    assert.equal(res.status, 200);
    const page = await res.json() as {
      records: FetchedRecord[];
      nextOffset: number;
      highWatermark: number;
    };
    records.push(...page.records);
    offset = page.nextOffset;
    if (offset >= page.highWatermark) return records;
  }
  throw new Error(`Partition ${partition} did not end in 10000 fetches`);
}

Deno.test("every acknowledged record survives SIGKILL, once, at its offset, in order", async () => {
  await using dir = await tempDataDir();
  const first = await startBroker({ dataDir: dir.path });
  const created = await postJson(`${first.url}/v1/topics`, {
    name: TOPIC,
    partitions: PARTITIONS,
  });
  assert.equal(created.status, 201, await created.text());

  const acks: Ack[] = [];
  const errors: string[] = [];
  const stop = new AbortController();
  const deadline = setTimeout(() => stop.abort(), PRODUCE_DEADLINE_MS);
  const producers = [
    ...Array.from(
      { length: JSON_PRODUCERS },
      (_, i) => jsonProducer(first.url, `json${i}`, acks, errors, stop.signal),
    ),
    binaryProducer(first.url, acks, errors, stop.signal),
  ];

  // Kill at a random point after a few hundred acknowledged records.
  const killAfter = 300 + Math.floor(Math.random() * 1500);
  const killed = (async () => {
    while (acks.length < killAfter && !stop.signal.aborted) {
      await new Promise((r) => setTimeout(r, Math.random() * 5));
    }
    await first.kill9();
  })();
  await Promise.all([killed, ...producers]);
  clearTimeout(deadline);
  stop.abort();
  assert.deepEqual(errors, []);
  assert.ok(acks.length >= 300, `only ${acks.length} acks before the kill`);

  await using second = await startBroker({ dataDir: dir.path });
  const byPartition = await Promise.all(
    Array.from({ length: PARTITIONS }, (_, p) => fetchAll(second.url, p)),
  );

  // Nothing is stored twice, and offsets are dense and increasing.
  const seen = new Set<string>();
  byPartition.forEach((records, p) => {
    records.forEach((r, i) => {
      if (i > 0) assert.equal(r.offset, records[i - 1]!.offset + 1, `p${p}`);
      const id = `${r.value.producer}/${r.value.seq}`;
      assert.ok(!seen.has(id), `${id} stored twice`);
      seen.add(id);
    });
  });

  // Every ack is at its offset; acks of one producer in one partition rise.
  const stored = byPartition.map((records) =>
    new Map(records.map((r) => [r.offset, r.value]))
  );
  const lastOffset = new Map<string, number>();
  for (const ack of acks) {
    const value = stored[ack.partition]!.get(ack.offset);
    assert.deepEqual(
      value,
      { producer: ack.producer, seq: ack.seq },
      `ack ${ack.producer}/${ack.seq} at ${ack.partition}:${ack.offset}`,
    );
    const key = `${ack.producer}@${ack.partition}`;
    assert.ok((lastOffset.get(key) ?? -1) < ack.offset, `order of ${key}`);
    lastOffset.set(key, ack.offset);
  }

  // The restarted broker appends after what it recovered.
  const hw = byPartition[0]!.at(-1)?.offset ?? -1;
  const after = await postJson(`${second.url}/v1/topics/${TOPIC}/records`, {
    records: [{ value: { producer: "after", seq: 0 }, partition: 0 }],
  });
  assert.equal(after.status, 200);
  assert.deepEqual(await after.json(), {
    offsets: [{ partition: 0, offset: hw + 1 }],
  });
  assert.equal(await second.stop(), 0);
});
