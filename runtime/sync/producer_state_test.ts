import assert from "node:assert/strict";
import { EdgelogError } from "../errors.ts";
import { planPush, replayStoredBatch } from "./producer_state.ts";

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
  assert.deepEqual(planPush(4, [span(8, 9)], 3), {
    append: [0],
    ackedOffset: 9,
    dropped: 3,
  });
  refused(() => planPush(4, [span(8, 9)], 2), 5);
  refused(() => planPush(4, [span(8, 9)], 4), 5);
  refused(() => planPush(4, [span(5, 6), span(9, 9)], 2), 5);
});

Deno.test("replayStoredBatch rebuilds offsets and gaps from sequences", () => {
  let state = { ackedOffset: -1, droppedRecords: 0 };
  state = replayStoredBatch(state, 0, 4);
  assert.deepEqual(state, { ackedOffset: 4, droppedRecords: 0 });
  state = replayStoredBatch(state, 8, 1);
  assert.deepEqual(state, { ackedOffset: 9, droppedRecords: 3 });
  const wrap = replayStoredBatch(
    { ackedOffset: 2 ** 31 - 2, droppedRecords: 0 },
    0,
    0,
  );
  assert.deepEqual(wrap, { ackedOffset: 2 ** 31, droppedRecords: 1 });
});
