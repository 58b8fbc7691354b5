import assert from "node:assert/strict";
import { EdgelogError } from "../errors.ts";
import { PushBatcher } from "./push_batcher.ts";
import type { PushResult, StreamPushOutcome } from "./stream_registry.ts";

/** A fake upstream whose answers the test releases; bodies are one byte per push: its producerId. */
function fakeUpstream() {
  const calls: {
    route: "single" | "multi";
    ids: number[];
    answer: (v: unknown) => void;
    fail: (e: unknown) => void;
  }[] = [];
  const upstream = {
    pushBatches: (id: number, bytes: Uint8Array) =>
      new Promise<PushResult>((answer, fail) => {
        assert.deepEqual([...bytes], [id]);
        calls.push({
          route: "single",
          ids: [id],
          answer: answer as (v: unknown) => void,
          fail,
        });
      }),
    pushStreams: (bytes: Uint8Array) =>
      new Promise<StreamPushOutcome[]>((answer, fail) => {
        calls.push({
          route: "multi",
          ids: [...bytes],
          answer: answer as (v: unknown) => void,
          fail,
        });
      }),
  };
  return { calls, upstream };
}

const ok = (producerId: number, ackedOffset: number) => ({
  producerId,
  ackedOffset,
  partition: 0,
  lastOffset: ackedOffset,
});
const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("a lone push goes at once by its stream's route; pushes made meanwhile share one request", async () => {
  const { calls, upstream } = fakeUpstream();
  const batcher = new PushBatcher(upstream, { maxRequests: 1 });
  const first = batcher.push(1, Uint8Array.of(1));
  const a = batcher.push(2, Uint8Array.of(2));
  const b = batcher.push(3, Uint8Array.of(3));
  assert.deepEqual(calls.map((c) => [c.route, c.ids]), [["single", [1]]]);
  calls[0]!.answer({ ackedOffset: 5, partition: 0, lastOffset: 5 });
  assert.equal((await first).ackedOffset, 5);
  await tick();
  assert.deepEqual(calls[1]!.route, "multi");
  assert.deepEqual(calls[1]!.ids, [2, 3]);
  calls[1]!.answer([
    ok(2, 7),
    {
      producerId: 3,
      status: 409,
      error: {
        code: "OUT_OF_ORDER_SEQUENCE",
        message: "gap",
        expectedOffset: 4,
      },
    },
  ]);
  assert.deepEqual(await a, { ackedOffset: 7, partition: 0, lastOffset: 7 });
  await assert.rejects(
    b,
    (err) =>
      err instanceof EdgelogError && err.code === "OUT_OF_ORDER_SEQUENCE" &&
      err.extra.expectedOffset === 4,
  );
});

Deno.test("one request never carries two pushes of a stream, and a stream's pushes keep their order", async () => {
  const { calls, upstream } = fakeUpstream();
  const batcher = new PushBatcher(upstream, { maxRequests: 1 });
  const pushes = [1, 2, 1, 3, 1].map((id) =>
    batcher.push(id, Uint8Array.of(id))
  );
  calls[0]!.answer(ok(1, 0));
  await tick();
  assert.deepEqual(calls[1]!.ids, [2, 1, 3]);
  calls[1]!.answer([ok(2, 0), ok(1, 1), ok(3, 0)]);
  await tick();
  assert.deepEqual(calls[2]!.ids, [1]);
  assert.equal(calls[2]!.route, "single");
  calls[2]!.answer(ok(1, 2));
  assert.deepEqual(
    (await Promise.all(pushes)).map((r) => r.ackedOffset),
    [0, 0, 1, 0, 2],
  );
});

Deno.test("a request that fails fails each of its pushes; an upstream without the route gets them one by one", async () => {
  const { calls, upstream } = fakeUpstream();
  const batcher = new PushBatcher(upstream, { maxRequests: 1 });
  const first = batcher.push(1, Uint8Array.of(1));
  const rest = [2, 3].map((id) => batcher.push(id, Uint8Array.of(id)));
  calls[0]!.answer(ok(1, 0));
  await first;
  await tick();
  calls[1]!.fail(new EdgelogError("NOT_FOUND", "No route"));
  await tick();
  assert.deepEqual(calls.slice(2).map((c) => [c.route, c.ids]), [["single", [
    2,
  ]]]);
  calls[2]!.answer(ok(2, 0));
  await tick();
  assert.deepEqual(calls[3]!.ids, [3]);
  calls[3]!.fail(new EdgelogError("UNAVAILABLE", "down"));
  assert.equal((await rest[0]!).ackedOffset, 0);
  await assert.rejects(
    rest[1]!,
    (err) => err instanceof EdgelogError && err.code === "UNAVAILABLE",
  );
});
