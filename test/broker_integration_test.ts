/**
 * The broker as operators run it: `edge/serve.ts` in its own process, with a
 * temporary data directory, talked to over HTTP, stopped with SIGTERM and
 * started again.
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const SERVE = new URL("../edge/serve.ts", import.meta.url).pathname;

interface Running {
  url: string;
  child: Deno.ChildProcess;
  stop(signal?: Deno.Signal): Promise<{ code: number; stderr: string }>;
}

function spawn(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      SERVE,
      ...args,
    ],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
}

async function start(dataDir: string): Promise<Running> {
  const child = spawn(["--port", "0", "--data", dataDir]);
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  while (!buffered.includes("\n")) {
    const { done, value } = await lines.read();
    if (done) break;
    buffered += value;
  }
  const match = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(buffered);
  assert.ok(match, `no ready line in: ${buffered}`);
  assert.notEqual(match[2], "0");
  return {
    url: match[1]!,
    child,
    async stop(signal: Deno.Signal = "SIGTERM") {
      child.kill(signal);
      const stderr = await new Response(child.stderr).text();
      const { code } = await child.status;
      await lines.cancel();
      return { code, stderr };
    },
  };
}

async function call(
  url: string,
  method: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

Deno.test("serve: produce and fetch over HTTP, SIGTERM exits 0, data and group offsets survive a restart", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let broker = await start(dir);
    assert.equal((await call(`${broker.url}/healthz`, "GET")).status, 200);
    assert.equal(
      (await call(`${broker.url}/v1/topics`, "POST", {
        name: "events",
        partitions: 2,
      })).status,
      201,
    );
    const produced = await call(
      `${broker.url}/v1/topics/events/records`,
      "POST",
      {
        records: [
          { key: "a", value: { n: 1 }, partition: 0 },
          { key: "b", value: { n: 2 }, partition: 0 },
          { value: "x", partition: 1 },
        ],
      },
    );
    assert.deepEqual(produced, {
      status: 200,
      body: {
        offsets: [
          { partition: 0, offset: 0 },
          { partition: 0, offset: 1 },
          { partition: 1, offset: 0 },
        ],
      },
    });

    let member = (await call(`${broker.url}/v1/groups/g/heartbeat`, "POST", {
      topics: ["events"],
    })).body as {
      memberId: string;
      memberEpoch: number;
      assignment: unknown[];
    };
    for (let i = 0; i < 5 && member.assignment.length === 0; i++) {
      member = (await call(`${broker.url}/v1/groups/g/heartbeat`, "POST", {
        memberId: member.memberId,
        memberEpoch: member.memberEpoch,
        topics: ["events"],
      })).body as typeof member;
    }
    const commit = await call(`${broker.url}/v1/groups/g/offsets`, "POST", {
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      offsets: [{ topic: "events", partition: 0, offset: 2 }],
    });
    assert.equal(commit.status, 200, JSON.stringify(commit.body));

    let stopped = await broker.stop("SIGTERM");
    assert.equal(stopped.code, 0, stopped.stderr);

    broker = await start(dir);
    const fetched = await call(
      `${broker.url}/v1/topics/events/partitions/0/records?offset=earliest`,
      "GET",
    );
    assert.deepEqual(
      (fetched.body as { records: { key: string; value: unknown }[] }).records
        .map((r) => [r.key, r.value]),
      [["a", { n: 1 }], ["b", { n: 2 }]],
    );
    const offsets = await call(
      `${broker.url}/v1/groups/g/offsets?topic=events`,
      "GET",
    );
    assert.deepEqual(offsets.body, {
      offsets: [{
        topic: "events",
        partition: 0,
        offset: 2,
        highWatermark: 2,
        lag: 0,
      }],
    });
    const more = await call(`${broker.url}/v1/topics/events/records`, "POST", {
      records: [{ value: 3, partition: 0 }],
    });
    assert.deepEqual(more.body, { offsets: [{ partition: 0, offset: 2 }] });
    stopped = await broker.stop("SIGINT");
    assert.equal(stopped.code, 0, stopped.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve: a bad config or flag exits 2 and says what is wrong", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = `${dir}/edgelog.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({ port: "9092", fsync: "sometimes" }),
    );
    for (
      const [args, pattern] of [
        [["--config", config], /fsync/],
        [["--port", "nope"], /--port/],
        [["--config", `${dir}/missing.json`], /Cannot read config file/],
      ] as const
    ) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", SERVE, ...args, "--data", `${dir}/d`],
        cwd: ROOT.pathname,
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      assert.equal(out.code, 2, args.join(" "));
      assert.match(new TextDecoder().decode(out.stderr), pattern);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
