import assert from "node:assert/strict";
import { consoleFiles } from "./console_files.ts";

Deno.test({
  name:
    "consoleFiles: the shell, style sheet, favicon and bundle, with nothing from elsewhere",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const files = consoleFiles();
    const page = await files["/"]!();
    const html = new TextDecoder().decode(page.body as Uint8Array);
    assert.equal(page.contentType, "text/html; charset=utf-8");
    assert.match(
      html,
      /<script type="module" src="\/console\/edgelog-console\.js">/,
    );
    assert.match(html, /<link rel="icon" href="\/favicon\.svg"/);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
    const script = await files["/console/edgelog-console.js"]!();
    assert.equal(script.contentType, "text/javascript; charset=utf-8");
    assert.ok((script.body as Uint8Array).length > 10_000);
    const css = await files["/console/console.css"]!();
    assert.doesNotMatch(
      new TextDecoder().decode(css.body as Uint8Array),
      /url\(|@import/,
    );
    assert.equal((await files["/favicon.svg"]!()).contentType, "image/svg+xml");
  },
});
