/**
 * Where the console's bundle comes from and what it is called, for the
 * build (browser/build.ts) and the nodes that serve it (edge/console_files.ts).
 *
 * @module
 */

/** The console's entry module and bundle name. */
export const CONSOLE_ENTRY = {
  in: "browser/console/main.ts",
  out: "edgelog-console",
} as const;
