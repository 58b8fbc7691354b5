import assert from "node:assert/strict";
import { allRecords, startTestBroker } from "./sync_harness.ts";

const dec = new TextDecoder();

async function spawnGateway(upstream: string, dataDir: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      new URL("../edge/gateway.ts", import.meta.url).pathname,
      "--upstream",
      upstream,
      "--port",
      "0",
      "--data",
      dataDir,
      "--node-id",
      "gw-kill",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 20_000;
  while (!/listening on (\S+),/.test(text)) {
    if (Date.now() > deadline) throw new Error(`gateway not ready: ${text}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`gateway exited: ${text}`);
    text += dec.decode(value);
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const url = /listening on (\S+),/.exec(text)![1]!;
  return { child, url };
}

async function produce(url: string, from: number, count: number) {
  const records = Array.from({ length: count }, (_, i) => ({
    key: `k${from + i}`,
    value: { n: from + i },
    timestamp: 1_700_000_000_000 + from + i,
  }));
  const res = await fetch(`${url}/v1/topics/events/records`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ records }),
  });
  assert.equal(res.status, 200, await res.text());
}

Deno.test("kill -9 of the gateway mid-sync, restart: every record arrives once", async () => {
  const broker = await startTestBroker(undefined, { topics: { events: 2 } });
  const dataDir = await Deno.makeTempDir();
  try {
    let gw = await spawnGateway(broker.url, dataDir);
    for (let i = 0; i < 20; i++) await produce(gw.url, i * 25, 25);
    gw.child.kill("SIGKILL");
    await gw.child.status;
    gw = await spawnGateway(broker.url, dataDir);
    for (let i = 20; i < 30; i++) await produce(gw.url, i * 25, 25);
    const deadline = Date.now() + 20_000;
    let values: number[] = [];
    while (Date.now() < deadline) {
      const stream = broker.registry.list("gw-kill")[0];
      if (stream !== undefined && stream.ackedOffset === 749) {
        values = (await allRecords(broker.log, "events", stream.partition))
          .map((r) => JSON.parse(dec.decode(r.value!)).n);
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(values, Array.from({ length: 750 }, (_, i) => i));
    const status = await (await fetch(`${gw.url}/v1/sync/status`)).json();
    assert.equal(status.upstream, broker.url);
    assert.equal(status.streams[0].ackedOffset, 749);
    assert.equal(status.streams[0].lagRecords, 0);
    gw.child.kill("SIGTERM");
    assert.equal((await gw.child.status).code, 0);
  } finally {
    await broker.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
