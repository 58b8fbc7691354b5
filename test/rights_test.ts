/**
 * Least privilege over every route (issue 9): one table with a row for each
 * route the broker and the gateway answer, enumerated from their apps, so
 * that a route added without a row fails here. Each row is sent with every
 * kind of token and must answer the status the table gives: 401 without a
 * valid token, 403 without the right, 2xx with it.
 */

import assert from "node:assert/strict";
import { type Broker, startBroker } from "../edge/broker.ts";
import { type Gateway, startGateway } from "../edge/gateway.ts";
import { setProducer } from "../runtime/format/batch_header.ts";
import { encodeBatch } from "../runtime/format/record_batch.ts";
import type { ServerApp } from "../runtime/server/context.ts";

const KINDS = [
  "none",
  "unknown",
  "noRights",
  "produce",
  "consume",
  "node",
  "metrics",
  "admin",
] as const;
type Kind = typeof KINDS[number];

const TOKENS = [
  { token: "no-rights", rights: {} },
  { token: "producer", rights: { produce: ["t"] } },
  { token: "consumer", rights: { consume: ["t"] } },
  { token: "device", rights: { nodeId: "dev" } },
  { token: "scraper", rights: { metrics: true as const } },
  { token: "root", rights: { admin: true as const } },
];
const HEADER: Record<Kind, Record<string, string>> = {
  none: {},
  unknown: { authorization: "Bearer guessed" },
  noRights: { authorization: "Bearer no-rights" },
  produce: { authorization: "Bearer producer" },
  consume: { authorization: "Bearer consumer" },
  node: { authorization: "Bearer device" },
  metrics: { authorization: "Bearer scraper" },
  admin: { authorization: "Bearer root" },
};

/** Every kind answers `status`. */
function open(status = 200): Record<Kind, number> {
  return Object.fromEntries(KINDS.map((k) => [k, status])) as Record<
    Kind,
    number
  >;
}

/** 401 without a valid token, `status` for `allowed`, else 403. */
function authed(allowed: readonly Kind[], status = 200): Record<Kind, number> {
  return Object.fromEntries(KINDS.map((k) => [
    k,
    k === "none" || k === "unknown" ? 401 : allowed.includes(k) ? status : 403,
  ])) as Record<Kind, number>;
}
const ANY_TOKEN: Kind[] = [
  "noRights",
  "produce",
  "consume",
  "node",
  "metrics",
  "admin",
];

interface Node {
  app: ServerApp;
  send(kind: Kind, path: string, init?: RequestInit): Promise<Response>;
}

interface Row {
  /** The request for a caller of `kind`. */
  request(
    node: Node,
    kind: Kind,
  ): Promise<{ path: string; init?: RequestInit }> | {
    path: string;
    init?: RequestInit;
  };
  expect: Record<Kind, number>;
}

const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

let unique = 0;

/** A row that GETs `path`. */
function get(path: string, expect: Record<Kind, number>): Row {
  return { request: () => ({ path }), expect };
}

/** A group member of `kind`'s token, or of the admin's where it may not join. */
async function memberFor(node: Node, kind: Kind) {
  let res = await node.send(
    kind,
    "/v1/groups/g/heartbeat",
    json("POST", { topics: ["t"] }),
  );
  if (res.status !== 200) {
    await res.body?.cancel();
    res = await node.send(
      "admin",
      "/v1/groups/g/heartbeat",
      json("POST", { topics: ["t"] }),
    );
  }
  const { memberId, memberEpoch } = await res.json();
  return { memberId, memberEpoch };
}

/** A batch that continues the device stream "dev"/t/0, registered as admin. */
async function nextPush(node: Node) {
  const res = await node.send(
    "admin",
    "/v1/sync/streams",
    json("POST", { nodeId: "dev", topic: "t", sourcePartition: 0 }),
  );
  const { producerId, producerEpoch, ackedOffset } = await res.json();
  const offset = ackedOffset + 1;
  const batch = await encodeBatch([{
    key: null,
    value: new TextEncoder().encode(`{"n":${offset}}`),
    timestamp: 1_700_000_000_000,
  }], { baseOffset: offset });
  setProducer(batch, producerId, producerEpoch, offset);
  return {
    path: `/v1/sync/streams/${producerId}/batches`,
    init: {
      method: "POST",
      headers: { "content-type": "application/vnd.edgelog.batches" },
      body: new Uint8Array(batch),
    },
  };
}

