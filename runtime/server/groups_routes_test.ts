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
