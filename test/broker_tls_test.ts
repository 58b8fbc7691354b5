/**
 * TLS when given a cert and key: the broker process started with a config
 * file naming them says https in its ready line, serves a client that
 * trusts the certificate, and refuses plain HTTP and clients that do not
 * trust it. The certificates are made with `openssl` at test time.
 */

import assert from "node:assert/strict";
import { EdgelogClient } from "../runtime/client/mod.ts";
import { startBroker } from "./broker_process.ts";

async function hasOpenssl(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("openssl", {
      args: ["version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

const OPENSSL = await hasOpenssl();
if (!OPENSSL) console.warn("broker_tls_test: openssl not found, skipping");

async function openssl(args: string[], cwd: string): Promise<void> {
  const { success, stderr } = await new Deno.Command("openssl", {
    args,
    cwd,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(success, new TextDecoder().decode(stderr));
}

/**
 * A throwaway CA and a server certificate it signed for 127.0.0.1 (rustls
 * refuses a CA certificate used as the server's own).
 */
async function testCertificates(
  dir: string,
): Promise<{ ca: string; cert: string; key: string }> {
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=edgelog test CA",
  ], dir);
  await openssl([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=127.0.0.1",
  ], dir);
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n" +
      "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "1",
    "-extfile",
    "server.ext",
  ], dir);
  return {
    ca: `${dir}/ca.pem`,
    cert: `${dir}/server.pem`,
    key: `${dir}/server.key`,
  };
}

Deno.test({
  name: "broker serves HTTPS with the configured cert and key",
  ignore: !OPENSSL,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "edgelog-tls-" });
    const { ca, cert, key } = await testCertificates(dir);
    const configFile = `${dir}/config.json`;
    await Deno.writeTextFile(
      configFile,
      JSON.stringify({
        tls: { certFile: cert, keyFile: key },
        fsync: "never",
      }),
    );
    const http = Deno.createHttpClient({
      caCerts: [await Deno.readTextFile(ca)],
    });
    const broker = await startBroker({
      dataDir: `${dir}/data`,
      args: ["--config", configFile],
    });
    try {
      assert.match(broker.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.match(broker.output(), /listening on https:\/\/127\.0\.0\.1:\d+/);

      const health = await fetch(`${broker.url}/healthz`, { client: http });
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: "ok" });

      // The typed client works over TLS through an injected fetch.
      const client = new EdgelogClient(broker.url, {
        fetch: (request) => fetch(request, { client: http }),
      });
      await client.createTopic("secure", { partitions: 1 });
      await client.produce("secure", [{ key: "k", value: { n: 1 } }]);
      const page = await client.fetch("secure", 0, { offset: "earliest" });
      assert.deepEqual(page.records.map((r) => r.value), [{ n: 1 }]);

      // Plain HTTP on the same port gets no answer.
      const plainUrl = broker.url.replace(/^https:/, "http:");
      await assert.rejects(
        fetch(`${plainUrl}/healthz`).then((r) => r.body?.cancel()),
      );
      // A client that does not trust the test CA refuses the certificate.
      await assert.rejects(
        fetch(`${broker.url}/healthz`).then((r) => r.body?.cancel()),
      );
      assert.equal(await broker.stop(), 0);
    } finally {
      await broker[Symbol.asyncDispose]();
      http.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "broker with an unreadable TLS key exits 2 naming the problem",
  ignore: !OPENSSL,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "edgelog-tls-" });
    const configFile = `${dir}/config.json`;
    await Deno.writeTextFile(
      configFile,
      JSON.stringify({
        tls: { certFile: `${dir}/missing.pem`, keyFile: `${dir}/missing.key` },
      }),
    );
    try {
      const { code, stderr } = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          new URL("../edge/serve.ts", import.meta.url).pathname,
          "--port",
          "0",
          "--data",
          `${dir}/data`,
          "--config",
          configFile,
        ],
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.equal(code, 2);
      assert.match(
        new TextDecoder().decode(stderr),
        /Cannot read TLS certificate or key/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
