/**
 * SSE readers that go away mid-record: many readers of a topic holding a
 * 900 kB record each start to receive it and drop. Every stream ends and
 * gives back its slot (and with it what it buffered), `/healthz` answers at
 * once, and readers past `maxStreams` are refused instead of buffering.
 */

import assert from "node:assert/strict";
import { startBroker } from "../edge/broker.ts";
import { DEFAULT_LIMITS } from "../edge/limits.ts";
import { tempDataDir } from "./broker_process.ts";

const READERS = 40;
const RECORD_BYTES = 900 * 1024;
/** Generous bound on the streams ending. */
const WAIT_MS = 15_000;

function streamsInUse(metrics: string): number {
  const found = /edgelog_limit_in_use\{limit="maxStreams"\} (\d+)/.exec(
    metrics,
  );
  return Number(found?.[1]);
}

Deno.test("dropped SSE readers of a large record end their streams and free their slots", async () => {
  await using dir = await tempDataDir();
  await using broker = await startBroker({
    host: "127.0.0.1",
    port: 0,
    dataDir: dir.path,
    limits: {
      ...DEFAULT_LIMITS,
      maxStreams: READERS,
      maxStreamsPerClient: 2 * READERS,
    },
  });
  await broker.log.createTopic("big");
  await broker.log.produce("big", [{
    value: new TextEncoder().encode(JSON.stringify("x".repeat(RECORD_BYTES))),
  }]);

  const readers = await Promise.all(
    Array.from({ length: READERS }, async () => {
      const abort = new AbortController();
      const res = await fetch(
        `${broker.url}/v1/topics/big/stream?from=earliest`,
        {
          signal: abort.signal,
        },
      );
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      await reader.read();
      return { abort, reader };
    }),
  );
  const over = await fetch(`${broker.url}/v1/topics/big/stream`);
  assert.equal(over.status, 503);
  assert.equal((await over.json()).error.limit, "maxStreams");

  for (const { abort, reader } of readers) {
    abort.abort();
    await reader.cancel().catch(() => {});
  }
  const deadline = Date.now() + WAIT_MS;
  let inUse = NaN;
  while (Date.now() < deadline) {
    inUse = streamsInUse(await (await fetch(`${broker.url}/metrics`)).text());
    if (inUse === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(inUse, 0, "every dropped stream ended");
  const health = await fetch(`${broker.url}/healthz`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  const again = await fetch(`${broker.url}/v1/topics/big/stream?from=earliest`);
  assert.equal(again.status, 200, "the slots are free again");
  await again.body?.cancel();
});
