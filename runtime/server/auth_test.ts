import assert from "node:assert/strict";
import { NODE_PAGES } from "../../browser/pages/mod.ts";
import { EdgelogError } from "../errors.ts";
import { send, testServer } from "./_test_util.ts";
import { allows, authenticate } from "./auth.ts";

const tokens = [
  { token: "admin-token", rights: { admin: true as const } },
  { token: "writer", rights: { produce: ["t"], consume: ["*"] } },
  { token: "device-7", rights: { nodeId: "dev-7" } },
  { token: "scraper", rights: { metrics: true as const } },
];

Deno.test("auth: open without tokens; 401 for missing or unknown tokens", () => {
  assert.equal(authenticate(undefined, undefined), "open");
  assert.equal(authenticate({ tokens: [] }, "Bearer x"), "open");
  for (const header of [undefined, "Bearer nope", "Basic abc", "Bearer"]) {
    assert.throws(
      () => authenticate({ tokens }, header),
      (e) => e instanceof EdgelogError && e.code === "UNAUTHORIZED",
    );
  }
  assert.deepEqual(
    authenticate({ tokens }, "Bearer writer"),
    tokens[1]!.rights,
  );
});

Deno.test("auth: rights by topic, admin, and node-bound sync tokens", () => {
  const writer = tokens[1]!.rights;
  const device = tokens[2]!.rights;
  assert.equal(allows(writer, { kind: "produce", topic: "t" }), true);
  assert.equal(allows(writer, { kind: "produce", topic: "u" }), false);
  assert.equal(allows(writer, { kind: "consume", topic: "u" }), true);
  assert.equal(allows(writer, { kind: "admin" }), false);
  // A produce token bound to no node must not take over a device's stream.
  assert.equal(
    allows(writer, { kind: "sync", nodeId: "x", topic: "t" }),
    false,
  );
  assert.equal(allows(writer, { kind: "sync", nodeId: "x" }), false);
  assert.equal(
    allows(device, { kind: "sync", nodeId: "dev-7", topic: "t" }),
    true,
  );
  assert.equal(
    allows(device, { kind: "sync", nodeId: "dev-8", topic: "t" }),
    false,
  );
  assert.equal(allows(device, { kind: "produce", topic: "t" }), false);
  assert.equal(
    allows({ nodeId: "a", produce: ["t"] }, {
      kind: "sync",
      nodeId: "a",
      topic: "u",
    }),
    false,
  );
  assert.equal(allows("open", { kind: "admin" }), true);
});

Deno.test("auth: metrics and metadata rights", () => {
  const writer = tokens[1]!.rights;
  const scraper = tokens[3]!.rights;
  assert.equal(allows(writer, { kind: "metrics" }), false);
  assert.equal(allows(scraper, { kind: "metrics" }), true);
  assert.equal(allows(scraper, { kind: "describe", topic: "t" }), false);
  assert.equal(allows(writer, { kind: "describe", topic: "t" }), true);
  assert.equal(allows({ produce: ["t"] }, { kind: "groups" }), false);
  assert.equal(allows({ consume: ["t"] }, { kind: "groups" }), true);
  assert.equal(allows({}, { kind: "describe", topic: "t" }), false);
});

Deno.test("auth over HTTP: /metrics needs the metrics right unless opened", async () => {
  const s = await testServer({ auth: { tokens } });
  const opened = await testServer({ auth: { tokens, metricsOpen: true } });
  try {
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    assert.equal((await send(s.app, "GET", "/metrics")).status, 401);
    const refused = await send(s.app, "GET", "/metrics", undefined, {
      ...bearer("writer"),
    });
    assert.equal(refused.status, 403);
    assert.equal((await refused.json()).error.code, "FORBIDDEN");
    for (const token of ["scraper", "admin-token"]) {
      const res = await send(s.app, "GET", "/metrics", undefined, {
        ...bearer(token),
      });
      assert.equal(res.status, 200, token);
      await res.body?.cancel();
    }
    assert.equal((await send(opened.app, "GET", "/metrics")).status, 200);
  } finally {
    await s.close();
    await opened.close();
  }
});

Deno.test("auth over HTTP: 401, 403, allowed; machine endpoints stay open", async () => {
  const s = await testServer({
    auth: { tokens },
    pages: NODE_PAGES,
    files: {
      "/": () => Promise.resolve({ body: "console", contentType: "text/html" }),
    },
  });
  try {
    await s.log.createTopic("t");
    await s.log.createTopic("u");
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    let res = await send(s.app, "GET", "/v1/topics");
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error.code, "UNAUTHORIZED");
    res = await send(s.app, "GET", "/v1/topics", undefined, bearer("wrong"));
    assert.equal(res.status, 401);
    res = await send(s.app, "GET", "/v1/topics", undefined, bearer("writer"));
    assert.equal(res.status, 200);

    const record = { records: [{ value: 1 }] };
    res = await send(
      s.app,
      "POST",
      "/v1/topics/u/records",
      record,
      bearer("writer"),
    );
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error.code, "FORBIDDEN");
    res = await send(
      s.app,
      "POST",
      "/v1/topics/t/records",
      record,
      bearer("writer"),
    );
    assert.equal(res.status, 200);
    res = await send(
      s.app,
      "POST",
      "/v1/topics",
      { name: "v" },
      bearer("writer"),
    );
    assert.equal(res.status, 403);
    res = await send(
      s.app,
      "POST",
      "/v1/topics",
      { name: "v" },
      bearer("admin-token"),
    );
    assert.equal(res.status, 201);
    res = await send(
      s.app,
      "GET",
      "/v1/topics/t/partitions/0/records",
      undefined,
      bearer("device-7"),
    );
    assert.equal(res.status, 403);
    assert.equal(s.log.partition("u", 0).highWatermark, 0);

    for (const path of ["/healthz", "/openapi.json", "/docs", "/"]) {
      assert.equal((await send(s.app, "GET", path)).status, 200, path);
    }
  } finally {
    await s.close();
  }
});
