/**
 * `deno task bench`: runs every benchmark script in its own subprocess, one
 * after another (so none competes with another for the two CPUs or the
 * disk), each printing its markdown table and writing
 * bench/results/<name>.json. A script that is absent is skipped; one that
 * fails is reported and the rest still run.
 *
 * Run: `deno task bench [--only name[,name…]] [flags]`, names: storage, open,
 * http, listener, sync, fleet, idb, browser_sync, validation, console, soak;
 * `--minutes N` goes to the soak.
 *
 * @module
 */

/**
 * The benchmarks in the order they run, by name and script, with the
 * flags of this command line each one is given.
 */
const BENCHES: readonly (readonly [string, string, readonly string[]])[] = [
  ["storage", "storage_bench.ts", []],
  ["open", "open_bench.ts", []],
  ["http", "http_bench.ts", []],
  ["listener", "listener_bench.ts", []],
  ["sync", "sync_bench.ts", []],
  ["fleet", "fleet_bench.ts", []],
  ["idb", "idb_bench.ts", []],
  ["browser_sync", "browser_sync_bench.ts", []],
  ["validation", "validation_bench.ts", []],
  ["console", "console_bench.ts", []],
  ["soak", "soak_bench.ts", ["--minutes"]],
];

type Outcome = "ok" | "failed" | "skipped";

function selected(): Set<string> {
  const names = new Set<string>(BENCHES.map(([name]) => name));
  const at = Deno.args.indexOf("--only");
  if (at < 0) return names;
  const only = (Deno.args[at + 1] ?? "").split(",").filter((s) => s !== "");
  for (const name of only) {
    if (!names.has(name)) {
      throw new Error(
        `Unknown benchmark '${name}'; known: ${[...names].join(", ")}`,
      );
    }
  }
  if (only.length === 0) throw new Error("--only needs a benchmark name");
  return new Set(only);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The `--name value` pairs of this command line named in `flags`. */
function passedFlags(flags: readonly string[]): string[] {
  return flags.flatMap((flag) => {
    const at = Deno.args.indexOf(flag);
    const value = Deno.args[at + 1];
    return at < 0 || value === undefined ? [] : [flag, value];
  });
}

async function runOne(
  name: string,
  script: string,
  flags: readonly string[],
): Promise<Outcome> {
  const path = new URL(`./${script}`, import.meta.url).pathname;
  if (!await exists(path)) {
    console.log(`\n## ${name}: skipped (${script} is absent)`);
    return "skipped";
  }
  console.log(`\n## ${name} (bench/${script})\n`);
  const started = performance.now();
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", path, ...passedFlags(flags)],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (code !== 0) {
    console.log(
      `\n${name}: **failed** with exit code ${code} after ${seconds} s`,
    );
    return "failed";
  }
  console.error(`${name}: done in ${seconds} s`);
  return "ok";
}

async function main(): Promise<number> {
  let names: Set<string>;
  try {
    names = selected();
  } catch (err) {
    console.error(`bench: ${(err as Error).message}`);
    return 2;
  }
  const outcomes: [string, Outcome][] = [];
  for (const [name, script, flags] of BENCHES) {
    if (names.has(name)) {
      outcomes.push([name, await runOne(name, script, flags)]);
    }
  }
  console.log(
    `\n${outcomes.map(([name, outcome]) => `${name}: ${outcome}`).join(", ")}`,
  );
  return outcomes.some(([, outcome]) => outcome === "failed") ? 1 : 0;
}

Deno.exit(await main());
