/**
 * Bundles the browser entry points into `browser/dist` with esbuild: ES
 * modules, minified, with source maps, and prints their sizes.
 *
 * Deno keeps npm packages in its own cache, not in a `node_modules` that
 * esbuild could search, so the build asks `deno info` where each package
 * is and links them into a temporary folder that esbuild searches instead
 * (its `nodePaths`). TypeScript sources are resolved by esbuild itself.
 *
 * Run with `deno task build`; tests import {@linkcode bundle} to build pages.
 *
 * @module
 */

import * as esbuild from "esbuild";
import { CONSOLE_ENTRY } from "./console/entry.ts";

/** One bundle: a source module and the name of its output, without ".js". */
export interface Entry {
  in: string;
  out: string;
}

/** What `deno task build` bundles. Add an entry here for each new bundle. */
export const ENTRIES: readonly Entry[] = [
  { in: "browser/mod.ts", out: "edgelog" },
  { in: "browser/sdk.ts", out: "edgelog-sdk" },
  { in: "browser/service_worker.ts", out: "edgelog-sw" },
  { in: "browser/demo/app.ts", out: "edgelog-demo" },
  CONSOLE_ENTRY,
];

/** Options of {@linkcode bundle}. */
export interface BundleOptions {
  /** Output folder; created when absent. */
  outdir: string;
  /** Default true. */
  minify?: boolean;
  /** The project root, which holds import_map.json; default the cwd. */
  root?: string;
}

/** An output file and its size. */
export interface BundleOutput {
  path: string;
  bytes: number;
}

interface NpmPackage {
  name: string;
  version: string;
  localPath: string;
}

/** The npm packages every entry reaches (`deno info` takes one module at a time). */
async function npmPackages(
  entries: readonly string[],
  root: string,
): Promise<NpmPackage[]> {
  const lists = await Promise.all(entries.map((e) => entryPackages(e, root)));
  return lists.flat();
}

async function entryPackages(
  entry: string,
  root: string,
): Promise<NpmPackage[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `deno info failed: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    npmPackages?: Record<string, NpmPackage>;
  };
  return Object.values(info.npmPackages ?? {});
}

/** The versions import_map.json pins, by package name. */
async function pinnedVersions(root: string): Promise<Map<string, string>> {
  const map = JSON.parse(
    await Deno.readTextFile(`${root}/import_map.json`),
  ) as { imports: Record<string, string> };
  const pinned = new Map<string, string>();
  for (const target of Object.values(map.imports)) {
    const match = /^npm:\/?(@?[^@/]+(?:\/[^@/]+)?)@([^/]+)/.exec(target);
    if (match) pinned.set(match[1]!, match[2]!);
  }
  return pinned;
}

/**
 * Links every npm package the entries reach into `dir`, laid out like a
 * `node_modules` folder. Where two versions of one package are reachable,
 * the one import_map.json pins wins.
 */
async function linkPackages(
  entries: readonly string[],
  root: string,
  dir: string,
): Promise<void> {
  const [packages, pinned] = await Promise.all([
    npmPackages(entries, root),
    pinnedVersions(root),
  ]);
  const chosen = new Map<string, NpmPackage>();
  for (const pkg of packages) {
    const current = chosen.get(pkg.name);
    if (!current || pinned.get(pkg.name) === pkg.version) {
      chosen.set(pkg.name, pkg);
    }
  }
  for (const pkg of chosen.values()) {
    const link = `${dir}/${pkg.name}`;
    const scope = pkg.name.startsWith("@") ? pkg.name.split("/")[0] : null;
    if (scope) await Deno.mkdir(`${dir}/${scope}`, { recursive: true });
    await Deno.symlink(pkg.localPath, link);
  }
}

/**
 * Bundles `entries` into `options.outdir` as ES modules with source maps.
 * Resolves with the `.js` files written and their sizes.
 */
export async function bundle(
  entries: readonly Entry[],
  options: BundleOptions,
): Promise<BundleOutput[]> {
  const root = options.root ?? Deno.cwd();
  const modules = await Deno.makeTempDir({ prefix: "edgelog-build-" });
  try {
    await linkPackages(entries.map((e) => e.in), root, modules);
    const result = await esbuild.build({
      absWorkingDir: root,
      entryPoints: entries.map((e) => ({ in: e.in, out: e.out })),
      outdir: options.outdir,
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      minify: options.minify ?? true,
      sourcemap: true,
      nodePaths: [modules],
      metafile: true,
      logLevel: "warning",
    });
    return Object.entries(result.metafile.outputs)
      .filter(([path]) => path.endsWith(".js"))
      .map(([path, out]) => ({ path, bytes: out.bytes }));
  } finally {
    await esbuild.stop();
    await Deno.remove(modules, { recursive: true });
  }
}

async function gzipSize(path: string): Promise<number> {
  const file = await Deno.open(path);
  let size = 0;
  const gzipped = file.readable.pipeThrough(new CompressionStream("gzip"));
  for await (const chunk of gzipped) size += chunk.length;
  return size;
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname;
  const outputs = await bundle(ENTRIES, { outdir: "browser/dist", root });
  console.log("| bundle | bytes | gzip |\n| --- | ---: | ---: |");
  for (const out of outputs) {
    const gzip = await gzipSize(`${root}/${out.path}`);
    console.log(`| ${out.path} | ${out.bytes} | ${gzip} |`);
  }
}
