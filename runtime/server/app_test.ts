import assert from "node:assert/strict";
import { NODE_PAGES } from "../../browser/pages/mod.ts";
import { send, testServer } from "./_test_util.ts";

Deno.test("healthz, unknown routes and wrong methods", async () => {
  const s = await testServer();
  try {
    let res = await send(s.app, "GET", "/healthz");
    assert.deepEqual(await res.json(), { status: "ok" });
    res = await send(s.app, "GET", "/v1/nothing-here");
    assert.equal(res.status, 404);
    const { error } = await res.json();
    assert.equal(error.code, "NOT_FOUND");
    assert.match(error.message, /GET \/v1\/nothing-here/);
    res = await send(s.app, "PUT", "/v1/topics");
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error.code, "NOT_FOUND");
  } finally {
    await s.close();
  }
});

Deno.test("body limit: declared and streamed sizes over the limit are 413", async () => {
  const s = await testServer({ maxBodyBytes: 100 });
  try {
    await s.log.createTopic("t");
    const big = JSON.stringify({ records: [{ value: "x".repeat(200) }] });
    let res = await send(s.app, "POST", "/v1/topics/t/records", big);
    assert.equal(res.status, 413);
    assert.equal((await res.json()).error.code, "PAYLOAD_TOO_LARGE");

    const bytes = new TextEncoder().encode(big);
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 32) {
          controller.enqueue(bytes.slice(i, i + 32));
        }
        controller.close();
      },
    });
    res = await s.app.request("/v1/topics/t/records", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: streamed,
    });
    assert.equal(res.status, 413);

    res = await s.app.request("/v1/topics/t/records", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "10" },
      body: big,
    });
    assert.equal(res.status, 413, "a lying Content-Length is not believed");
    assert.equal(s.log.partition("t", 0).highWatermark, 0);

    res = await send(s.app, "POST", "/v1/topics/t/records", {
      records: [{ value: 1 }],
    });
    assert.equal(res.status, 200);
  } finally {
    await s.close();
  }
});

Deno.test("metrics: records in/out, requests, latency, offsets, lag, waiters", async () => {
  const s = await testServer();
  try {
    await s.log.createTopic("t");
    await send(s.app, "POST", "/v1/topics/t/records", {
      records: [{ value: 1 }, { value: 2 }],
    });
    await send(s.app, "GET", "/v1/topics/t/partitions/0/records");
    await send(s.app, "GET", "/v1/topics/zzz");
    const hb = await (await send(s.app, "POST", "/v1/groups/g/heartbeat", {
      topics: ["t"],
    })).json();
    await send(s.app, "POST", "/v1/groups/g/heartbeat", {
      memberId: hb.memberId,
      memberEpoch: hb.memberEpoch,
      topics: ["t"],
    });
    const latest = s.groups.describeGroup("g").members[0]!;
    await send(s.app, "POST", "/v1/groups/g/offsets", {
      memberId: latest.memberId,
      memberEpoch: latest.memberEpoch,
      offsets: [{ topic: "t", partition: 0, offset: 0 }],
    });
    const res = await send(s.app, "GET", "/metrics");
    assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
    const text = await res.text();
    const lines = text.split("\n");
    const has = (line: string) => assert.ok(lines.includes(line), line);
    has('edgelog_records_in_total{topic="t"} 2');
    has('edgelog_records_out_total{topic="t"} 2');
    has('edgelog_partition_high_watermark{topic="t",partition="0"} 2');
    has('edgelog_partition_log_start_offset{topic="t",partition="0"} 0');
    has('edgelog_group_lag{group="g",topic="t",partition="0"} 2');
    has('edgelog_long_poll_waiters{topic="t",partition="0"} 0');
    has(
      'edgelog_http_requests_total{route="/v1/topics/:topic/records",method="POST",status="200"} 1',
    );
    has(
      'edgelog_http_requests_total{route="/v1/topics/:topic",method="GET",status="404"} 1',
    );
    assert.match(
      text,
      /edgelog_http_request_duration_seconds_bucket\{route="\/v1\/topics\/:topic\/records",method="POST",status="200",le="\+Inf"\} 1/,
    );
    assert.match(
      text,
      /# TYPE edgelog_http_request_duration_seconds histogram/,
    );
    assert.match(text, /edgelog_bytes_in_total\{topic="t"\} \d+/);
  } finally {
    await s.close();
  }
});

Deno.test("openapi.json is generated from the route schemas; docs and console are self-contained", async () => {
  const s = await testServer({ pages: NODE_PAGES });
  try {
    const doc = await (await send(s.app, "GET", "/openapi.json")).json();
    assert.equal(doc.openapi, "3.0.3");
    for (
      const [path, method] of [
        ["/v1/topics", "get"],
        ["/v1/topics", "post"],
        ["/v1/topics/{topic}", "delete"],
        ["/v1/topics/{topic}/records", "post"],
        ["/v1/topics/{topic}/partitions/{partition}/records", "get"],
        ["/v1/topics/{topic}/partitions/{partition}/offsets", "get"],
        ["/v1/topics/{topic}/stream", "get"],
        ["/v1/groups/{group}/heartbeat", "post"],
        ["/v1/groups/{group}/offsets", "post"],
        ["/v1/groups/{group}/offsets", "get"],
        ["/v1/groups", "get"],
        ["/v1/groups/{group}", "get"],
        ["/healthz", "get"],
      ] as const
    ) {
      assert.ok(doc.paths[path]?.[method], `${method} ${path}`);
    }
    const produce = doc.paths["/v1/topics/{topic}/records"].post;
    assert.ok(produce.requestBody.content["application/json"]);
    assert.ok(produce.requestBody.content["application/vnd.edgelog.batches"]);
    const fetchParams = doc.paths[
      "/v1/topics/{topic}/partitions/{partition}/records"
    ].get.parameters.map((p: { name: string }) => p.name);
    for (
      const name of [
        "topic",
        "partition",
        "offset",
        "maxRecords",
        "maxBytes",
        "maxWaitMs",
      ]
    ) {
      assert.ok(fetchParams.includes(name), name);
    }
    assert.ok(doc.components.schemas.CreateTopic.properties.cleanupPolicy);

    for (const path of ["/docs"]) {
      const html = await (await send(s.app, "GET", path)).text();
      assert.match(html, /<!doctype html>/);
      assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href="http/);
      const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
      assert.equal(new Set(ids).size, ids.length, `duplicate ids in ${path}`);
    }
  } finally {
    await s.close();
  }
});

