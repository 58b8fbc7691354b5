/**
 * What the benchmarks share: flag parsing, a description of the machine (so
 * every result file says where it was measured), result files, percentiles,
 * throughput rates and the cells of result tables.
 *
 * @module
 */

/** The machine a result was measured on. */
export interface Machine {
  cpus: number;
  cpuModel: string;
  deno: string;
  os: string;
  loadAverage: number;
  loadAverageAfter?: number;
}

/** The value after `name` in the command line, if given. */
export function flagValue(name: string): string | undefined {
  const at = Deno.args.indexOf(name);
  return at >= 0 ? Deno.args[at + 1] : undefined;
}

/** CPU count and model (from /proc/cpuinfo on Linux), Deno, load average. */
export async function machine(): Promise<Machine> {
  let cpuModel = "unknown CPU";
  let loadAverage = NaN;
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(info)?.[1] ?? cpuModel;
    loadAverage = Number(
      (await Deno.readTextFile("/proc/loadavg")).split(" ")[0],
    );
  } catch {
    // Not Linux: the model and load stay unknown.
  }
  return {
    cpus: navigator.hardwareConcurrency,
    cpuModel,
    deno: Deno.version.deno,
    os: Deno.build.os,
    loadAverage,
  };
}

/**
 * `before` with the load average at the end of the run, so a result shows
 * whether other work loaded the machine while it was measured.
 */
export async function machineAfter(before: Machine): Promise<Machine> {
  return { ...before, loadAverageAfter: (await machine()).loadAverage };
}

/**
 * Deno flags that make a broker subprocess write a CPU profile into
 * bench/results/prof when the command line says `--profile`; none otherwise.
 */
export function profileFlags(): string[] {
  if (!Deno.args.includes("--profile")) return [];
  const dir = new URL("./results/prof", import.meta.url).pathname;
  return ["--cpu-prof", `--cpu-prof-dir=${dir}`];
}

/** Writes `results` to bench/results/<name>.json. */
export async function writeResults(
  name: string,
  results: unknown,
): Promise<void> {
  const dir = new URL("./results/", import.meta.url);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    new URL(`${name}.json`, dir),
    JSON.stringify(results, null, 2) + "\n",
  );
}

/** The `p` quantile (0..1) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ??
    NaN;
}

/** The median of `values` (any order); NaN when empty. */
export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 0.5);
}

/** How long records took to arrive, in milliseconds. */
export interface LatencySummary {
  records: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** The count, median, 99th percentile and maximum of `samples` (ms). */
export function summarizeLatency(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    records: sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.at(-1) ?? NaN,
  };
}

/** Records and bytes a phase moved in `seconds`, with the rates. */
export interface Throughput {
  records: number;
  bytes: number;
  seconds: number;
  recordsPerSec: number;
  mbPerSec: number;
}

/** The rates of `records` and `bytes` moved in `seconds`. */
export function throughput(
  records: number,
  bytes: number,
  seconds: number,
): Throughput {
  return {
    records,
    bytes,
    seconds,
    recordsPerSec: records / seconds,
    mbPerSec: bytes / seconds / 1e6,
  };
}

/** The first line of a result table: where it was measured. */
export function describeMachine(m: Machine): string {
  return `${m.cpuModel}, ${m.cpus} CPUs, load ${m.loadAverage} → ${m.loadAverageAfter}`;
}

/** A count with thousands separators, for result tables. */
export function count(x: number): string {
  return Math.round(x).toLocaleString("en-US");
}

/** A number with `digits` decimals, for result tables. */
export function fixed(x: number, digits = 1): string {
  return x.toFixed(digits);
}

/** Whether a target was met, for result tables. */
export function mark(ok: boolean): string {
  return ok ? "yes" : "**no**";
}
