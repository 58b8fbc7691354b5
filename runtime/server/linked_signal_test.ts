import assert from "node:assert/strict";
import { linkSignals } from "./linked_signal.ts";

Deno.test("a linked signal follows its sources until disposed", () => {
  const a = new AbortController();
  const b = new AbortController();
  const linked = linkSignals([a.signal, b.signal]);
  assert.equal(linked.signal.aborted, false);
  b.abort();
  assert.equal(linked.signal.aborted, true);

  const c = new AbortController();
  const later = linkSignals([c.signal]);
  later.dispose();
  c.abort();
  assert.equal(later.signal.aborted, false);

  const d = new AbortController();
  d.abort();
  assert.equal(linkSignals([d.signal]).signal.aborted, true);
});
