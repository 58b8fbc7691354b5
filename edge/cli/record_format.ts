/**
 * How `consume` prints a record: a format string in kcat's manner
 * (`-f '%t/%p@%o %k=%s\n'`), or one JSON object per line.
 *
 * Tokens: `%t` topic, `%p` partition, `%o` offset, `%T` timestamp (ms),
 * `%k` key, `%s` value, `%K` key length, `%S` value length, `%h` headers as
 * `name=value` joined by commas, `%%` a percent sign. Escapes: `\n`, `\t`,
 * `\r`, `\\`. A null key or value prints as nothing, and its length as -1,
 * as kcat does.
 *
 * @module
 */

import { encodeBase64, type FetchedRecord } from "../../runtime/client/mod.ts";

/** A record with the topic it came from. */
export type PrintedRecord = FetchedRecord & { topic: string };

const encoder = new TextEncoder();

/** A key or value as text: strings as they are, JSON values as JSON. */
export function fieldText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return JSON.stringify(value);
}

function byteLength(value: unknown): number {
  if (value === null || value === undefined) return -1;
  if (value instanceof Uint8Array) return value.length;
  return encoder.encode(fieldText(value)).length;
}

function headersText(headers: Record<string, string | null>): string {
  return Object.entries(headers)
    .map(([name, value]) => `${name}=${value ?? ""}`)
    .join(",");
}

const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  "\\": "\\",
};

/** Turns `\t`, `\n`, `\r` and `\\` in command-line text into the characters. */
export function unescape(text: string): string {
  return text.replace(/\\([ntr\\])/g, (_, c: string) => ESCAPES[c]!);
}

const TOKENS: Record<string, (r: PrintedRecord) => string> = {
  t: (r) => r.topic,
  p: (r) => String(r.partition),
  o: (r) => String(r.offset),
  T: (r) => String(r.timestamp),
  k: (r) => fieldText(r.key),
  s: (r) => fieldText(r.value),
  K: (r) => String(byteLength(r.key)),
  S: (r) => String(byteLength(r.value)),
  h: (r) => headersText(r.headers),
  "%": () => "%",
};

/**
 * Compiles a format string into a printer; an unknown `%x` throws a
 * RangeError naming it.
 *
 * @example Usage
 * ```ts
 * import { compileFormat } from "./record_format.ts";
 * const print = compileFormat("%p@%o %k=%s\\n");
 * const line = print({
 *   topic: "t", partition: 1, offset: 7, timestamp: 0,
 *   key: "dev-1", value: { t: 21.5 }, headers: {},
 * });
 * console.assert(line === '1@7 dev-1={"t":21.5}\n');
 * ```
 */
export function compileFormat(format: string): (r: PrintedRecord) => string {
  const parts: ((r: PrintedRecord) => string)[] = [];
  const text = unescape(format);
  let literal = "";
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char !== "%") {
      literal += char;
      continue;
    }
    const token = TOKENS[text[i + 1] ?? ""];
    if (token === undefined) {
      throw new RangeError(
        `Unknown format token '%${
          text[i + 1] ?? ""
        }' (known: %t %p %o %T %k %s %K %S %h %%)`,
      );
    }
    if (literal !== "") {
      const fixed = literal;
      parts.push(() => fixed);
      literal = "";
    }
    parts.push(token);
    i++;
  }
  if (literal !== "") parts.push(() => literal);
  return (record) => parts.map((part) => part(record)).join("");
}

/** A record as one JSON line, with its topic, keys and values base64 when bytes. */
export function jsonLine(record: PrintedRecord): string {
  const { key, value, ...rest } = record;
  return JSON.stringify({
    ...rest,
    ...(key instanceof Uint8Array ? { keyBase64: encodeBase64(key) } : { key }),
    ...(value instanceof Uint8Array
      ? { valueBase64: encodeBase64(value) }
      : { value }),
  }) + "\n";
}
