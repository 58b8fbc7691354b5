import assert from "node:assert/strict";
import { EdgelogError } from "../errors.ts";
import { GroupCoordinator } from "./coordinator.ts";
import { openCoordinator } from "./_test_util.ts";
import type { HeartbeatResponse } from "./types.ts";

function rejectsWith(promise: Promise<unknown>, code: string) {
  return assert.rejects(
    promise,
    (err) => err instanceof EdgelogError && err.code === code,
  );
}

/** A heartbeat of a joined member of group g that subscribes to orders. */
function beat(
  groups: GroupCoordinator,
  member: { memberId: string; memberEpoch: number },
): Promise<HeartbeatResponse> {
  return groups.heartbeat("g", { ...member, topics: ["orders"] });
}

function owned(response: HeartbeatResponse, topic = "orders"): number[] {
  return response.assignment.find((a) => a.topic === topic)?.partitions ?? [];
}

Deno.test("GroupCoordinator membership", async (t) => {
  await t.step(
    "a first heartbeat joins at epoch 1 with every partition",
    async () => {
      const { groups } = await openCoordinator(new Map([["orders", 3]]));
      const a = await groups.heartbeat("g", { topics: ["orders"] });
      assert.match(
        a.memberId,
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      assert.deepEqual(a, {
        memberId: a.memberId,
        memberEpoch: 1,
        heartbeatIntervalMs: 3000,
        assignment: [{ topic: "orders", partitions: [0, 1, 2] }],
      });
      const again = await beat(groups, {
        memberId: a.memberId,
        memberEpoch: 1,
      });
      assert.deepEqual(again, a);
      assert.deepEqual(groups.listGroups(), [
        { group: "g", members: 1, state: "Stable" },
      ]);
    },
  );

  await t.step(
    "a second member gets its share only after the owner lets go",
    async () => {
      const { groups } = await openCoordinator(new Map([["orders", 4]]));
      const a1 = await groups.heartbeat("g", { topics: ["orders"] });
      const b1 = await groups.heartbeat("g", { topics: ["orders"] });
      assert.notEqual(b1.memberId, a1.memberId);
      assert.deepEqual(b1.assignment, []);
      assert.equal(b1.memberEpoch, 1);
      assert.equal(groups.listGroups()[0]?.state, "Reconciling");

      const a2 = await beat(groups, { memberId: a1.memberId, memberEpoch: 1 });
      assert.equal(a2.memberEpoch, 2);
      assert.equal(owned(a2).length, 2);
      const b2 = await beat(groups, { memberId: b1.memberId, memberEpoch: 1 });
      assert.deepEqual(b2.assignment, [], "a has not acknowledged yet");
      assert.equal(b2.memberEpoch, 1);

      await beat(groups, { memberId: a1.memberId, memberEpoch: 2 });
      const b3 = await beat(groups, { memberId: b1.memberId, memberEpoch: 1 });
      assert.equal(b3.memberEpoch, 2);
      assert.deepEqual(
        [...owned(a2), ...owned(b3)].sort(),
        [0, 1, 2, 3],
      );
      assert.equal(groups.listGroups()[0]?.state, "Stable");
    },
  );

  await t.step("leaving frees the partitions for the others", async () => {
    const { groups } = await openCoordinator(new Map([["orders", 2]]));
    const a = await groups.heartbeat("g", { topics: ["orders"] });
    const b = await groups.heartbeat("g", { topics: ["orders"] });
    const left = await groups.heartbeat("g", {
      memberId: a.memberId,
      memberEpoch: -1,
      topics: [],
    });
    assert.deepEqual(left, {
      memberId: a.memberId,
      memberEpoch: -1,
      heartbeatIntervalMs: 3000,
      assignment: [],
    });
    const b2 = await beat(groups, { memberId: b.memberId, memberEpoch: 1 });
    assert.deepEqual(owned(b2), [0, 1]);
    assert.equal(b2.memberEpoch, 2);
    await rejectsWith(
      beat(groups, { memberId: a.memberId, memberEpoch: 1 }),
      "UNKNOWN_MEMBER",
    );
    await groups.heartbeat("g", {
      memberId: b.memberId,
      memberEpoch: -1,
      topics: [],
    });
    assert.deepEqual(groups.listGroups(), []);
  });

  await t.step(
    "epochs: newer or older than the previous are fenced",
    async () => {
      const { groups } = await openCoordinator(new Map([["orders", 2]]));
      const a = await groups.heartbeat("g", { topics: ["orders"] });
      const b = await groups.heartbeat("g", { topics: ["orders"] });
      const hb = (memberEpoch: number) =>
        beat(groups, { memberId: a.memberId, memberEpoch });
      await rejectsWith(hb(2), "FENCED");
      const a2 = await hb(1);
      assert.equal(a2.memberEpoch, 2);
      assert.deepEqual(
        await hb(1),
        a2,
        "the previous epoch replays the answer",
      );
      assert.deepEqual(await hb(2), a2);
      const a3 = await groups.heartbeat("g", {
        memberId: a.memberId,
        memberEpoch: 2,
        topics: [],
      });
      assert.equal(a3.memberEpoch, 3);
      assert.deepEqual(a3.assignment, []);
      await rejectsWith(hb(1), "FENCED");
      await rejectsWith(hb(7), "FENCED");
      const a4 = await hb(3);
      assert.equal(a4.memberEpoch, 4, "resubscribed: a gets its share again");
      assert.equal(owned(a4).length, 1);
      assert.equal(
        groups.describeGroup("g").members.find((m) => m.memberId === b.memberId)
          ?.memberEpoch,
        1,
      );
    },
  );

  await t.step(
    "epoch 0 rejoins: partitions dropped, epoch bumped",
    async () => {
      const { groups } = await openCoordinator(new Map([["orders", 2]]));
      const a = await groups.heartbeat("g", { topics: ["orders"] });
      const b = await groups.heartbeat("g", { topics: ["orders"] });
      await beat(groups, { memberId: a.memberId, memberEpoch: 1 });
      const rejoined = await beat(groups, {
        memberId: a.memberId,
        memberEpoch: 0,
      });
      assert.equal(rejoined.memberEpoch, 3);
      assert.equal(owned(rejoined).length, 1);
      const b2 = await beat(groups, { memberId: b.memberId, memberEpoch: 1 });
      assert.equal(owned(b2).length, 1, "a's released partition went to b");
      assert.notDeepEqual(owned(b2), owned(rejoined));
    },
  );

  await t.step("unknown topics get partitions once they appear", async () => {
    const topics = new Map([["orders", 1]]);
    const { groups } = await openCoordinator(topics);
    const a = await groups.heartbeat("g", { topics: ["later", "orders"] });
    assert.deepEqual(a.assignment, [{ topic: "orders", partitions: [0] }]);
    topics.set("later", 2);
    const a2 = await groups.heartbeat("g", {
      memberId: a.memberId,
      memberEpoch: 1,
      topics: ["orders", "later"],
    });
    assert.equal(a2.memberEpoch, 2);
    assert.deepEqual(a2.assignment, [
      { topic: "later", partitions: [0, 1] },
      { topic: "orders", partitions: [0] },
    ]);
    topics.delete("orders");
    const a3 = await groups.heartbeat("g", {
      memberId: a.memberId,
      memberEpoch: 2,
      topics: ["orders", "later"],
    });
    assert.equal(a3.memberEpoch, 3);
    assert.deepEqual(a3.assignment, [{ topic: "later", partitions: [0, 1] }]);
  });

  await t.step("bad heartbeats are BAD_REQUEST", async () => {
    const { groups } = await openCoordinator(new Map([["orders", 1]]));
    const bad = [
      { topics: "orders" },
      { topics: [1] },
      { topics: ["orders"], sessionTimeoutMs: 0 },
      { topics: ["orders"], memberEpoch: 3 },
      { topics: ["orders"], memberEpoch: 1.5 },
      { topics: ["orders"], memberId: "x" },
    ];
    for (const request of bad) {
      await rejectsWith(
        groups.heartbeat("g", request as never),
        request.memberId ? "UNKNOWN_MEMBER" : "BAD_REQUEST",
      );
    }
    await rejectsWith(groups.heartbeat("", { topics: [] }), "BAD_REQUEST");
    const a = await groups.heartbeat("g", { topics: ["orders"] });
    await rejectsWith(
      groups.heartbeat("g", { memberId: a.memberId, topics: ["orders"] }),
      "BAD_REQUEST",
    );
  });
});

Deno.test("GroupCoordinator sessions", async (t) => {
  await t.step("an expired member's partitions move", async () => {
    const { groups, clock } = await openCoordinator(new Map([["orders", 2]]));
    const a = await groups.heartbeat("g", {
      topics: ["orders"],
      sessionTimeoutMs: 10_000,
    });
    const b = await groups.heartbeat("g", { topics: ["orders"] });
    clock.advance(9_999);
    groups.expireMembers();
    assert.equal(groups.describeGroup("g").members.length, 2);
    clock.advance(1);
    groups.expireMembers();
    assert.deepEqual(
      groups.describeGroup("g").members.map((m) => m.memberId),
      [b.memberId],
    );
    const b2 = await beat(groups, { memberId: b.memberId, memberEpoch: 1 });
    assert.deepEqual(owned(b2), [0, 1]);
    await rejectsWith(
      beat(groups, { memberId: a.memberId, memberEpoch: 1 }),
      "UNKNOWN_MEMBER",
    );
  });

  await t.step("expiry is also lazy, with the default timeout", async () => {
    const { groups, clock } = await openCoordinator(new Map([["orders", 2]]));
    const a = await groups.heartbeat("g", { topics: ["orders"] });
    clock.advance(44_999);
    await beat(groups, { memberId: a.memberId, memberEpoch: 1 });
    clock.advance(44_999);
    assert.equal(groups.listGroups()[0]?.members, 1, "a heartbeat renews");
    clock.advance(1);
    assert.deepEqual(groups.listGroups(), []);
    await rejectsWith(
      groups.commit("g", {
        memberId: a.memberId,
        memberEpoch: 1,
        offsets: [],
      }),
      "UNKNOWN_MEMBER",
    );
  });

  await t.step("defaults come from the options", async () => {
    const { groups, clock } = await openCoordinator(
      new Map([["orders", 1]]),
      { defaultSessionTimeoutMs: 100, heartbeatIntervalMs: 25 },
    );
    const a = await groups.heartbeat("g", { topics: ["orders"] });
    assert.equal(a.heartbeatIntervalMs, 25);
    assert.equal(groups.describeGroup("g").members[0]?.sessionTimeoutMs, 100);
    clock.advance(100);
    assert.deepEqual(groups.listGroups(), []);
  });
});

Deno.test("GroupCoordinator offsets", async (t) => {
  await t.step(
    "only the current epoch commits; offsets are validated",
    async () => {
      const { groups, meta } = await openCoordinator(new Map([["orders", 2]]));
      const a = await groups.heartbeat("g", { topics: ["orders"] });
      await groups.heartbeat("g", { topics: ["orders"] });
      const a2 = await beat(groups, { memberId: a.memberId, memberEpoch: 1 });
      assert.equal(a2.memberEpoch, 2);
      const commit = (
        memberEpoch: number,
        offsets: { topic: string; partition: number; offset: number }[],
        memberId = a.memberId,
      ) => groups.commit("g", { memberId, memberEpoch, offsets });
      const one = [{ topic: "orders", partition: 0, offset: 5 }];
      await rejectsWith(commit(1, one), "STALE_MEMBER_EPOCH");
      await rejectsWith(commit(3, one), "STALE_MEMBER_EPOCH");
      await rejectsWith(commit(2, one, "nobody"), "UNKNOWN_MEMBER");
      await rejectsWith(
        groups.commit("other", {
          memberId: a.memberId,
          memberEpoch: 2,
          offsets: one,
        }),
        "UNKNOWN_MEMBER",
      );
      const valid = { topic: "orders", partition: 1, offset: 1 };
      for (
        const [offsets, code] of [
          [
            [valid, { topic: "orders", partition: 0, offset: -1 }],
            "BAD_REQUEST",
          ],
          [
            [valid, { topic: "orders", partition: 0, offset: 1.5 }],
            "BAD_REQUEST",
          ],
          [
            [valid, { topic: "orders", partition: -1, offset: 1 }],
            "BAD_REQUEST",
          ],
          [
            [valid, { topic: "nope", partition: 0, offset: 1 }],
            "TOPIC_NOT_FOUND",
          ],
          [
            [valid, { topic: "orders", partition: 2, offset: 1 }],
            "PARTITION_NOT_FOUND",
          ],
        ] as const
      ) {
        await rejectsWith(commit(2, [...offsets]), code);
      }
      assert.equal(
        [...meta.data.keys()].filter((k) => k.startsWith("group/")).length,
        0,
        "a rejected commit stores nothing",
      );
      assert.deepEqual(groups.committed("g"), []);

      await commit(2, [
        { topic: "orders", partition: 1, offset: 40 },
        { topic: "orders", partition: 0, offset: 5 },
        { topic: "orders", partition: 0, offset: 7 },
      ]);
      assert.deepEqual(groups.committed("g"), [
        {
          topic: "orders",
          partition: 0,
          offset: 7,
          highWatermark: 100,
          lag: 93,
        },
        {
          topic: "orders",
          partition: 1,
          offset: 40,
          highWatermark: 100,
          lag: 60,
        },
      ]);
      assert.deepEqual(await meta.get("group/g/orders/0"), {
        group: "g",
        topic: "orders",
        partition: 0,
        offset: 7,
      });
    },
  );

  await t.step(
    "lag never goes below zero; a topic filter applies",
    async () => {
      const { groups } = await openCoordinator(
        new Map([["orders", 1], ["audit", 1]]),
        { highWatermark: (topic) => (topic === "orders" ? 10 : 3) },
      );
      const a = await groups.heartbeat("g", { topics: ["orders", "audit"] });
      await groups.commit("g", {
        memberId: a.memberId,
        memberEpoch: a.memberEpoch,
        offsets: [
          { topic: "orders", partition: 0, offset: 12 },
          { topic: "audit", partition: 0, offset: 1 },
        ],
      });
      assert.deepEqual(groups.committed("g", "orders"), [
        {
          topic: "orders",
          partition: 0,
          offset: 12,
          highWatermark: 10,
          lag: 0,
        },
      ]);
      assert.deepEqual(groups.committed("g").map((o) => o.topic), [
        "audit",
        "orders",
      ]);
      assert.deepEqual(groups.committed("unknown"), []);
    },
  );

  await t.step(
    "committed offsets survive a restart, damaged entries are skipped",
    async () => {
      const topics = new Map([["orders", 2]]);
      const { groups, meta, clock } = await openCoordinator(topics);
      const a = await groups.heartbeat("g/with/slashes", {
        topics: ["orders"],
      });
      await groups.commit("g/with/slashes", {
        memberId: a.memberId,
        memberEpoch: 1,
        offsets: [{ topic: "orders", partition: 1, offset: 9 }],
      });
      await meta.set("group/broken/orders/0", "not an offset");
      await meta.set("members/broken", { group: "broken", members: 7 });
      const reopened = await GroupCoordinator.open({
        meta,
        clock,
        partitionCount: (topic) => topics.get(topic),
        highWatermark: () => 20,
      });
      assert.deepEqual(reopened.committed("g/with/slashes"), [
        {
          topic: "orders",
          partition: 1,
          offset: 9,
          highWatermark: 20,
          lag: 11,
        },
      ]);
      assert.deepEqual(reopened.listGroups(), [
        { group: "g/with/slashes", members: 1, state: "Stable" },
      ]);
    },
  );

  await t.step("commits to the same partition land in call order", async () => {
    const { groups } = await openCoordinator(new Map([["orders", 1]]));
    const a = await groups.heartbeat("g", { topics: ["orders"] });
    await Promise.all([3, 1, 2].map((offset) =>
      groups.commit("g", {
        memberId: a.memberId,
        memberEpoch: 1,
        offsets: [{ topic: "orders", partition: 0, offset }],
      })
    ));
    assert.equal(groups.committed("g")[0]?.offset, 2);
  });
});

Deno.test("GroupCoordinator describeGroup", async () => {
  const { groups, clock } = await openCoordinator(
    new Map([["orders", 2], ["audit", 1]]),
  );
  assert.throws(
    () => groups.describeGroup("g"),
    (err) => err instanceof EdgelogError && err.code === "NOT_FOUND",
  );
  const a = await groups.heartbeat("g", { topics: ["orders", "ghost"] });
  clock.advance(500);
  await groups.commit("g", {
    memberId: a.memberId,
    memberEpoch: 1,
    offsets: [{ topic: "audit", partition: 0, offset: 30 }],
  });
  assert.deepEqual(groups.describeGroup("g"), {
    group: "g",
    state: "Stable",
    members: [{
      memberId: a.memberId,
      memberEpoch: 1,
      topics: ["ghost", "orders"],
      assignment: [{ topic: "orders", partitions: [0, 1] }],
      lastHeartbeatMs: 1_000,
      sessionTimeoutMs: 45_000,
    }],
    partitions: [
      {
        topic: "audit",
        partition: 0,
        memberId: null,
        offset: 30,
        highWatermark: 100,
        lag: 70,
      },
      {
        topic: "orders",
        partition: 0,
        memberId: a.memberId,
        offset: null,
        highWatermark: 100,
        lag: null,
      },
      {
        topic: "orders",
        partition: 1,
        memberId: a.memberId,
        offset: null,
        highWatermark: 100,
        lag: null,
      },
    ],
  });
});
