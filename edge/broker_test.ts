import assert from "node:assert/strict";
import { isLoopback, listenUrl, startBroker } from "./broker.ts";
import { DEFAULT_CONFIG } from "./config.ts";
import { exposureWarning, readyLine } from "./serve.ts";

async function json(url: string, init?: RequestInit): Promise<unknown> {
  const res = await fetch(url, init);
  const body = await res.json();
  assert.ok(res.ok, `${res.status} ${JSON.stringify(body)}`);
  return body;
}

function post(body: unknown): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

Deno.test("startBroker: serves over HTTP, keeps data and offsets across restarts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let broker = await startBroker({ port: 0, dataDir: dir });
    assert.ok(broker.port > 0);
    assert.equal(broker.url, `http://127.0.0.1:${broker.port}`);
    await json(`${broker.url}/v1/topics`, post({ name: "t", partitions: 2 }));
    await json(
      `${broker.url}/v1/topics/t/records`,
      post({
        records: [{ value: 1, partition: 1 }, { value: 2, partition: 1 }],
      }),
    );
    const hb = await json(
      `${broker.url}/v1/groups/g/heartbeat`,
      post({ topics: ["t"] }),
    ) as { memberId: string; memberEpoch: number };
    await json(
      `${broker.url}/v1/groups/g/offsets`,
      post({ ...hb, offsets: [{ topic: "t", partition: 1, offset: 1 }] }),
    ).catch(async () => {
      // The first answer may still be handing partitions over: beat again.
      const next = await json(
        `${broker.url}/v1/groups/g/heartbeat`,
        post({ ...hb, topics: ["t"] }),
      ) as { memberId: string; memberEpoch: number };
      await json(
        `${broker.url}/v1/groups/g/offsets`,
        post({ ...next, offsets: [{ topic: "t", partition: 1, offset: 1 }] }),
      );
    });
    await broker.close();
    await broker.close();

    broker = await startBroker({ port: 0, dataDir: dir });
    const fetched = await json(
      `${broker.url}/v1/topics/t/partitions/1/records`,
    ) as { records: { value: unknown }[] };
    assert.deepEqual(fetched.records.map((r) => r.value), [1, 2]);
    assert.deepEqual(
      await json(`${broker.url}/v1/groups/g/offsets?topic=t`),
      {
        offsets: [{
          topic: "t",
          partition: 1,
          offset: 1,
          highWatermark: 2,
          lag: 1,
        }],
      },
    );
    await broker.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("close() ends long polls and SSE streams instead of waiting on them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using broker = await startBroker({ port: 0, dataDir: dir });
    await json(`${broker.url}/v1/topics`, post({ name: "t" }));
    const poll = fetch(
      `${broker.url}/v1/topics/t/partitions/0/records?maxWaitMs=30000`,
    );
    const stream = await fetch(`${broker.url}/v1/topics/t/stream`);
    const drained = stream.body!.pipeTo(new WritableStream());
    const started = performance.now();
    const partition = broker.log.partition("t", 0);
    for (let i = 0; i < 200 && partition.waiters < 2; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(partition.waiters, 2);
    await broker.close();
    assert.equal((await poll).status, 200);
    await (await poll).body?.cancel();
    await drained;
    assert.ok(performance.now() - started < 10_000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ready line, exposure warning and URLs", () => {
  const open = { ...DEFAULT_CONFIG, host: "0.0.0.0" };
  assert.match(exposureWarning(open) ?? "", /NO TOKENS/);
  assert.equal(exposureWarning(DEFAULT_CONFIG), undefined);
  assert.equal(
    exposureWarning({
      ...open,
      auth: { tokens: [{ token: "x", rights: { admin: true } }] },
    }),
    undefined,
  );
  assert.equal(isLoopback("127.0.0.1"), true);
  assert.equal(isLoopback("::"), false);
  assert.equal(listenUrl("::1", 80, true), "https://[::1]:80");
  const line = readyLine(
    {
      url: "http://127.0.0.1:9092",
      config: DEFAULT_CONFIG,
    } as Parameters<typeof readyLine>[0],
  );
  assert.equal(
    line,
    "edgelog broker listening on http://127.0.0.1:9092 (storage: filesystem ./data, fsync always, auth: off — open to anyone who can reach it)",
  );
});
