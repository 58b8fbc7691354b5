/**
 * A Server-Sent Events parser over a fetch body, so streams can be read with
 * `fetch` (which can send `Authorization` and `Last-Event-ID`) rather than
 * `EventSource` (which can send neither on its first connection).
 * Follows the WHATWG event-stream grammar.
 *
 * @module
 */

/** One dispatched event. */
export interface SseEvent {
  /** The event type; "message" when the stream named none. */
  event: string;
  data: string;
  /** The last event id seen so far in the stream, as the spec carries it over. */
  id: string | undefined;
  /** A reconnection delay the server asked for, in ms. */
  retry: number | undefined;
}

/**
 * The events of an event stream, in order. Cancels the body when the
 * consumer stops early.
 *
 * @example Usage
 * ```ts
 * import { parseSse } from "./sse.ts";
 * const body = new Response("id: 7\ndata: {\"a\":1}\n\n").body!;
 * for await (const event of parseSse(body)) {
 *   console.assert(event.id === "7" && event.data === '{"a":1}');
 * }
 * ```
 */
export async function* parseSse(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let first = true;
  let data: string[] = [];
  let event = "";
  let id: string | undefined;
  let retry: number | undefined;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      if (first && buffer.length > 0) {
        if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
        first = false;
      }
      while (true) {
        const end = buffer.search(/[\r\n]/);
        if (end < 0) break;
        // A lone CR at the end may be the first half of CRLF: wait for more.
        if (buffer[end] === "\r" && end === buffer.length - 1) break;
        const line = buffer.slice(0, end);
        const skip = buffer.startsWith("\r\n", end) ? 2 : 1;
        buffer = buffer.slice(end + skip);
        if (line === "") {
          if (data.length > 0) {
            yield {
              event: event || "message",
              data: data.join("\n"),
              id,
              retry,
            };
          }
          data = [];
          event = "";
          retry = undefined;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let fieldValue = colon < 0 ? "" : line.slice(colon + 1);
        if (fieldValue.startsWith(" ")) fieldValue = fieldValue.slice(1);
        if (field === "data") data.push(fieldValue);
        else if (field === "event") event = fieldValue;
        else if (field === "id" && !fieldValue.includes("\0")) id = fieldValue;
        else if (field === "retry" && /^\d+$/.test(fieldValue)) {
          retry = Number(fieldValue);
        }
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
