/**
 * Page script: the storage conformance suite against IdbStorage on the
 * browser's own IndexedDB, one fresh database per case.
 *
 * @module
 */

import { deleteDB } from "idb";
import { IdbStorage } from "../../browser/idb_storage.ts";
import { storageConformanceCases } from "../../runtime/log/storage_conformance.ts";
import { exposeCases } from "./page_cases.ts";

exposeCases(
  storageConformanceCases().map((testCase, i) => ({
    name: testCase.name,
    async run() {
      const name = `conformance-${i}`;
      await deleteDB(name);
      const open = () => IdbStorage.open(name, { quota: { persist: false } });
      try {
        await testCase.run({ storage: await open(), reopen: open });
      } finally {
        await deleteDB(name);
      }
    },
  })),
);
