import assert from "node:assert/strict";
import { EdgelogError } from "../errors.ts";
import { validateTopicName } from "./topic_name.ts";

function rejects(name: string): void {
  assert.throws(
    () => validateTopicName(name),
    (err) => err instanceof EdgelogError && err.code === "BAD_REQUEST",
    `expected ${JSON.stringify(name)} to be rejected`,
  );
}

Deno.test("validateTopicName accepts the PROTOCOL alphabet", () => {
  for (
    const name of [
      "a",
      "orders",
      "Sensors.temp_2-x",
      "...",
      "-",
      "_",
      "x".repeat(249),
    ]
  ) {
    validateTopicName(name);
  }
});

Deno.test("validateTopicName rejects empty, long, reserved and odd names", () => {
  for (
    const name of [
      "",
      ".",
      "..",
      "x".repeat(250),
      "a/b",
      "a b",
      "é",
      "topic\n",
      "a:b",
      "%2F",
    ]
  ) {
    rejects(name);
  }
  assert.throws(
    () => validateTopicName(42 as unknown as string),
    (err) => err instanceof EdgelogError && err.code === "BAD_REQUEST",
  );
});
