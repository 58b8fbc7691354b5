import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const runtimeDir = fileURLToPath(new URL("../runtime/", import.meta.url));

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}${entry.name}`;
    if (entry.isDirectory) yield* sourceFiles(`${path}/`);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      yield path;
    }
  }
}

const FORBIDDEN: [RegExp, string][] = [
  [/\bDeno\./, "a Deno.* API"],
  [/\bindexedDB\b|\bIDB[A-Z]\w+/, "IndexedDB"],
  [/\bwindow\.|\bdocument\.|\blocalStorage\b/, "the DOM"],
  [
    /from\s+["'](?:\.\.\/)+(?:edge|browser)\//,
    "an import from edge/ or browser/",
  ],
  [/from\s+["']node:/, "a node: built-in"],
];

function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

Deno.test("runtime/ uses only APIs that Deno and browsers share", async () => {
  const offences: string[] = [];
  let files = 0;
  for await (const path of sourceFiles(runtimeDir)) {
    files++;
    const lines = stripComments(await Deno.readTextFile(path)).split("\n");
    lines.forEach((line, i) => {
      for (const [pattern, what] of FORBIDDEN) {
        if (pattern.test(line)) {
          offences.push(`${path}:${i + 1} uses ${what}: ${line.trim()}`);
        }
      }
    });
  }
  assert.ok(files > 5, `expected runtime sources, found ${files}`);
  assert.deepEqual(offences, []);
});
