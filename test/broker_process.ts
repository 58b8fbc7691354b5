/**
 * Starts a node (by default the broker, `edge/serve.ts`) as a child process
 * on a data directory, the way an operator would, so fault and load tests and
 * benchmarks exercise the real binary: its HTTP server, its fsyncs and its
 * recovery after SIGKILL.
 *
 * @module
 */

/**
 * The broker's entry point: `edge/serve.ts`, or the script named by
 * `EDGELOG_BROKER_ENTRY`, so these contract tests can run against another
 * build of the broker.
 */
export const BROKER_ENTRY = Deno.env.get("EDGELOG_BROKER_ENTRY") ??
  new URL("../edge/serve.ts", import.meta.url).pathname;

/**
 * The `deno run` flags of a task in deno.json (its permissions and V8
 * flags): those before the script.
 */
function taskFlags(
  config: { tasks?: Record<string, string> },
  task: string,
): string[] {
  const words = (config.tasks?.[task] ?? "").trim().split(/\s+/);
  const run = words.indexOf("run");
  if (run < 0) throw new Error(`deno.json has no 'deno run' task '${task}'`);
  const flags: string[] = [];
  for (const word of words.slice(run + 1)) {
    if (!word.startsWith("--")) break;
    flags.push(word);
  }
  return flags;
}

/**
 * The environment a task in deno.json sets before `deno` (`NAME=value`
 * words), such as the allocator's tunables.
 */
function taskEnv(
  config: { tasks?: Record<string, string> },
  task: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const word of (config.tasks?.[task] ?? "").trim().split(/\s+/)) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(word);
    if (match === null) break;
    env[match[1]!] = match[2]!;
  }
  return env;
}

const DENO_JSON = JSON.parse(
  await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
);

/** The flags `deno task serve` runs the broker with. */
const SERVE_FLAGS = taskFlags(DENO_JSON, "serve");

/** The environment `deno task serve` runs the broker in. */
export const SERVE_ENV = taskEnv(DENO_JSON, "serve");

/** The ready line names the URL the node listens on; only whole lines count. */
const READY_URL = /https?:\/\/127\.0\.0\.1:\d+/;

/** Keep at most this much of the child's output for error messages. */
const OUTPUT_KEEP = 16 * 1024;

/** Options of {@linkcode startBroker}. */
export interface StartBrokerOptions {
  /** Data directory; default a new temporary one (see `dataDir` then). */
  dataDir?: string;
  /** Script to run instead of the broker (a gateway, a bench server). */
  entry?: string;
  /** Extra arguments after `--data DIR`. */
  args?: string[];
  /** Extra `deno run` flags before the script, e.g. `--cpu-prof`. */
  denoFlags?: string[];
  /** Give up waiting for the ready line after this long; default 15 s. */
  readyTimeoutMs?: number;
  /** Environment over the serve task's (e.g. `GLIBC_TUNABLES: ""`). */
  env?: Record<string, string>;
}

