/**
 * Page script: IdbStorage against a real quota. The test sets this
 * origin's quota to a few MiB through the DevTools protocol first.
 *
 * @module
 */

import { deleteDB } from "idb";
import { IdbStorage } from "../../browser/idb_storage.ts";
import { encodeBatch } from "../../runtime/format/mod.ts";
import { EdgelogError } from "../../runtime/errors.ts";
import { exposeCases } from "./page_cases.ts";

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

/** A batch of `count` records of 64 KiB of incompressible bytes. */
function bigBatch(baseOffset: number, count: number): Promise<Uint8Array> {
  const records = Array.from({ length: count }, () => {
    const value = crypto.getRandomValues(new Uint8Array(65_536));
    return { value, timestamp: 1_700_000_000_000 };
  });
  return encodeBatch(records, { baseOffset });
}

exposeCases([
  {
    name: "quotaStatus reports usage and quota from navigator.storage",
    async run() {
      await deleteDB("quota-status");
      const storage = await IdbStorage.open("quota-status");
      try {
        const status = await storage.quotaStatus();
        check(typeof status.usage === "number", `usage ${status.usage}`);
        check(
          typeof status.quota === "number" && status.quota > 0,
          `quota ${status.quota}`,
        );
        check(typeof status.persisted === "boolean", "persisted is known");
        check(storage.persisted === status.persisted, "persist() answer kept");
      } finally {
        await storage.close();
        await deleteDB("quota-status");
      }
    },
  },
  {
    name: "an append past the quota is STORAGE_FULL and loses nothing",
    async run() {
      await deleteDB("quota-full");
      const storage = await IdbStorage.open("quota-full");
      try {
        const store = await storage.openPartition("t", 0);
        const first = await bigBatch(0, 4);
        await store.append([first]);
        let error: unknown;
        for (let i = 0; i < 40 && error === undefined; i++) {
          const offset = store.nextOffset;
          try {
            await store.append([await bigBatch(offset, 8)]);
          } catch (e) {
            error = e;
            check(store.nextOffset === offset, "nextOffset unchanged");
          }
        }
        check(error instanceof EdgelogError, `got ${String(error)}`);
        const full = error as EdgelogError;
        check(full.code === "STORAGE_FULL", `code ${full.code}`);
        check(/quota/.test(full.message), full.message);
        const held = await store.read(0, Number.MAX_SAFE_INTEGER);
        check(
          held.reduce((n, b) => n + b.length, 0) === store.sizeBytes,
          "sizeBytes matches what is held",
        );
        const firstBack = held[0]!;
        check(
          firstBack.length === first.length &&
            firstBack.every((x, i) => x === first[i]),
          "the first batch reads back intact",
        );
      } finally {
        await storage.close();
        await deleteDB("quota-full");
      }
    },
  },
]);
