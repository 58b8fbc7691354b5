/**
 * Test doubles of a central and a local log over MemoryStorage, shaped as
 * the registry and the replicator see a Log: batches are stored as given,
 * only baseOffset rewritten, exactly as the real log does.
 *
 * @module
 */

import { EdgelogError } from "../errors.ts";
import { readBatchHeader, setBaseOffset } from "../format/batch_header.ts";
import { encodeBatch } from "../format/record_batch.ts";
import type { MemoryStorage } from "../log/memory_storage.ts";
import type { PartitionStore } from "../log/storage.ts";
import type { LogRecord, RecordInput, TopicConfig } from "../log/types.ts";
import { decodeBatches } from "../format/record_batch.ts";
import type { ReplicatorLog } from "./replicator.ts";
import type { RegistryLog } from "./stream_registry.ts";

/** The registry's view of a central log, over MemoryStorage, as the Log does it: only baseOffset is rewritten. */
export async function centralLog(storage: MemoryStorage, partitions = 3) {
  const stores = new Map<number, PartitionStore>();
  for (let p = 0; p < partitions; p++) {
    stores.set(p, await storage.openPartition("events", p));
  }
  const config: TopicConfig = {
    partitions,
    retentionMs: -1,
    retentionBytes: -1,
    cleanupPolicy: "delete",
    diskBudgetBytes: -1,
    whenFull: "reject",
  };
  const log: RegistryLog = {
    meta: storage.meta,
    hasTopic: (name) => name === "events",
    topicConfig: () => config,
    createTopic: () => Promise.reject(new Error("unused")),
    partition: (_topic, p) => {
      const store = stores.get(p)!;
      return {
        get logStartOffset() {
          return store.logStartOffset;
        },
        get highWatermark() {
          return store.nextOffset;
        },
        async appendBatches(batches) {
          const baseOffset = store.nextOffset;
          let next = baseOffset;
          for (const batch of batches) {
            setBaseOffset(batch, next);
            next += readBatchHeader(batch).lastOffsetDelta + 1;
          }
          await store.append(batches);
          return { baseOffset, lastOffset: next - 1 };
        },
        readBatches: (offset, maxBytes) => store.read(offset, maxBytes),
      };
    },
  };
  return log;
}

/** A device log: one topic, appends as the local producer does, drops as a full budget does. */
export async function localLog(
  storage: MemoryStorage,
  topic = "events",
  partitions = 2,
) {
  const stores = new Map<number, PartitionStore>();
  for (let p = 0; p < partitions; p++) {
    stores.set(p, await storage.openPartition(topic, p));
  }
  const listeners = new Set<
    (e: { topic: string; partition: number }) => void
  >();
  const log: ReplicatorLog & {
    append(partition: number, records: RecordInput[]): Promise<void>;
    dropBefore(partition: number, offset: number): Promise<void>;
    records(partition: number): Promise<LogRecord[]>;
  } = {
    meta: storage.meta,
    listTopics: () => [{ name: topic, partitions }],
    partition: (_topic, p) => {
      const store = stores.get(p)!;
      return {
        get logStartOffset() {
          return store.logStartOffset;
        },
        get highWatermark() {
          return store.nextOffset;
        },
        readBatches(offset, maxBytes) {
          if (offset < store.logStartOffset || offset > store.nextOffset) {
            throw new EdgelogError(
              "OFFSET_OUT_OF_RANGE",
              `Cannot read offset ${offset}`,
              {
                logStartOffset: store.logStartOffset,
                highWatermark: store.nextOffset,
              },
            );
          }
          return store.read(offset, maxBytes);
        },
      };
    },
    onAppend(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async append(p, records) {
      const store = stores.get(p)!;
      await store.append([
        await encodeBatch(records, { baseOffset: store.nextOffset, now: 1 }),
      ]);
      for (const listener of listeners) listener({ topic, partition: p });
    },
    async dropBefore(p, offset) {
      await stores.get(p)!.deleteBefore(offset);
    },
    async records(p) {
      const store = stores.get(p)!;
      const out: LogRecord[] = [];
      for (const batch of await store.read(store.logStartOffset, 1 << 30)) {
        for (const decoded of await decodeBatches(batch)) {
          out.push(...decoded.records);
        }
      }
      return out;
    },
  };
  return log;
}
