import assert from "node:assert/strict";
import { send, testServer } from "./_test_util.ts";

Deno.test("groups: join, commit, committed with lag, list, describe, leave", async () => {
  const s = await testServer();
  try {
    await s.log.createTopic("t", { partitions: 2 });
    await s.log.produce("t", [
      { value: null, partition: 0 },
      { value: null, partition: 0 },
      { value: null, partition: 1 },
    ]);
    let res = await send(s.app, "POST", "/v1/groups/g/heartbeat", {
      topics: ["t"],
    });
    assert.equal(res.status, 200);
    let hb = await res.json();
    assert.equal(typeof hb.memberId, "string");
    assert.equal(hb.heartbeatIntervalMs > 0, true);
    // Cooperative handover may take another beat before partitions arrive.
    for (let i = 0; i < 5 && hb.assignment.length === 0; i++) {
      hb = await (await send(s.app, "POST", "/v1/groups/g/heartbeat", {
        memberId: hb.memberId,
        memberEpoch: hb.memberEpoch,
        topics: ["t"],
      })).json();
    }
    assert.deepEqual(hb.assignment, [{ topic: "t", partitions: [0, 1] }]);

    res = await send(s.app, "POST", "/v1/groups/g/offsets", {
      memberId: hb.memberId,
      memberEpoch: hb.memberEpoch,
      offsets: [{ topic: "t", partition: 0, offset: 1 }],
    });
    assert.equal(res.status, 200);

    res = await send(s.app, "GET", "/v1/groups/g/offsets?topic=t");
    assert.deepEqual(await res.json(), {
      offsets: [{
        topic: "t",
        partition: 0,
        offset: 1,
        highWatermark: 2,
        lag: 1,
      }],
    });

    res = await send(s.app, "GET", "/v1/groups");
    assert.deepEqual(
      (await res.json()).groups.map((
        g: { group: string; members: number },
      ) => [g.group, g.members]),
      [["g", 1]],
    );

    res = await send(s.app, "GET", "/v1/groups/g");
    const described = await res.json();
    assert.equal(described.members.length, 1);
    assert.deepEqual(
      described.partitions.map((
        p: { partition: number; lag: number | null },
      ) => [p.partition, p.lag]),
      [[0, 1], [1, null]],
    );

    res = await send(s.app, "POST", "/v1/groups/g/offsets", {
      memberId: hb.memberId,
      memberEpoch: hb.memberEpoch + 5,
      offsets: [{ topic: "t", partition: 0, offset: 2 }],
    });
    assert.equal(res.status, 409);
    assert.equal((await res.json()).error.code, "STALE_MEMBER_EPOCH");

    res = await send(s.app, "POST", "/v1/groups/g/heartbeat", {
      memberId: hb.memberId,
      memberEpoch: -1,
      topics: ["t"],
    });
    assert.equal(res.status, 200);
    res = await send(s.app, "POST", "/v1/groups/g/offsets", {
      memberId: hb.memberId,
      memberEpoch: hb.memberEpoch,
      offsets: [{ topic: "t", partition: 0, offset: 2 }],
    });
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error.code, "UNKNOWN_MEMBER");
    assert.equal(
      s.groups.committed("g", "t")[0]?.offset,
      1,
      "refused commits change nothing",
    );
  } finally {
    await s.close();
  }
});

