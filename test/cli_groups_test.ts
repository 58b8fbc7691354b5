import assert from "node:assert/strict";
import { startBroker } from "../edge/broker.ts";
import { EdgelogClient } from "../runtime/client/mod.ts";
import { cli } from "./cli_process.ts";

Deno.test({
  name:
    "cli: groups reset-offsets and groups delete against a real broker, refused while a member is in",
  sanitizeResources: false,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "edgelog-cli-groups-" });
    try {
      await using broker = await startBroker({ dataDir, port: 0 });
      const url = broker.url;
      const client = new EdgelogClient(url);
      await client.createTopic("orders", { partitions: 2 });
      await client.produce("orders", [
        { value: 1, partition: 0 },
        { value: 2, partition: 0 },
        { value: 3, partition: 1 },
      ]);
      const member = await client.heartbeat("billing", { topics: ["orders"] });
      const toEarliest = [
        "groups",
        "reset-offsets",
        "billing",
        "--to-earliest",
        "--topic",
        "orders",
      ];

      let run = await cli(toEarliest, { url });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /GROUP_NOT_EMPTY: .*1 active member/);
      run = await cli(["groups", "delete", "billing"], { url });
      assert.equal(run.code, 1);
      assert.match(run.stderr, /GROUP_NOT_EMPTY/);

      await client.heartbeat("billing", {
        memberId: member.memberId,
        memberEpoch: -1,
        topics: ["orders"],
      });
      run = await cli(toEarliest, { url });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /orders\s+0\s+0\n/);
      assert.deepEqual(
        (await client.committedOffsets("billing")).map((o) => o.lag),
        [2, 1],
      );
      run = await cli(
        [
          "groups",
          "reset-offsets",
          "billing",
          "--to-offset",
          "1",
          "--topic",
          "orders",
          "--partition",
          "0",
        ],
        { url },
      );
      assert.equal(run.code, 0, run.stderr);
      run = await cli(
        [
          "groups",
          "reset-offsets",
          "billing",
          "--to-datetime",
          "2999-01-01T00:00:00Z",
        ],
        { url },
      );
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(
        (await client.committedOffsets("billing")).map((o) => o.offset),
        [2, 1],
      );

      run = await cli(["groups", "reset-offsets", "billing"], { url });
      assert.equal(run.code, 2);
      assert.match(run.stderr, /exactly one of --to-earliest/);
      run = await cli(
        [
          "groups",
          "reset-offsets",
          "billing",
          "--to-latest",
          "--partition",
          "0",
        ],
        { url },
      );
      assert.equal(run.code, 2);
      assert.match(run.stderr, /--partition needs --topic/);

      run = await cli(["groups", "delete", "billing"], { url });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, "Deleted group billing.\n");
      assert.deepEqual(await client.listGroups(), []);
      run = await cli(["groups", "delete", "billing"], { url });
      assert.equal(run.code, 1);
      assert.match(run.stderr, /NOT_FOUND/);
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
