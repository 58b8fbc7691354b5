/**
 * Prometheus text exposition, written by hand: counters and a latency
 * histogram kept here, and gauges (offsets, sizes, lag, waiters) read from
 * the log and the groups at scrape time so they are never stale.
 *
 * @module
 */

import type { GroupCoordinator } from "../groups/mod.ts";
import type { Log } from "../log/mod.ts";
import { Rates } from "./rates.ts";

type Labels = Readonly<Record<string, string | number>>;

interface Family<T> {
  help: string;
  samples: Map<string, { labels: Labels; value: T }>;
}

interface HistogramValue {
  buckets: number[];
  sum: number;
  count: number;
}

/** Upper bounds (seconds) of the request latency buckets. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.001,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
];

/** A Prometheus label value, escaped for the text format. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(
    /\n/g,
    "\\n",
  );
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) =>
    `${k}="${escapeLabel(String(v))}"`
  );
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/**
 * A sample's map key. Built by hand (no JSON, no entry arrays): it runs
 * several times per request. The separators are control characters, which
 * names and routes cannot hold.
 */
function keyOf(labels: Labels): string {
  let key = "";
  for (const name in labels) key += name + "\u0001" + labels[name] + "\u0002";
  return key;
}

function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return Number.isNaN(value) ? "NaN" : String(value);
}

/** A gauge family read at scrape time from a part that registered it. */
export interface GaugeFamily {
  name: string;
  help: string;
  samples: { labels: Labels; value: number }[];
}

/** Sources of the gauges read at scrape time. */
export interface MetricsSources {
  log?: Log;
  groups?: GroupCoordinator;
}

/**
 * The counters of one node. The server counts requests and records out;
 * records in come from the log's append events, so sync appends count too.
 * Other parts (sync) add their own counters with {@linkcode Metrics.inc}.
 */
export class Metrics {
  /** Records in and out per second over a sliding window, per topic. */
  readonly rates: Rates;
  #counters = new Map<string, Family<number>>();
  #attached = new WeakSet<Log>();
  #limits = new Map<string, { max: number; inUse: () => number }>();
  #gauges: (() => GaugeFamily[])[] = [];
  #latency: Family<HistogramValue> = {
    help: "HTTP request latency by route, method and status",
    samples: new Map(),
  };

  /** `rates` defaults to a five-minute window on the system clock. */
  constructor(options: { rates?: Rates } = {}) {
    this.rates = options.rates ?? new Rates();
  }

  /** Adds `by` to the counter `name` (created on first use) at `labels`. */
  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    let family = this.#counters.get(name);
    if (!family) {
      family = { help, samples: new Map() };
      this.#counters.set(name, family);
    }
    const key = keyOf(labels);
    const sample = family.samples.get(key);
    if (sample) sample.value += by;
    else family.samples.set(key, { labels, value: by });
  }

  /**
   * Counts every append of `log` as records in (once per log, however many
   * apps share this Metrics) and reports its topic and partition limits.
   */
  attach(log: Log): void {
    if (this.#attached.has(log)) return;
    this.#attached.add(log);
    log.onAppend((e) => this.recordsIn(e.topic, e.records, e.bytes));
    const { maxTopics, maxPartitionsPerTopic, maxPartitions } = log.limits;
    this.trackLimit("maxTopics", maxTopics, () => log.topicCount);
    this.trackLimit("maxPartitions", maxPartitions, () => log.partitionCount);
    this.trackLimit(
      "maxPartitionsPerTopic",
      maxPartitionsPerTopic,
      () => Math.max(0, ...log.listTopics().map((t) => t.partitions)),
    );
  }

  /**
   * Adds gauges that `read` answers at every scrape (the Kafka mirror's
   * lag and state); returns a function that removes them.
   */
  addGauges(read: () => GaugeFamily[]): () => void {
    this.#gauges.push(read);
    return () => {
      this.#gauges = this.#gauges.filter((g) => g !== read);
    };
  }

  /** The current value of a counter, for tests and status pages. */
  value(name: string, labels: Labels = {}): number {
    return this.#counters.get(name)?.samples.get(keyOf(labels))?.value ?? 0;
  }

  /**
   * Reports a configured limit: its value and, read at scrape time, how much
   * of it is in use.
   */
  trackLimit(limit: string, max: number, inUse: () => number): void {
    this.#limits.set(limit, { max, inUse });
  }

  /** Counts one request or connection refused at `limit`. */
  limitRefused(limit: string): void {
    this.inc(
      "edgelog_limit_refusals_total",
      "Requests and connections refused at a configured limit",
      { limit },
    );
  }

  /** Counts records and bytes appended to a topic. */
  recordsIn(topic: string, records: number, bytes: number): void {
    this.rates.add("in", topic, records);
    this.inc(
      "edgelog_records_in_total",
      "Records appended, by topic",
      { topic },
      records,
    );
    this.inc(
      "edgelog_bytes_in_total",
      "Batch bytes appended, by topic",
      { topic },
      bytes,
    );
  }

  /** Counts records and bytes served to readers of a topic. */
  recordsOut(topic: string, records: number, bytes: number): void {
    this.rates.add("out", topic, records);
    this.inc(
      "edgelog_records_out_total",
      "Records served to readers, by topic",
      { topic },
      records,
    );
    this.inc(
      "edgelog_bytes_out_total",
      "Response bytes served to readers, by topic",
      { topic },
      bytes,
    );
  }

  /** Counts one HTTP request and its latency. */
  observeRequest(
    labels: { route: string; method: string; status: number },
    seconds: number,
  ): void {
    this.inc(
      "edgelog_http_requests_total",
      "HTTP requests by route, method and status",
      labels,
    );
    const key = keyOf(labels);
    let sample = this.#latency.samples.get(key);
    if (!sample) {
      sample = {
        labels,
        value: { buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 },
      };
      this.#latency.samples.set(key, sample);
    }
    const h = sample.value;
    LATENCY_BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) h.buckets[i] = (h.buckets[i] ?? 0) + 1;
    });
    h.sum += seconds;
    h.count += 1;
  }

  /** The Prometheus text exposition of every metric. */
  render(sources: MetricsSources = {}): string {
    const out: string[] = [];
    for (const [name, family] of this.#counters) {
      out.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} counter`);
      for (const { labels, value } of family.samples.values()) {
        out.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
      }
    }
    this.#renderLatency(out);
    this.#renderLimits(out);
    if (sources.log) renderLog(out, sources.log);
    if (sources.groups) renderGroups(out, sources.groups);
    for (const read of this.#gauges) {
      for (const family of read()) {
        gauge(out, family.name, family.help, family.samples);
      }
    }
    return out.join("\n") + "\n";
  }

  /** Reports the member cap of `groups` and the largest group. */
  trackGroups(groups: GroupCoordinator): void {
    this.trackLimit(
      "maxGroupMembers",
      groups.maxGroupMembers,
      () => Math.max(0, ...groups.listGroups().map((g) => g.members)),
    );
  }

  #renderLimits(out: string[]): void {
    if (this.#limits.size === 0) return;
    const limits = [...this.#limits];
    gauge(
      out,
      "edgelog_limit",
      "A configured limit",
      limits.map(([limit, { max }]) => ({ labels: { limit }, value: max })),
    );
    gauge(
      out,
      "edgelog_limit_in_use",
      "How much of a configured limit is in use",
      limits.map(([limit, { inUse }]) => ({
        labels: { limit },
        value: inUse(),
      })),
    );
  }

  #renderLatency(out: string[]): void {
    const name = "edgelog_http_request_duration_seconds";
    out.push(
      `# HELP ${name} ${this.#latency.help}`,
      `# TYPE ${name} histogram`,
    );
    for (const { labels, value } of this.#latency.samples.values()) {
      LATENCY_BUCKETS.forEach((bound, i) => {
        const le = { ...labels, le: formatValue(bound) };
        out.push(`${name}_bucket${formatLabels(le)} ${value.buckets[i]}`);
      });
      out.push(
        `${name}_bucket${
          formatLabels({ ...labels, le: "+Inf" })
        } ${value.count}`,
        `${name}_sum${formatLabels(labels)} ${value.sum}`,
        `${name}_count${formatLabels(labels)} ${value.count}`,
      );
    }
  }
}