Deno.test("groups: unknown group is 404, bad bodies are 400", async () => {
  const s = await testServer();
  try {
    let res = await send(s.app, "GET", "/v1/groups/nobody");
    assert.equal(res.status, 404);
    for (
      const body of [
        {},
        { topics: "t" },
        { topics: ["t"], memberEpoch: "1" },
        { topics: ["bad/name"] },
      ]
    ) {
      res = await send(s.app, "POST", "/v1/groups/g/heartbeat", body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal((await res.json()).error.code, "BAD_REQUEST");
    }
    assert.deepEqual(s.groups.listGroups(), []);
  } finally {
    await s.close();
  }
});

const TOKENS = [
  { token: "admin", rights: { admin: true as const } },
  { token: "owner", rights: { consume: ["t"] } },
  { token: "other", rights: { consume: ["t"] } },
  { token: "nothing", rights: {} },
  { token: "secret-reader", rights: { consume: ["secret"] } },
];
const as = (token: string) => ({ authorization: `Bearer ${token}` });

Deno.test("groups (issue 9, finding 7): only the token that joined a member may heartbeat, leave or commit for it", async () => {
  const s = await testServer({ auth: { tokens: TOKENS } });
  try {
    await s.log.createTopic("t");
    const joined = await (await send(s.app, "POST", "/v1/groups/g/heartbeat", {
      topics: ["t"],
    }, as("owner"))).json();
    const member = {
      memberId: joined.memberId,
      memberEpoch: joined.memberEpoch,
    };
    const before = s.groups.describeGroup("g");

    for (const token of ["other", "nothing"]) {
      const evict = await send(s.app, "POST", "/v1/groups/g/heartbeat", {
        memberId: member.memberId,
        memberEpoch: -1,
        topics: [],
      }, as(token));
      assert.equal(evict.status, 403, token);
      const commit = await send(s.app, "POST", "/v1/groups/g/offsets", {
        ...member,
        offsets: [{ topic: "t", partition: 0, offset: 0 }],
      }, as(token));
      assert.equal(commit.status, 403, token);
    }
    assert.deepEqual(s.groups.describeGroup("g"), before);
    assert.deepEqual(s.groups.committed("g"), []);

    // The owner, and an admin, still may.
    let res = await send(s.app, "POST", "/v1/groups/g/offsets", {
      ...member,
      offsets: [{ topic: "t", partition: 0, offset: 0 }],
    }, as("owner"));
    assert.equal(res.status, 200);
    res = await send(s.app, "POST", "/v1/groups/g/heartbeat", {
      memberId: member.memberId,
      memberEpoch: -1,
      topics: ["t"],
    }, as("admin"));
    assert.equal(res.status, 200);
    assert.equal(s.groups.describeGroup("g").members.length, 0);
  } finally {
    await s.close();
  }
});

Deno.test("groups (issue 9, findings 7 and 11): member ids only to their token; offsets and lag only of consumable topics", async () => {
  const s = await testServer({ auth: { tokens: TOKENS } });
  try {
    await s.log.createTopic("t");
    await s.log.createTopic("secret");
    await s.log.produce("secret", [{ value: null }, { value: null }]);
    const own = await (await send(s.app, "POST", "/v1/groups/g/heartbeat", {
      topics: ["t"],
    }, as("owner"))).json();
    const spy = await (await send(s.app, "POST", "/v1/groups/g/heartbeat", {
      topics: ["secret"],
    }, as("secret-reader"))).json();
    await send(s.app, "POST", "/v1/groups/g/offsets", {
      memberId: spy.memberId,
      memberEpoch: spy.memberEpoch,
      offsets: [{ topic: "secret", partition: 0, offset: 1 }],
    }, as("secret-reader"));

    const seen = await (await send(
      s.app,
      "GET",
      "/v1/groups/g",
      undefined,
      as("owner"),
    )).json();
    const ids = seen.members.map((m: { memberId?: string }) => m.memberId);
    assert.deepEqual(ids.sort(), [own.memberId, undefined].sort());
    assert.ok(!JSON.stringify(seen).includes(spy.memberId));
    assert.ok(!JSON.stringify(seen).includes("secret"));
    const all = await (await send(
      s.app,
      "GET",
      "/v1/groups/g",
      undefined,
      as("admin"),
    )).json();
    assert.ok(JSON.stringify(all).includes(spy.memberId));

    const offsets = await (await send(
      s.app,
      "GET",
      "/v1/groups/g/offsets",
      undefined,
      as("owner"),
    )).json();
    assert.deepEqual(offsets, { offsets: [] });
    for (
      const path of [
        "/v1/groups/g/offsets?topic=secret",
        "/v1/groups/g/offsets",
        "/v1/groups/g",
        "/v1/groups",
      ]
    ) {
      const res = await send(s.app, "GET", path, undefined, as("nothing"));
      assert.equal(res.status, 403, path);
    }
    const res = await send(
      s.app,
      "GET",
      "/v1/groups/g/offsets?topic=secret",
      undefined,
      as("owner"),
    );
    assert.equal(res.status, 403);
  } finally {
    await s.close();
  }
});
