/**
 * `/docs`: a self-contained page over `/openapi.json` that lists every
 * operation with its parameters, body schema and answers, and can send a
 * request. No CDN, so it works on an offline edge network.
 *
 * @module
 */

/** The HTML of the docs page. */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>edgelog API</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:12px 20px}header a{color:#9cf}
main{max-width:1000px;margin:0 auto;padding:16px}
details{background:#fff;border:1px solid #d8dce3;border-radius:6px;margin:8px 0}
summary{cursor:pointer;padding:8px 12px;font-family:ui-monospace,monospace}
.m{display:inline-block;width:64px;font-weight:700}.get{color:#0a7}.post{color:#06c}.delete{color:#c33}
.body{padding:4px 14px 12px}pre{background:#f0f2f5;padding:8px;overflow:auto;max-height:320px}
input,textarea{font:13px ui-monospace,monospace;width:100%;box-sizing:border-box;margin:2px 0 6px}
label{font-size:12px;color:#555}button{padding:4px 12px}
</style></head><body>
<header><b>edgelog HTTP API</b> &middot; <a href="/openapi.json">openapi.json</a> &middot; <a href="/">console</a>
&middot; token <input id="token" style="width:240px" placeholder="bearer token (optional)"></header>
<main id="ops">Loading /openapi.json…</main>
<script>
const tokenInput = document.getElementById("token");
tokenInput.value = localStorage.getItem("edgelog.token") || "";
tokenInput.onchange = () => localStorage.setItem("edgelog.token", tokenInput.value);
function el(tag, props, ...kids) {
  const e = Object.assign(document.createElement(tag), props || {});
  for (const k of kids) e.append(k);
  return e;
}
function resolve(doc, schema) {
  if (schema && schema.$ref) return doc.components.schemas[schema.$ref.split("/").pop()];
  return schema;
}
function operation(doc, path, method, op) {
  const box = el("div", { className: "body" });
  if (op.description) box.append(el("p", { textContent: op.description }));
  const inputs = {};
  for (const p of op.parameters || []) {
    box.append(el("label", { textContent: p.in + " " + p.name + (p.required ? " (required)" : "") }));
    inputs[p.in + ":" + p.name] = box.appendChild(el("input", { placeholder: (p.schema && p.schema.type) || "" }));
  }
  let bodyInput = null, bodyType = null;
  const content = op.requestBody && op.requestBody.content;
  if (content) {
    bodyType = Object.keys(content)[0];
    box.append(el("label", { textContent: "body (" + bodyType + ")" }));
    box.append(el("pre", { textContent: JSON.stringify(resolve(doc, content[bodyType].schema), null, 1) }));
    bodyInput = box.appendChild(el("textarea", { rows: 4 }));
  }
  box.append(el("label", { textContent: "answers: " + Object.keys(op.responses || {}).join(", ") }));
  const out = el("pre", { textContent: "" });
  const send = el("button", { textContent: "Send" });
  send.onclick = async () => {
    let url = path.replace(/\\{(\\w+)\\}/g, (_, n) => encodeURIComponent(inputs["path:" + n].value));
    const q = new URLSearchParams();
    for (const [k, input] of Object.entries(inputs)) {
      if (k.startsWith("query:") && input.value !== "") q.set(k.slice(6), input.value);
    }
    if ([...q].length) url += "?" + q;
    const headers = {};
    if (tokenInput.value) headers.authorization = "Bearer " + tokenInput.value;
    const init = { method: method.toUpperCase(), headers };
    if (bodyInput && bodyInput.value) { headers["content-type"] = bodyType; init.body = bodyInput.value; }
    try {
      const res = await fetch(url, init);
      out.textContent = res.status + " " + res.statusText + "\\n" + (await res.text()).slice(0, 20000);
    } catch (e) { out.textContent = String(e); }
  };
  box.append(send, out);
  return el("details", {}, el("summary", {},
    el("span", { className: "m " + method, textContent: method.toUpperCase() }), path + "  ",
    el("small", { textContent: op.summary || "" })), box);
}
fetch("/openapi.json").then((r) => r.json()).then((doc) => {
  const ops = document.getElementById("ops");
  ops.textContent = "";
  ops.append(el("p", { textContent: doc.info.title + " " + doc.info.version + (doc.info.description ? " — " + doc.info.description : "") }));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) ops.append(operation(doc, path, method, op));
  }
}).catch((e) => { document.getElementById("ops").textContent = "Cannot load /openapi.json: " + e; });
</script></body></html>
`;
