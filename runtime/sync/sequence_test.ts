import assert from "node:assert/strict";
import fc from "fast-check";
import {
  offsetAtOrAfter,
  SEQUENCE_MODULUS,
  sequenceForOffset,
} from "./sequence.ts";

Deno.test("sequenceForOffset wraps at 2^31", () => {
  assert.equal(sequenceForOffset(0), 0);
  assert.equal(sequenceForOffset(SEQUENCE_MODULUS - 1), SEQUENCE_MODULUS - 1);
  assert.equal(sequenceForOffset(SEQUENCE_MODULUS), 0);
  assert.equal(sequenceForOffset(3 * SEQUENCE_MODULUS + 7), 7);
  assert.throws(() => sequenceForOffset(-1), RangeError);
});

Deno.test("offsetAtOrAfter inverts sequenceForOffset within one wrap", () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 2 ** 40 }),
    fc.integer({ min: 0, max: SEQUENCE_MODULUS - 1 }),
    (from, gap) => {
      const offset = from + gap;
      assert.equal(offsetAtOrAfter(from, sequenceForOffset(offset)), offset);
    },
  ));
  assert.throws(() => offsetAtOrAfter(0, -1), RangeError);
});
