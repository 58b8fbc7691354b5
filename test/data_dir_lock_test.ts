/**
 * One writer per data directory: a second broker process on the same
 * `--data` exits 2 naming the holder, a kill -9 of the holder frees the
 * directory, and a second gateway on one directory is refused too.
 */

import assert from "node:assert/strict";
import { ConfigError } from "../edge/config.ts";
import { startGateway } from "../edge/gateway.ts";
import { startBroker, tempDataDir } from "./broker_process.ts";

Deno.test("a second broker on the same data directory exits 2 naming the holder; kill -9 frees it", async () => {
  await using dir = await tempDataDir();
  const first = await startBroker({ dataDir: dir.path });
  try {
    const refused = await startBroker({ dataDir: dir.path }).then(
      async (second) => {
        await second.kill9();
        return "started";
      },
      (err: Error) => err.message,
    );
    assert.match(refused, /exited with 2/);
    assert.match(refused, new RegExp(`in use .*pid ${first.pid} on .+started`));
    const res = await fetch(`${first.url}/healthz`);
    assert.equal(res.status, 200, await res.text());
  } finally {
    await first.kill9();
  }
  const third = await startBroker({ dataDir: dir.path });
  assert.equal(await third.stop(), 0);
});

Deno.test("a second gateway on the same data directory is refused until the first closes", async () => {
  await using dir = await tempDataDir();
  const config = {
    upstream: "http://127.0.0.1:9",
    token: undefined,
    nodeId: "gw-lock",
    host: "127.0.0.1",
    port: 0,
    dataDir: dir.path,
    syncTopics: undefined,
    topics: {},
    syncedRetentionMs: -1,
    mqtt: undefined,
  };
  const first = await startGateway(config);
  try {
    await assert.rejects(
      startGateway(config),
      (err) =>
        err instanceof ConfigError &&
        err.message.includes(`pid ${Deno.pid}`),
    );
  } finally {
    await first.close();
  }
  const again = await startGateway(config);
  await again.close();
});
