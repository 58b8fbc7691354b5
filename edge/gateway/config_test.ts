import assert from "node:assert/strict";
import { GATEWAY_USAGE, loadGatewayConfig } from "./config.ts";

Deno.test("gateway flags: defaults, and errors that name the flag", async () => {
  const config = await loadGatewayConfig(["--upstream", "http://b:9092"]);
  assert.equal(config.port, 9093);
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.dataDir, "./gateway-data");
  assert.equal(config.syncTopics, undefined);

  const some = await loadGatewayConfig([
    "--upstream=http://b:9092",
    "--topics",
    "a,b",
    "--port",
    "0",
  ]);
  assert.deepEqual(some.syncTopics, ["a", "b"]);
  assert.equal(some.port, 0);

  await assert.rejects(loadGatewayConfig([]), /--upstream URL is required/);
  await assert.rejects(
    loadGatewayConfig(["--upstream", "http://b", "--port", "70000"]),
    /--port/,
  );
  await assert.rejects(loadGatewayConfig(["--bogus"]), /bogus/);
  for (const flag of ["--upstream", "--topics", "--node-id", "--config"]) {
    assert.ok(GATEWAY_USAGE.includes(flag), flag);
  }
});

Deno.test("gateway config file: budgets per topic, bad files named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = `${dir}/gw.json`;
    await Deno.writeTextFile(
      good,
      JSON.stringify({
        upstream: "http://b:9092",
        topics: { s: { diskBudgetBytes: 5000, whenFull: "dropOldest" } },
        syncedRetentionMs: 60000,
        limits: { maxConnections: 64 },
      }),
    );
    const config = await loadGatewayConfig(["--config", good, "--port", "1"]);
    assert.deepEqual(config.limits, { maxConnections: 64 });
    assert.deepEqual(config.topics.s, {
      diskBudgetBytes: 5000,
      whenFull: "dropOldest",
    });
    assert.equal(config.syncedRetentionMs, 60000);
    assert.equal(config.port, 1);

    const bad = `${dir}/bad.json`;
    await Deno.writeTextFile(
      bad,
      JSON.stringify({ topics: { s: { whenFull: "panic" } } }),
    );
    await assert.rejects(
      loadGatewayConfig(["--config", bad]),
      /Invalid config .*topics\.s\.whenFull/,
    );
    await Deno.writeTextFile(
      bad,
      JSON.stringify({ limits: { maxStreams: 0 } }),
    );
    await assert.rejects(
      loadGatewayConfig(["--config", bad]),
      /Invalid config .*limits\.maxStreams/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
