/**
 * The device fleet's sync streams as the devices page lists them: their
 * lag when the node reports it, whether a device is silent, sorting and
 * filtering. Pure, so it is tested without a browser.
 *
 * @module
 */

/** A row of `GET /v1/sync/streams`; `lagRecords` where the node reports it. */
export interface StreamRow {
  nodeId: string;
  topic: string;
  sourcePartition: number;
  producerId: number;
  partition: number;
  ackedOffset: number;
  lastSeenMs: number;
  droppedRecords: number;
  /** Null or absent while the device has not said how far it is. */
  lagRecords?: number | null;
}

/** Columns the list sorts by. */
export type SortKey =
  | "nodeId"
  | "topic"
  | "lagRecords"
  | "droppedRecords"
  | "lastSeenMs";

/** What the list shows. */
export interface FleetQuery {
  text: string;
  silentOnly: boolean;
  laggingOnly: boolean;
  sort: SortKey;
  descending: boolean;
}

/** Whether a stream was not seen within `silentAfterMs` at `now`. */
export function isSilent(
  row: StreamRow,
  now: number,
  silentAfterMs: number,
): boolean {
  return now - row.lastSeenMs > silentAfterMs;
}

/** The rows the query shows, in its order. */
export function selectRows(
  rows: readonly StreamRow[],
  query: FleetQuery,
  now: number,
  silentAfterMs: number,
): StreamRow[] {
  const text = query.text.trim().toLowerCase();
  const shown = rows.filter((r) =>
    (text === "" || r.nodeId.toLowerCase().includes(text) ||
      r.topic.toLowerCase().includes(text)) &&
    (!query.silentOnly || isSilent(r, now, silentAfterMs)) &&
    (!query.laggingOnly || (r.lagRecords ?? 0) > 0)
  );
  const sign = query.descending ? -1 : 1;
  const key = query.sort;
  return shown.sort((a, b) => {
    const x = a[key] ?? -1;
    const y = b[key] ?? -1;
    if (x < y) return -sign;
    if (x > y) return sign;
    return a.producerId - b.producerId;
  });
}
