import assert from "node:assert/strict";
import {
  ConfigError,
  DEFAULT_CONFIG,
  loadConfig,
  parseConfigFile,
  parseFlags,
} from "./config.ts";

const noEnv = () => undefined;

Deno.test("defaults are 127.0.0.1:9092, ./data, fsync always, open", async () => {
  const config = await loadConfig([], noEnv);
  assert.deepEqual(config, DEFAULT_CONFIG);
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.port, 9092);
  assert.equal(config.dataDir, "./data");
  assert.equal(config.autoCreateTopics, false);
  assert.deepEqual(config.corsOrigins, ["*"]);
});

Deno.test("flags beat env, env beats the config file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/edgelog.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        host: "10.0.0.1",
        port: 7000,
        dataDir: "/file",
        fsync: { intervalMs: 50 },
        tokens: [{ token: "t1", rights: { produce: ["a"] } }],
        topicDefaults: { partitions: 3 },
        tls: { certFile: "c.pem", keyFile: "k.pem" },
        corsOrigins: ["https://app.example"],
      }),
    );
    const env = (name: string) =>
      ({ EDGELOG_PORT: "7100", EDGELOG_DATA: "/env" })[name];
    const config = await loadConfig(
      ["--config", file, "--data=/flag"],
      env,
    );
    assert.equal(config.host, "10.0.0.1");
    assert.equal(config.port, 7100);
    assert.equal(config.dataDir, "/flag");
    assert.deepEqual(config.fsync, { intervalMs: 50 });
    assert.deepEqual(config.auth.tokens, [{
      token: "t1",
      rights: { produce: ["a"] },
    }]);
    assert.deepEqual(config.topicDefaults, { partitions: 3 });
    assert.deepEqual(config.tls, { certFile: "c.pem", keyFile: "k.pem" });
    assert.deepEqual(config.corsOrigins, ["https://app.example"]);
    const flagged = await loadConfig(["--port", "0", "--config", file], env);
    assert.equal(flagged.port, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad flags and bad config files are ConfigErrors that say what", async () => {
  for (
    const args of [
      ["--port", "x"],
      ["--port", "70000"],
      ["--bogus"],
      ["--data"],
      ["--config", "/does/not/exist.json"],
    ]
  ) {
    await assert.rejects(() => loadConfig(args, noEnv), ConfigError);
  }
  await assert.rejects(
    () => loadConfig([], (n) => n === "EDGELOG_PORT" ? "abc" : undefined),
    /EDGELOG_PORT/,
  );
  assert.throws(
    () => parseConfigFile({ port: "9092", fsync: "sometimes", extra: 1 }, "f"),
    (e) =>
      e instanceof ConfigError && /port/.test(e.message) &&
      /fsync/.test(e.message) && /extra/.test(e.message),
  );
  assert.throws(
    () =>
      parseConfigFile(
        { tokens: [{ token: "x", rights: { admin: false } }] },
        "f",
      ),
    ConfigError,
  );
  assert.deepEqual(parseFlags(["--help"]), { help: true });
});

Deno.test("limits: a file sets some, the rest keep their defaults; bad values are refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/edgelog.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({ limits: { maxConnections: 50, idleTimeoutMs: 1000 } }),
    );
    const config = await loadConfig(["--config", file], noEnv);
    assert.equal(config.limits.maxConnections, 50);
    assert.equal(config.limits.idleTimeoutMs, 1000);
    assert.equal(
      config.limits.maxTopics,
      DEFAULT_CONFIG.limits.maxTopics,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  for (
    const limits of [
      { maxConnections: 0 },
      { maxPartitionsPerTopic: 10_001 },
      { headerTimeoutMs: 1.5 },
      { maxStreams: "10" },
      { maxSockets: 1 },
    ]
  ) {
    assert.throws(
      () => parseConfigFile({ limits }, "x.json"),
      (err) => err instanceof ConfigError && err.message.includes("limits"),
      JSON.stringify(limits),
    );
  }
});
