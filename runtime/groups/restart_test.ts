import assert from "node:assert/strict";
import { EdgelogError } from "../errors.ts";
import type { ManualClock } from "../clock.ts";
import { GroupCoordinator } from "./coordinator.ts";
import { MapMetaStore, openCoordinator, seededRandom } from "./_test_util.ts";
import type { HeartbeatResponse } from "./types.ts";

const TOPICS = new Map([["orders", 4]]);

/** A MetaStore that counts its writes. */
class CountingMetaStore extends MapMetaStore {
  writes = 0;

  override set(key: string, value: unknown): Promise<void> {
    this.writes++;
    return super.set(key, value);
  }

  override delete(key: string): Promise<void> {
    this.writes++;
    return super.delete(key);
  }
}

/** The coordinator a broker restarted on the same metadata would open. */
function restart(
  meta: MapMetaStore,
  clock: ManualClock,
): Promise<GroupCoordinator> {
  return GroupCoordinator.open({
    meta,
    clock,
    random: seededRandom(11),
    partitionCount: (topic) => TOPICS.get(topic),
    highWatermark: () => 100,
  });
}

function beat(
  groups: GroupCoordinator,
  member: HeartbeatResponse,
  sessionTimeoutMs = 30_000,
): Promise<HeartbeatResponse> {
  return groups.heartbeat("g", {
    memberId: member.memberId,
    memberEpoch: member.memberEpoch,
    topics: ["orders"],
    sessionTimeoutMs,
  });
}

function join(groups: GroupCoordinator): Promise<HeartbeatResponse> {
  return groups.heartbeat("g", {
    topics: ["orders"],
    sessionTimeoutMs: 30_000,
  });
}

function owned(response: HeartbeatResponse): number[] {
  return response.assignment.find((a) => a.topic === "orders")?.partitions ??
    [];
}

/** Two members that own two partitions each, acknowledged. */
async function stableGroup(groups: GroupCoordinator) {
  let a = await join(groups);
  let b = await join(groups);
  a = await beat(groups, a);
  b = await beat(groups, b);
  a = await beat(groups, a);
  b = await beat(groups, b);
  assert.equal(owned(a).length, 2);
  assert.equal(owned(b).length, 2);
  assert.equal(groups.listGroups()[0]?.state, "Stable");
  return { a, b };
}

async function rejectsWith(promise: Promise<unknown>, code: string) {
  await assert.rejects(
    promise,
    (err) => err instanceof EdgelogError && err.code === code,
  );
}

Deno.test("a restart within the session timeout keeps members, epochs and assignments", async () => {
  const { groups, clock, meta } = await openCoordinator(TOPICS);
  const { a, b } = await stableGroup(groups);
  clock.advance(10_000);
  const reopened = await restart(meta, clock);
  assert.deepEqual(reopened.listGroups(), [
    { group: "g", members: 2, state: "Stable" },
  ]);
  assert.deepEqual(await beat(reopened, a), a, "a: no new epoch, no move");
  assert.deepEqual(await beat(reopened, b), b, "b: no new epoch, no move");
  await reopened.commit("g", {
    memberId: a.memberId,
    memberEpoch: a.memberEpoch,
    offsets: [{ topic: "orders", partition: owned(a)[0]!, offset: 3 }],
  });
});

Deno.test("a reloaded member's session counts from the restart", async () => {
  const { groups, clock, meta } = await openCoordinator(TOPICS);
  const { a, b } = await stableGroup(groups);
  clock.advance(25_000);
  const reopened = await restart(meta, clock);
  clock.advance(25_000);
  reopened.expireMembers();
  assert.deepEqual(await beat(reopened, a), a, "50 s since a's heartbeat");
  clock.advance(5_000);
  await rejectsWith(beat(reopened, b), "UNKNOWN_MEMBER");
  const again = await restart(meta, clock);
  assert.deepEqual(
    again.describeGroup("g").members.map((m) => m.memberId),
    [a.memberId],
    "b's expiry was written",
  );
});

Deno.test("plain heartbeats write nothing; joins, moves and leaves do", async () => {
  const meta = new CountingMetaStore();
  const { groups } = await openCoordinator(TOPICS, { meta });
  const { a, b } = await stableGroup(groups);
  const written = meta.writes;
  for (let i = 0; i < 10; i++) {
    await beat(groups, a);
    await beat(groups, b);
  }
  assert.equal(meta.writes, written, "no write for unchanged heartbeats");
  await groups.heartbeat("g", {
    memberId: a.memberId,
    memberEpoch: -1,
    topics: ["orders"],
  });
  assert.equal(meta.writes, written + 1, "a leave is written");
  await groups.heartbeat("g", {
    memberId: b.memberId,
    memberEpoch: -1,
    topics: ["orders"],
  });
  assert.equal(meta.data.has("members/g"), false, "an empty group is gone");
});

Deno.test("a handover in progress at a restart finishes without overlap", async () => {
  const { groups, clock, meta } = await openCoordinator(TOPICS);
  const a = await join(groups);
  assert.deepEqual(owned(a), [0, 1, 2, 3]);
  const b = await join(groups);
  assert.deepEqual(owned(b), [], "a still holds everything");
  const reopened = await restart(meta, clock);
  const b1 = await beat(reopened, b);
  assert.deepEqual(owned(b1), [], "a has not acknowledged its loss yet");
  const a2 = await beat(reopened, a);
  assert.equal(owned(a2).length, 2);
  const reopenedAgain = await restart(meta, clock);
  assert.deepEqual(
    owned(await beat(reopenedAgain, b1)),
    [],
    "a has not acknowledged its new answer yet",
  );
  assert.deepEqual(await beat(reopenedAgain, a2), a2, "a acknowledges");
  const b2 = await beat(reopenedAgain, b1);
  assert.deepEqual(
    [...owned(a2), ...owned(b2)].sort(),
    [0, 1, 2, 3],
    "every partition has exactly one owner",
  );
});

Deno.test("a reloaded member stays bound to the caller that joined it", async () => {
  const { groups, clock, meta } = await openCoordinator(TOPICS);
  const owner = { id: "token-1", admin: false };
  const other = { id: "token-2", admin: false };
  const joined = await groups.heartbeat("g", { topics: ["orders"] }, owner);
  const reopened = await restart(meta, clock);
  const request = {
    memberId: joined.memberId,
    memberEpoch: joined.memberEpoch,
    topics: ["orders"],
  };
  await rejectsWith(reopened.heartbeat("g", request, other), "FORBIDDEN");
  assert.equal(
    (await reopened.heartbeat("g", request, owner)).memberId,
    joined.memberId,
  );
});
