import assert from "node:assert/strict";
import { Metrics } from "./metrics.ts";
import { send, testServer } from "./_test_util.ts";

Deno.test("topics: create, list, describe with partition offsets, delete", async () => {
  const s = await testServer();
  try {
    let res = await send(s.app, "POST", "/v1/topics", {
      name: "metrics",
      partitions: 3,
      retentionMs: 60_000,
    });
    assert.equal(res.status, 201);
    assert.deepEqual(await res.json(), {
      name: "metrics",
      partitions: 3,
      retentionMs: 60_000,
      retentionBytes: -1,
      cleanupPolicy: "delete",
    });

    res = await send(s.app, "POST", "/v1/topics", { name: "metrics" });
    assert.equal(res.status, 409);
    assert.equal((await res.json()).error.code, "TOPIC_EXISTS");

    await s.log.produce("metrics", [{
      value: new Uint8Array([1]),
      partition: 1,
    }]);
    res = await send(s.app, "GET", "/v1/topics");
    assert.deepEqual(
      (await res.json()).topics.map((t: { name: string }) => t.name),
      [
        "metrics",
      ],
    );

    res = await send(s.app, "GET", "/v1/topics/metrics");
    assert.equal(res.status, 200);
    const described = await res.json();
    assert.equal(described.partitions.length, 3);
    assert.equal(described.partitions[1].highWatermark, 1);
    assert.equal(described.partitions[1].logStartOffset, 0);
    assert.ok(described.partitions[1].sizeBytes > 0);
    assert.equal(described.partitions[0].highWatermark, 0);

    res = await send(s.app, "DELETE", "/v1/topics/metrics");
    assert.equal(res.status, 204);
    assert.equal(s.log.hasTopic("metrics"), false);
    res = await send(s.app, "GET", "/v1/topics/metrics");
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error.code, "TOPIC_NOT_FOUND");
    res = await send(s.app, "DELETE", "/v1/topics/metrics");
    assert.equal(res.status, 404);
  } finally {
    await s.close();
  }
});

Deno.test("topics: bad names and configs are 400 and create nothing", async () => {
  const s = await testServer();
  try {
    for (
      const body of [
        { name: ".." },
        { name: "a/b" },
        { name: "x".repeat(250) },
        { name: "ok", partitions: 0 },
        { name: "ok", cleanupPolicy: "archive" },
        { name: "ok", colour: "blue" },
        { partitions: 1 },
      ]
    ) {
      const res = await send(s.app, "POST", "/v1/topics", body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const { error } = await res.json();
      assert.equal(error.code, "BAD_REQUEST");
      assert.equal(typeof error.message, "string");
    }
    assert.deepEqual(s.log.listTopics(), []);
  } finally {
    await s.close();
  }
});

Deno.test("topics: a node with a Kafka mirror describes each mirrored partition's state, and its gauges reach /metrics", async () => {
  const metrics = new Metrics();
  const s = await testServer({
    metrics,
    mirror: {
      partitionStatus: (topic, partition) =>
        partition === 1 ? undefined : {
          state: partition === 0 ? "stopped" : "mirroring",
          mirroredOffset: 7,
          lag: 3,
          error: partition === 0 ? `${topic} disagrees` : null,
        },
    },
  });
  const remove = metrics.addGauges(() => [{
    name: "edgelog_kafka_mirror_lag",
    help: "lag",
    samples: [{ labels: { topic: "t", partition: 0 }, value: 3 }],
  }]);
  try {
    await s.log.createTopic("t", { partitions: 3 });
    const described = await (await send(s.app, "GET", "/v1/topics/t")).json();
    assert.deepEqual(described.partitions[0].kafkaMirror, {
      state: "stopped",
      mirroredOffset: 7,
      lag: 3,
      error: "t disagrees",
    });
    assert.equal("kafkaMirror" in described.partitions[1], false);
    assert.equal(described.partitions[2].kafkaMirror.state, "mirroring");

    let text = await (await send(s.app, "GET", "/metrics")).text();
    assert.match(text, /# TYPE edgelog_kafka_mirror_lag gauge\n/);
    assert.match(
      text,
      /edgelog_kafka_mirror_lag\{topic="t",partition="0"\} 3\n/,
    );
    remove();
    text = await (await send(s.app, "GET", "/metrics")).text();
    assert.doesNotMatch(text, /edgelog_kafka_mirror_lag/);
  } finally {
    await s.close();
  }
});
