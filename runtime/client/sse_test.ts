import assert from "node:assert/strict";
import { parseSse, type SseEvent } from "./sse.ts";

function chunked(parts: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(encoder.encode(part));
      controller.close();
    },
  });
}

async function collect(parts: string[]): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of parseSse(chunked(parts))) events.push(event);
  return events;
}

Deno.test("parseSse: fields, multi-line data, comments and carried-over ids", async () => {
  const events = await collect([
    "\uFEFF: comment\n",
    "id: 1\nevent: record\ndata: a\ndata: b\n\n",
    "data:no space\nretry: 300\n\n",
    "event: error\ndata: {}\n\n",
  ]);
  assert.deepEqual(events, [
    { event: "record", data: "a\nb", id: "1", retry: undefined },
    { event: "message", data: "no space", id: "1", retry: 300 },
    { event: "error", data: "{}", id: "1", retry: undefined },
  ]);
});

Deno.test("parseSse: CRLF split across chunks, lone CR, and a final event without a blank line is dropped", async () => {
  const events = await collect([
    "id: 7\r",
    "\ndata: x\r\n\r",
    "\ndata: y\r\rdata: z\n",
  ]);
  assert.deepEqual(events.map((e) => [e.id, e.data]), [["7", "x"], ["7", "y"]]);
});

Deno.test("parseSse: a multi-byte character split between chunks survives", async () => {
  const bytes = new TextEncoder().encode("data: é\n\n");
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes.subarray(0, 7));
      controller.enqueue(bytes.subarray(7));
      controller.close();
    },
  });
  const events: SseEvent[] = [];
  for await (const event of parseSse(body)) events.push(event);
  assert.equal(events[0]?.data, "é");
});
