/**
 * Byte compatibility with an implementation nobody here wrote: kafkajs's
 * RecordBatch v2 encoder and decoder.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import Decoder from "kafkajs/src/protocol/decoder.js";
import Long from "kafkajs/src/utils/long.js";
import { RecordBatch } from "kafkajs/src/protocol/recordBatch/v0/index.js";
import Record from "kafkajs/src/protocol/recordBatch/record/v0/index.js";
import decodeKafkajsBatch from "kafkajs/src/protocol/recordBatch/v0/decoder.js";
import type { Header, RecordInput } from "../log/types.ts";
import { decodeBatch, encodeBatch } from "./record_batch.ts";

type KafkajsHeaders = Record<string, Buffer | Buffer[]>;

interface KafkajsRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkajsHeaders;
}

const CODEC = { none: 0, gzip: 1 } as const;

/** kafkajs groups headers by key; compare in that shape. */
function grouped(headers: readonly Header[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const h of headers) {
    const values = out.get(h.key) ?? [];
    values.push(Buffer.from(h.value!).toString("hex"));
    out.set(h.key, values);
  }
  return out;
}

function groupedKafkajs(headers: KafkajsHeaders): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [key, value] of Object.entries(headers)) {
    const values = Array.isArray(value) ? value : [value];
    out.set(key, values.map((v) => v.toString("hex")));
  }
  return out;
}

function toKafkajsHeaders(headers: readonly Header[]): KafkajsHeaders {
  const out: KafkajsHeaders = {};
  for (const { key, value } of headers) {
    const v = Buffer.from(value!);
    const prev = out[key];
    out[key] = prev === undefined ? v : [prev, v].flat();
  }
  return out;
}

const bytes = (b: Uint8Array | null | undefined) =>
  b === null || b === undefined ? null : Buffer.from(b).toString("hex");

async function kafkajsEncode(
  records: readonly RecordInput[],
  options: { baseOffset: number; compression: "none" | "gzip" },
): Promise<Uint8Array> {
  const ts = records.map((r) => r.timestamp!);
  const first = Math.min(...ts);
  const encoder = await RecordBatch({
    compression: CODEC[options.compression],
    firstOffset: Long.fromNumber(options.baseOffset),
    firstTimestamp: first,
    maxTimestamp: Math.max(...ts),
    partitionLeaderEpoch: -1,
    lastOffsetDelta: records.length - 1,
    producerId: Long.fromValue(-1),
    producerEpoch: -1,
    firstSequence: -1,
    records: records.map((r, i) =>
      Record({
        offsetDelta: i,
        timestampDelta: r.timestamp! - first,
        key: r.key ? Buffer.from(r.key) : null,
        value: r.value ? Buffer.from(r.value) : null,
        headers: toKafkajsHeaders(r.headers ?? []),
      })
    ),
  });
  return new Uint8Array(encoder.buffer);
}

async function kafkajsDecode(batch: Uint8Array) {
  return await decodeKafkajsBatch(new Decoder(Buffer.from(batch))) as {
    firstOffset: string;
    firstTimestamp: string;
    maxTimestamp: string;
    lastOffsetDelta: number;
    records: KafkajsRecord[];
  };
}

// kafkajs cannot encode null header values, and it folds headers into an
// object, so header keys here are plain identifiers.
const headerArb = fc.record({
  key: fc.constantFrom("unit", "trace-id", "ключ", "é", "a"),
  value: fc.uint8Array({ maxLength: 12 }),
});
const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 80 }), { nil: null }),
  headers: fc.array(headerArb, { maxLength: 3 }),
  timestamp: fc.oneof(
    fc.integer({ min: 0, max: 2 ** 31 }),
    fc.integer({ min: 1_600_000_000_000, max: 1_800_000_000_000 }),
    fc.maxSafeNat(),
  ),
});
const batchArb = fc.record({
  records: fc.array(recordArb, { minLength: 1, maxLength: 60 }),
  baseOffset: fc.oneof(fc.nat(), fc.constant(2 ** 45)),
  compression: fc.constantFrom("none" as const, "gzip" as const),
});

