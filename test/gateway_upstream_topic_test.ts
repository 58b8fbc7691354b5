/**
 * A record produced at a gateway into a topic the upstream lacks is kept
 * and acknowledged, and the gateway says so at once: one log line (not one
 * per retry), the stream's lastErrorCode in /v1/sync/status, and a warning
 * in the CLI's produce output. Once the topic exists upstream it syncs.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startGateway } from "../edge/gateway.ts";
import { startTestBroker, waitFor } from "./sync_harness.ts";

const CLI = fileURLToPath(new URL("../edge/cli.ts", import.meta.url));

Deno.test("gateway (issue 9): a topic missing upstream is reported at once in the log, the status and the CLI, then syncs once created", async () => {
  const broker = await startTestBroker(undefined, { topics: { other: 1 } });
  const dataDir = await Deno.makeTempDir();
  const logged: string[] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => {
    logged.push(args.map(String).join(" "));
  };
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  try {
    gateway = await startGateway({
      upstream: broker.url,
      token: undefined,
      nodeId: "gw-missing",
      host: "127.0.0.1",
      port: 0,
      dataDir,
      syncTopics: undefined,
      topics: {},
      syncedRetentionMs: -1,
      mqtt: undefined,
    });
    let errors = 0;
    gateway.replicator.on("error", () => errors++);
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-env",
        CLI,
        "produce",
        "missing",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { EDGELOG_URL: gateway.url, EDGELOG_TOKEN: "", NO_COLOR: "1" },
    }).spawn();
    const writer = run.stdin.getWriter();
    await writer.write(new TextEncoder().encode('{"t":1}\n{"t":2}\n'));
    await writer.close();
    const output = await run.output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    assert.match(stderr, /Produced 2 record\(s\) to missing/);
    assert.match(stderr, /warning: .*no topic 'missing' \(TOPIC_NOT_FOUND\)/);
    assert.equal(gateway.log.partition("missing", 0).highWatermark, 2);

    const status = await (await fetch(`${gateway.url}/v1/sync/status`))
      .json();
    const stream = status.streams.find((s: { topic: string }) =>
      s.topic === "missing"
    );
    assert.equal(stream.lastErrorCode, "TOPIC_NOT_FOUND");
    assert.match(stream.lastError, /missing/);

    // Retries go on; the log says it once.
    await waitFor("three failed attempts", () => errors >= 3);
    const lines = () => logged.filter((l) => l.includes("'missing'"));
    assert.equal(lines().length, 1, logged.join("\n"));
    assert.match(lines()[0]!, /TOPIC_NOT_FOUND/);

    await broker.log.createTopic("missing");
    gateway.replicator.notifyOnline();
    await waitFor(
      "the records upstream",
      () => broker.log.partition("missing", 0).highWatermark === 2,
    );
    await waitFor("the stream's error cleared", async () => {
      const again = await (await fetch(`${gateway!.url}/v1/sync/status`))
        .json();
      return again.streams[0].lastErrorCode === null;
    });
    assert.ok(logged.some((l) => /missing\/0 syncs .* again/.test(l)));
    assert.equal(lines().length, 1);
  } finally {
    console.error = consoleError;
    await gateway?.close();
    await broker.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});
