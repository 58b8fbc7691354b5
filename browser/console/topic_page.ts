/**
 * One topic: its config and, per partition, log start, high watermark,
 * records and size, with links into the message browser; on a broker that
 * mirrors the topic into Kafka, each partition's mirror state and lag, a
 * stopped one in red with its reason.
 *
 * @module
 */

import { html } from "htm/preact";
import { api, topicPath } from "./api.ts";
import { formatBytes, formatCount, formatRetention } from "./format.ts";
import { useResource } from "./hooks.ts";
import { link } from "./route.ts";
import type { TopicDescription } from "./types.ts";
import { Cell, ErrorNote, Loading } from "./ui.ts";

/** A partition's Kafka mirror, as `GET /v1/topics/{t}` describes it. */
interface MirrorInfo {
  state: "starting" | "mirroring" | "retrying" | "stopped";
  mirroredOffset: number;
  lag: number;
  error: string | null;
}

function mirrorOf(partition: object): MirrorInfo | undefined {
  return (partition as { kafkaMirror?: MirrorInfo }).kafkaMirror;
}

function MirrorCell({ mirror }: { mirror: MirrorInfo | undefined }) {
  if (mirror === undefined) {
    return html`<${Cell} label="Kafka mirror">–</${Cell}>`;
  }
  const bad = mirror.state === "stopped" || mirror.error !== null;
  return html`
    <${Cell}
      label="Kafka mirror"><span class=${bad ? "bad" : ""}>${mirror
        .state}</span>, lag ${formatCount(mirror.lag)}${mirror.error === null
        ? ""
        : html`<br /><span class="bad">${mirror.error}</span>`}</${Cell}>
  `;
}

/** The page of topic `name`. */
export function TopicPage({ name }: { name: string }) {
  const topic = useResource(
    (signal) => api<TopicDescription>(topicPath(name), { signal }),
    [name],
  );
  const t = topic.data;
  const mirrored = t?.partitions.some((p) => mirrorOf(p) !== undefined) ??
    false;
  return html`<section aria-labelledby="topic-title">
    <p class="crumbs"><a href=${link("topics")}>Topics</a> /</p>
    <h1 id="topic-title">${name}</h1>
    <${ErrorNote} error=${topic.error} what=${`read topic ${name}`} />
    ${
    !t ? !topic.error && html`<${Loading} />` : html`
      <p class="row">
        <a class="button" href=${link("messages", name)}>Browse messages</a>
        <a class="button" href=${link("produce", name)}>Produce</a>
      </p>
      <h2>Config</h2>
      <dl class="config">
        <dt>Partitions</dt>
        <dd>${t.partitions.length}</dd>
        <dt>Retention</dt>
        <dd>${formatRetention(t.retentionMs, -1)} (retentionMs ${t
          .retentionMs})</dd>
        <dt>Retention bytes</dt>
        <dd>${t.retentionBytes < 0
          ? "unlimited"
          : formatBytes(t.retentionBytes)} (retentionBytes ${t
          .retentionBytes})</dd>
        <dt>Cleanup policy</dt>
        <dd>${t.cleanupPolicy}</dd>
      </dl>
      <h2>Partitions</h2>
      <table class="rows">
        <caption class="sr-only">Partitions of ${name}</caption>
        <thead>
          <tr>
            <th scope="col">Partition</th>
            <th scope="col">Log start</th>
            <th scope="col">High watermark</th>
            <th scope="col">Records</th>
            <th scope="col">Size</th>
            ${mirrored && html`<th scope="col">Kafka mirror</th>`}
          </tr>
        </thead>
        <tbody>${t.partitions.map((p) =>
          html`
            <tr key=${p.partition}>
              <${Cell}
                label="Partition"><a href=${link("messages", name, {
                  p: p.partition,
                })}>${p.partition}</a></${Cell}>
                    <${Cell} label="Log start">${formatCount(
                      p.logStartOffset,
                    )}</${Cell}>
                    <${Cell} label="High watermark">${formatCount(
                      p.highWatermark,
                    )}</${Cell}>
                    <${Cell} label="Records">${formatCount(
                      p.highWatermark - p.logStartOffset,
                    )}</${Cell}>
                    <${Cell} label="Size">${formatBytes(p.sizeBytes)}</${Cell}>
                    ${mirrored && html`<${MirrorCell} mirror=${mirrorOf(p)} />`}
                  </tr>
          `
        )}</tbody>
      </table>
    `
  }
  </section>`;
}
