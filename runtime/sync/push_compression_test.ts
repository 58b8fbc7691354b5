import assert from "node:assert/strict";
import { readBatchHeader } from "../format/batch_header.ts";
import { decodeBatch, encodeBatch } from "../format/record_batch.ts";
import { batchesFrom } from "./push_body.ts";
import {
  gzipBatch,
  gzipPaysOff,
  StreamCompression,
} from "./push_compression.ts";
import { sequenceForOffset } from "./sequence.ts";

const producer = { producerId: 9, producerEpoch: 2 };

function repetitive(baseOffset: number, count: number): Promise<Uint8Array> {
  return encodeBatch(
    Array.from({ length: count }, (_, i) => ({
      value: new Uint8Array(200).fill(65),
      timestamp: 500 + i,
    })),
    { baseOffset },
  );
}

function random(baseOffset: number, bytes: number): Promise<Uint8Array> {
  const value = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 65536) {
    crypto.getRandomValues(value.subarray(i, Math.min(bytes, i + 65536)));
  }
  return encodeBatch([{ value, timestamp: 1 }], { baseOffset });
}

Deno.test("gzipPaysOff waits for the sample, then asks for a 10 % saving", () => {
  assert.equal(gzipPaysOff(1000, 10), undefined);
  assert.equal(gzipPaysOff(256 * 1024, 0.9 * 256 * 1024), true);
  assert.equal(gzipPaysOff(256 * 1024, 0.95 * 256 * 1024), false);
});

Deno.test("gzipBatch keeps offsets, records and producer fields", async () => {
  const batch = await repetitive(30, 4);
  const gzipped = await gzipBatch(batch, {
    header: readBatchHeader(batch),
    producer,
  });
  assert.ok(gzipped !== undefined && gzipped.length < batch.length);
  const decoded = await decodeBatch(gzipped);
  assert.equal(decoded.header.producerId, 9);
  assert.equal(decoded.header.producerEpoch, 2);
  assert.equal(decoded.header.baseSequence, sequenceForOffset(30));
  assert.deepEqual(decoded.records.map((r) => r.offset), [30, 31, 32, 33]);
  assert.deepEqual(
    decoded.records.map((r) => r.value),
    (await decodeBatch(batch)).records.map((r) => r.value),
  );
});

Deno.test("gzipBatch leaves a compressed batch alone", async () => {
  const batch = await encodeBatch([{ value: null, timestamp: 1 }], {
    compression: "gzip",
  });
  assert.equal(
    await gzipBatch(batch, { header: readBatchHeader(batch), producer }),
    undefined,
  );
});

Deno.test("StreamCompression: none packs nothing, gzip only what shrinks", async () => {
  const batches = batchesFrom(
    [await repetitive(0, 4), await random(4, 512)],
    0,
  );
  assert.equal(
    await new StreamCompression("none").packAll(batches, producer),
    undefined,
  );
  const packed = await new StreamCompression("gzip").packAll(batches, producer);
  assert.equal(packed?.length, 2);
  assert.ok(packed[0] !== undefined);
  assert.equal(packed[1], undefined);
});

Deno.test("StreamCompression: auto stops gzipping a stream that does not compress", async () => {
  const auto = new StreamCompression("auto");
  const noise = batchesFrom([await random(0, 300 * 1024)], 0);
  await auto.packAll(noise, producer);
  const plain = batchesFrom([await repetitive(1, 4)], 0);
  assert.deepEqual(await auto.packAll(plain, producer), [undefined]);
  const keen = new StreamCompression("auto");
  assert.ok((await keen.packAll(plain, producer))?.[0] !== undefined);
});
