import assert from "node:assert/strict";
import { startBroker, tempDataDir } from "./broker_process.ts";
import { cli, spawnCli } from "./cli_process.ts";

/** Runs `fn` against a real broker process, with an admin token if given. */
async function withBroker(
  fn: (url: string) => Promise<void>,
  token?: string,
): Promise<void> {
  await using dir = await tempDataDir();
  const args: string[] = [];
  if (token !== undefined) {
    const config = `${dir.path}/config.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({ tokens: [{ token, rights: { admin: true } }] }),
    );
    args.push("--config", config);
  }
  await using broker = await startBroker({
    dataDir: `${dir.path}/data`,
    args,
  });
  await fn(broker.url);
  assert.equal(await broker.stop(), 0, broker.output());
}

/** A JSON request to the broker's API. */
async function api(
  url: string,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<unknown> {
  const response = await fetch(`${url}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: { "content-type": "application/json" },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  assert.ok(response.ok, `${path}: ${response.status} ${text}`);
  return text === "" ? undefined : JSON.parse(text);
}

/** Resolves once `count` long polls wait at the broker. */
async function longPolls(url: string, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const waiting = [
      ...text.matchAll(/^edgelog_long_poll_waiters(?:\{[^}]*\})? (\d+)$/gm),
    ].reduce((sum, match) => sum + Number(match[1]), 0);
    if (waiting >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`fewer than ${count} long polls waited within 10 s`);
}

Deno.test("cli: usage errors exit 2 with a message on stderr", async () => {
  const cases: [string[], RegExp][] = [
    [[], /Missing command/],
    [["bogus"], /Unknown command 'bogus'/],
    [["consume"], /Missing <topic>/],
    [
      ["consume", "t", "--max-messages", "x"],
      /--max-messages must be an integer >= 1, got 'x'/,
    ],
    [
      ["consume", "t", "--offset", "3"],
      /An absolute --offset needs --partition/,
    ],
    [["consume", "t", "-o", "soon"], /--offset must be beginning, end, N, -N/],
    [["consume", "t", "--from-time", "yesterday"], /--from-time must be/],
    [["consume", "t", "-o", "-5", "--from-beginning"], /Give one start/],
    [["consume", "t", "-f", "%q"], /Unknown format token '%q'/],
    [["consume", "t", "-f", "%s", "--json"], /exclude each other/],
    [
      ["consume", "t", "--group", "g", "-o", "-1"],
      /--group cannot be combined/,
    ],
    [
      ["produce", "t", "-H", "novalue"],
      /--header must be name=value, got 'novalue'/,
    ],
    [["topics", "list", "--bogus"], /Unknown option '--bogus'/],
    [["topics", "frobnicate"], /Unknown action 'topics frobnicate'/],
    [["topics", "list", "--url", "not a url"], /Not a URL: 'not a url'/],
  ];
  const runs = await Promise.all(cases.map(([args]) => cli(args)));
  runs.forEach((run, i) => {
    const [args, pattern] = cases[i]!;
    assert.equal(run.code, 2, `exit code of ${args.join(" ")}: ${run.stderr}`);
    assert.match(run.stderr, pattern);
    assert.match(run.stderr, /--help' for usage/);
    assert.equal(run.stdout, "");
  });
});

Deno.test("cli: --help on every command exits 0", async () => {
  const runs = await Promise.all(
    [
      ["--help"],
      ["topics", "--help"],
      ["produce", "-h"],
      ["consume", "--help"],
      ["groups", "create", "--help"],
    ]
      .map((args) => cli(args)),
  );
  for (const run of runs) {
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^Usage:/);
    assert.match(run.stdout, /--url URL/);
  }
  assert.match(runs[3]!.stdout, /--from-beginning/);
  assert.match(runs[3]!.stdout, /-f, --format FMT/);
  assert.match(runs[2]!.stdout, /-H, --header NAME=VALUE/);
});

Deno.test("cli: API errors exit 1 with code and message", async () => {
  await withBroker(async (url) => {
    const missing = await cli(["topics", "describe", "nope"], {
      url,
      token: "right",
    });
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      "error: TOPIC_NOT_FOUND: Topic 'nope' does not exist\n",
    );
    const refused = await cli(["topics", "list", "--token", "wrong"], { url });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: UNAUTHORIZED: /);
    const allowed = await cli(["topics", "list"], { url, token: "right" });
    assert.equal(allowed.code, 0, allowed.stderr);
  }, "right");
});

interface StoredRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: unknown;
  headers: Record<string, string>;
}

/** Every record of a topic, read over HTTP, in partition and offset order. */
async function readAll(url: string, topic: string): Promise<StoredRecord[]> {
  const { partitions } = await api(url, `/v1/topics/${topic}`) as {
    partitions: { partition: number }[];
  };
  const records: StoredRecord[] = [];
  for (const { partition } of partitions) {
    const page = await api(
      url,
      `/v1/topics/${topic}/partitions/${partition}/records?offset=earliest`,
    ) as { records: StoredRecord[] };
    records.push(...page.records);
  }
  return records;
}

