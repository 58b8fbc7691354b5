/**
 * Page script: what `sync.status().online` says before, after and without
 * a sync round. The upstream is a fetch the case controls, so no round
 * ends before the case lets it.
 *
 * @module
 */

import { deleteDB } from "idb";
import { type BrowserLog, openBrowserLog } from "../../browser/sdk.ts";
import { exposeCases } from "./page_cases.ts";

/** A fetch that fails each request when the case says so. */
function gatedFetch(): { fetch: () => Promise<Response>; fail(): void } {
  const waiting: ((error: Error) => void)[] = [];
  let failing = false;
  return {
    fetch: () =>
      new Promise<Response>((_, reject) => {
        if (failing) reject(new TypeError("Failed to fetch"));
        else waiting.push(reject);
      }),
    fail() {
      failing = true;
      for (const reject of waiting.splice(0)) {
        reject(new TypeError("Failed to fetch"));
      }
    },
  };
}

async function withLog(
  name: string,
  fn: (log: BrowserLog, gate: ReturnType<typeof gatedFetch>) => Promise<void>,
): Promise<void> {
  await deleteDB(name);
  const gate = gatedFetch();
  const log = await openBrowserLog({
    name,
    upstream: "http://upstream.invalid/",
    topics: ["readings"],
    fetch: gate.fetch,
    backgroundSync: false,
    backoff: { baseMs: 60_000, maxMs: 60_000 },
  });
  try {
    await fn(log, gate);
  } finally {
    gate.fail();
    await log.close();
    await deleteDB(name);
  }
}

function expect(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(
      `${what}: ${JSON.stringify(actual)}, expected ${
        JSON.stringify(expected)
      }`,
    );
  }
}

exposeCases([
  {
    name: "online right after opening, from the navigator, then the round",
    async run() {
      await withLog("status-open", async (log, gate) => {
        const first = await log.sync.status();
        expect(
          [first.online, first.onlineSource, first.lastRoundMs],
          [true, "navigator", null],
          "before any round",
        );
        const failed = new Promise((resolve) => log.sync.on("error", resolve));
        gate.fail();
        await failed;
        const after = await log.sync.status();
        expect(
          [after.online, after.onlineSource, typeof after.lastRoundMs],
          [false, "round", "number"],
          "after a failed round",
        );
      });
    },
  },
  {
    name: "offline from the navigator, whatever the last round said",
    async run() {
      await withLog("status-offline", async (log) => {
        const status = await log.sync.status();
        expect(
          [status.online, status.onlineSource],
          [false, "navigator"],
          "offline",
        );
      });
    },
  },
]);
