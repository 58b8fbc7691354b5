/**
 * `GET /`: a small web console that uses only the public API: topics with
 * partition offsets, a produce form, a live tail over the SSE stream, groups
 * with lag, and sync streams when the node serves them (a gateway: its
 * streams to the upstream, with their errors, such as a topic the upstream
 * lacks). It reads the stream
 * with fetch rather than EventSource so a bearer token can be sent.
 *
 * @module
 */

/** The HTML of the console. */
export const CONSOLE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgelog console</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:center}
header a{color:#9cf}main{display:grid;grid-template-columns:1fr 1fr;gap:14px;padding:14px}
section{background:#fff;border:1px solid #d8dce3;border-radius:6px;padding:10px 14px;min-width:0}
h2{font-size:15px;margin:4px 0 8px}table{border-collapse:collapse;width:100%;font-size:13px}
td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left}th{color:#666;font-weight:600}
input,select,textarea{font:13px ui-monospace,monospace;margin:2px 4px 6px 0}
textarea{width:100%;box-sizing:border-box}#tail{height:260px;overflow:auto;background:#f0f2f5;font:12px ui-monospace,monospace;padding:6px;white-space:pre-wrap}
.err{color:#b00}.muted{color:#777}
</style></head><body>
<header><b>edgelog</b><span id="health" class="muted">…</span>
<a href="/docs">API docs</a><a href="/metrics">metrics</a>
<span>token <input id="token" size="24" placeholder="optional"></span></header>
<main>
<section><h2>Topics <button id="refresh">refresh</button></h2>
<table><thead><tr><th>topic</th><th>partition</th><th>log start</th><th>high watermark</th><th>bytes</th></tr></thead><tbody id="topics"></tbody></table>
<p><input id="newName" placeholder="new topic"><input id="newParts" type="number" min="1" value="1" style="width:60px">
<button id="create">create</button></p><div id="topicMsg"></div></section>
<section><h2>Produce</h2>
<select id="pTopic" class="topicSelect"></select><input id="pKey" placeholder="key (optional)">
<input id="pPart" type="number" min="0" placeholder="partition" style="width:80px">
<textarea id="pValue" rows="4" placeholder='value: JSON, e.g. {"t": 21.5} (text that is not JSON is sent as a string)'></textarea>
<button id="produce">produce</button><div id="produceMsg"></div></section>
<section><h2>Tail</h2>
<select id="tTopic" class="topicSelect"></select>
<select id="tFrom"><option>latest</option><option>earliest</option></select>
<button id="tailStart">start</button><button id="stop">stop</button>
<div id="tail"></div></section>
<section><h2>Consumer groups</h2>
<table><thead><tr><th>group</th><th>state</th><th>topic</th><th>partition</th><th>member</th><th>committed</th><th>lag</th></tr></thead><tbody id="groups"></tbody></table>
<h2>Sync streams</h2><table><thead><tr><th>node</th><th>topic</th><th>source</th><th>partition</th><th>acked</th><th>dropped</th><th>last seen</th></tr></thead><tbody id="streams"></tbody></table>
</section></main>
<script>
const $ = (id) => document.getElementById(id);
$("token").value = localStorage.getItem("edgelog.token") || "";
$("token").onchange = () => { localStorage.setItem("edgelog.token", $("token").value); refresh(); };
function headers(extra) {
  const h = Object.assign({}, extra);
  if ($("token").value) h.authorization = "Bearer " + $("token").value;
  return h;
}
async function api(path, init) {
  const res = await fetch(path, Object.assign({}, init, { headers: headers(init && init.headers) }));
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(res.status + " " + (body && body.error ? body.error.code + ": " + body.error.message : text));
  return body;
}
function row(tbody, cells) {
  const tr = document.createElement("tr");
  for (const c of cells) { const td = document.createElement("td"); td.textContent = c === null || c === undefined ? "–" : String(c); tr.append(td); }
  tbody.append(tr);
}
function message(id, text, isError) { $(id).textContent = text; $(id).className = isError ? "err" : "muted"; }
async function refreshTopics() {
  const tbody = $("topics"); tbody.textContent = "";
  const { topics } = await api("/v1/topics");
  for (const sel of document.querySelectorAll(".topicSelect")) {
    const keep = sel.value; sel.textContent = "";
    for (const t of topics) sel.append(new Option(t.name, t.name));
    if (keep) sel.value = keep;
  }
  for (const t of topics) {
    const d = await api("/v1/topics/" + encodeURIComponent(t.name));
    for (const p of d.partitions) row(tbody, [p.partition === 0 ? t.name : "", p.partition, p.logStartOffset, p.highWatermark, p.sizeBytes]);
  }
}
async function refreshGroups() {
  const tbody = $("groups"); tbody.textContent = "";
  const { groups } = await api("/v1/groups");
  for (const g of groups) {
    const d = await api("/v1/groups/" + encodeURIComponent(g.group));
    if (d.partitions.length === 0) row(tbody, [g.group, d.state, "", "", "", "", ""]);
    for (const p of d.partitions) row(tbody, [g.group, d.state, p.topic, p.partition, p.memberId, p.offset, p.lag]);
  }
}
async function refreshStreams() {
  const tbody = $("streams"); tbody.textContent = "";
  try {
    const { streams } = await api("/v1/sync/streams");
    for (const s of streams) row(tbody, [s.nodeId, s.topic, s.sourcePartition, s.partition, s.ackedOffset, s.droppedRecords, new Date(s.lastSeenMs).toLocaleString()]);
    return;
  } catch {}
  try {
    const status = await api("/v1/sync/status");
    for (const s of status.streams) {
      row(tbody, ["→ " + status.upstream, s.topic, s.sourcePartition, "", s.ackedOffset, s.droppedRecords,
        s.lastErrorCode ? s.lastErrorCode + ": " + s.lastError : s.lastSuccessMs ? new Date(s.lastSuccessMs).toLocaleString() : ""]);
      if (s.lastErrorCode) tbody.lastChild.className = "err";
    }
  } catch { row(tbody, ["(this node serves no sync streams)"]); }
}
async function syncWarning(topic) {
  try {
    const status = await api("/v1/sync/status");
    const failing = status.streams.filter((s) => s.topic === topic && s.lastErrorCode && s.lastErrorCode !== "UNREACHABLE");
    return failing.length === 0 ? "" : "; not synced upstream: " + failing[0].lastErrorCode + ": " + failing[0].lastError;
  } catch { return ""; }
}
async function refresh() {
  fetch("/healthz").then((r) => r.json()).then((h) => { $("health").textContent = h.status + (h.mqtt ? " · MQTT " + h.mqtt.state : ""); }).catch(() => { $("health").textContent = "unreachable"; });
  for (const f of [refreshTopics, refreshGroups, refreshStreams]) {
    try { await f(); } catch (e) { message("topicMsg", e.message, true); }
  }
}
$("refresh").onclick = refresh;
$("create").onclick = async () => {
  try {
    await api("/v1/topics", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: $("newName").value, partitions: Number($("newParts").value) }) });
    message("topicMsg", "created " + $("newName").value); refresh();
  } catch (e) { message("topicMsg", e.message, true); }
};
$("produce").onclick = async () => {
  let value;
  try { value = JSON.parse($("pValue").value); } catch { value = $("pValue").value; }
  const record = { value };
  if ($("pKey").value) record.key = $("pKey").value;
  if ($("pPart").value !== "") record.partition = Number($("pPart").value);
  try {
    const r = await api("/v1/topics/" + encodeURIComponent($("pTopic").value) + "/records", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ records: [record] }) });
    message("produceMsg", "partition " + r.offsets[0].partition + ", offset " + r.offsets[0].offset); refreshTopics();
    setTimeout(async () => {
      const warning = await syncWarning($("pTopic").value);
      if (warning) message("produceMsg", $("produceMsg").textContent + warning, true);
    }, 1000);
  } catch (e) { message("produceMsg", e.message, true); }
};
let tailAbort = null;
$("stop").onclick = () => { if (tailAbort) tailAbort.abort(); tailAbort = null; };
$("tailStart").onclick = async () => {
  $("stop").onclick();
  const out = $("tail"); out.textContent = "";
  tailAbort = new AbortController();
  const url = "/v1/topics/" + encodeURIComponent($("tTopic").value) + "/stream?from=" + $("tFrom").value;
  try {
    const res = await fetch(url, { headers: headers({ accept: "text/event-stream" }), signal: tailAbort.signal });
    if (!res.ok) throw new Error(res.status + " " + await res.text());
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf("\\n\\n")) >= 0) {
        const event = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
        const data = event.split("\\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\\n");
        if (!data) continue;
        const line = document.createElement("div");
        try { const r = JSON.parse(data); line.textContent = "p" + r.partition + "@" + r.offset + " " + (r.key ?? "") + " " + JSON.stringify(r.value ?? r.valueBase64); }
        catch { line.textContent = data; }
        out.append(line);
        while (out.childNodes.length > 500) out.firstChild.remove();
        out.scrollTop = out.scrollHeight;
      }
    }
  } catch (e) { if (e.name !== "AbortError") out.append(document.createTextNode(String(e))); }
};
refresh();
</script></body></html>
`;
