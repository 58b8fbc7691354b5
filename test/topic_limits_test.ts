/**
 * Finding 6 of issue 9: topics of 10 000 partitions crashed the broker and
 * left thousands of directories. The default per-topic limit refuses such a
 * topic, the limit on all partitions refuses one topic too many, before
 * anything is written, and the broker goes on.
 */

import assert from "node:assert/strict";
import { startBroker } from "../edge/broker.ts";
import { DEFAULT_LIMITS } from "../edge/limits.ts";
import { tempDataDir } from "./broker_process.ts";

async function create(url: string, name: string, partitions: number) {
  const res = await fetch(`${url}/v1/topics`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, partitions }),
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("a topic past the partition limits is refused with 503 and leaves no directory", async () => {
  await using dir = await tempDataDir();
  await using broker = await startBroker({
    host: "127.0.0.1",
    port: 0,
    dataDir: dir.path,
    limits: { ...DEFAULT_LIMITS, maxPartitions: 30 },
  });
  const wide = await create(broker.url, "wide", 10_000);
  assert.equal(wide.status, 503);
  assert.equal(wide.body.error.code, "LIMIT_REACHED");
  assert.equal(wide.body.error.limit, "maxPartitionsPerTopic");
  for (let i = 0; i < 3; i++) {
    assert.equal((await create(broker.url, `t${i}`, 10)).status, 201);
  }
  const over = await create(broker.url, "t3", 1);
  assert.equal(over.status, 503);
  assert.equal(over.body.error.limit, "maxPartitions");
  const topics = [];
  for await (const entry of Deno.readDir(`${dir.path}/topics`)) {
    topics.push(entry.name);
  }
  assert.deepEqual(topics.sort(), ["t0", "t1", "t2"]);
  const health = await fetch(`${broker.url}/healthz`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
});
