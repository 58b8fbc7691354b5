/**
 * One record in the message browser or the live tail: where it is, when it
 * was written (local time and relative), its key and headers, its value as
 * JSON, text or hex, and a button that copies it as JSON.
 *
 * @module
 */

import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { formatAgo, formatTime } from "./format.ts";
import {
  type ApiRecord,
  showKey,
  showValue,
  type ViewMode,
} from "./record_value.ts";
import { link } from "./route.ts";

/** A record as a card. */
export function RecordCard(
  { record, topic, mode, now }: {
    record: ApiRecord;
    topic: string;
    mode: ViewMode;
    now: number;
  },
) {
  const [copied, setCopied] = useState("");
  const shown = showValue(record, mode);
  const headers = Object.entries(record.headers ?? {});
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(JSON.stringify(record, null, 2));
      setCopied("Copied");
    } catch {
      setCopied("The browser refused the clipboard");
    }
  };
  return html`<article class="record" aria-label=${`Record ${record.partition}/${record.offset}`}>
    <header>
      <a href=${
    link("messages", topic, {
      p: record.partition,
      from: "offset",
      offset: record.offset,
    })
  }>partition ${record.partition} · offset ${record.offset}</a>
      <time datetime=${new Date(record.timestamp).toISOString()}>${
    formatTime(record.timestamp)
  } <span class="muted">(${formatAgo(record.timestamp, now)})</span></time>
      <button type="button" class="small" onClick=${copy}>Copy as JSON</button>
      <span role="status" class="muted">${copied}</span>
    </header>
    <div class="kv"><span class="k">key</span> <code class="record-key">${
    showKey(record)
  }</code></div>
    ${
    headers.length > 0 &&
    html`<dl class="headers" aria-label="Headers">${
      headers.map(([k, v]) =>
        html`
          <div>
            <dt>${k}</dt>
            <dd><code>${v}</code></dd>
          </div>
        `
      )
    }</dl>`
  }
    ${shown.note && html`<p class="muted">${shown.note}</p>`}
    <pre class=${`value ${shown.kind}`} tabindex="0" aria-label="Value">${shown.text}</pre>
  </article>`;
}
