/**
 * Serves the field sensor demo at `/demo/`: the page and stylesheet from
 * `browser/demo`, its script and the service worker (at `/demo/sw.js`, so
 * its scope is `/demo/`) bundled from source with esbuild on the first
 * request and kept in memory. Where the process may not run subprocesses
 * (esbuild and `deno info` need `--allow-run`), it serves the bundles of
 * `deno task build` from `browser/dist` instead.
 *
 * Mount it beside the sync routes:
 *
 * ```ts ignore
 * extraRoutes: (app, ctx) => {
 *   syncRoutes(streams)(app, ctx);
 *   demoRoutes()(app);
 * },
 * ```
 *
 * @module
 */

import type { Env, Hono } from "hono";
import { bundle, type Entry } from "../browser/build.ts";

/** Options of {@linkcode demoRoutes}. */
export interface DemoRoutesOptions {
  /** The project root; default the folder above this file. */
  root?: string;
}

/** The demo's bundles, by the name the page asks for. */
export const DEMO_BUNDLES: readonly Entry[] = [
  { in: "browser/demo/app.ts", out: "app" },
  { in: "browser/service_worker.ts", out: "sw" },
];

/** Where `deno task build` puts the same bundles (see ENTRIES). */
const DIST_NAMES: Readonly<Record<string, string>> = {
  app: "edgelog-demo",
  sw: "edgelog-sw",
};

const STATIC = ["index.html", "style.css"];

const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  map: "application/json",
};

function canRun(): boolean {
  return Deno.permissions.querySync({ name: "run" }).state === "granted";
}

/** Bundles the demo into memory: file name → bytes. */
async function buildBundles(
  root: string,
): Promise<Map<string, Uint8Array<ArrayBuffer>>> {
  const files = new Map<string, Uint8Array<ArrayBuffer>>();
  if (canRun()) {
    const dir = await Deno.makeTempDir({ prefix: "edgelog-demo-" });
    try {
      await bundle(DEMO_BUNDLES, { outdir: dir, root });
      for await (const entry of Deno.readDir(dir)) {
        files.set(entry.name, await Deno.readFile(`${dir}/${entry.name}`));
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    return files;
  }
  for (const [served, built] of Object.entries(DIST_NAMES)) {
    try {
      const js = await Deno.readTextFile(`${root}/browser/dist/${built}.js`);
      files.set(
        `${served}.js`,
        new TextEncoder().encode(
          js.replace(
            `sourceMappingURL=${built}.js.map`,
            `sourceMappingURL=${served}.js.map`,
          ),
        ),
      );
      files.set(
        `${served}.js.map`,
        await Deno.readFile(`${root}/browser/dist/${built}.js.map`),
      );
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      throw new Error(
        "The demo is not built: run `deno task build`, or start the broker with --allow-run",
      );
    }
  }
  return files;
}

/**
 * Returns the function that mounts `GET /demo/*` on an app. Bundling
 * starts on the first request for a script; a failed build is retried on
 * the next one.
 */
export function demoRoutes(
  options: DemoRoutesOptions = {},
): <E extends Env>(app: Hono<E>) => void {
  const root = options.root ?? new URL("..", import.meta.url).pathname;
  let built: Promise<Map<string, Uint8Array<ArrayBuffer>>> | undefined;
  const bundles = () => {
    built ??= buildBundles(root).catch((err) => {
      built = undefined;
      throw err;
    });
    return built;
  };
  return (app) => {
    app.get("/demo", (c) => c.redirect("/demo/", 301));
    app.get("/demo/:file{.*}", async (c) => {
      const file = c.req.param("file") || "index.html";
      const ext = file.slice(file.lastIndexOf(".") + 1);
      const headers: Record<string, string> = {
        "content-type": TYPES[ext] ?? "application/octet-stream",
        "cache-control": "no-cache",
      };
      if (STATIC.includes(file)) {
        const body = await Deno.readFile(`${root}/browser/demo/${file}`);
        return c.body(body, 200, headers);
      }
      if (!/^(app|sw)\.js(\.map)?$/.test(file)) {
        return c.json({
          error: { code: "NOT_FOUND", message: `No demo file '${file}'` },
        }, 404);
      }
      let files: Map<string, Uint8Array<ArrayBuffer>>;
      try {
        files = await bundles();
      } catch (err) {
        return c.json({
          error: { code: "UNAVAILABLE", message: (err as Error).message },
        }, 503);
      }
      const body = files.get(file);
      if (body === undefined) {
        return c.json({
          error: { code: "NOT_FOUND", message: `No demo file '${file}'` },
        }, 404);
      }
      return c.body(body, 200, headers);
    });
  };
}
