import assert from "node:assert/strict";
import { readBatchHeader, splitBatches } from "../format/batch_header.ts";
import { encodeBatch } from "../format/record_batch.ts";
import { batchesFrom, pushBody } from "./push_body.ts";
import { sequenceForOffset } from "./sequence.ts";

const text = new TextEncoder();

function batchAt(baseOffset: number, count: number): Promise<Uint8Array> {
  return encodeBatch(
    Array.from({ length: count }, (_, i) => ({
      value: text.encode(`v${baseOffset + i}`),
      timestamp: 1000 + i,
    })),
    { baseOffset },
  );
}

Deno.test("batchesFrom keeps the batches holding offsets at or after from", async () => {
  const batches = [
    await batchAt(0, 3),
    await batchAt(3, 2),
    await batchAt(5, 4),
  ];
  assert.deepEqual(
    batchesFrom(batches, 4).map((b) => b.header.baseOffset),
    [3, 5],
  );
  assert.deepEqual(batchesFrom(batches, 5).map((b) => b.batch), [batches[2]]);
  assert.deepEqual(batchesFrom(batches, 9), []);
});

Deno.test("pushBody stamps each batch with the producer and its sequence, leaving the local copy alone", async () => {
  const local = [await batchAt(7, 2), await batchAt(9, 3)];
  const before = local.map((b) => b.slice());
  const body = pushBody(batchesFrom(local, 7), {
    producer: { producerId: 42, producerEpoch: 3 },
  });
  assert.equal(body.length, local[0]!.length + local[1]!.length);
  const headers = splitBatches(body).map((b) => readBatchHeader(b));
  assert.deepEqual(
    headers.map((
      h,
    ) => [h.baseOffset, h.producerId, h.producerEpoch, h.baseSequence]),
    [[7, 42, 3, sequenceForOffset(7)], [9, 42, 3, sequenceForOffset(9)]],
  );
  assert.deepEqual(local, before);
});

Deno.test("pushBody puts a replacement in place of its batch as it is", async () => {
  const local = [await batchAt(0, 1), await batchAt(1, 1)];
  const replacement = new Uint8Array([1, 2, 3]);
  const body = pushBody(batchesFrom(local, 0), {
    producer: { producerId: 1, producerEpoch: 0 },
    replacements: [undefined, replacement],
  });
  assert.equal(body.length, local[0]!.length + 3);
  assert.deepEqual(body.subarray(local[0]!.length), replacement);
  assert.equal(readBatchHeader(body).producerId, 1);
});
