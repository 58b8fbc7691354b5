import assert from "node:assert/strict";
import { EdgelogError } from "../errors.ts";
import {
  MAX_DECLARED_DROPPED,
  noteDropped,
  planPush,
  REMEMBERED_DROPPED_RANGES,
  replayStoredBatch,
} from "./producer_state.ts";

const span = (firstOffset: number, lastOffset: number) => ({
  firstOffset,
  lastOffset,
});

function refused(fn: () => unknown, expectedOffset: number) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof EdgelogError);
    assert.equal(err.code, "OUT_OF_ORDER_SEQUENCE");
    assert.equal(err.extra.expectedOffset, expectedOffset);
    return true;
  });
}

Deno.test("planPush appends the next expected batches", () => {
  assert.deepEqual(planPush(-1, [span(0, 4), span(5, 5)]), {
    append: [0, 1],
    ackedOffset: 5,
    dropped: 0,
  });
});

Deno.test("planPush skips wholly held batches", () => {
  assert.deepEqual(planPush(9, [span(0, 4), span(5, 9)]), {
    append: [],
    ackedOffset: 9,
    dropped: 0,
  });
  assert.deepEqual(planPush(4, [span(0, 4), span(5, 9)]).append, [1]);
});

Deno.test("planPush refuses gaps and straddles with the expected offset", () => {
  refused(() => planPush(4, [span(6, 9)]), 5);
  refused(() => planPush(4, [span(3, 9)]), 5);
  refused(() => planPush(-1, [span(0, 1), span(3, 4)]), 0);
});

Deno.test("planPush accepts exactly the declared dropped gap", () => {
  const declared = (n: number) => ({ declaredDropped: n });
  assert.deepEqual(planPush(4, [span(8, 9)], declared(3)), {
    append: [0],
    ackedOffset: 9,
    dropped: 3,
  });
  refused(() => planPush(4, [span(8, 9)], declared(2)), 5);
  refused(() => planPush(4, [span(8, 9)], declared(4)), 5);
  refused(() => planPush(4, [span(5, 6), span(9, 9)], declared(2)), 5);
});

Deno.test("planPush bounds a declared gap by the sequence space and the option", () => {
  const at = 4 + MAX_DECLARED_DROPPED + 1;
  assert.equal(
    planPush(4, [span(at, at)], { declaredDropped: MAX_DECLARED_DROPPED })
      .dropped,
    MAX_DECLARED_DROPPED,
  );
  refused(
    () =>
      planPush(4, [span(at + 1, at + 1)], {
        declaredDropped: MAX_DECLARED_DROPPED + 1,
      }),
    5,
  );
  refused(
    () =>
      planPush(4, [span(1_000_005, 1_000_005)], {
        declaredDropped: 1_000_000,
        maxDeclaredDropped: 999_999,
      }),
    5,
  );
});

Deno.test("planPush refuses, never holds, a batch inside a declared-dropped gap", () => {
  const droppedRanges = [[5, 1_000_003] as const];
  assert.throws(
    () => planPush(1_000_004, [span(5, 5)], { droppedRanges }),
    (err: unknown) => {
      assert.ok(err instanceof EdgelogError);
      assert.equal(err.code, "STREAM_DIVERGED");
      assert.equal(err.extra.droppedFrom, 5);
      return true;
    },
  );
  // A batch the stream really holds is still a plain duplicate.
  assert.deepEqual(
    planPush(1_000_004, [span(0, 4), span(1_000_004, 1_000_004)], {
      droppedRanges,
    }).append,
    [],
  );
});

Deno.test("noteDropped keeps the newest ranges", () => {
  let ranges = noteDropped(undefined, 1, 2);
  for (let i = 0; i < REMEMBERED_DROPPED_RANGES; i++) {
    ranges = noteDropped(ranges, 10 + i * 2, 10 + i * 2);
  }
  assert.equal(ranges.length, REMEMBERED_DROPPED_RANGES);
  assert.deepEqual(ranges[0], [10, 10]);
});

Deno.test("replayStoredBatch rebuilds offsets and gaps from sequences", () => {
  let state = { ackedOffset: -1, droppedRecords: 0 };
  state = replayStoredBatch(state, 0, 4);
  assert.deepEqual(state, {
    ackedOffset: 4,
    droppedRecords: 0,
    droppedRanges: [],
  });
  state = replayStoredBatch(state, 8, 1);
  assert.deepEqual(state, {
    ackedOffset: 9,
    droppedRecords: 3,
    droppedRanges: [[5, 7]],
  });
  const wrap = replayStoredBatch(
    { ackedOffset: 2 ** 31 - 2, droppedRecords: 0 },
    0,
    0,
  );
  assert.deepEqual(wrap, {
    ackedOffset: 2 ** 31,
    droppedRecords: 1,
    droppedRanges: [[2 ** 31 - 1, 2 ** 31 - 1]],
  });
});