const TABLE: Record<string, Row> = {
  "GET /healthz": get("/healthz", open()),
  "GET /openapi.json": get("/openapi.json", open()),
  "GET /": get("/", open()),
  "GET /docs": get("/docs", open()),
  "GET /demo": get("/demo", open(301)),
  "GET /demo/:file{.*}": get("/demo/style.css", open()),
  "GET /metrics": get("/metrics", authed(["metrics", "admin"])),
  "GET /v1/topics": get("/v1/topics", authed(ANY_TOKEN)),
  "POST /v1/topics": {
    request: () => ({
      path: "/v1/topics",
      init: json("POST", { name: `new-${unique++}` }),
    }),
    expect: authed(["admin"], 201),
  },
  "GET /v1/topics/:topic": get(
    "/v1/topics/t",
    authed(["produce", "consume", "admin"]),
  ),
  "DELETE /v1/topics/:topic": {
    request: async (node) => {
      const name = `doomed-${unique++}`;
      const res = await node.send(
        "admin",
        "/v1/topics",
        json("POST", { name }),
      );
      assert.equal(res.status, 201);
      await res.body?.cancel();
      return { path: `/v1/topics/${name}`, init: { method: "DELETE" } };
    },
    expect: authed(["admin"], 204),
  },
  "POST /v1/topics/:topic/records": {
    request: () => ({
      path: "/v1/topics/t/records",
      init: json("POST", { records: [{ value: 1 }] }),
    }),
    expect: authed(["produce", "admin"]),
  },
  "GET /v1/topics/:topic/partitions/:partition/records": get(
    "/v1/topics/t/partitions/0/records?offset=0",
    authed(["consume", "admin"]),
  ),
  "GET /v1/topics/:topic/partitions/:partition/offsets": get(
    "/v1/topics/t/partitions/0/offsets?timestamp=0",
    authed(["consume", "admin"]),
  ),
  "GET /v1/topics/:topic/stream": get(
    "/v1/topics/t/stream?from=earliest",
    authed(["consume", "admin"]),
  ),
  "POST /v1/groups/:group/heartbeat": {
    request: () => ({
      path: "/v1/groups/g/heartbeat",
      init: json("POST", { topics: ["t"] }),
    }),
    expect: authed(["consume", "admin"]),
  },
  "POST /v1/groups/:group/offsets": {
    request: async (node, kind) => ({
      path: "/v1/groups/g/offsets",
      init: json("POST", {
        ...await memberFor(node, kind),
        offsets: [{ topic: "t", partition: 0, offset: 0 }],
      }),
    }),
    expect: authed(["consume", "admin"]),
  },
  "GET /v1/groups/:group/offsets": get(
    "/v1/groups/g/offsets",
    authed(["consume", "admin"]),
  ),
  "GET /v1/groups": get("/v1/groups", authed(["consume", "admin"])),
  "GET /v1/groups/:group": {
    request: async (node) => {
      await memberFor(node, "admin");
      return { path: "/v1/groups/g" };
    },
    expect: authed(["consume", "admin"]),
  },
  "POST /v1/sync/streams": {
    request: () => ({
      path: "/v1/sync/streams",
      init: json("POST", { nodeId: "dev", topic: "t", sourcePartition: 0 }),
    }),
    expect: authed(["node", "admin"]),
  },
  "POST /v1/sync/streams/:producerId/batches": {
    request: (node) => nextPush(node),
    expect: authed(["node", "admin"]),
  },
  "POST /v1/sync/batches": {
    request: async (node) => ({
      ...await nextPush(node),
      path: "/v1/sync/batches",
    }),
    expect: authed(["node", "admin"]),
  },
  "GET /v1/sync/streams": get("/v1/sync/streams", authed(["node", "admin"])),
  "GET /v1/sync/status": get("/v1/sync/status", authed(ANY_TOKEN)),
  "GET /favicon.svg": get("/favicon.svg", open()),
  "GET /console/console.css": get("/console/console.css", open()),
  "GET /console/edgelog-console.js": get("/console/edgelog-console.js", open()),
  "GET /console/edgelog-console.js.map": get(
    "/console/edgelog-console.js.map",
    open(),
  ),
  "GET /v1/broker": get("/v1/broker", authed(["metrics", "admin"])),
  "GET /v1/broker/rates": get("/v1/broker/rates", authed(["metrics", "admin"])),
  "GET /v1/broker/topics": get("/v1/broker/topics", authed(ANY_TOKEN)),
  "POST /v1/groups/:group/offsets/reset": {
    request: () => ({
      path: `/v1/groups/idle-${unique++}/offsets/reset`,
      init: json("POST", { to: "earliest", topic: "t" }),
    }),
    expect: authed(["consume", "admin"]),
  },
  "DELETE /v1/groups/:group": {
    request: async (node) => {
      const group = `idle-${unique++}`;
      const res = await node.send(
        "admin",
        `/v1/groups/${group}/offsets/reset`,
        json("POST", { to: "earliest", topic: "t" }),
      );
      assert.equal(res.status, 200);
      await res.body?.cancel();
      return { path: `/v1/groups/${group}`, init: { method: "DELETE" } };
    },
    expect: authed(["admin"], 204),
  },
};

