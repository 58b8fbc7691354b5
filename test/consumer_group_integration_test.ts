/**
 * The client's group consumer against a real in-process broker and its
 * GroupCoordinator: members share the partitions of a topic, rebalances are
 * balanced and sticky, a handover under a steady stream of records loses
 * and repeats nothing (even while a record is being handled), a member that stops heartbeating is evicted after
 * its session timeout, and committed offsets survive a broker restart.
 *
 * The broker tells members to heartbeat every 3 s; the test's fetch
 * shortens that advice to 50 ms so that rebalances take milliseconds. The
 * broker's handover rules are unchanged by it.
 */

import assert from "node:assert/strict";
import { type Broker, startBroker } from "../edge/broker.ts";
import {
  EdgelogClient,
  type EdgelogConsumer,
  type EdgelogConsumerOptions,
  type FetchFn,
  type TopicPartitions,
} from "../runtime/client/mod.ts";

const TOPIC = "orders";
const GROUP = "billing";
const PARTITIONS = 4;
const HEARTBEAT_MS = 50;

interface Consumed {
  member: string;
  partition: number;
  offset: number;
}

/** A consumer whose heartbeats can be cut off, as when its process hangs. */
interface Member {
  name: string;
  consumer: EdgelogConsumer;
  /** Heartbeats fail while true; reads and commits still work. */
  frozen: boolean;
  /** The consume loop; rejects if the consumer failed. */
  done: Promise<void>;
}

function memberFetch(member: { frozen: boolean }): FetchFn {
  return async (request) => {
    const heartbeat = new URL(request.url).pathname.endsWith("/heartbeat");
    if (heartbeat && member.frozen) throw new TypeError("network unreachable");
    const response = await fetch(request);
    if (!heartbeat || !response.ok) return response;
    const body = await response.json();
    return Response.json({ ...body, heartbeatIntervalMs: HEARTBEAT_MS });
  };
}

