import assert from "node:assert/strict";
import { blobBodies } from "./sdk.ts";

Deno.test("blobBodies", async (t) => {
  await t.step(
    "sends a body's bytes, method and headers unchanged",
    async () => {
      const seen: Request[] = [];
      const send = blobBodies((request) => {
        seen.push(request);
        return new Response("{}");
      });
      const controller = new AbortController();
      await send(
        new Request("http://broker.test/v1/sync/streams/7/batches", {
          method: "POST",
          headers: {
            "content-type": "application/x-edgelog-batches",
            "edgelog-dropped": "3",
          },
          body: new Uint8Array([1, 2, 3, 250]),
          signal: controller.signal,
        }),
      );
      const request = seen[0]!;
      assert.equal(request.method, "POST");
      assert.equal(request.url, "http://broker.test/v1/sync/streams/7/batches");
      assert.equal(
        request.headers.get("content-type"),
        "application/x-edgelog-batches",
      );
      assert.equal(request.headers.get("edgelog-dropped"), "3");
      assert.deepEqual(
        new Uint8Array(await request.arrayBuffer()),
        new Uint8Array([1, 2, 3, 250]),
      );
      controller.abort();
      assert.equal(request.signal.aborted, true);
    },
  );

  await t.step("passes a request without a body through as it is", async () => {
    const original = new Request("http://broker.test/v1/topics");
    let seen: Request | undefined;
    await blobBodies((request) => {
      seen = request;
      return new Response("{}");
    })(original);
    assert.equal(seen, original);
  });
});
