/**
 * Figures sampled on each refresh and kept while the console is open (a
 * group's lag, a device's acked offsets), for charts of how they moved.
 *
 * @module
 */

/** Samples kept per series: ten minutes at one every three seconds. */
export const KEEP_SAMPLES = 200;

/** One series of samples. */
export interface Samples {
  times: number[];
  values: number[];
}

/** Series by name, each capped at {@linkcode KEEP_SAMPLES}. */
export class History {
  readonly #series = new Map<string, Samples>();
  readonly #limit: number;

  constructor(limit = KEEP_SAMPLES) {
    this.#limit = limit;
  }

  /** Adds a sample at `time`; a sample at the same time replaces the last. */
  add(name: string, time: number, value: number): void {
    let series = this.#series.get(name);
    if (!series) {
      series = { times: [], values: [] };
      this.#series.set(name, series);
    }
    if (series.times.at(-1) === time) {
      series.values[series.values.length - 1] = value;
      return;
    }
    series.times.push(time);
    series.values.push(value);
    if (series.times.length > this.#limit) {
      series.times.shift();
      series.values.shift();
    }
  }

  /** The samples of `name` (empty when none). */
  get(name: string): Samples {
    return this.#series.get(name) ?? { times: [], values: [] };
  }

  /**
   * The rate of change per second of `name` over its last `span` samples,
   * or undefined with fewer than two.
   */
  ratePerSecond(name: string, span = 5): number | undefined {
    const { times, values } = this.get(name);
    if (times.length < 2) return undefined;
    const from = Math.max(0, times.length - 1 - span);
    const dt = (times.at(-1)! - times[from]!) / 1000;
    return dt > 0 ? Math.max(0, (values.at(-1)! - values[from]!) / dt) : 0;
  }
}