Deno.test("cli: create, produce with headers and a tab separator, consume in every form, inspect a group", async () => {
  await withBroker(async (url) => {
    const created = await cli([
      "--url",
      url,
      "topics",
      "create",
      "t",
      "--partitions",
      "2",
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout, "Created topic t with 2 partition(s).\n");

    const produced = await cli(
      ["produce", "t", "-K", "\\t", "-H", "src=cli", "-H", "unit=C", "-p", "0"],
      { url, stdin: 'k1\t{"temp":21.5}\nk2\thello: world\n\nk3\t42' },
    );
    assert.equal(produced.code, 0, produced.stderr);
    assert.match(
      produced.stderr,
      /^Produced 3 record\(s\) to t in \d+\.\d s \(\d+ records\/s\)\.\n$/,
    );
    const stored = await readAll(url, "t");
    assert.deepEqual(
      stored.map((r) => [r.partition, r.key, r.value, r.headers]),
      [
        [0, "k1", { temp: 21.5 }, { src: "cli", unit: "C" }],
        [0, "k2", "hello: world", { src: "cli", unit: "C" }],
        [0, "k3", 42, { src: "cli", unit: "C" }],
      ],
    );

    const noKey = await cli(["produce", "t", "--key-separator", ":"], {
      url,
      stdin: "a:1\nplain\n",
    });
    assert.equal(noKey.code, 2);
    assert.match(
      noKey.stderr,
      /Line 2 has no key separator ':' \(0 records were sent before it\)/,
    );
    assert.equal((await readAll(url, "t")).length, 3, "nothing of it was sent");

    const all = await cli([
      "consume",
      "t",
      "--from-beginning",
      "--print-key",
      "-e",
    ], {
      url,
    });
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, 'k1\t{"temp":21.5}\nk2\thello: world\nk3\t42\n');
    assert.equal(all.stderr, "Processed a total of 3 message(s).\n");

    const formatted = await cli(
      ["consume", "t", "-o", "beginning", "-e", "-f", "%t/%p@%o %k=%s [%h]\\n"],
      { url },
    );
    assert.equal(
      formatted.stdout,
      't/0@0 k1={"temp":21.5} [src=cli,unit=C]\n' +
        "t/0@1 k2=hello: world [src=cli,unit=C]\n" +
        "t/0@2 k3=42 [src=cli,unit=C]\n",
    );

    const lastOne = await cli(["consume", "t", "-o", "-1", "-e", "--json"], {
      url,
    });
    const line = JSON.parse(lastOne.stdout);
    assert.equal(line.topic, "t");
    assert.equal(line.offset, 2);
    assert.equal(line.key, "k3");

    const fromOffset = await cli(
      ["consume", "t", "--partition", "0", "--offset", "1", "-e", "-f", "%o "],
      { url },
    );
    assert.equal(fromOffset.stdout, "1 2 ");

    await api(url, "/v1/topics", { body: { name: "timed" } });
    await api(url, "/v1/topics/timed/records", {
      body: {
        records: [1000, 2000, 3000].map((timestamp) => ({
          value: timestamp,
          timestamp,
        })),
      },
    });
    const byTime = await cli(
      [
        "consume",
        "timed",
        "--from-time",
        "1970-01-01T00:00:02Z",
        "-e",
        "-f",
        "%o@%T ",
      ],
      { url },
    );
    assert.equal(byTime.stdout, "1@2000 2@3000 ");
    const byMs = await cli([
      "consume",
      "timed",
      "-o",
      "s@2001",
      "-e",
      "-f",
      "%o ",
    ], {
      url,
    });
    assert.equal(byMs.stdout, "2 ");
    const afterAll = await cli(["consume", "timed", "-o", "s@3001", "-e"], {
      url,
    });
    assert.equal(afterAll.stdout, "");

    const grouped = await cli([
      "consume",
      "t",
      "--group",
      "g",
      "--from-beginning",
      "--max-messages",
      "2",
    ], { url });
    assert.equal(grouped.code, 0, grouped.stderr);
    assert.equal(grouped.stdout, '{"temp":21.5}\nhello: world\n');
    const offsets = await api(url, "/v1/groups/g/offsets?topic=t") as {
      offsets: { partition: number; offset: number }[];
    };
    assert.equal(offsets.offsets.find((o) => o.partition === 0)?.offset, 2);
    const described = await api(url, "/v1/groups/g") as { members: unknown[] };
    assert.equal(
      described.members.length,
      0,
      "the group consumer left on exit",
    );

    const rest = await cli(["consume", "t", "--group", "g", "-e"], { url });
    assert.equal(
      rest.stdout,
      "42\n",
      "a group resumes from its committed offset",
    );

    const groups = await cli(["groups", "describe", "g"], { url });
    assert.equal(groups.code, 0, groups.stderr);
    assert.match(groups.stdout, /^t +0 +3 +3 +0$/m);

    const topic = await cli(["topics", "describe", "t"], { url });
    assert.match(topic.stdout, /^Topic: t {2}Partitions: 2/);
    assert.match(topic.stdout, /^0 +0 +3 /m);

    const deleted = await cli(["topics", "delete", "t"], { url });
    assert.equal(deleted.stdout, "Deleted topic t.\n");
    assert.match((await cli(["topics", "list"], { url })).stdout, /^timed\b/);
  });
});

Deno.test("cli: consume waits for new records unless -e is given", async () => {
  await withBroker(async (url) => {
    await api(url, "/v1/topics", { body: { name: "live" } });
    const atEnd = await cli(["consume", "live", "-e"], { url });
    assert.equal(atEnd.code, 0, atEnd.stderr);
    assert.equal(atEnd.stdout, "");
    const follower = spawnCli(["consume", "live", "--max-messages", "1"], {
      url,
    });
    await longPolls(url, 1);
    await api(url, "/v1/topics/live/records", {
      body: { records: [{ value: { n: 1 } }] },
    });
    const run = await follower.done;
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '{"n":1}\n');
  });
});