function gauge(
  out: string[],
  name: string,
  help: string,
  samples: { labels: Labels; value: number }[],
): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
  for (const { labels, value } of samples) {
    out.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
  }
}

function renderLog(out: string[], log: Log): void {
  const starts: { labels: Labels; value: number }[] = [];
  const highs: { labels: Labels; value: number }[] = [];
  const sizes: { labels: Labels; value: number }[] = [];
  const waiters: { labels: Labels; value: number }[] = [];
  const damaged: { labels: Labels; value: number }[] = [];
  for (const topic of log.listTopics()) {
    for (const p of log.partitions(topic.name)) {
      const labels = { topic: topic.name, partition: p.partition };
      if (p.corruptions !== undefined) {
        damaged.push({ labels, value: p.corruptions.length });
      }
      starts.push({ labels, value: p.logStartOffset });
      highs.push({ labels, value: p.highWatermark });
      sizes.push({ labels, value: p.sizeBytes });
      waiters.push({
        labels,
        value: log.partition(topic.name, p.partition).waiters,
      });
    }
  }
  gauge(
    out,
    "edgelog_partition_log_start_offset",
    "First offset held by a partition",
    starts,
  );
  gauge(
    out,
    "edgelog_partition_high_watermark",
    "Offset the next record of a partition will get",
    highs,
  );
  gauge(
    out,
    "edgelog_partition_size_bytes",
    "Bytes held by a partition",
    sizes,
  );
  gauge(
    out,
    "edgelog_long_poll_waiters",
    "Readers waiting for records on a partition",
    waiters,
  );
  out.push(
    "# HELP edgelog_storage_corruptions_total Damaged byte ranges found in a partition's stored log since start, kept aside and skipped",
    "# TYPE edgelog_storage_corruptions_total counter",
  );
  for (const { labels, value } of damaged) {
    out.push(
      `edgelog_storage_corruptions_total${formatLabels(labels)} ${
        formatValue(value)
      }`,
    );
  }
}

function renderGroups(out: string[], groups: GroupCoordinator): void {
  const members: { labels: Labels; value: number }[] = [];
  const lag: { labels: Labels; value: number }[] = [];
  const committed: { labels: Labels; value: number }[] = [];
  for (const g of groups.listGroups()) {
    members.push({ labels: { group: g.group }, value: g.members });
    for (const o of groups.committed(g.group)) {
      const labels = { group: g.group, topic: o.topic, partition: o.partition };
      lag.push({ labels, value: o.lag });
      committed.push({ labels, value: o.offset });
    }
  }
  gauge(out, "edgelog_group_members", "Members of a consumer group", members);
  gauge(
    out,
    "edgelog_group_committed_offset",
    "Committed offset of a group on a partition",
    committed,
  );
  gauge(
    out,
    "edgelog_group_lag",
    "Records between a group's committed offset and the high watermark",
    lag,
  );
}
