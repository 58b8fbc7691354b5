/**
 * The web console's files as a node serves them: the HTML shell, the style
 * sheet and the favicon straight from `browser/console/`, and the script
 * from the bundle `deno task build` wrote into `browser/dist/`.
 *
 * A node needs no `--allow-run` when the bundle is there and newer than
 * every console source. Otherwise (a fresh checkout, or sources edited
 * since the build) it bundles on the first request for the console, which
 * needs `--allow-run`; without it a stale bundle is served with a warning,
 * and a missing one gets a page that says to run `deno task build`.
 *
 * @module
 */

import { CONSOLE_ENTRY } from "../browser/console/entry.ts";
import type { StaticFile } from "../runtime/server/app.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** Where `deno task build` writes the bundles. */
export const DIST_DIR = `${ROOT}browser/dist`;
const SOURCE_DIR = `${ROOT}browser/console`;

const HTML = "text/html; charset=utf-8";

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8">
<title>edgelog console</title><main><h1>The console is not built</h1>
<p>Run <code>deno task build</code> on this node, then reload.</p>
<p>The API works meanwhile: <a href="/docs">API docs</a>.</p></main></html>`;

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    const time = entry.isDirectory
      ? await newestSource(path)
      : (await Deno.stat(path)).mtime?.getTime() ?? 0;
    newest = Math.max(newest, time);
  }
  return newest;
}

async function bundleTime(): Promise<number | undefined> {
  try {
    const stat = await Deno.stat(`${DIST_DIR}/${CONSOLE_ENTRY.out}.js`);
    return stat.mtime?.getTime() ?? 0;
  } catch {
    return undefined;
  }
}

/**
 * Bundles the console into a temporary folder and renames each file into
 * `browser/dist`, so a node reading it never sees half a file.
 */
async function rebuild(): Promise<void> {
  const { bundle } = await import("../browser/build.ts");
  await Deno.mkdir(DIST_DIR, { recursive: true });
  const tmp = await Deno.makeTempDir({ dir: DIST_DIR, prefix: ".build-" });
  try {
    await bundle([CONSOLE_ENTRY], { outdir: tmp, root: ROOT });
    for await (const entry of Deno.readDir(tmp)) {
      await Deno.rename(`${tmp}/${entry.name}`, `${DIST_DIR}/${entry.name}`);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/** Whether a usable bundle is in `browser/dist` once this resolves. */
async function ensureBundle(): Promise<boolean> {
  const built = await bundleTime();
  if (built !== undefined && built >= await newestSource(SOURCE_DIR)) {
    return true;
  }
  try {
    await rebuild();
    return true;
  } catch (err) {
    console.warn(
      `edgelog: cannot bundle the console (${
        (err as Error).message
      }); run 'deno task build'`,
    );
    return built !== undefined;
  }
}

function file(path: string, contentType: string): () => Promise<StaticFile> {
  return async () => ({
    body: await Deno.readFile(path),
    contentType,
  });
}

/**
 * The console's paths for `createApp`'s `files`. The bundle is checked (and
 * made, where it can be) once, on the first request for the console.
 */
export function consoleFiles(): Record<string, () => Promise<StaticFile>> {
  let ready: Promise<boolean> | undefined;
  const bundled = () => ready ??= ensureBundle();
  const script = `${DIST_DIR}/${CONSOLE_ENTRY.out}.js`;
  return {
    "/": async () =>
      await bundled()
        ? await file(`${SOURCE_DIR}/index.html`, HTML)()
        : { body: NOT_BUILT, contentType: HTML },
    "/console/console.css": file(
      `${SOURCE_DIR}/console.css`,
      "text/css; charset=utf-8",
    ),
    "/favicon.svg": file(`${SOURCE_DIR}/favicon.svg`, "image/svg+xml"),
    [`/console/${CONSOLE_ENTRY.out}.js`]: async () => {
      await bundled();
      return await file(script, "text/javascript; charset=utf-8")();
    },
    [`/console/${CONSOLE_ENTRY.out}.js.map`]: file(
      `${script}.map`,
      "application/json",
    ),
  };
}
