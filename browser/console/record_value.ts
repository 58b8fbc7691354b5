/**
 * A fetched record's value as the message browser shows it: JSON pretty
 * printed, text as text, and anything that is not UTF-8 text as a hex dump,
 * never binary as if it were text. Also the browser's record filters.
 *
 * @module
 */

import { decodeBase64 } from "../../runtime/format/base64.ts";

/** A record as `GET …/records` answers it (PROTOCOL.md). */
export interface ApiRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key?: string | null;
  keyBase64?: string;
  value?: unknown;
  valueBase64?: string;
  headers?: Record<string, string>;
}

/** How to show values: by their content, or forced. */
export type ViewMode = "auto" | "json" | "text" | "hex";

/** A value ready to show. */
export interface ShownValue {
  kind: "json" | "text" | "hex" | "tombstone";
  text: string;
  /** Why the shown kind differs from the asked one. */
  note?: string;
}

/**
 * The text of `bytes` when they are UTF-8 without control characters other
 * than tab, newline and carriage return; else undefined (binary).
 */
export function asText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  // deno-lint-ignore no-control-regex
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)
    ? undefined
    : text;
}

/** A hex dump: offset, 16 bytes in hex, and their printable ASCII. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = [...row].map((b) =>
      b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "."
    ).join("");
    lines.push(
      `${at.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${ascii}`,
    );
  }
  return lines.join("\n");
}

/** The value's bytes: the base64 ones, or the UTF-8 of its JSON text. */
function valueBytes(record: ApiRecord): Uint8Array {
  return record.valueBase64 !== undefined
    ? decodeBase64(record.valueBase64)
    : new TextEncoder().encode(JSON.stringify(record.value));
}

/** The record's value as `mode` asks, falling back where it cannot be. */
export function showValue(record: ApiRecord, mode: ViewMode): ShownValue {
  if (record.valueBase64 === undefined && record.value === null) {
    return { kind: "tombstone", text: "null (tombstone: no value)" };
  }
  if (mode === "hex") return { kind: "hex", text: hexDump(valueBytes(record)) };
  if (record.valueBase64 === undefined) {
    if (mode === "text" && typeof record.value === "string") {
      return { kind: "text", text: record.value };
    }
    return mode === "text"
      ? { kind: "text", text: JSON.stringify(record.value) }
      : { kind: "json", text: JSON.stringify(record.value, null, 2) };
  }
  const bytes = decodeBase64(record.valueBase64);
  const text = asText(bytes);
  if (text === undefined) {
    return {
      kind: "hex",
      text: hexDump(bytes),
      ...(mode === "auto" ? {} : { note: "binary: shown as hex" }),
    };
  }
  return {
    kind: "text",
    text,
    ...(mode === "json" ? { note: "not JSON: shown as text" } : {}),
  };
}

/** The key as shown: the string, "(binary) <hex>", or "null". */
export function showKey(record: ApiRecord): string {
  if (record.keyBase64 !== undefined) {
    const bytes = decodeBase64(record.keyBase64);
    return `(binary) ${
      [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")
    }`;
  }
  return record.key ?? "null";
}

/** A value filter: a substring, or a JSON path with an optional `== value`. */
export type ValueFilter =
  | { kind: "none" }
  | { kind: "substring"; text: string }
  | { kind: "path"; path: (string | number)[]; equals?: unknown };

/**
 * Parses a value filter: `$.a.b[0]`, `$.a == 3`, `$["x y"] == "on"` are
 * JSON paths (a record matches when the path exists, and equals the value
 * when one is given); anything else is a substring. Throws SyntaxError for
 * a path it cannot read.
 */
export function parseValueFilter(input: string): ValueFilter {
  const text = input.trim();
  if (text === "") return { kind: "none" };
  if (!text.startsWith("$")) return { kind: "substring", text };
  const eq = text.indexOf("==");
  const pathText = (eq < 0 ? text : text.slice(0, eq)).trim();
  const path: (string | number)[] = [];
  const step = /^(?:\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])/;
  let rest = pathText.slice(1);
  while (rest !== "") {
    const m = step.exec(rest);
    if (!m) throw new SyntaxError(`Cannot read the JSON path at '${rest}'`);
    path.push(
      m[1] ?? (m[2] !== undefined ? Number(m[2]) : JSON.parse(m[3]!)),
    );
    rest = rest.slice(m[0].length);
  }
  if (eq < 0) return { kind: "path", path };
  const raw = text.slice(eq + 2).trim();
  let equals: unknown;
  try {
    equals = JSON.parse(raw);
  } catch {
    equals = raw;
  }
  return { kind: "path", path, equals };
}

function walk(value: unknown, path: (string | number)[]): {
  found: boolean;
  value?: unknown;
} {
  let at: unknown = value;
  for (const step of path) {
    if (typeof at !== "object" || at === null) return { found: false };
    if (!Object.hasOwn(at, step)) return { found: false };
    at = (at as Record<string | number, unknown>)[step];
  }
  return { found: true, value: at };
}

/** The record's value as JSON, when it is JSON. */
function jsonOf(record: ApiRecord): { ok: boolean; value?: unknown } {
  return record.valueBase64 === undefined
    ? { ok: true, value: record.value }
    : { ok: false };
}

/** Whether a record passes the key filter (a substring) and the value filter. */
export function matches(
  record: ApiRecord,
  keyFilter: string,
  filter: ValueFilter,
): boolean {
  if (keyFilter !== "" && !showKey(record).includes(keyFilter)) return false;
  switch (filter.kind) {
    case "none":
      return true;
    case "substring":
      return showValue(record, "text").text.includes(filter.text);
    case "path": {
      const json = jsonOf(record);
      if (!json.ok) return false;
      const hit = walk(json.value, filter.path);
      if (!hit.found) return false;
      return !("equals" in filter) ||
        JSON.stringify(hit.value) === JSON.stringify(filter.equals);
    }
  }
}
