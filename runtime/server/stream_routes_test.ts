import assert from "node:assert/strict";
import { SseReader, testServer, until } from "./_test_util.ts";
import { KEEPALIVE_MS } from "./stream_routes.ts";

const text = new TextEncoder();

function open(
  s: Awaited<ReturnType<typeof testServer>>,
  query: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return Promise.resolve(
    s.app.request(`/v1/topics/t/stream${query}`, { headers }),
  );
}

Deno.test("stream: every partition's records, then live ones, with resume ids", async () => {
  const s = await testServer();
  try {
    await s.log.createTopic("t", { partitions: 2 });
    await s.log.produce("t", [
      { value: text.encode("1"), partition: 0 },
      { value: text.encode("2"), partition: 1 },
      { value: text.encode("3"), partition: 0 },
    ]);
    const res = await open(s, "?from=earliest");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const reader = new SseReader(res.body!);
    const first = await reader.next(3);
    const seen = first.map((e) => JSON.parse(e.data));
    assert.deepEqual(
      seen.map((r) => [r.partition, r.offset, r.value]).sort(),
      [[0, 0, 1], [0, 1, 3], [1, 0, 2]],
    );
    assert.equal(first.at(-1)!.id, "0:2,1:1");

    await until(() => s.log.partition("t", 1).waiters > 0);
    await s.log.produce("t", [{ value: text.encode("4"), partition: 1 }]);
    const [live] = await reader.next(1);
    assert.deepEqual(JSON.parse(live!.data).value, 4);
    assert.equal(live!.id, "0:2,1:2");

    await reader.cancel();
    await until(() =>
      s.log.partition("t", 0).waiters === 0 &&
      s.log.partition("t", 1).waiters === 0
    );

    await s.log.produce("t", [{ value: text.encode("5"), partition: 0 }]);
    const resumed = new SseReader(
      (await open(s, "?from=earliest", { "last-event-id": first[1]!.id! }))
        .body!,
    );
    const rest = (await resumed.next(3)).map((e) => JSON.parse(e.data).value);
    const expectedAfter = first.slice(2).map((e) => JSON.parse(e.data).value);
    assert.deepEqual(rest.sort(), [...expectedAfter, 4, 5].sort());
    await resumed.cancel();
  } finally {
    await s.close();
  }
});

Deno.test("stream: latest skips history, outlives idle timeouts, ends at shutdown", async () => {
  const s = await testServer();
  try {
    await s.log.createTopic("t");
    await s.log.produce("t", [{ value: text.encode("1") }]);
    const res = await open(s, "");
    const reader = new SseReader(res.body!);
    await until(() => s.log.partition("t", 0).waiters > 0);
    s.clock.advance(KEEPALIVE_MS);
    await until(() => s.log.partition("t", 0).waiters > 0);
    await s.log.produce("t", [{ value: text.encode("2") }]);
    const [event] = await reader.next(1);
    assert.equal(JSON.parse(event!.data).value, 2);
    await until(() => s.log.partition("t", 0).waiters > 0);
    s.shutdown.abort();
    assert.equal(await reader.ended(), true);
  } finally {
    await s.close();
  }
});

Deno.test("stream: unknown topic 404, bad Last-Event-ID 400", async () => {
  const s = await testServer();
  try {
    let res = await open(s, "");
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error.code, "TOPIC_NOT_FOUND");
    await s.log.createTopic("t");
    res = await open(s, "", { "last-event-id": "garbage" });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, "BAD_REQUEST");
    res = await open(s, "?from=middle");
    assert.equal(res.status, 400);
  } finally {
    await s.close();
  }
});