function routesOf(app: ServerApp): string[] {
  return [
    ...new Set(
      app.routes.filter((r) => r.method !== "ALL").map((r) =>
        `${r.method} ${r.path}`
      ),
    ),
  ].sort();
}

function nodeOf(app: ServerApp): Node {
  return {
    app,
    send: async (kind, path, init = {}) =>
      await app.request(path, {
        ...init,
        headers: { ...HEADER[kind], ...(init.headers ?? {}) },
      }),
  };
}

/** Sends every row to `app` with every kind of token; returns the routes. */
async function checkEveryRoute(app: ServerApp): Promise<string[]> {
  const routes = routesOf(app);
  const missing = routes.filter((r) => TABLE[r] === undefined);
  assert.deepEqual(missing, [], "routes without a row in the rights table");
  const node = nodeOf(app);
  const wrong: string[] = [];
  for (const route of routes) {
    const row = TABLE[route]!;
    for (const kind of KINDS) {
      const { path, init } = await row.request(node, kind);
      const res = await node.send(kind, path, { redirect: "manual", ...init });
      await res.body?.cancel();
      if (res.status !== row.expect[kind]) {
        wrong.push(
          `${route} as ${kind}: ${res.status}, expected ${row.expect[kind]}`,
        );
      }
    }
  }
  assert.deepEqual(wrong, []);
  return routes;
}

Deno.test("rights: every route of the broker and the gateway, with every kind of token", async () => {
  const brokerDir = await Deno.makeTempDir();
  const gatewayDir = await Deno.makeTempDir();
  let broker: Broker | undefined;
  let gateway: Gateway | undefined;
  try {
    broker = await startBroker({
      port: 0,
      dataDir: brokerDir,
      fsync: "never",
      auth: { tokens: TOKENS },
    });
    await broker.log.createTopic("t");
    gateway = await startGateway({
      upstream: broker.url,
      token: undefined,
      nodeId: "gw",
      host: "127.0.0.1",
      port: 0,
      dataDir: gatewayDir,
      syncTopics: [],
      topics: { t: { partitions: 1 } },
      syncedRetentionMs: -1,
      mqtt: undefined,
      auth: { tokens: TOKENS },
    });
    const covered = new Set([
      ...await checkEveryRoute(broker.app),
      ...await checkEveryRoute(gateway.app),
    ]);
    const stale = Object.keys(TABLE).filter((r) => !covered.has(r));
    assert.deepEqual(stale, [], "rows for routes no node serves");
  } finally {
    await gateway?.close();
    await broker?.close();
    await Deno.remove(brokerDir, { recursive: true });
    await Deno.remove(gatewayDir, { recursive: true });
  }
});
