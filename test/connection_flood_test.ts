/**
 * Connection floods, on loopback and bounded: more idle connections than
 * the broker's cap, connections that never send a request, and a broker
 * whose file table is full. In each the broker stays up, keeps answering
 * `/healthz` on the connections it holds and on new ones once below the cap,
 * and keeps accepting records.
 */

import assert from "node:assert/strict";
import { startBroker as startInProcess } from "../edge/broker.ts";
import { DEFAULT_LIMITS } from "../edge/limits.ts";
import { startBroker, tempDataDir } from "./broker_process.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Generous bound on anything the tests wait for. */
const WAIT_MS = 10_000;

/** Sends one HTTP/1.1 request on `conn` and reads its status line. */
async function request(
  conn: Deno.Conn,
  method: string,
  path: string,
  body?: string,
): Promise<number> {
  const head = `${method} ${path} HTTP/1.1\r\nHost: edgelog\r\n` +
    (body === undefined
      ? "\r\n"
      : `Content-Type: application/json\r\nContent-Length: ${
        encoder.encode(body).length
      }\r\n\r\n${body}`);
  await conn.write(encoder.encode(head));
  const buf = new Uint8Array(4096);
  const n = await conn.read(buf);
  if (n === null) throw new Error("connection closed");
  const status = /^HTTP\/1\.1 (\d{3})/.exec(decoder.decode(buf.subarray(0, n)));
  if (status === null) throw new Error("no status line");
  return Number(status[1]);
}

/** Whether the peer closed `conn` (a read ends) within `ms`. */
async function closedWithin(conn: Deno.Conn, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    const read = conn.read(new Uint8Array(64)).then(
      (n) => n === null,
      () => true,
    );
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `conn` answers `/healthz` with 200. */
function answers(conn: Deno.Conn): Promise<boolean> {
  return request(conn, "GET", "/healthz").then((s) => s === 200, () => false);
}

/** Answers `/healthz` on a new connection, retrying until `WAIT_MS`. */
async function healthzOnNewConnection(port: number): Promise<number> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        return await request(conn, "GET", "/healthz");
      } finally {
        conn.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function closeAll(conns: Deno.Conn[]): void {
  for (const conn of conns) {
    try {
      conn.close();
    } catch {
      // Already closed by the broker.
    }
  }
}

Deno.test("over maxConnections new connections are closed, held ones and /healthz keep answering", async () => {
  await using dir = await tempDataDir();
  await using broker = await startInProcess({
    host: "127.0.0.1",
    port: 0,
    dataDir: dir.path,
    autoCreateTopics: true,
    limits: { ...DEFAULT_LIMITS, maxConnections: 16 },
  });
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 48; i++) {
      conns.push(
        await Deno.connect({ hostname: "127.0.0.1", port: broker.port }),
      );
    }
    const answered: boolean[] = [];
    for (const conn of conns) answered.push(await answers(conn));
    const held = conns.filter((_, i) => answered[i]);
    assert.equal(held.length, 16, "the broker holds exactly its cap");
    assert.equal(await answers(held[0]!), true, "held ones keep answering");
    assert.equal(
      await request(
        held[1]!,
        "POST",
        "/v1/topics/flood/records",
        JSON.stringify({ records: [{ value: 1 }] }),
      ),
      200,
    );

    closeAll(held.slice(8));
    assert.equal(await healthzOnNewConnection(broker.port), 200);
    const metrics = await (await fetch(`${broker.url}/metrics`)).text();
    await broker.close();
    const refused =
      /edgelog_limit_refusals_total\{limit="maxConnections"\} (\d+)/
        .exec(metrics);
    assert.ok(Number(refused?.[1]) >= 32, "every refusal is counted");
    assert.match(metrics, /edgelog_limit\{limit="maxConnections"\} 16/);
  } finally {
    closeAll(conns);
  }
});

Deno.test("a connection that sends no request, or stays idle, is closed after its timeout", async () => {
  await using dir = await tempDataDir();
  await using broker = await startInProcess({
    host: "127.0.0.1",
    port: 0,
    dataDir: dir.path,
    limits: { ...DEFAULT_LIMITS, headerTimeoutMs: 200, idleTimeoutMs: 300 },
  });
  const silent = await Deno.connect({
    hostname: "127.0.0.1",
    port: broker.port,
  });
  const idle = await Deno.connect({ hostname: "127.0.0.1", port: broker.port });
  try {
    await silent.write(encoder.encode("GET /healthz HTTP/1.1\r\nHost:"));
    assert.equal(await request(idle, "GET", "/healthz"), 200);
    assert.equal(await closedWithin(silent, WAIT_MS), true);
    assert.equal(await closedWithin(idle, WAIT_MS), true);
    assert.equal(await healthzOnNewConnection(broker.port), 200);
  } finally {
    closeAll([silent, idle]);
  }
});

async function prlimit(pid: number, files: number): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("prlimit", {
      args: [`--pid=${pid}`, `--nofile=${files}:${files}`],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

Deno.test("a broker out of file descriptors rides out failed accepts and answers once they free", async () => {
  await using dir = await tempDataDir();
  await using broker = await startBroker({ dataDir: dir.path });
  if (!await prlimit(broker.pid, 200)) {
    console.warn("connection_flood_test: prlimit unavailable, skipping");
    return;
  }
  const port = Number(new URL(broker.url).port);
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 400; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    }
    // Let the broker's accept loop meet the full file table.
    await new Promise((resolve) => setTimeout(resolve, 500));
    closeAll(conns);
    assert.equal(await healthzOnNewConnection(port), 200);
    const res = await fetch(`${broker.url}/v1/topics`, {
      method: "POST",
      body: JSON.stringify({ name: "after" }),
      headers: { "content-type": "application/json" },
    });
    assert.equal(res.status, 201, await res.text());
    assert.match(broker.output(), /cannot accept connections/);
    assert.equal(await broker.stop(), 0);
  } finally {
    closeAll(conns);
  }
});
