import assert from "node:assert/strict";
import { ConfigError, loadConfig, parseConfigFile } from "../config.ts";

Deno.test("config: the kafkaMirror section reaches the broker config", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/edgelog.json`;
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        kafkaMirror: {
          bootstrap: ["kafka-1:9092", "[::1]:9093"],
          topics: ["events"],
          maxInFlight: 2,
          mode: "shared",
        },
      }),
    );
    const config = await loadConfig(["--config", path], () => undefined);
    assert.deepEqual(config.kafkaMirror, {
      bootstrap: ["kafka-1:9092", "[::1]:9093"],
      topics: ["events"],
      maxInFlight: 2,
      mode: "shared",
    });
    assert.equal(
      (await loadConfig([], () => undefined)).kafkaMirror,
      undefined,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("config: a bad kafkaMirror section names the field", () => {
  assert.throws(
    () =>
      parseConfigFile(
        { kafkaMirror: { bootstrap: ["no-port"], topics: [], maxInFlight: 9 } },
        "x.json",
      ),
    (err: unknown) =>
      err instanceof ConfigError &&
      /kafkaMirror\.bootstrap\.0/.test(err.message) &&
      /kafkaMirror\.maxInFlight/.test(err.message),
  );
});
