import assert from "node:assert/strict";
import { formatHash, link, parseHash } from "./route.ts";

Deno.test("route: a hash names page, name and params, and back", () => {
  const route = parseHash("#/messages/orders%2Fx?p=0&from=offset&offset=12");
  assert.deepEqual(route, {
    page: "messages",
    name: "orders/x",
    params: { p: "0", from: "offset", offset: "12" },
  });
  assert.equal(parseHash(formatHash(route)).name, "orders/x");
  assert.equal(link("group", "billing"), "#/group/billing");
  assert.equal(link("topics"), "#/topics");
});

Deno.test("route: empty, unknown or malformed hashes are the overview", () => {
  for (const hash of ["", "#", "#/", "#/nope/x", "#/topic/%E0%A4%A"]) {
    assert.deepEqual(parseHash(hash), { page: "overview", params: {} }, hash);
  }
});
