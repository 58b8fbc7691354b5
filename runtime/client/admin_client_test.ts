import assert from "node:assert/strict";
import { EdgelogError } from "../errors.ts";
import { testServer } from "../server/_test_util.ts";
import { EdgelogClient } from "./client.ts";

Deno.test("client: broker info, rates, topic summaries, group reset and delete against the real app", async () => {
  const s = await testServer();
  try {
    const client = new EdgelogClient("http://edgelog.test", {
      fetch: (request) => s.app.fetch(request),
      retry: { attempts: 1 },
    });
    await client.createTopic("t", { partitions: 1 });
    await client.produce("t", [{ value: 1 }, { value: 2 }, { value: 3 }]);

    const info = await client.brokerInfo();
    assert.equal(info.role, "broker");
    assert.deepEqual(info.counts, {
      topics: 1,
      partitions: 1,
      records: 3,
      groups: 0,
    });
    const rates = await client.brokerRates(5);
    assert.equal(rates.averagedSeconds, 5);
    const [summary] = await client.topicSummaries();
    assert.equal(summary?.records, 3);

    assert.deepEqual(
      await client.resetGroupOffsets("g", {
        to: "offset",
        topic: "t",
        offset: 1,
      }),
      [{ topic: "t", partition: 0, offset: 1 }],
    );
    assert.equal((await client.committedOffsets("g"))[0]?.lag, 2);
    const member = await client.heartbeat("g", { topics: ["t"] });
    await assert.rejects(
      client.deleteGroup("g"),
      (err) => err instanceof EdgelogError && err.code === "GROUP_NOT_EMPTY",
    );
    await client.heartbeat("g", {
      memberId: member.memberId,
      memberEpoch: -1,
      topics: ["t"],
    });
    await client.deleteGroup("g");
    assert.deepEqual(await client.listGroups(), []);
  } finally {
    await s.close();
  }
});
