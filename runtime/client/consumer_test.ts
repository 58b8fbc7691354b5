import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { EdgelogClient } from "./client.ts";
import type {
  ConsumerRecord,
  EdgelogConsumer,
  RebalanceEvent,
} from "./consumer.ts";
import { TestBroker } from "./_test_broker.ts";

function clientOf(broker: TestBroker, clock = broker.clock): EdgelogClient {
  return new EdgelogClient("http://edgelog.test", {
    fetch: broker.fetch,
    clock,
    random: () => 0.5,
  });
}

function label(record: ConsumerRecord): string {
  return `${record.partition}:${String(record.value)}`;
}

/** Reads a consumer in the background; `until(n)` resolves once n records were seen, `until(label)` once that one was. */
function collect(consumer: EdgelogConsumer) {
  const seen: string[] = [];
  const waiters: { test: () => boolean; resolve: () => void }[] = [];
  const done = consumer.run((record) => {
    seen.push(label(record));
    for (const w of waiters.filter((w) => w.test())) w.resolve();
  });
  return {
    seen,
    done,
    until(what: number | string): Promise<void> {
      const test = typeof what === "number"
        ? () => seen.length >= what
        : () => seen.includes(what);
      if (test()) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
  };
}

/**
 * Advances `clock` a second at a time until `done` settles: a consumer
 * arms its next heartbeat sleep only after it has handled the last answer.
 */
async function advanceUntil<T>(
  clock: ManualClock,
  done: Promise<T>,
): Promise<T> {
  let settled = false;
  done.finally(() => settled = true);
  while (!settled) {
    clock.advance(1000);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return await done;
}

function rebalances(): {
  events: RebalanceEvent[];
  next(): Promise<RebalanceEvent>;
  on(e: RebalanceEvent): void;
} {
  const events: RebalanceEvent[] = [];
  let waiter: ((e: RebalanceEvent) => void) | undefined;
  return {
    events,
    next: () => new Promise((resolve) => waiter = resolve),
    on(event) {
      events.push(event);
      waiter?.(event);
      waiter = undefined;
    },
  };
}

async function seed(): Promise<TestBroker> {
  const broker = await TestBroker.open();
  await broker.createTopic("t", 2);
  await broker.append("t", 0, "a", "b");
  await broker.append("t", 1, "c");
  return broker;
}

Deno.test("consumer reads its partitions from the beginning, commits on close and leaves", async () => {
  const broker = await seed();
  const consumer = clientOf(broker).consumer({
    group: "g",
    topics: ["t"],
    fromBeginning: true,
  });
  const seen: string[] = [];
  for await (const record of consumer) {
    assert.equal(record.topic, "t");
    seen.push(label(record));
    if (seen.length === 3) break;
  }
  assert.deepEqual(seen.sort(), ["0:a", "0:b", "1:c"]);
  assert.deepEqual(consumer.assignment(), [{ topic: "t", partitions: [0, 1] }]);
  const memberId = consumer.memberId;
  await consumer.close();
  assert.equal(broker.committed("g", "t", 0), 2);
  assert.equal(broker.committed("g", "t", 1), 1);
  assert.deepEqual(broker.memberIds("g"), [], "close left the group");
  const leave = broker.requests.filter((r) =>
    r.path === "/v1/groups/g/heartbeat"
  ).at(-1);
  assert.deepEqual(leave?.body, { topics: ["t"], memberId, memberEpoch: -1 });
});

Deno.test("a consumer resumes from committed offsets; untilCaughtUp ends at the high watermarks", async () => {
  const broker = await seed();
  await broker.commitAsPastMember("g", "t", { 0: 1, 1: 1 });
  await broker.append("t", 1, "d");
  const consumer = clientOf(broker).consumer({
    group: "g",
    topics: ["t"],
    fromBeginning: true,
  });
  const seen: string[] = [];
  for await (const record of consumer.records({ untilCaughtUp: true })) {
    seen.push(label(record));
  }
  assert.deepEqual(seen.sort(), ["0:b", "1:d"]);
  await consumer.close();
  assert.equal(broker.committed("g", "t", 0), 2);
  assert.equal(broker.committed("g", "t", 1), 2);
});

Deno.test("without fromBeginning a new group starts at the end and long-polls for new records", async () => {
  const broker = await seed();
  const consumer = clientOf(broker).consumer({
    group: "fresh",
    topics: ["t"],
    maxWaitMs: 10_000,
  });
  const parked = broker.nextLongPoll("t", 1);
  const reader = collect(consumer);
  await parked;
  await broker.append("t", 1, "new");
  await reader.until(1);
  assert.deepEqual(reader.seen, ["1:new"]);
  await consumer.close();
  await reader.done;
  assert.equal(broker.committed("fresh", "t", 1), 2);
});

Deno.test("a rebalance moves a partition: the old owner commits it, the new owner resumes there", async () => {
  const broker = await seed();
  const eventsA = rebalances();
  const a = clientOf(broker).consumer({
    group: "g",
    topics: ["t"],
    fromBeginning: true,
    autoCommitIntervalMs: 3_600_000,
    onRebalance: eventsA.on,
  });
  const readerA = collect(a);
  await readerA.until(3);

  const clockB = new ManualClock(broker.clock.now());
  const eventsB = rebalances();
  const b = clientOf(broker, clockB).consumer({
    group: "g",
    topics: ["t"],
    fromBeginning: true,
    onRebalance: eventsB.on,
  });
  const readerB = collect(b);
  await broker.nextHeartbeat();
  assert.deepEqual(b.assignment(), [], "partition 1 is still A's");

  const revoked = await advanceUntil(broker.clock, eventsA.next());
  assert.deepEqual(revoked.revoked, [{ topic: "t", partitions: [1] }]);
  assert.equal(
    broker.committed("g", "t", 1),
    1,
    "A committed partition 1 before giving it up",
  );
  assert.deepEqual(a.assignment(), [{ topic: "t", partitions: [0] }]);
  await advanceUntil(broker.clock, broker.nextHeartbeat());

  const assigned = await advanceUntil(clockB, eventsB.next());
  assert.deepEqual(assigned.assigned, [{ topic: "t", partitions: [1] }]);

  await broker.append("t", 1, "e");
  await broker.append("t", 0, "f");
  await readerA.until(4);
  await readerB.until(1);
  assert.deepEqual(readerB.seen, ["1:e"], "B did not replay c");
  assert.deepEqual(readerA.seen.slice(3), ["0:f"]);

  await Promise.all([a.close(), b.close()]);
  await Promise.all([readerA.done, readerB.done]);
  assert.equal(broker.committed("g", "t", 0), 3);
  assert.equal(broker.committed("g", "t", 1), 2);
  assert.deepEqual(broker.memberIds("g"), []);
});

Deno.test("run: a record whose handler throws is not committed", async () => {
  const broker = await seed();
  const consumer = clientOf(broker).consumer({
    group: "g",
    topics: ["t"],
    fromBeginning: true,
  });
  await assert.rejects(
    consumer.run((record) => {
      if (record.value === "b") throw new Error("cannot handle b");
    }),
    /cannot handle b/,
  );
  await consumer.close();
  assert.equal(broker.committed("g", "t", 0), 1);
});

Deno.test("manual commit commits what was handed out; autoCommit off commits nothing on close", async () => {
  const broker = await seed();
  const consumer = clientOf(broker).consumer({
    group: "g",
    topics: ["t"],
    fromBeginning: true,
    autoCommit: false,
  });
  for await (const record of consumer) {
    if (record.value === "a") {
      await consumer.commit();
      break;
    }
  }
  assert.equal(broker.committed("g", "t", 0), 1);
  for await (const record of consumer) {
    if (record.value === "b") break;
  }
  await consumer.close();
  assert.equal(broker.committed("g", "t", 0), 1);
});

Deno.test("a member the broker expired rejoins and keeps reading", async () => {
  const broker = await seed();
  const consumerClock = new ManualClock(broker.clock.now());
  const consumer = clientOf(broker, consumerClock).consumer({
    group: "g",
    topics: ["t"],
    fromBeginning: true,
    sessionTimeoutMs: 10_000,
  });
  const reader = collect(consumer);
  await reader.until(3);
  const first = consumer.memberId!;
  broker.clock.advance(10_001);
  broker.groups.expireMembers();
  assert.deepEqual(broker.memberIds("g"), [], "the broker forgot it");
  const rejoined = broker.nextHeartbeat();
  consumerClock.advance(1000);
  await rejoined;
  await broker.append("t", 0, "g");
  await reader.until("0:g");
  assert.notEqual(consumer.memberId, first);
  assert.deepEqual(broker.memberIds("g"), [consumer.memberId]);
  await consumer.close();
  await reader.done;
});
