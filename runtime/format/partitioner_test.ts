import assert from "node:assert/strict";
import fc from "fast-check";
import { Partitioners } from "kafkajs";
import { Buffer } from "node:buffer";
import { murmur2 } from "./murmur2.ts";
import { partitionForKey } from "./partitioner.ts";

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("partitionForKey is toPositive(murmur2) modulo the partitions", () => {
  // murmur2("21") = -973932308; & 0x7fffffff = 1173551340.
  assert.equal(partitionForKey(text("21"), 1), 0);
  assert.equal(partitionForKey(text("21"), 7), 1173551340 % 7);
  assert.equal(partitionForKey(text("21"), 1000), 340);
  const h = murmur2(text("foobar"));
  assert.ok(h < 0);
  assert.equal(partitionForKey(text("foobar"), 12), (h & 0x7fffffff) % 12);
});

Deno.test("partitionForKey picks kafkajs's DefaultPartitioner partition", () => {
  const partitioner = Partitioners.DefaultPartitioner();
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 40 }),
      fc.integer({ min: 1, max: 300 }),
      (key, n) => {
        const partitionMetadata = Array.from({ length: n }, (_, i) => ({
          partitionErrorCode: 0,
          partitionId: i,
          leader: 0,
          replicas: [0],
          isr: [0],
        }));
        const expected = partitioner({
          topic: "t",
          partitionMetadata,
          message: { key: Buffer.from(key), value: null },
        });
        assert.equal(partitionForKey(key, n), expected);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("partitionForKey refuses a partition count below one", () => {
  for (const n of [0, -1, 1.5, NaN]) {
    assert.throws(() => partitionForKey(text("k"), n), RangeError);
  }
});