/** Headers reordered as kafkajs writes them: same keys together. */
function kafkajsOrder(record: RecordInput): RecordInput {
  const headers = [...grouped(record.headers ?? []).keys()].flatMap((key) =>
    (record.headers ?? []).filter((h) => h.key === key)
  );
  return { ...record, headers };
}

Deno.test("uncompressed batches are byte-identical to kafkajs's", async () => {
  await fc.assert(
    fc.asyncProperty(batchArb, async (input) => {
      const { baseOffset } = input;
      const records = input.records.map(kafkajsOrder);
      const ours = await encodeBatch(records, { baseOffset });
      const theirs = await kafkajsEncode(records, {
        baseOffset,
        compression: "none",
      });
      assert.deepEqual(ours, theirs);
    }),
    { numRuns: 100 },
  );
});

Deno.test("kafkajs decodes the batches we encode", async () => {
  await fc.assert(
    fc.asyncProperty(batchArb, async ({ records, baseOffset, compression }) => {
      const batch = await encodeBatch(records, { baseOffset, compression });
      const decoded = await kafkajsDecode(batch);
      assert.equal(decoded.firstOffset, String(baseOffset));
      assert.equal(decoded.lastOffsetDelta, records.length - 1);
      assert.equal(decoded.records.length, records.length);
      decoded.records.forEach((r, i) => {
        const input = records[i]!;
        assert.equal(r.offset, String(baseOffset + i));
        assert.equal(r.timestamp, String(input.timestamp));
        assert.equal(bytes(r.key), bytes(input.key));
        assert.equal(bytes(r.value), bytes(input.value));
        assert.deepEqual(
          groupedKafkajs(r.headers),
          grouped(input.headers ?? []),
        );
      });
    }),
    { numRuns: 100 },
  );
});

Deno.test("we decode the batches kafkajs encodes", async () => {
  await fc.assert(
    fc.asyncProperty(batchArb, async ({ records, baseOffset, compression }) => {
      const batch = await kafkajsEncode(records, { baseOffset, compression });
      const { header, records: decoded } = await decodeBatch(batch);
      assert.equal(header.baseOffset, baseOffset);
      assert.equal(header.attributes, CODEC[compression]);
      assert.equal(decoded.length, records.length);
      decoded.forEach((r, i) => {
        const input = records[i]!;
        assert.equal(r.offset, baseOffset + i);
        assert.equal(r.timestamp, input.timestamp);
        assert.equal(bytes(r.key), bytes(input.key));
        assert.equal(bytes(r.value), bytes(input.value));
        assert.deepEqual(grouped(r.headers), grouped(input.headers ?? []));
      });
    }),
    { numRuns: 100 },
  );
});

Deno.test("a kafkajs batch of 500 records survives the round trip through both", async () => {
  const records: RecordInput[] = Array.from({ length: 500 }, (_, i) => ({
    key: new TextEncoder().encode(`sensor-${i % 7}`),
    value: new TextEncoder().encode(JSON.stringify({ t: 20 + i / 10 })),
    headers: [{ key: "unit", value: new TextEncoder().encode("C") }],
    timestamp: 1_700_000_000_000 + i * 250,
  }));
  const theirs = await kafkajsEncode(records, {
    baseOffset: 1234,
    compression: "gzip",
  });
  const { records: decoded } = await decodeBatch(theirs);
  const ours = await encodeBatch(records, {
    baseOffset: 1234,
    compression: "gzip",
  });
  const back = await kafkajsDecode(ours);
  assert.deepEqual(
    back.records.map((r) => [r.offset, r.timestamp, bytes(r.value)]),
    decoded.map((r) => [String(r.offset), String(r.timestamp), bytes(r.value)]),
  );
});
