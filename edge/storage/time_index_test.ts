import assert from "node:assert/strict";
import fc from "fast-check";
import { TIME_INDEX_ENTRY_SIZE, TimeIndex } from "./time_index.ts";

Deno.test("TimeIndex adds an entry at an indexed batch only when the maximum grew", () => {
  const index = new TimeIndex();
  index.observe(0, 500, false);
  index.observe(2, 400, true);
  index.observe(3, 450, true);
  index.observe(5, 900, false);
  index.observe(6, 100, true);
  assert.equal(index.length, 2);
  assert.equal(index.maxTimestamp, 900);
  assert.equal(index.lastRelativeOffset, 6);
  index.seal(8);
  assert.equal(index.length, 3, "the final entry names the last batch");
  index.seal(8);
  assert.equal(index.length, 3, "sealing twice adds nothing");
});

Deno.test("TimeIndex file layout: int64 timestamp, int32 relative offset, big-endian", () => {
  const index = new TimeIndex();
  index.observe(3, 0x0102030405, true);
  assert.deepEqual(
    index.encode(),
    new Uint8Array([0, 0, 0, 1, 2, 3, 4, 5, 0, 0, 0, 3]),
  );
  assert.equal(index.encode().length, TIME_INDEX_ENTRY_SIZE);
});

Deno.test("TimeIndex.decode refuses entries that go back or past the segment", () => {
  const index = new TimeIndex();
  index.observe(1, 10, true);
  index.observe(4, 20, true);
  const bytes = index.encode();
  assert.equal(TimeIndex.decode(bytes, 5)?.maxTimestamp, 20);
  assert.equal(TimeIndex.decode(bytes, 4), undefined, "offset past the end");
  assert.equal(TimeIndex.decode(bytes.subarray(0, 20), 5), undefined);
  const swapped = new Uint8Array([
    ...bytes.subarray(12),
    ...bytes.subarray(0, 12),
  ]);
  assert.equal(TimeIndex.decode(swapped, 5), undefined, "not sorted");
});

Deno.test("TimeIndex.scanStart never skips the first batch reaching a time", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: -1, max: 1000 }), fc.boolean()), {
        minLength: 1,
        maxLength: 100,
      }),
      fc.integer({ min: -1, max: 1001 }),
      (batches, target) => {
        const index = new TimeIndex();
        batches.forEach(([ts, indexed], i) => index.observe(i, ts, indexed));
        index.seal(batches.length - 1);
        const start = index.scanStart(target);
        const first = batches.findIndex(([ts]) => ts >= target);
        if (first >= 0) {
          assert.ok(start < first, `start ${start} skips ${first}`);
        }
        const decoded = TimeIndex.decode(index.encode(), batches.length);
        assert.equal(decoded?.scanStart(target), start);
        assert.equal(
          decoded?.maxTimestamp,
          Math.max(...batches.map(([t]) => t)),
        );
      },
    ),
  );
});
