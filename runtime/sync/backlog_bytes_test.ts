import assert from "node:assert/strict";
import fc from "fast-check";
import { BacklogBytes } from "./backlog_bytes.ts";

Deno.test("BacklogBytes keeps contiguous ranges and forgets acked ones", () => {
  const backlog = new BacklogBytes(5);
  assert.equal(backlog.add(5, 9, 100), true);
  assert.equal(backlog.add(12, 14, 50), false, "a hole is refused");
  assert.equal(backlog.add(0, 4, 50), false, "known offsets are refused");
  assert.equal(backlog.add(10, 14, 60), true);
  assert.deepEqual([backlog.start, backlog.end, backlog.bytes], [5, 15, 160]);
  backlog.trimThrough(9);
  assert.deepEqual([backlog.start, backlog.end, backlog.bytes], [10, 15, 60]);
  backlog.trimThrough(11);
  assert.deepEqual([backlog.start, backlog.bytes], [12, 36]);
  backlog.trimThrough(20);
  assert.deepEqual([backlog.start, backlog.end, backlog.bytes], [21, 21, 0]);
  assert.equal(backlog.add(21, 21, 7), true);
  assert.equal(backlog.bytes, 7);
});

Deno.test("BacklogBytes trimmed at range boundaries sums the ranges after the cut", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          count: fc.integer({ min: 1, max: 5 }),
          bytes: fc.nat(1000),
        }),
        {
          maxLength: 40,
        },
      ),
      fc.nat(40),
      (ranges, cutAt) => {
        const backlog = new BacklogBytes(0);
        let offset = 0;
        const lasts: number[] = [];
        for (const r of ranges) {
          backlog.add(offset, offset + r.count - 1, r.bytes);
          offset += r.count;
          lasts.push(offset - 1);
        }
        const cut = Math.min(cutAt, ranges.length);
        backlog.trimThrough(cut === 0 ? -1 : lasts[cut - 1]!);
        const expected = ranges.slice(cut).reduce((n, r) => n + r.bytes, 0);
        assert.equal(backlog.bytes, expected);
      },
    ),
  );
});
