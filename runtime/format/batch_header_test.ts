import assert from "node:assert/strict";
import { EdgelogError } from "../errors.ts";
import {
  BATCH_HEADER_SIZE,
  batchSize,
  CRC_START,
  lastOffset,
  LOG_OVERHEAD,
  MAGIC,
  readBatchHeader,
  setBaseOffset,
  setProducer,
  splitBatches,
  verifyBatchCrc,
} from "./batch_header.ts";
import { crc32c } from "./crc32c.ts";
import { decodeBatch, encodeBatch } from "./record_batch.ts";

const text = (s: string) => new TextEncoder().encode(s);

function batchOf(count: number, baseOffset = 0): Promise<Uint8Array> {
  return encodeBatch(
    Array.from({ length: count }, (_, i) => ({
      value: text(`v${i}`),
      timestamp: 100 + i,
    })),
    { baseOffset },
  );
}

const concat = (...parts: Uint8Array[]) =>
  new Uint8Array(parts.flatMap((p) => [...p]));

function assertCorrupt(fn: () => unknown, pattern: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof EdgelogError);
    assert.equal(e.code, "CORRUPT_BATCH");
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test("the header constants match the v2 layout", () => {
  assert.equal(BATCH_HEADER_SIZE, 61);
  assert.equal(LOG_OVERHEAD, 12);
  assert.equal(CRC_START, 21);
  assert.equal(MAGIC, 2);
});

Deno.test("readBatchHeader reads every field at any position", async () => {
  const batch = await encodeBatch(
    [{ value: null, timestamp: 7 }, { value: null, timestamp: 3 }],
    { baseOffset: 2 ** 33, producerId: 99, producerEpoch: 4, baseSequence: 17 },
  );
  const bytes = concat(new Uint8Array(5), batch);
  const header = readBatchHeader(bytes, 5);
  assert.deepEqual(header, {
    baseOffset: 2 ** 33,
    batchLength: batch.length - 12,
    partitionLeaderEpoch: -1,
    magic: 2,
    crc: crc32c(batch.subarray(21)),
    attributes: 0,
    lastOffsetDelta: 1,
    baseTimestamp: 3,
    maxTimestamp: 7,
    producerId: 99,
    producerEpoch: 4,
    baseSequence: 17,
    recordCount: 2,
  });
  assert.equal(batchSize(header), batch.length);
  assert.equal(lastOffset(header), 2 ** 33 + 1);
  assert.ok(verifyBatchCrc(bytes, 5));
});

Deno.test("readBatchHeader refuses short, torn and foreign batches", async () => {
  const batch = await batchOf(2);
  assertCorrupt(() => readBatchHeader(batch.subarray(0, 60)), /60 of 61/);
  assertCorrupt(
    () => readBatchHeader(batch.subarray(0, batch.length - 1)),
    /truncated/,
  );
  const magic = batch.slice();
  magic[16] = 0;
  assertCorrupt(() => readBatchHeader(magic), /magic 0/);
  const length = batch.slice();
  new DataView(length.buffer).setInt32(8, 10);
  assertCorrupt(() => readBatchHeader(length), /impossible length 10/);
  new DataView(length.buffer).setInt32(8, -1);
  assertCorrupt(() => readBatchHeader(length), /impossible length -1/);
});

Deno.test("splitBatches cuts a body into batches by their lengths", async () => {
  const a = await batchOf(1);
  const b = await batchOf(3, 1);
  const parts = splitBatches(concat(a, b));
  assert.deepEqual(parts, [a, b]);
  assertCorrupt(() => splitBatches(new Uint8Array(0)), /no record batch/);
  assertCorrupt(
    () => splitBatches(concat(a, b).subarray(0, a.length + 70)),
    new RegExp(`byte ${a.length} is truncated`),
  );
  const badMagic = concat(a, b);
  badMagic[a.length + 16] = 1;
  assertCorrupt(() => splitBatches(badMagic), /magic 1/);
});

Deno.test("setBaseOffset moves every record without touching the CRC", async () => {
  const batch = await batchOf(3, 0);
  const crc = readBatchHeader(batch).crc;
  setBaseOffset(batch, 2 ** 50);
  assert.equal(readBatchHeader(batch).crc, crc);
  assert.ok(verifyBatchCrc(batch));
  const { records } = await decodeBatch(batch);
  assert.deepEqual(records.map((r) => r.offset), [
    2 ** 50,
    2 ** 50 + 1,
    2 ** 50 + 2,
  ]);
});

Deno.test("setProducer rewrites the producer fields and a valid CRC", async () => {
  const batch = await batchOf(2, 5);
  setProducer(batch, 2 ** 40, 3, 2 ** 31 - 1);
  assert.ok(verifyBatchCrc(batch));
  const { header, records } = await decodeBatch(batch);
  assert.equal(header.producerId, 2 ** 40);
  assert.equal(header.producerEpoch, 3);
  assert.equal(header.baseSequence, 2 ** 31 - 1);
  assert.deepEqual(records.map((r) => r.value), [text("v0"), text("v1")]);
});
