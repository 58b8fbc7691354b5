/**
 * What the node's listener (edge/http_listener.ts) costs over a bare
 * `Deno.serve`: both serve the same handler (read the body, answer 200) in
 * their own process, and rounds alternate between them so a busy machine
 * weighs on both alike. Keep-alive connections post 1 kB bodies; a second
 * phase opens a new connection per request, where the listener's own
 * accept loop does its work.
 *
 * Run: `deno run --allow-all bench/listener_bench.ts [--seconds N] [--rounds N]`
 *
 * @module
 */

import { startBroker, tempDataDir } from "../test/broker_process.ts";
import {
  count,
  describeMachine,
  fixed,
  flagValue,
  machine,
  machineAfter,
  median,
  writeResults,
} from "./_common.ts";
import { Http1Connection } from "./http1.ts";

const seconds = Number(flagValue("--seconds") ?? "2");
const rounds = Number(flagValue("--rounds") ?? "3");
const CONNECTIONS = 16;
const BODY = new Uint8Array(1024);

/** Requests a second over `CONNECTIONS` keep-alive connections. */
async function keepAliveRate(url: string): Promise<number> {
  const conns = await Promise.all(
    Array.from({ length: CONNECTIONS }, () => Http1Connection.connect(url)),
  );
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(conns.map(async (conn) => {
    while (performance.now() < until) {
      await conn.request("/", { method: "POST", body: BODY });
      done++;
    }
    conn.close();
  }));
  return done / seconds;
}

/** Requests a second with a new connection for each, 4 at a time. */
async function newConnectionRate(url: string): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (performance.now() < until) {
      const conn = await Http1Connection.connect(url);
      await conn.request("/", { method: "POST", body: BODY });
      conn.close();
      done++;
    }
  }));
  return done / seconds;
}

async function main(): Promise<void> {
  const before = await machine();
  await using dirA = await tempDataDir();
  await using dirB = await tempDataDir();
  await using bare = await startBroker({
    entry: new URL("./ceiling_server.ts", import.meta.url).pathname,
    dataDir: dirA.path,
  });
  await using capped = await startBroker({
    entry: new URL("./capped_ceiling_server.ts", import.meta.url).pathname,
    dataDir: dirB.path,
  });
  const rates = {
    bare: { keepAlive: [] as number[], fresh: [] as number[] },
    capped: { keepAlive: [] as number[], fresh: [] as number[] },
  };
  for (let r = 0; r < rounds; r++) {
    console.error(`round ${r + 1} of ${rounds} …`);
    for (
      const [name, server] of [["bare", bare], ["capped", capped]] as const
    ) {
      rates[name].keepAlive.push(await keepAliveRate(server.url));
      rates[name].fresh.push(await newConnectionRate(server.url));
    }
  }
  const m = await machineAfter(before);
  const row = (label: string, a: number[], b: number[]) =>
    `| ${label} | ${count(median(a))} | ${count(median(b))} | ${
      fixed(100 * median(b) / median(a))
    } % |`;
  console.log(describeMachine(m));
  console.log(
    "| requests/s (median of rounds) | Deno.serve | node listener | ratio |",
  );
  console.log("| --- | --- | --- | --- |");
  console.log(row(
    `${CONNECTIONS} keep-alive connections, 1 kB POST`,
    rates.bare.keepAlive,
    rates.capped.keepAlive,
  ));
  console.log(row(
    "a new connection per request, 4 at a time",
    rates.bare.fresh,
    rates.capped.fresh,
  ));
  await writeResults("listener", { machine: m, seconds, rounds, rates });
}

await main();
