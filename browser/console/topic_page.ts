/**
 * One topic: its config and, per partition, log start, high watermark,
 * records and size, with links into the message browser.
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

/** The page of topic `name`. */
export function TopicPage({ name }: { name: string }) {
  const topic = useResource(
    (signal) => api<TopicDescription>(topicPath(name), { signal }),
    [name],
  );
  const t = topic.data;
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
                  </tr>
          `
        )}</tbody>
      </table>
    `
  }
  </section>`;
}
