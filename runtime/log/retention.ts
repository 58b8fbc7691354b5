/**
 * Where retention and the disk budget cut a partition, as pure functions of
 * its deletable units. The partition log applies a cut with
 * `PartitionStore.deleteBefore`; keeping the arithmetic here lets it be
 * tested without storage or time.
 *
 * Every function takes the units that `PartitionStore.segments()` returns
 * (oldest first, never the active unit) and answers the offset to delete
 * before — always the `nextOffset` of a unit, so whole units go — or null
 * when nothing is to be deleted.
 *
 * @module
 */

import type { SegmentInfo } from "./storage.ts";

/** Options of {@linkcode timeRetentionCut}. */
export interface TimeRetentionOptions {
  /** How long records are kept; -1 keeps them forever. */
  retentionMs: number;
  /** The current time, from the log's clock. */
  now: number;
}

/**
 * The cut for time retention: the oldest units whose newest record is older
 * than `now - retentionMs`. It stops at the first unit still in time, as
 * Kafka does, so offsets stay contiguous even when timestamps are not
 * monotonic.
 *
 * @example Usage
 * ```ts
 * import { timeRetentionCut } from "./retention.ts";
 * const units = [
 *   { baseOffset: 0, nextOffset: 5, maxTimestamp: 100, sizeBytes: 10 },
 *   { baseOffset: 5, nextOffset: 9, maxTimestamp: 900, sizeBytes: 10 },
 * ];
 * console.assert(timeRetentionCut(units, { retentionMs: 500, now: 1000 }) === 5);
 * ```
 */
export function timeRetentionCut(
  units: readonly SegmentInfo[],
  options: TimeRetentionOptions,
): number | null {
  if (options.retentionMs < 0) return null;
  const oldestKept = options.now - options.retentionMs;
  let cut: number | null = null;
  for (const unit of units) {
    if (unit.maxTimestamp >= oldestKept) break;
    cut = unit.nextOffset;
  }
  return cut;
}

/** Options of {@linkcode sizeRetentionCut}. */
export interface SizeRetentionOptions {
  /** Bytes the whole partition holds, the active unit included. */
  sizeBytes: number;
  /** Bytes a partition may keep; -1 for no limit. */
  retentionBytes: number;
}

/**
 * The cut for size retention: the oldest units whose removal still leaves
 * at least `retentionBytes`, as Kafka's `retention.bytes` does. A partition
 * therefore stays within `retentionBytes` plus one unit.
 *
 * @example Usage
 * ```ts
 * import { sizeRetentionCut } from "./retention.ts";
 * const units = [
 *   { baseOffset: 0, nextOffset: 5, maxTimestamp: 100, sizeBytes: 40 },
 *   { baseOffset: 5, nextOffset: 9, maxTimestamp: 900, sizeBytes: 40 },
 * ];
 * console.assert(sizeRetentionCut(units, { sizeBytes: 120, retentionBytes: 50 }) === 5);
 * ```
 */
export function sizeRetentionCut(
  units: readonly SegmentInfo[],
  options: SizeRetentionOptions,
): number | null {
  if (options.retentionBytes < 0) return null;
  let excess = options.sizeBytes - options.retentionBytes;
  let cut: number | null = null;
  for (const unit of units) {
    if (excess - unit.sizeBytes < 0) break;
    excess -= unit.sizeBytes;
    cut = unit.nextOffset;
  }
  return cut;
}

/** Options of {@linkcode retentionCut}. */
export interface RetentionOptions
  extends TimeRetentionOptions, SizeRetentionOptions {
  /**
   * Offsets at or above the floor must stay (for example records not yet
   * replicated upstream), so only units wholly below it may go. Default:
   * no floor.
   */
  floor?: number;
}

/**
 * The cut that time and size retention together ask for, held below the
 * floor: whichever of the two deletes more wins.
 *
 * @example Usage
 * ```ts
 * import { retentionCut } from "./retention.ts";
 * const units = [
 *   { baseOffset: 0, nextOffset: 5, maxTimestamp: 100, sizeBytes: 40 },
 *   { baseOffset: 5, nextOffset: 9, maxTimestamp: 200, sizeBytes: 40 },
 * ];
 * const cut = retentionCut(units, {
 *   retentionMs: 10, now: 1000, sizeBytes: 120, retentionBytes: -1, floor: 7,
 * });
 * console.assert(cut === 5);
 * ```
 */
export function retentionCut(
  units: readonly SegmentInfo[],
  options: RetentionOptions,
): number | null {
  const floor = options.floor ?? Infinity;
  const allowed = units.filter((unit) => unit.nextOffset <= floor);
  const byTime = timeRetentionCut(allowed, options);
  const bySize = sizeRetentionCut(allowed, options);
  if (byTime === null) return bySize;
  if (bySize === null) return byTime;
  return Math.max(byTime, bySize);
}

/** Options of {@linkcode budgetCut}. */
export interface BudgetOptions {
  /** Bytes the partition holds now. */
  sizeBytes: number;
  /** Bytes about to be appended. */
  incomingBytes: number;
  /** Bytes the partition may hold. */
  budgetBytes: number;
}

/**
 * The cut that makes room for `incomingBytes` under a disk budget: the
 * fewest oldest units to drop so that the partition fits. When even dropping
 * every unit is not enough, all of them go (the active unit stays, so the
 * partition may pass its budget by that much).
 *
 * @example Usage
 * ```ts
 * import { budgetCut } from "./retention.ts";
 * const units = [
 *   { baseOffset: 0, nextOffset: 5, maxTimestamp: 100, sizeBytes: 40 },
 *   { baseOffset: 5, nextOffset: 9, maxTimestamp: 200, sizeBytes: 40 },
 * ];
 * const cut = budgetCut(units, { sizeBytes: 100, incomingBytes: 20, budgetBytes: 100 });
 * console.assert(cut === 5);
 * ```
 */
export function budgetCut(
  units: readonly SegmentInfo[],
  options: BudgetOptions,
): number | null {
  let size = options.sizeBytes;
  let cut: number | null = null;
  for (const unit of units) {
    if (size + options.incomingBytes <= options.budgetBytes) break;
    size -= unit.sizeBytes;
    cut = unit.nextOffset;
  }
  return cut;
}
