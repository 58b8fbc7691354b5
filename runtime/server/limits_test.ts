import assert from "node:assert/strict";
import { EdgelogError } from "../errors.ts";
import { GroupCoordinator } from "../groups/mod.ts";
import { Log, MemoryStorage } from "../log/mod.ts";
import { Slots } from "./limits.ts";
import { send, snapshot, SseReader, testServer } from "./_test_util.ts";

function refusal(err: unknown, code: string, limit: string): boolean {
  return err instanceof EdgelogError && err.code === code &&
    err.extra.limit === limit;
}

Deno.test("slots: a client over its share is 429, the node at its cap 503, a release frees", () => {
  const slots = new Slots({ name: "maxStreams", max: 2 }, {
    name: "maxStreamsPerClient",
    max: 1,
  });
  const a = slots.acquire("a");
  assert.throws(
    () => slots.acquire("a"),
    (err) => refusal(err, "TOO_MANY_REQUESTS", "maxStreamsPerClient"),
  );
  slots.acquire("b");
  assert.throws(
    () => slots.acquire("c"),
    (err) => refusal(err, "LIMIT_REACHED", "maxStreams"),
  );
  assert.equal(slots.held, 2);
  a();
  a();
  assert.equal(slots.held, 1);
  slots.acquire("c");
});

Deno.test("SSE streams are capped per token and in all; a refusal answers the PROTOCOL shape and is counted", async () => {
  const server = await testServer({
    holdLimits: { maxStreams: 2, maxStreamsPerClient: 1 },
    auth: {
      tokens: ["a", "b", "c"].map((token) => ({
        token,
        rights: { admin: true as const },
      })),
    },
  });
  try {
    await server.log.createTopic("t");
    const open = (token: string) =>
      send(server.app, "GET", "/v1/topics/t/stream", undefined, {
        authorization: `Bearer ${token}`,
      });
    const a = await open("a");
    assert.equal(a.status, 200);
    const again = await open("a");
    assert.equal(again.status, 429);
    assert.deepEqual((await again.json()).error.limit, "maxStreamsPerClient");
    const b = await open("b");
    assert.equal(b.status, 200);
    const c = await open("c");
    assert.equal(c.status, 503);
    const body = await c.json();
    assert.equal(body.error.code, "LIMIT_REACHED");
    assert.equal(body.error.limit, "maxStreams");

    await new SseReader(a.body!).cancel();
    let next: Response | undefined;
    for (let i = 0; i < 100 && next?.status !== 200; i++) {
      await next?.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 10));
      next = await open("c");
    }
    assert.equal(next?.status, 200, "a dropped stream frees its slot");
    const metrics = server.metrics.render();
    assert.match(
      metrics,
      /edgelog_limit_refusals_total\{limit="maxStreams"\} \d+/,
    );
    assert.match(
      metrics,
      /edgelog_limit_refusals_total\{limit="maxStreamsPerClient"\} 1/,
    );
    assert.match(metrics, /edgelog_limit_in_use\{limit="maxStreams"\} 2/);
    await new SseReader(b.body!).cancel();
    await new SseReader(next!.body!).cancel();
  } finally {
    await server.close();
  }
});

Deno.test("on an open node a client is its address: another Authorization header buys no share", async () => {
  const server = await testServer({ holdLimits: { maxStreamsPerClient: 1 } });
  try {
    await server.log.createTopic("t");
    const open = (token: string) =>
      send(server.app, "GET", "/v1/topics/t/stream", undefined, {
        authorization: `Bearer ${token}`,
      });
    const first = await open("a");
    assert.equal(first.status, 200);
    const second = await open("b");
    assert.equal(second.status, 429);
    await second.body?.cancel();
    await new SseReader(first.body!).cancel();
  } finally {
    await server.close();
  }
});

Deno.test("long polls are capped in all; a record wakes the one waiting", async () => {
  const server = await testServer({ holdLimits: { maxLongPolls: 1 } });
  try {
    await server.log.createTopic("t");
    const path = "/v1/topics/t/partitions/0/records?offset=0&maxWaitMs=30000";
    const waiting = send(server.app, "GET", path);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const refused = await send(server.app, "GET", path);
    assert.equal(refused.status, 503);
    assert.equal((await refused.json()).error.limit, "maxLongPolls");
    const quick = await send(
      server.app,
      "GET",
      "/v1/topics/t/partitions/0/records?offset=0",
    );
    assert.equal(quick.status, 200, "a fetch that does not wait is served");
    await quick.body?.cancel();
    await server.log.produce("t", [{ value: new Uint8Array([1]) }]);
    const woke = await waiting;
    assert.equal(woke.status, 200);
    assert.equal((await woke.json()).records.length, 1);
  } finally {
    await server.close();
  }
});

Deno.test("topic and partition caps answer 503 LIMIT_REACHED and create nothing", async () => {
  const log = await Log.open({
    storage: new MemoryStorage(),
    limits: { maxTopics: 2, maxPartitionsPerTopic: 4, maxPartitions: 6 },
  });
  try {
    await log.createTopic("a", { partitions: 4 });
    const before = snapshot(log);
    await assert.rejects(
      log.createTopic("b", { partitions: 5 }),
      (err) => refusal(err, "LIMIT_REACHED", "maxPartitionsPerTopic"),
    );
    await assert.rejects(
      log.createTopic("b", { partitions: 3 }),
      (err) => refusal(err, "LIMIT_REACHED", "maxPartitions"),
    );
    assert.deepEqual(snapshot(log), before);
    await log.createTopic("b", { partitions: 2 });
    await assert.rejects(
      log.createTopic("c"),
      (err) => refusal(err, "LIMIT_REACHED", "maxTopics"),
    );
    await log.deleteTopic("a");
    await log.createTopic("c", { partitions: 4 });
    assert.equal(log.partitionCount, 6);
  } finally {
    await log.close();
  }
});

Deno.test("a group past maxGroupMembers refuses the next join with 503, and takes one after a leave", async () => {
  const server = await testServer();
  try {
    await server.log.createTopic("t");
    const groups = await GroupCoordinator.open({
      meta: server.log.meta,
      partitionCount: () => 1,
      highWatermark: () => 0,
      maxGroupMembers: 2,
    });
    const first = await groups.heartbeat("g", { topics: ["t"] });
    await groups.heartbeat("g", { topics: ["t"] });
    await assert.rejects(
      groups.heartbeat("g", { topics: ["t"] }),
      (err) => refusal(err, "LIMIT_REACHED", "maxGroupMembers"),
    );
    assert.equal(groups.listGroups()[0]?.members, 2);
    await groups.heartbeat("g", {
      topics: ["t"],
      memberId: first.memberId,
      memberEpoch: -1,
    });
    await groups.heartbeat("g", { topics: ["t"] });
  } finally {
    await server.close();
  }
});
