import assert from "node:assert/strict";
import { frameRequest, Reader, splitResponses, Writer } from "./wire.ts";

Deno.test("frameRequest writes size, header v1 and body", () => {
  const frame = frameRequest(
    { apiKey: 18, apiVersion: 1, correlationId: 7, clientId: "ab" },
    new Uint8Array([9]),
  );
  assert.deepEqual(
    [...frame],
    [0, 0, 0, 13, 0, 18, 0, 1, 0, 0, 0, 7, 0, 2, 0x61, 0x62, 9],
  );
});

Deno.test("Writer and Reader agree on every primitive, nulls included", () => {
  const bytes = new Writer()
    .int8(-2)
    .int16(-300)
    .int32(-70000)
    .int64(2 ** 40 + 3)
    .bool(true)
    .string("é✓")
    .string(null)
    .bytes(new Uint8Array([1, 2]))
    .bytes(null)
    .array([5, 6], (w, n) => w.int32(n))
    .finish();
  const r = new Reader(bytes);
  assert.equal(r.int8(), -2);
  assert.equal(r.int16(), -300);
  assert.equal(r.int32(), -70000);
  assert.equal(r.int64(), 2 ** 40 + 3);
  assert.equal(r.bool(), true);
  assert.equal(r.string(), "é✓");
  assert.equal(r.nullableString(), null);
  assert.deepEqual(r.nullableBytes(), new Uint8Array([1, 2]));
  assert.equal(r.nullableBytes(), null);
  assert.deepEqual(r.array((r) => r.int32()), [5, 6]);
  assert.equal(r.remaining, 0);
});

Deno.test("Writer grows past its first buffer", () => {
  const big = new Uint8Array(1000).fill(7);
  const bytes = new Writer().int32(1).bytes(big).finish();
  assert.equal(bytes.length, 1008);
  assert.deepEqual(new Reader(bytes.subarray(4)).nullableBytes(), big);
});

Deno.test("Reader refuses to read past the end", () => {
  const r = new Reader(new Uint8Array([0, 5, 0x61]));
  assert.throws(() => r.string(), /Cannot read 5 bytes at 2/);
});

Deno.test("splitResponses keeps an incomplete tail for the next read", () => {
  const one = [0, 0, 0, 6, 0, 0, 0, 1, 0xaa, 0xbb];
  const partial = [0, 0, 0, 5, 0, 0, 0];
  const { responses, rest } = splitResponses(
    new Uint8Array([...one, ...partial]),
  );
  assert.equal(responses.length, 1);
  assert.equal(responses[0]!.correlationId, 1);
  assert.deepEqual([...responses[0]!.body], [0xaa, 0xbb]);
  assert.deepEqual([...rest], partial);
  assert.throws(
    () => splitResponses(new Uint8Array([0, 0, 0, 2, 0, 0])),
    /Impossible response size 2/,
  );
});
