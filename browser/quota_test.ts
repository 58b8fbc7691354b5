import assert from "node:assert/strict";
import { EdgelogError } from "../runtime/errors.ts";
import {
  isQuotaExceeded,
  quotaStatus,
  requestPersistence,
  storageFullOr,
} from "./quota.ts";

Deno.test("quotaStatus reads estimate() and persisted() from the StorageManager", async () => {
  const storage = {
    estimate: () => Promise.resolve({ usage: 1200, quota: 50_000 }),
    persisted: () => Promise.resolve(true),
  };
  assert.deepEqual(await quotaStatus({ storage }), {
    usage: 1200,
    quota: 50_000,
    persisted: true,
  });
});

Deno.test("quotaStatus answers nulls where the API is missing or fails", async () => {
  assert.deepEqual(await quotaStatus({ storage: {} }), {
    usage: null,
    quota: null,
    persisted: null,
  });
  const failing = {
    estimate: () => Promise.reject(new Error("denied")),
    persisted: () => Promise.reject(new Error("denied")),
  };
  assert.deepEqual(await quotaStatus({ storage: failing }), {
    usage: null,
    quota: null,
    persisted: null,
  });
});

Deno.test("requestPersistence asks persist() and never throws", async () => {
  let asked = 0;
  const granting = {
    persist: () => {
      asked++;
      return Promise.resolve(true);
    },
  };
  assert.equal(await requestPersistence({ storage: granting }), true);
  assert.equal(asked, 1);
  assert.equal(await requestPersistence({ storage: {} }), false);
  const failing = { persist: () => Promise.reject(new Error("no")) };
  assert.equal(await requestPersistence({ storage: failing }), false);
});

Deno.test("storageFullOr maps only QuotaExceededError to STORAGE_FULL", () => {
  const quota = new DOMException("Quota exceeded.", "QuotaExceededError");
  assert.ok(isQuotaExceeded(quota));
  const mapped = storageFullOr(quota, "2 batches in t/0");
  assert.ok(mapped instanceof EdgelogError);
  assert.equal(mapped.code, "STORAGE_FULL");
  assert.equal(mapped.status, 507);
  assert.match(
    mapped.message,
    /^Cannot store 2 batches in t\/0: .*quota.*\(Quota exceeded\.\)$/,
  );
  const other = new DOMException("gone", "AbortError");
  assert.equal(storageFullOr(other, "x"), other);
  assert.equal(isQuotaExceeded(null), false);
});
