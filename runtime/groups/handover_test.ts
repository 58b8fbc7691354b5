import assert from "node:assert/strict";
import fc from "fast-check";
import { EdgelogError } from "../errors.ts";
import { openCoordinator } from "./_test_util.ts";
import type { TopicPartitions } from "./types.ts";

const TOPIC_NAMES = ["a", "b", "c"];

type Op =
  | { kind: "join"; topics: string[]; timeout: number }
  | { kind: "heartbeat"; who: number; lost: boolean; topics: string[] | null }
  | { kind: "leave"; who: number }
  | { kind: "commit"; who: number }
  | { kind: "advance"; ms: number }
  | { kind: "expire" }
  | { kind: "grow"; partitions: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("join" as const),
      topics: fc.subarray(TOPIC_NAMES),
      timeout: fc.integer({ min: 5_000, max: 60_000 }),
    }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("heartbeat" as const),
      who: fc.nat(),
      lost: fc.boolean(),
      topics: fc.option(fc.subarray(TOPIC_NAMES), { freq: 4 }),
    }),
  },
  fc.record({ kind: fc.constant("leave" as const), who: fc.nat() }),
  fc.record({ kind: fc.constant("commit" as const), who: fc.nat() }),
  fc.record({
    kind: fc.constant("advance" as const),
    ms: fc.integer({ min: 0, max: 30_000 }),
  }),
  fc.record({ kind: fc.constant("expire" as const) }),
  fc.record({
    kind: fc.constant("grow" as const),
    partitions: fc.integer({ min: 1, max: 6 }),
  }),
);

/** A well-behaved client: it owns exactly what its latest answer said. */
interface Client {
  memberId: string;
  epoch: number;
  topics: string[];
  owns: TopicPartitions[];
}

function keys(assignment: TopicPartitions[]): string[] {
  return assignment.flatMap(({ topic, partitions }) =>
    partitions.map((p) => `${topic}-${p}`)
  );
}

function assertDisjoint(owners: TopicPartitions[][], context: string): void {
  const seen = new Set<string>();
  for (const owned of owners) {
    for (const key of keys(owned)) {
      assert.ok(!seen.has(key), `${context}: ${key} has two owners`);
      seen.add(key);
    }
  }
}

function isCode(err: unknown, code: string): boolean {
  return err instanceof EdgelogError && err.code === code;
}

Deno.test("handover never gives one partition to two members", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
      const topics = new Map([["a", 3], ["b", 2]]);
      const { groups, clock } = await openCoordinator(topics);
      let clients: Client[] = [];
      const pick = (who: number) => clients[who % clients.length];

      const heartbeat = async (client: Client, lost: boolean) => {
        try {
          const answer = await groups.heartbeat("g", {
            memberId: client.memberId,
            memberEpoch: client.epoch,
            topics: client.topics,
          });
          if (!lost) {
            client.epoch = answer.memberEpoch;
            client.owns = answer.assignment;
          }
        } catch (err) {
          assert.ok(isCode(err, "UNKNOWN_MEMBER"), String(err));
          clients = clients.filter((c) => c !== client);
        }
      };

      for (const op of ops) {
        const client = pick("who" in op ? op.who : 0);
        switch (op.kind) {
          case "join": {
            const answer = await groups.heartbeat("g", {
              topics: op.topics,
              sessionTimeoutMs: op.timeout,
            });
            clients.push({
              memberId: answer.memberId,
              epoch: answer.memberEpoch,
              topics: op.topics,
              owns: answer.assignment,
            });
            break;
          }
          case "heartbeat":
            if (client === undefined) break;
            if (op.topics !== null) client.topics = op.topics;
            await heartbeat(client, op.lost);
            break;
          case "leave":
            if (client === undefined) break;
            clients = clients.filter((c) => c !== client);
            await groups.heartbeat("g", {
              memberId: client.memberId,
              memberEpoch: -1,
              topics: [],
            }).catch((err) => assert.ok(isCode(err, "UNKNOWN_MEMBER")));
            break;
          case "commit": {
            if (client === undefined) break;
            groups.expireMembers();
            const member = groups.listGroups().length === 0
              ? undefined
              : groups.describeGroup("g").members.find((m) =>
                m.memberId === client.memberId
              );
            const result = await groups.commit("g", {
              memberId: client.memberId,
              memberEpoch: client.epoch,
              offsets: [],
            }).then(() => "ok", (err: EdgelogError) => err.code);
            assert.equal(
              result,
              member === undefined
                ? "UNKNOWN_MEMBER"
                : member.memberEpoch === client.epoch
                ? "ok"
                : "STALE_MEMBER_EPOCH",
            );
            break;
          }
          case "advance":
            clock.advance(op.ms);
            break;
          case "expire":
            groups.expireMembers();
            break;
          case "grow":
            topics.set("c", Math.max(topics.get("c") ?? 0, op.partitions));
            break;
        }
        groups.expireMembers();
        const members = groups.listGroups().length === 0
          ? []
          : groups.describeGroup("g").members;
        const live = new Set(members.map((m) => m.memberId));
        clients = clients.filter((c) => live.has(c.memberId));
        assert.equal(clients.length, members.length);
        assertDisjoint(clients.map((c) => c.owns), "clients");
        assertDisjoint(members.map((m) => m.assignment), "coordinator");
      }

      for (let round = 0; round < 6; round++) {
        for (const client of [...clients]) await heartbeat(client, false);
        assertDisjoint(clients.map((c) => c.owns), "settling");
      }
      if (clients.length === 0) return;
      const settled = groups.describeGroup("g");
      assert.equal(settled.state, "Stable");
      for (const [topic, count] of topics) {
        const subscribers = clients.filter((c) => c.topics.includes(topic));
        const shares = subscribers.map((c) =>
          c.owns.find((o) => o.topic === topic)?.partitions.length ?? 0
        );
        const total = shares.reduce((sum, n) => sum + n, 0);
        assert.equal(total, subscribers.length === 0 ? 0 : count);
        if (shares.length > 0) {
          assert.ok(Math.max(...shares) - Math.min(...shares) <= 1);
        }
      }
    }),
    { numRuns: 200 },
  );
});
