/**
 * A broker process restarted (SIGTERM, then started again on the same data
 * directory and port) while a consumer group reads: the members keep their
 * ids, epochs and partitions, no rebalance happens, and every record is
 * handled exactly once, before and after the restart.
 *
 * The members heartbeat every 100 ms (the test's fetch shortens the
 * broker's advice) with a 60 s session timeout, which a restart on this
 * loaded machine stays well within.
 */

import assert from "node:assert/strict";
import {
  EdgelogClient,
  type EdgelogConsumer,
  type FetchFn,
  type RebalanceEvent,
} from "../runtime/client/mod.ts";
import { type BrokerProcess, startBroker } from "./broker_process.ts";

const TOPIC = "orders";
const GROUP = "billing";
const PARTITIONS = 4;
const PER_PARTITION = 50;

const shortHeartbeats: FetchFn = async (request) => {
  const response = await fetch(request);
  if (!new URL(request.url).pathname.endsWith("/heartbeat") || !response.ok) {
    return response;
  }
  return Response.json({ ...await response.json(), heartbeatIntervalMs: 100 });
};

interface Member {
  consumer: EdgelogConsumer;
  rebalances: RebalanceEvent[];
  done: Promise<void>;
}

function startMember(url: string, handled: string[]): Member {
  const rebalances: RebalanceEvent[] = [];
  const consumer = new EdgelogClient(url, { fetch: shortHeartbeats })
    .consumer({
      group: GROUP,
      topics: [TOPIC],
      fromBeginning: true,
      sessionTimeoutMs: 60_000,
      maxWaitMs: 200,
      autoCommitIntervalMs: 100,
      onRebalance: (event) => rebalances.push(event),
    });
  const done = consumer.run((record) => {
    handled.push(`${record.partition}:${record.offset}`);
  });
  return { consumer, rebalances, done };
}

async function produce(url: string, round: number): Promise<void> {
  const client = new EdgelogClient(url);
  for (let partition = 0; partition < PARTITIONS; partition++) {
    await client.produce(
      TOPIC,
      Array.from({ length: PER_PARTITION }, (_, n) => ({
        key: null,
        value: { round, n },
        partition,
      })),
    );
  }
}

async function waitFor(
  condition: () => boolean,
  what: () => string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function owned(member: Member): number[] {
  return member.consumer.assignment().flatMap((t) => t.partitions).sort();
}

Deno.test("a broker restart within the session timeout: no rejoin, no rebalance, no record handled twice", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "edgelog-group-restart-" });
  let broker: BrokerProcess = await startBroker({ dataDir });
  const handled: string[] = [];
  const members: Member[] = [];
  try {
    await new EdgelogClient(broker.url).createTopic(TOPIC, {
      partitions: PARTITIONS,
    });
    await produce(broker.url, 1);
    members.push(startMember(broker.url, handled));
    members.push(startMember(broker.url, handled));
    const [a, b] = members as [Member, Member];
    const status = () =>
      `handled ${handled.length}, a=[${owned(a)}] b=[${owned(b)}]`;
    await waitFor(
      () =>
        owned(a).length === 2 && owned(b).length === 2 &&
        new Set(handled).size === PARTITIONS * PER_PARTITION,
      status,
    );
    const before = {
      ids: [a.consumer.memberId, b.consumer.memberId],
      epochs: [a.consumer.memberEpoch, b.consumer.memberEpoch],
      owned: [owned(a), owned(b)],
      rebalances: [a.rebalances.length, b.rebalances.length],
    };

    const port = new URL(broker.url).port;
    assert.equal(await broker.stop(), 0);
    broker = await startBroker({ dataDir, args: ["--port", port] });
    await produce(broker.url, 2);
    await waitFor(
      () => new Set(handled).size === 2 * PARTITIONS * PER_PARTITION,
      status,
    );

    assert.equal(handled.length, new Set(handled).size, "no record twice");
    assert.deepEqual({
      ids: [a.consumer.memberId, b.consumer.memberId],
      epochs: [a.consumer.memberEpoch, b.consumer.memberEpoch],
      owned: [owned(a), owned(b)],
      rebalances: [a.rebalances.length, b.rebalances.length],
    }, before);
    const described = await new EdgelogClient(broker.url).describeGroup(GROUP);
    assert.deepEqual(
      described.members.map((m) => m.memberId).sort(),
      [...before.ids].sort(),
    );
    assert.equal(described.state, "Stable");
  } finally {
    await Promise.all(members.map((m) => m.consumer.close().catch(() => {})));
    await Promise.all(members.map((m) => m.done.catch(() => {})));
    await broker.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
