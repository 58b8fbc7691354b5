import assert from "node:assert/strict";
import { FakeBroker } from "../runtime/client/_fake_broker.ts";
import { cli, spawnCli } from "./cli_process.ts";

async function withBroker(
  fn: (broker: FakeBroker, url: string) => Promise<void>,
  token?: string,
): Promise<void> {
  const broker = new FakeBroker(token === undefined ? {} : { token });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    broker.app.fetch,
  );
  try {
    await fn(broker, `http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
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
    [["consume", "t", "--offset", "3"], /--offset needs --partition/],
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
});

Deno.test("cli: API errors exit 1 with code and message", async () => {
  await withBroker(async (_broker, url) => {
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

Deno.test("cli: create, produce, consume and inspect a group", async () => {
  await withBroker(async (broker, url) => {
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

    const produced = await cli(["produce", "t", "--key-separator", ":"], {
      url,
      stdin: 'k1:{"temp":21.5}\nk2:hello: world\n\nk3:42',
    });
    assert.equal(produced.code, 0, produced.stderr);
    assert.equal(produced.stderr, "Produced 3 record(s) to t.\n");
    assert.deepEqual(broker.topics.get("t")![0]!.map((r) => [r.key, r.value]), [
      ["k1", { temp: 21.5 }],
      ["k2", "hello: world"],
      ["k3", 42],
    ]);

    const noKey = await cli(["produce", "t", "--key-separator", ":"], {
      url,
      stdin: "a:1\nplain\n",
    });
    assert.equal(noKey.code, 2);
    assert.match(
      noKey.stderr,
      /Line 2 has no key separator ':' \(0 records were sent before it\)/,
    );
    assert.equal(broker.topics.get("t")![0]!.length, 3);

    const all = await cli(["consume", "t", "--from-beginning", "--print-key"], {
      url,
    });
    assert.equal(all.code, 0, all.stderr);
    assert.equal(
      all.stdout,
      'k1\t{"temp":21.5}\nk2\thello: world\nk3\t42\n',
    );
    assert.equal(all.stderr, "Processed a total of 3 message(s).\n");

    const fromOffset = await cli([
      "consume",
      "t",
      "--partition",
      "0",
      "--offset",
      "1",
      "--max-messages",
      "1",
      "--json",
    ], {
      url,
    });
    assert.equal(fromOffset.code, 0, fromOffset.stderr);
    const line = JSON.parse(fromOffset.stdout);
    assert.equal(line.offset, 1);
    assert.equal(line.key, "k2");

    const described = await cli(["topics", "describe", "t"], { url });
    assert.match(described.stdout, /^Topic: t {2}Partitions: 2/);
    assert.match(described.stdout, /^0 +0 +3 /m);

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
    assert.equal(broker.committed("g", "t", 0), 2);
    assert.equal(broker.members.size, 0, "the group consumer left on exit");

    const rest = await cli(["consume", "t", "--group", "g"], { url });
    assert.equal(
      rest.stdout,
      "42\n",
      "a group resumes from its committed offset",
    );

    const groups = await cli(["groups", "describe", "g"], { url });
    assert.equal(groups.code, 0, groups.stderr);
    assert.match(groups.stdout, /^t +0 +3 +3 +0$/m);

    const deleted = await cli(["topics", "delete", "t"], { url });
    assert.equal(deleted.stdout, "Deleted topic t.\n");
    assert.equal((await cli(["topics", "list"], { url })).stdout, "");
  });
});

Deno.test("cli: consume --follow waits for new records", async () => {
  await withBroker(async (broker, url) => {
    broker.createTopic("live");
    const parked = broker.nextLongPoll("live", 0);
    const follower = spawnCli(
      ["consume", "live", "-f", "--max-messages", "1"],
      { url },
    );
    await parked;
    broker.append("live", 0, { value: { n: 1 } });
    const run = await follower.done;
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '{"n":1}\n');
  });
});
