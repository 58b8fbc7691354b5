/**
 * The Deno side of the browser tests: bundle a page script with esbuild,
 * serve it from 127.0.0.1 on a free port, open it in Chromium, and run the
 * cases the page registered (see `page_cases.ts`) as test steps, so a
 * failure names its case.
 *
 * @module
 */

import type { Browser, Page } from "playwright-core";
import { bundle } from "../../browser/build.ts";
import {
  CHROMIUM_MISSING,
  chromiumAvailable,
  launchChromium,
} from "./chromium.ts";
import type { PageCases } from "./page_cases.ts";

/** A served page; `close` stops the server and removes the bundle. */
export interface PageServer {
  /** The page's address, `http://127.0.0.1:PORT/`. */
  url: string;
  close(): Promise<void>;
}

const ROOT = new URL("../../", import.meta.url).pathname;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json",
};

/**
 * Bundles `script` (a path from the project root) as `/page.js` and serves
 * it with an HTML page at `/` that loads it as a module.
 */
export async function servePage(script: string): Promise<PageServer> {
  const dir = await Deno.makeTempDir({ prefix: "edgelog-page-" });
  await bundle([{ in: script, out: "page" }], {
    outdir: dir,
    root: ROOT,
    minify: false,
  });
  const html =
    `<!doctype html><meta charset="utf-8"><title>edgelog test</title><script type="module" src="/page.js"></script>`;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/") {
        return new Response(html, {
          headers: { "content-type": TYPES[".html"]! },
        });
      }
      const name = path.slice(1);
      if (!/^[\w.-]+$/.test(name)) return new Response("", { status: 404 });
      try {
        const body = await Deno.readFile(`${dir}/${name}`);
        const type = TYPES[name.slice(name.lastIndexOf("."))] ??
          "application/octet-stream";
        return new Response(body, { headers: { "content-type": type } });
      } catch {
        return new Response("", { status: 404 });
      }
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    async close() {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/**
 * Opens `url` in a new page and waits until its script has registered its
 * cases. Page errors and console errors are echoed to the test output.
 */
export async function openCasesPage(
  browser: Browser,
  url: string,
  options: { timeoutMs?: number } = {},
): Promise<Page> {
  const page = await browser.newPage();
  page.setDefaultTimeout(options.timeoutMs ?? 30_000);
  page.on("pageerror", (error) => console.error(`[page] ${error.message}`));
  await page.goto(url);
  await page.waitForFunction(() => globalThis.edgelogPageCases !== undefined);
  return page;
}

/** Runs every case the page registered, each as a step of `t`. */
export async function runPageCases(
  t: Deno.TestContext,
  page: Page,
): Promise<void> {
  const names = await page.evaluate(() =>
    (globalThis.edgelogPageCases as PageCases).names()
  );
  if (names.length === 0) throw new Error("The page registered no cases");
  for (const name of names) {
    await t.step(name, async () => {
      const result = await page.evaluate(
        (n) => (globalThis.edgelogPageCases as PageCases).run(n),
        name,
      );
      if (!result.ok) throw new Error(result.error);
    });
  }
}

/** What a {@linkcode browserTest} serves, and what it runs against it. */
export interface BrowserTest<S extends { close(): Promise<void> }> {
  /** Starts what the browser talks to; closed after the browser. */
  serve(): Promise<S>;
  run(t: Deno.TestContext, server: S, browser: Browser): Promise<void>;
}

/**
 * Registers a test that runs in Chromium against what `test.serve` starts.
 * Where Chromium is not installed the test is skipped and its name says
 * why. Playwright keeps its pipes and timers past a test, hence no
 * sanitizers.
 */
export function browserTest<S extends { close(): Promise<void> }>(
  name: string,
  test: BrowserTest<S>,
): void {
  Deno.test({
    name: `${name}${
      chromiumAvailable() ? "" : ` (skipped: ${CHROMIUM_MISSING})`
    }`,
    ignore: !chromiumAvailable(),
    sanitizeResources: false,
    sanitizeOps: false,
    async fn(t) {
      const server = await test.serve();
      const browser = await launchChromium();
      try {
        await test.run(t, server, browser);
      } finally {
        await browser.close();
        await server.close();
      }
    },
  });
}
