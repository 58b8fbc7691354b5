import assert from "node:assert/strict";
import { send, testServer } from "./_test_util.ts";

async function withTopic() {
  const s = await testServer();
  await s.log.createTopic("t", { partitions: 2 });
  for (let i = 0; i < 4; i++) {
    await s.log.produce("t", [{ value: null, partition: 0 }]);
    s.clock.advance(1000);
  }
  return s;
}

Deno.test("POST /v1/groups/{g}/offsets/reset: earliest, latest, timestamp, offset", async () => {
  const s = await withTopic();
  try {
    const reset = async (body: unknown) => {
      const res = await send(s.app, "POST", "/v1/groups/g/offsets/reset", body);
      assert.equal(res.status, 200);
      return (await res.json()).offsets;
    };
    assert.deepEqual(await reset({ to: "latest", topic: "t" }), [
      { topic: "t", partition: 0, offset: 4 },
      { topic: "t", partition: 1, offset: 0 },
    ]);
    assert.deepEqual(await reset({ to: "earliest" }), [
      { topic: "t", partition: 0, offset: 0 },
      { topic: "t", partition: 1, offset: 0 },
    ]);
    assert.deepEqual(
      await reset({
        to: "timestamp",
        topic: "t",
        partition: 0,
        timestamp: 1_700_000_002_000,
      }),
      [{ topic: "t", partition: 0, offset: 2 }],
    );
    assert.deepEqual(
      await reset({ to: "offset", topic: "t", partition: 0, offset: 99 }),
      [{ topic: "t", partition: 0, offset: 4 }],
    );
    const lag = await (await send(s.app, "GET", "/v1/groups/g/offsets")).json();
    assert.deepEqual(lag.offsets.map((o: { lag: number }) => o.lag), [0, 0]);
  } finally {
    await s.close();
  }
});

Deno.test("reset: bad input is 400, unknown places 404, and nothing moves", async () => {
  const s = await withTopic();
  try {
    const cases: [unknown, number, string][] = [
      [{ to: "sideways", topic: "t" }, 400, "BAD_REQUEST"],
      [{ to: "offset", topic: "t" }, 400, "BAD_REQUEST"],
      [{ to: "timestamp", topic: "t" }, 400, "BAD_REQUEST"],
      [{ to: "latest", partition: 0 }, 400, "BAD_REQUEST"],
      [{ to: "latest", topic: "t", extra: 1 }, 400, "BAD_REQUEST"],
      [{ to: "latest", topic: "nope" }, 404, "TOPIC_NOT_FOUND"],
      [{ to: "latest", topic: "t", partition: 5 }, 404, "PARTITION_NOT_FOUND"],
      [{ to: "latest" }, 404, "NOT_FOUND"],
    ];
    for (const [body, status, code] of cases) {
      const res = await send(s.app, "POST", "/v1/groups/g/offsets/reset", body);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.equal((await res.json()).error.code, code);
    }
    assert.deepEqual(s.groups.listGroups(), []);
  } finally {
    await s.close();
  }
});

Deno.test("reset and delete answer 409 GROUP_NOT_EMPTY while a member is in", async () => {
  const s = await withTopic();
  try {
    const hb = await (await send(s.app, "POST", "/v1/groups/g/heartbeat", {
      topics: ["t"],
    })).json();
    let res = await send(s.app, "POST", "/v1/groups/g/offsets/reset", {
      to: "earliest",
      topic: "t",
    });
    assert.equal(res.status, 409);
    assert.equal((await res.json()).error.code, "GROUP_NOT_EMPTY");
    res = await send(s.app, "DELETE", "/v1/groups/g");
    assert.equal(res.status, 409);
    await res.body?.cancel();
    await send(s.app, "POST", "/v1/groups/g/heartbeat", {
      memberId: hb.memberId,
      memberEpoch: -1,
      topics: ["t"],
    });
    res = await send(s.app, "POST", "/v1/groups/g/offsets/reset", {
      to: "earliest",
      topic: "t",
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    res = await send(s.app, "DELETE", "/v1/groups/g");
    assert.equal(res.status, 204);
    res = await send(s.app, "DELETE", "/v1/groups/g");
    assert.equal(res.status, 404);
    await res.body?.cancel();
    assert.deepEqual(s.groups.listGroups(), []);
  } finally {
    await s.close();
  }
});

Deno.test("reset needs consume on the topic; delete needs admin", async () => {
  const s = await testServer({
    auth: {
      tokens: [
        { token: "reader", rights: { consume: ["t"] } },
        { token: "other", rights: { consume: ["x"] } },
        { token: "root", rights: { admin: true } },
      ],
    },
  });
  try {
    await s.log.createTopic("t");
    const as = (token: string) => ({ authorization: `Bearer ${token}` });
    const body = { to: "latest", topic: "t" };
    let res = await send(
      s.app,
      "POST",
      "/v1/groups/g/offsets/reset",
      body,
      as("other"),
    );
    assert.equal(res.status, 403);
    await res.body?.cancel();
    res = await send(
      s.app,
      "POST",
      "/v1/groups/g/offsets/reset",
      body,
      as("reader"),
    );
    assert.equal(res.status, 200);
    await res.body?.cancel();
    res = await send(s.app, "DELETE", "/v1/groups/g", undefined, as("reader"));
    assert.equal(res.status, 403);
    await res.body?.cancel();
    res = await send(s.app, "DELETE", "/v1/groups/g", undefined, as("root"));
    assert.equal(res.status, 204);
  } finally {
    await s.close();
  }
});
