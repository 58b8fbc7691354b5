/**
 * Records in and out per second, per topic, over a sliding window: one
 * bucket per second in a ring, so memory is bounded by the window times the
 * number of topics, whatever the traffic. The console's live chart and the
 * topic list read it through `GET /v1/broker/rates`.
 *
 * @module
 */

import { type Clock, systemClock } from "../clock.ts";

/** Seconds a {@linkcode Rates} remembers by default: five minutes. */
export const DEFAULT_RATE_WINDOW_SECONDS = 300;

/** Options of {@linkcode Rates}. */
export interface RatesOptions {
  /** Default the system clock. */
  clock?: Clock;
  /** Seconds kept; default {@linkcode DEFAULT_RATE_WINDOW_SECONDS}. */
  windowSeconds?: number;
}

/** One topic's rates averaged over the last `seconds`. */
export interface TopicRate {
  topic: string;
  inPerSec: number;
  outPerSec: number;
}

/** Totals over every topic, one point per second, oldest first. */
export interface RateSeries {
  /** Start of each second, ms since the epoch. */
  t: number[];
  in: number[];
  out: number[];
}

interface Ring {
  in: Float64Array;
  out: Float64Array;
  /** The second each slot holds; a slot of another second counts as 0. */
  second: Float64Array;
}

/**
 * Per-second counts of records in and out, per topic.
 *
 * @example Usage
 * ```ts
 * import { ManualClock } from "../clock.ts";
 * import { Rates } from "./rates.ts";
 * const clock = new ManualClock(10_000);
 * const rates = new Rates({ clock });
 * rates.add("in", "t", 30);
 * clock.advance(1000);
 * console.assert(rates.topics(1)[0]?.inPerSec === 30);
 * ```
 */
export class Rates {
  readonly #clock: Clock;
  readonly #window: number;
  readonly #topics = new Map<string, Ring>();

  constructor(options: RatesOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#window = options.windowSeconds ?? DEFAULT_RATE_WINDOW_SECONDS;
  }

  /** Seconds kept. */
  get windowSeconds(): number {
    return this.#window;
  }

  /** Counts `records` into the current second of `topic`. */
  add(direction: "in" | "out", topic: string, records: number): void {
    let ring = this.#topics.get(topic);
    if (ring === undefined) {
      ring = {
        in: new Float64Array(this.#window),
        out: new Float64Array(this.#window),
        second: new Float64Array(this.#window).fill(-1),
      };
      this.#topics.set(topic, ring);
    }
    const second = this.#second();
    const slot = second % this.#window;
    if (ring.second[slot] !== second) {
      ring.second[slot] = second;
      ring.in[slot] = 0;
      ring.out[slot] = 0;
    }
    ring[direction][slot] = (ring[direction][slot] ?? 0) + records;
  }

  /**
   * Every topic's mean rate over the last `seconds` complete seconds (the
   * current one is still filling), sorted by name.
   */
  topics(seconds = 10): TopicRate[] {
    const span = Math.max(1, Math.min(seconds, this.#window - 1));
    const now = this.#second();
    const out: TopicRate[] = [];
    for (const [topic, ring] of this.#topics) {
      let sumIn = 0;
      let sumOut = 0;
      for (let s = now - span; s < now; s++) {
        const slot = s % this.#window;
        if (ring.second[slot] !== s) continue;
        sumIn += ring.in[slot] ?? 0;
        sumOut += ring.out[slot] ?? 0;
      }
      out.push({ topic, inPerSec: sumIn / span, outPerSec: sumOut / span });
    }
    return out.sort((a, b) => (a.topic < b.topic ? -1 : 1));
  }

  /** Totals over every topic for each complete second still held. */
  series(): RateSeries {
    const now = this.#second();
    const first = now - this.#window + 1;
    const series: RateSeries = { t: [], in: [], out: [] };
    for (let s = first; s < now; s++) {
      if (s < 0) continue;
      const slot = s % this.#window;
      let sumIn = 0;
      let sumOut = 0;
      for (const ring of this.#topics.values()) {
        if (ring.second[slot] !== s) continue;
        sumIn += ring.in[slot] ?? 0;
        sumOut += ring.out[slot] ?? 0;
      }
      series.t.push(s * 1000);
      series.in.push(sumIn);
      series.out.push(sumOut);
    }
    return series;
  }

  #second(): number {
    return Math.floor(this.#clock.now() / 1000);
  }
}
