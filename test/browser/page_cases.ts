/**
 * The page side of the browser test harness: a page script registers named
 * async cases here, and `harness.ts` runs each one from Deno as a `t.step`.
 * Runs in the browser: no Deno APIs.
 *
 * @module
 */

/** A named test case that runs in the page. */
export interface PageCase {
  name: string;
  run(): Promise<void>;
}

/** What a case's run reports back to Deno. */
export interface PageCaseResult {
  ok: boolean;
  error?: string;
}

/** The global a page script sets, for `harness.ts` to find. */
export interface PageCases {
  names(): string[];
  run(name: string): Promise<PageCaseResult>;
}

declare global {
  var edgelogPageCases: PageCases | undefined;
}

/** Registers `cases` on the page; call it once from the page script. */
export function exposeCases(cases: readonly PageCase[]): void {
  globalThis.edgelogPageCases = {
    names: () => cases.map((c) => c.name),
    async run(name) {
      const found = cases.find((c) => c.name === name);
      if (!found) return { ok: false, error: `No page case named '${name}'` };
      try {
        await found.run();
        return { ok: true };
      } catch (error) {
        return {
          ok: false,
          error: error instanceof Error
            ? `${error.name}: ${error.message}\n${error.stack ?? ""}`
            : String(error),
        };
      }
    },
  };
}
