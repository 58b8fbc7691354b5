/**
 * Gathers the pushes of many streams into multi-stream pushes (POST
 * /v1/sync/batches), the way a log group-commits: a push made while the
 * batcher's requests are all under way waits for one to end, then goes
 * with every other push that waited. At low load a push leaves at once,
 * alone, by its stream's own route; a gateway with hundreds of busy
 * streams sends a few requests instead of one per stream.
 *
 * Each push still gets its own answer, exactly the one its stream's route
 * would give (an error is thrown as the client would throw it), so the
 * replicator's window, rewind and fencing logic is unchanged. One request
 * never carries two pushes of a stream: the upstream would merge them into
 * one answer.
 *
 * @module
 */

import { errorFromBody } from "../client/errors.ts";
import { EdgelogError } from "../errors.ts";
import { concatBytes } from "../format/bytes.ts";
import type { PushResult, StreamPushOutcome } from "./stream_registry.ts";

/** The upstream calls of a batcher (an EdgelogClient). */
export interface MultiStreamUpstream {
  pushBatches(producerId: number, bytes: Uint8Array): Promise<PushResult>;
  pushStreams(bytes: Uint8Array): Promise<StreamPushOutcome[]>;
}

/** Options of {@linkcode PushBatcher}. */
export interface PushBatcherOptions {
  /** Requests under way at once; default 2. */
  maxRequests?: number;
  /** Bytes of one request, at least one push; default 4 MiB. */
  maxBytes?: number;
  /** Streams in one request; default (and the upstream's cap) 1000. */
  maxStreams?: number;
}

interface Waiting {
  producerId: number;
  body: Uint8Array;
  resolve: (result: PushResult) => void;
  reject: (err: unknown) => void;
}

/**
 * Sends pushes alone or gathered; see the module doc.
 *
 * @example Usage
 * ```ts ignore
 * const batcher = new PushBatcher(client);
 * const answer = await batcher.push(producerId, body);
 * ```
 */
export class PushBatcher {
  #upstream: MultiStreamUpstream;
  #maxRequests: number;
  #maxBytes: number;
  #maxStreams: number;
  #waiting: Waiting[] = [];
  #running = 0;
  /** False once the upstream answered that it has no multi-stream route. */
  #multi = true;

  constructor(upstream: MultiStreamUpstream, options: PushBatcherOptions = {}) {
    this.#upstream = upstream;
    this.#maxRequests = Math.max(1, options.maxRequests ?? 2);
    this.#maxBytes = options.maxBytes ?? 4 << 20;
    this.#maxStreams = options.maxStreams ?? 1000;
  }

  /** Pushes `body` (batches of one stream) and resolves with its answer. */
  push(producerId: number, body: Uint8Array): Promise<PushResult> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ producerId, body, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#running < this.#maxRequests && this.#waiting.length > 0) {
      const group = this.#take();
      this.#running++;
      this.#send(group).finally(() => {
        this.#running--;
        this.#pump();
      });
    }
  }

  /** The next request's pushes: in order, one per stream, within the caps. */
  #take(): Waiting[] {
    const group: Waiting[] = [];
    const streams = new Set<number>();
    const left: Waiting[] = [];
    let bytes = 0;
    for (const entry of this.#waiting) {
      const fits = group.length === 0 ||
        (this.#multi && group.length < this.#maxStreams &&
          bytes + entry.body.length <= this.#maxBytes);
      if (fits && !streams.has(entry.producerId)) {
        group.push(entry);
        streams.add(entry.producerId);
        bytes += entry.body.length;
      } else {
        // A later push of a stream already in the group keeps its place
        // behind it, and so does everything once the group is full.
        streams.add(entry.producerId);
        left.push(entry);
      }
    }
    this.#waiting = left;
    return group;
  }

  async #send(group: Waiting[]): Promise<void> {
    if (group.length === 1) {
      const [only] = group as [Waiting];
      await this.#upstream.pushBatches(only.producerId, only.body).then(
        only.resolve,
        only.reject,
      );
      return;
    }
    let outcomes: StreamPushOutcome[];
    try {
      outcomes = await this.#upstream.pushStreams(
        concatBytes(group.map((w) => w.body)),
      );
    } catch (err) {
      if (err instanceof EdgelogError && err.code === "NOT_FOUND") {
        // An upstream from before the multi-stream route: push one by one.
        this.#multi = false;
        this.#waiting.unshift(...group);
        return;
      }
      for (const w of group) w.reject(err);
      return;
    }
    const byStream = new Map(outcomes.map((o) => [o.producerId, o]));
    for (const w of group) {
      const outcome = byStream.get(w.producerId);
      if (outcome === undefined) {
        w.reject(
          new EdgelogError(
            "INTERNAL",
            `The upstream gave no answer for stream ${w.producerId}`,
          ),
        );
      } else if ("error" in outcome) {
        w.reject(
          errorFromBody(JSON.stringify(outcome), outcome.status),
        );
      } else {
        w.resolve({
          ackedOffset: outcome.ackedOffset,
          partition: outcome.partition,
          lastOffset: outcome.lastOffset,
        });
      }
    }
  }
}
