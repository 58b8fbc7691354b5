import assert from "node:assert/strict";
import { EdgelogError } from "../errors.ts";
import { GroupCoordinator } from "./coordinator.ts";
import { openCoordinator } from "./_test_util.ts";

function rejectsWith(promise: Promise<unknown>, code: string) {
  return assert.rejects(
    promise,
    (err) => err instanceof EdgelogError && err.code === code,
  );
}

Deno.test("resetOffsets: an empty group's offsets move and survive a restart", async () => {
  const { groups, meta, clock } = await openCoordinator(
    new Map([["orders", 2]]),
  );
  await groups.resetOffsets("g", [
    { topic: "orders", partition: 0, offset: 10 },
    { topic: "orders", partition: 1, offset: 0 },
  ]);
  assert.deepEqual(groups.committed("g").map((o) => [o.partition, o.lag]), [
    [0, 90],
    [1, 100],
  ]);
  const reopened = await GroupCoordinator.open({
    meta,
    clock,
    partitionCount: () => 2,
    highWatermark: () => 100,
  });
  assert.equal(reopened.committed("g")[0]?.offset, 10);
});

Deno.test("resetOffsets and deleteGroup refuse a group with members", async () => {
  const { groups, clock } = await openCoordinator(new Map([["orders", 1]]));
  const a = await groups.heartbeat("g", {
    topics: ["orders"],
    sessionTimeoutMs: 1000,
  });
  await groups.commit("g", {
    memberId: a.memberId,
    memberEpoch: a.memberEpoch,
    offsets: [{ topic: "orders", partition: 0, offset: 5 }],
  });
  const reset = [{ topic: "orders", partition: 0, offset: 0 }];
  await rejectsWith(groups.resetOffsets("g", reset), "GROUP_NOT_EMPTY");
  await rejectsWith(groups.deleteGroup("g"), "GROUP_NOT_EMPTY");
  assert.equal(groups.committed("g")[0]?.offset, 5);
  clock.advance(1001);
  await groups.resetOffsets("g", reset);
  assert.equal(groups.committed("g")[0]?.offset, 0);
});

Deno.test("resetOffsets stores nothing when one partition is unknown", async () => {
  const { groups } = await openCoordinator(new Map([["orders", 1]]));
  await rejectsWith(
    groups.resetOffsets("g", [
      { topic: "orders", partition: 0, offset: 1 },
      { topic: "orders", partition: 1, offset: 1 },
    ]),
    "PARTITION_NOT_FOUND",
  );
  await rejectsWith(
    groups.resetOffsets("g", [{ topic: "nope", partition: 0, offset: 1 }]),
    "TOPIC_NOT_FOUND",
  );
  await rejectsWith(
    groups.resetOffsets("g", [{ topic: "orders", partition: 0, offset: -1 }]),
    "BAD_REQUEST",
  );
  assert.deepEqual(groups.listGroups(), []);
});

Deno.test("deleteGroup removes an empty group's offsets for good", async () => {
  const { groups, meta, clock } = await openCoordinator(
    new Map([["orders", 1]]),
  );
  await rejectsWith(groups.deleteGroup("g"), "NOT_FOUND");
  await groups.resetOffsets("g", [{
    topic: "orders",
    partition: 0,
    offset: 3,
  }]);
  await groups.deleteGroup("g");
  assert.deepEqual(groups.listGroups(), []);
  assert.equal(meta.data.size, 0);
  const reopened = await GroupCoordinator.open({
    meta,
    clock,
    partitionCount: () => 1,
    highWatermark: () => 100,
  });
  assert.deepEqual(reopened.listGroups(), []);
});