Deno.test("files are served outside the API, with their type and no-cache", async () => {
  const s = await testServer({
    auth: { tokens: [{ token: "t", rights: { admin: true } }] },
    files: {
      "/": () =>
        Promise.resolve({ body: "<!doctype html>", contentType: "text/html" }),
      "/app.js": () =>
        Promise.resolve({
          body: new TextEncoder().encode("1"),
          contentType: "text/javascript",
        }),
    },
  });
  try {
    let res = await send(s.app, "GET", "/");
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "<!doctype html>");
    res = await send(s.app, "GET", "/app.js");
    assert.equal(res.headers.get("content-type"), "text/javascript");
    assert.equal(res.headers.get("cache-control"), "no-cache");
    assert.equal(await res.text(), "1");
    res = await send(s.app, "GET", "/other.js");
    assert.equal(res.status, 404);
    await res.body?.cancel();
  } finally {
    await s.close();
  }
});

Deno.test("extraRoutes mount behind auth, limits and error handling", async () => {
  const s = await testServer({
    auth: { tokens: [{ token: "d", rights: { nodeId: "n1" } }] },
    extraRoutes: (app, ctx) => {
      app.get(
        "/v1/sync/ping",
        (c) => c.json({ topics: ctx.log.listTopics().length }),
      );
    },
  });
  try {
    assert.equal((await send(s.app, "GET", "/v1/sync/ping")).status, 401);
    const res = await send(s.app, "GET", "/v1/sync/ping", undefined, {
      authorization: "Bearer d",
    });
    assert.deepEqual(await res.json(), { topics: 0 });
  } finally {
    await s.close();
  }
});

Deno.test("metrics: made-up methods share one label, so they cannot grow the maps", async () => {
  const s = await testServer();
  try {
    for (const method of ["FOO1", "FOO2", "FOO3"]) {
      await s.app.request("/v1/nothing-here", { method });
    }
    const labels = { route: "unmatched", method: "OTHER", status: 404 };
    assert.equal(s.metrics.value("edgelog_http_requests_total", labels), 3);
  } finally {
    await s.close();
  }
});

Deno.test("CORS: pages of other origins may call the API, preflights need no token", async () => {
  const s = await testServer({
    auth: { tokens: [{ token: "t", rights: { admin: true } }] },
  });
  try {
    const preflight = await s.app.request("/v1/topics", {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
    assert.match(
      preflight.headers.get("access-control-allow-headers") ?? "",
      /Authorization/,
    );
    const res = await s.app.request("/v1/topics", {
      headers: { Origin: "https://app.example", Authorization: "Bearer t" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.match(
      res.headers.get("access-control-expose-headers") ?? "",
      /Edgelog-Next-Offset/,
    );
    const noOrigin = await s.app.request("/v1/topics", {
      headers: { Authorization: "Bearer t" },
    });
    assert.equal(noOrigin.status, 200);
    assert.equal(noOrigin.headers.get("access-control-allow-origin"), null);
    const noOriginPreflight = await s.app.request("/v1/topics", {
      method: "OPTIONS",
    });
    assert.equal(noOriginPreflight.status, 401, "not a CORS preflight");
  } finally {
    await s.close();
  }

  const closed = await testServer({ corsOrigins: ["https://ok.example"] });
  try {
    const res = await closed.app.request("/v1/topics", {
      headers: { Origin: "https://other.example" },
    });
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    const ok = await closed.app.request("/v1/topics", {
      headers: { Origin: "https://ok.example" },
    });
    assert.equal(
      ok.headers.get("access-control-allow-origin"),
      "https://ok.example",
    );
  } finally {
    await closed.close();
  }
});

Deno.test("a client that goes away mid-body gets BAD_REQUEST, and nothing is written", async () => {
  const s = await testServer();
  try {
    await s.log.createTopic("t");
    for (const declared of [undefined, "100000"]) {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"records":['));
          controller.error(new Error("connection reset"));
        },
      });
      const headers: Record<string, string> = {
        "content-type": "application/json",
      };
      if (declared !== undefined) headers["content-length"] = declared;
      const res = await s.app.request("/v1/topics/t/records", {
        method: "POST",
        body,
        headers,
        duplex: "half",
      } as RequestInit);
      assert.equal(res.status, 400, `content-length ${declared}`);
      const { error } = await res.json();
      assert.equal(error.code, "BAD_REQUEST");
      assert.match(error.message, /Cannot read the request body/);
    }
    assert.equal(s.log.partition("t", 0).highWatermark, 0);
  } finally {
    await s.close();
  }
});