function startMember(
  broker: Broker,
  name: string,
  consumed: Consumed[],
  options: Partial<EdgelogConsumerOptions> = {},
): Member {
  const state = { frozen: false };
  const client = new EdgelogClient(broker.url, {
    fetch: memberFetch(state),
    retry: { attempts: 2, baseMs: 5, maxMs: 10 },
  });
  const consumer = client.consumer({
    group: GROUP,
    topics: [TOPIC],
    fromBeginning: true,
    maxWaitMs: 100,
    autoCommitIntervalMs: 100,
    ...options,
  });
  const member: Member = {
    name,
    consumer,
    get frozen() {
      return state.frozen;
    },
    set frozen(value: boolean) {
      state.frozen = value;
    },
    done: (async () => {
      for await (const record of consumer) {
        consumed.push({
          member: name,
          partition: record.partition,
          offset: record.offset,
        });
        // Handling takes a moment, so rebalances land while a record is in hand.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })(),
  };
  return member;
}

function owned(member: Member): number[] {
  return member.consumer.assignment().flatMap((t: TopicPartitions) =>
    t.topic === TOPIC ? t.partitions : []
  ).sort();
}

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: () => string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Each member owns its share, and every partition has exactly one owner. */
function settled(members: Member[], shares: number[]): boolean {
  const all = members.flatMap(owned).sort();
  return members.map((m) => owned(m).length).sort().join() ===
      [...shares].sort().join() &&
    all.join() === Array.from({ length: PARTITIONS }, (_, i) => i).join();
}

function describe(members: Member[]): string {
  return members.map((m) => `${m.name}=[${owned(m)}]`).join(" ");
}

/** Produces one record to every partition every few ms until stopped. */
function steadyProducer(broker: Broker): { stop(): Promise<number> } {
  const client = new EdgelogClient(broker.url);
  let running = true;
  let sent = 0;
  const loop = (async () => {
    while (running) {
      await client.produce(
        TOPIC,
        Array.from({ length: PARTITIONS }, (_, partition) => ({
          key: `k${sent}`,
          value: { n: sent++ },
          partition,
        })),
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return sent;
    },
  };
}

function highWatermarks(broker: Broker): number[] {
  return Array.from(
    { length: PARTITIONS },
    (_, p) => broker.log.partition(TOPIC, p).highWatermark,
  );
}

/** Every record of the topic was consumed, and none twice. */
function assertExactlyOnce(broker: Broker, consumed: Consumed[]) {
  const seen = new Map<string, string>();
  for (const { member, partition, offset } of consumed) {
    const key = `${partition}:${offset}`;
    const before = seen.get(key);
    assert.equal(
      before,
      undefined,
      `${key} consumed by ${before} and again by ${member}`,
    );
    seen.set(key, member);
  }
  const expected = highWatermarks(broker).reduce((a, b) => a + b, 0);
  assert.equal(seen.size, expected);
}

async function committedOffsets(broker: Broker): Promise<number[]> {
  const offsets = await new EdgelogClient(broker.url).committedOffsets(
    GROUP,
    TOPIC,
  );
  return offsets.sort((a, b) => a.partition - b.partition).map((o) => o.offset);
}

async function withBroker(
  fn: (broker: Broker, dataDir: string) => Promise<void>,
) {
  const dataDir = await Deno.makeTempDir({ prefix: "edgelog-groups-" });
  const broker = await startBroker({
    port: 0,
    dataDir,
    fsync: "never",
    retentionCheckMs: 100,
  });
  try {
    await new EdgelogClient(broker.url).createTopic(TOPIC, {
      partitions: PARTITIONS,
    });
    await fn(broker, dataDir);
  } finally {
    await broker.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("consumer group: share, rebalance while producing, leave, restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "edgelog-groups-" });
  const options = {
    port: 0,
    dataDir,
    fsync: "never" as const,
    retentionCheckMs: 100,
  };
  let broker = await startBroker(options);
  const consumed: Consumed[] = [];
  const members: Member[] = [];
  try {
    await new EdgelogClient(broker.url).createTopic(TOPIC, {
      partitions: PARTITIONS,
    });
    const producer = steadyProducer(broker);

    const a = startMember(broker, "a", consumed);
    const b = startMember(broker, "b", consumed);
    members.push(a, b);
    await waitFor(() => settled([a, b], [2, 2]), () => describe([a, b]));
    const before = { a: owned(a), b: owned(b) };

    const c = startMember(broker, "c", consumed);
    members.push(c);
    await waitFor(
      () => settled([a, b, c], [1, 1, 2]),
      () => describe([a, b, c]),
    );
    // Sticky: the old members kept what they had, less the one partition c took.
    const kept = [...owned(a), ...owned(b)];
    assert.ok(owned(a).every((p) => before.a.includes(p)), describe(members));
    assert.ok(owned(b).every((p) => before.b.includes(p)), describe(members));
    assert.equal(kept.length, 3);
    const moved = owned(c);
    const consumedBy = (name: string) =>
      consumed.filter((r) => r.member === name).length;
    const cBefore = consumedBy("c");
    await waitFor(() => consumedBy("c") > cBefore + 5, () => "c reads nothing");

    await c.consumer.close();
    await c.done;
    await waitFor(() => settled([a, b], [2, 2]), () => describe([a, b]));
    // The partition c gave back went to whoever had one; nothing else moved.
    assert.deepEqual(
      [...owned(a), ...owned(b)].filter((p) => !kept.includes(p)),
      moved,
    );

    const sent = await producer.stop();
    assert.ok(sent > 0);
    const total = () => highWatermarks(broker).reduce((x, y) => x + y, 0);
    await waitFor(
      () =>
        new Set(consumed.map((r) => `${r.partition}:${r.offset}`)).size >=
          total(),
      () => `consumed ${consumed.length} of ${total()}`,
    );
    assertExactlyOnce(broker, consumed);

    await a.consumer.close();
    await b.consumer.close();
    await Promise.all([a.done, b.done]);
    const ends = highWatermarks(broker);
    assert.deepEqual(await committedOffsets(broker), ends);

    // Committed offsets survive a restart; a new member resumes after them.
    await broker.close();
    broker = await startBroker({ ...options, port: 0 });
    assert.deepEqual(await committedOffsets(broker), ends);
    await new EdgelogClient(broker.url).produce(TOPIC, [
      { key: "after", value: { n: -1 }, partition: 1 },
    ]);
    const d = new EdgelogClient(broker.url, {
      fetch: memberFetch({ frozen: false }),
    })
      .consumer({ group: GROUP, topics: [TOPIC], fromBeginning: true });
    const resumed: [number, number][] = [];
    for await (const record of d.records({ untilCaughtUp: true })) {
      resumed.push([record.partition, record.offset]);
    }
    await d.close();
    assert.deepEqual(resumed, [[1, ends[1]!]]);
  } finally {
    for (const member of members) await member.consumer.close();
    await broker.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("consumer group: a member that stops heartbeating loses its partitions after its session timeout", async () => {
  await withBroker(async (broker) => {
    const consumed: Consumed[] = [];
    const steady = startMember(broker, "steady", consumed);
    const hung = startMember(broker, "hung", consumed, {
      sessionTimeoutMs: 1500,
    });
    try {
      await waitFor(
        () => settled([steady, hung], [2, 2]),
        () => describe([steady, hung]),
      );
      const hungId = hung.consumer.memberId;
      hung.frozen = true;
      const frozenAt = Date.now();
      await waitFor(
        () => owned(steady).length === PARTITIONS,
        () => describe([steady, hung]),
      );
      const elapsed = Date.now() - frozenAt;
      assert.ok(elapsed >= 1400, `partitions moved after ${elapsed} ms`);
      const group = await new EdgelogClient(broker.url).describeGroup(GROUP);
      assert.deepEqual(group.members?.map((m) => m.memberId), [
        steady.consumer.memberId,
      ]);
      assert.ok(hungId !== undefined);

      // Back on the network, it is told it is unknown, drops its partitions and rejoins.
      hung.frozen = false;
      await waitFor(
        () => settled([steady, hung], [2, 2]),
        () => describe([steady, hung]),
      );
      assert.notEqual(hung.consumer.memberId, hungId);
    } finally {
      await steady.consumer.close();
      await hung.consumer.close();
      await Promise.all([steady.done, hung.done]);
    }
  });
});
