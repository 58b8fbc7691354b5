import assert from "node:assert/strict";
import fc from "fast-check";
import { OFFSET_INDEX_ENTRY_SIZE, OffsetIndex } from "./offset_index.ts";

Deno.test("OffsetIndex takes an entry once a batch starts an interval after the last", () => {
  const index = new OffsetIndex(100);
  assert.equal(index.observe(0, 0), false, "the first batch is implied");
  assert.equal(index.observe(3, 60), false);
  assert.equal(index.observe(5, 100), true);
  assert.equal(index.observe(6, 150), false);
  assert.equal(index.observe(9, 230), true);
  assert.equal(index.length, 2);
  assert.deepEqual(index.lookup(0), { relativeOffset: 0, position: 0 });
  assert.deepEqual(index.lookup(4), { relativeOffset: 0, position: 0 });
  assert.deepEqual(index.lookup(5), { relativeOffset: 5, position: 100 });
  assert.deepEqual(index.lookup(8), { relativeOffset: 5, position: 100 });
  assert.deepEqual(index.lookup(1000), { relativeOffset: 9, position: 230 });
});

Deno.test("OffsetIndex file layout: int32 relative offset, int32 position, big-endian", () => {
  const index = new OffsetIndex(1);
  index.observe(0, 0);
  index.observe(2, 0x0102);
  index.observe(0x010203, 0x0a0b0c0d);
  assert.deepEqual(
    index.encode(),
    new Uint8Array([
      ...[0, 0, 0, 2, 0, 0, 1, 2],
      ...[0, 1, 2, 3, 0x0a, 0x0b, 0x0c, 0x0d],
    ]),
  );
  assert.equal(index.encode().length, 2 * OFFSET_INDEX_ENTRY_SIZE);
});

Deno.test("OffsetIndex.decode refuses an index that does not fit its segment", () => {
  const index = new OffsetIndex(1);
  index.observe(4, 100);
  index.observe(9, 200);
  const bytes = index.encode();
  const limits = { segmentBytes: 300, relativeEnd: 12 };
  assert.deepEqual(
    OffsetIndex.decode(bytes, 1, limits)?.encode(),
    bytes,
    "a consistent index round-trips",
  );
  assert.equal(OffsetIndex.decode(bytes.subarray(0, 12), 1, limits), undefined);
  assert.equal(
    OffsetIndex.decode(bytes, 1, { segmentBytes: 200, relativeEnd: 12 }),
    undefined,
    "a position past the log's end",
  );
  assert.equal(
    OffsetIndex.decode(bytes, 1, { segmentBytes: 300, relativeEnd: 9 }),
    undefined,
    "an offset past the segment's last",
  );
  const swapped = new Uint8Array([
    ...bytes.subarray(8),
    ...bytes.subarray(0, 8),
  ]);
  assert.equal(OffsetIndex.decode(swapped, 1, limits), undefined, "not sorted");
  assert.equal(
    OffsetIndex.decode(new Uint8Array(16), 1, limits),
    undefined,
    "zeroed entries",
  );
  assert.equal(OffsetIndex.decode(new Uint8Array(0), 1, limits)?.length, 0);
});

Deno.test("OffsetIndex.truncate drops the entries of an undone write", () => {
  const index = new OffsetIndex(10);
  index.observe(1, 10);
  index.observe(2, 20);
  index.truncate(1);
  assert.deepEqual(index.lookup(5), { relativeOffset: 1, position: 10 });
  assert.equal(index.observe(2, 20), true, "the undone batch is indexed again");
});

Deno.test("OffsetIndex.lookup finds the last entry at or before an offset", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.integer({ min: 1, max: 50 }),
          fc.integer({ min: 1, max: 500 }),
        ),
        {
          maxLength: 200,
        },
      ),
      fc.integer({ min: 0, max: 12000 }),
      fc.integer({ min: 1, max: 1000 }),
      (steps, target, interval) => {
        const index = new OffsetIndex(interval);
        const entries: [number, number][] = [];
        let relative = 0;
        let position = 0;
        for (const [records, bytes] of steps) {
          if (index.observe(relative, position)) {
            entries.push([relative, position]);
          }
          relative += records;
          position += bytes;
        }
        const floor = entries.filter(([r]) => r <= target).at(-1) ?? [0, 0];
        const found = index.lookup(target);
        assert.deepEqual([found.relativeOffset, found.position], floor);
        const decoded = OffsetIndex.decode(index.encode(), interval, {
          segmentBytes: position + 1,
          relativeEnd: relative + 1,
        });
        assert.deepEqual(decoded?.lookup(target), found);
      },
    ),
  );
});