/** A running node process. */
export interface BrokerProcess {
  /** `http://127.0.0.1:PORT`, parsed from the ready line. */
  url: string;
  pid: number;
  dataDir: string;
  /** SIGTERM, then its exit code (0 after a clean shutdown). */
  stop(): Promise<number>;
  /** SIGKILL: no shutdown code runs. Resolves once the process is gone. */
  kill9(): Promise<void>;
  /** What the process printed so far (the tail), for failure messages. */
  output(): string;
  /** Stops it with SIGKILL if it still runs. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts the broker (`deno run … edge/serve.ts --host 127.0.0.1 --port 0
 * --data DIR`) and resolves when it printed its ready line. Restart on the
 * same directory by passing the first process's `dataDir`.
 *
 * @example Usage
 * ```ts ignore
 * await using dir = await tempDataDir();
 * await using broker = await startBroker({ dataDir: dir.path });
 * const res = await fetch(`${broker.url}/healthz`);
 * ```
 */
export async function startBroker(
  options: StartBrokerOptions = {},
): Promise<BrokerProcess> {
  const dataDir = options.dataDir ??
    await Deno.makeTempDir({ prefix: "edgelog-broker-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...SERVE_FLAGS,
      ...(options.denoFlags ?? []),
      options.entry ?? BROKER_ENTRY,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--data",
      dataDir,
      ...(options.args ?? []),
    ],
    env: { ...SERVE_ENV, ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let tail = "";
  const ready = Promise.withResolvers<string>();
  const onText = (text: string) => {
    tail = (tail + text).slice(-OUTPUT_KEEP);
    const found = READY_URL.exec(tail.slice(0, tail.lastIndexOf("\n") + 1));
    if (found) ready.resolve(found[0]);
  };
  const drained = Promise.all([
    drain(child.stdout, onText),
    drain(child.stderr, onText),
  ]);
  const status = child.status.then(async (s) => {
    await drained;
    ready.reject(
      new Error(`Node exited with ${s.code} before it was ready:\n${tail}`),
    );
    return s;
  });

  const timeoutMs = options.readyTimeoutMs ?? 15_000;
  const timer = setTimeout(
    () =>
      ready.reject(
        new Error(`Node printed no ready line in ${timeoutMs} ms:\n${tail}`),
      ),
    timeoutMs,
  );
  let url: string;
  try {
    url = await ready.promise;
  } catch (err) {
    signal(child, "SIGKILL");
    await status;
    throw err;
  } finally {
    clearTimeout(timer);
  }

  let exited = false;
  const exit = status.then((s) => {
    exited = true;
    return s;
  });
  return {
    url,
    pid: child.pid,
    dataDir,
    async stop() {
      signal(child, "SIGTERM");
      return (await exit).code;
    },
    async kill9() {
      signal(child, "SIGKILL");
      await exit;
    },
    output: () => tail,
    async [Symbol.asyncDispose]() {
      if (!exited) signal(child, "SIGKILL");
      await exit;
    },
  };
}

/** A temporary directory that removes itself when disposed. */
export interface TempDir {
  path: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Makes a temporary data directory for `await using`. */
export async function tempDataDir(): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix: "edgelog-data-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/**
 * Resident set size of a process in bytes, from `/proc/<pid>/status`
 * (Linux only); undefined when the process is gone.
 */
export async function readRssBytes(pid: number): Promise<number | undefined> {
  let status: string;
  try {
    status = await Deno.readTextFile(`/proc/${pid}/status`);
  } catch {
    return undefined;
  }
  const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}

/**
 * CPU time (user + system) a process has used so far, in seconds, from
 * `/proc/<pid>/stat` (Linux only, 100 ticks per second); undefined when the
 * process is gone.
 */
export async function readCpuSeconds(
  pid: number,
): Promise<number | undefined> {
  let stat: string;
  try {
    stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // Fields after the parenthesised command: state is field 3, utime 14,
  // stime 15 (1-based), so utime and stime are 11 and 12 here.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Samples a process's RSS every `intervalMs` until stopped. */
export class RssSampler {
  #samples: number[] = [];
  #timer: ReturnType<typeof setInterval>;

  constructor(pid: number, intervalMs = 100) {
    this.#timer = setInterval(async () => {
      const rss = await readRssBytes(pid);
      if (rss !== undefined) this.#samples.push(rss);
    }, intervalMs);
  }

  /** Largest sample so far, in bytes (0 before the first). */
  get max(): number {
    return this.#samples.reduce((a, b) => Math.max(a, b), 0);
  }

  /** Latest sample, in bytes (0 before the first). */
  get last(): number {
    return this.#samples.at(-1) ?? 0;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

function signal(child: Deno.ChildProcess, sig: Deno.Signal): void {
  try {
    child.kill(sig);
  } catch {
    // Already exited: nothing to signal.
  }
}

async function drain(
  stream: ReadableStream<Uint8Array>,
  onText: (text: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    onText(decoder.decode(chunk, { stream: true }));
  }
}
