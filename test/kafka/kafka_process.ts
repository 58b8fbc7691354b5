/**
 * Starts a single-node Apache Kafka (KRaft, broker and controller in one
 * process) on 127.0.0.1 for tests: free ports, a temporary log directory
 * formatted with Kafka's StorageTool, a small heap. The jars come from
 * `fetch_jars.ts`; without java or the jars, {@linkcode startKafka} answers
 * why, so the test can skip with that message.
 *
 * @module
 */

import { KafkaConnection } from "../../edge/kafka/connection.ts";
import { API, decodeApiVersions } from "../../edge/kafka/messages.ts";
import { FETCH_HINT, hasKafkaJars, kafkaJarsDir } from "./fetch_jars.ts";

/** A running Kafka. */
export interface KafkaProcess {
  /** `127.0.0.1:<port>` clients use: the advertised listener. */
  bootstrap: string;
  /** `127.0.0.1:<port>` Kafka listens on (behind a proxy, not `bootstrap`). */
  listener: string;
  /** Kills it and deletes its data. */
  stop(): Promise<void>;
}

const JVM_FLAGS = [
  "-Xmx512m",
  "-Xms128m",
  "-XX:+UseSerialGC",
  "-XX:TieredStopAtLevel=1",
  "-Djava.awt.headless=true",
];

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Why Kafka cannot start here, or undefined when it can. */
export async function kafkaUnavailable(): Promise<string | undefined> {
  try {
    const { code } = await new Deno.Command("java", {
      args: ["-version"],
      stdout: "null",
      stderr: "null",
    }).output();
    if (code !== 0) return `java -version failed; ${FETCH_HINT}`;
  } catch {
    return `java is not installed; ${FETCH_HINT}`;
  }
  if (!await hasKafkaJars()) {
    return `the Kafka jars are not in ${kafkaJarsDir()}; ${FETCH_HINT}`;
  }
  return undefined;
}

async function java(args: string[], log: string): Promise<void> {
  const { code, stdout, stderr } = await new Deno.Command("java", {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    const text = new TextDecoder().decode(stdout) +
      new TextDecoder().decode(stderr);
    throw new Error(`${log} failed (exit ${code}):\n${text.slice(-4000)}`);
  }
}

/** Whether a broker at `port` answers ApiVersions. */
async function answers(port: number): Promise<boolean> {
  let conn: KafkaConnection | undefined;
  try {
    conn = await KafkaConnection.open("127.0.0.1", port, {
      requestTimeoutMs: 2000,
    });
    decodeApiVersions(await conn.send(API.apiVersions, new Uint8Array(0)));
    return true;
  } catch {
    return false;
  } finally {
    conn?.close();
  }
}

/** Options of {@linkcode startKafka}. */
export interface StartKafkaOptions {
  /** Default 60 s. */
  timeoutMs?: number;
  /**
   * The port Kafka tells clients to connect to (a fault proxy in front of
   * it, which forwards to `listener`); default
   * its own.
   */
  advertisedPort?: number;
}

/**
 * Formats and starts a Kafka; resolves once it answers ApiVersions (within
 * `timeoutMs`, default 60 s). Throws if java or the jars are missing: call
 * {@linkcode kafkaUnavailable} first to skip instead.
 */
export async function startKafka(
  options: StartKafkaOptions = {},
): Promise<KafkaProcess> {
  const jars = `${kafkaJarsDir()}/*`;
  const dir = await Deno.makeTempDir({ prefix: "edgelog-kafka-" });
  const [port, controllerPort] = [freePort(), freePort()];
  const properties = [
    "process.roles=broker,controller",
    "node.id=1",
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${
      options.advertisedPort ?? port
    }`,
    "controller.listener.names=CONTROLLER",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    `controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}`,
    `log.dirs=${dir}/data`,
    "num.partitions=1",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    "share.coordinator.state.topic.replication.factor=1",
    "",
  ].join("\n");
  const config = `${dir}/server.properties`;
  await Deno.writeTextFile(config, properties);
  let child: Deno.ChildProcess | undefined;
  const stop = async () => {
    if (child) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await child.status;
      child = undefined;
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await java([
      ...JVM_FLAGS,
      "-cp",
      jars,
      "kafka.tools.StorageTool",
      "format",
      "--standalone",
      "--cluster-id",
      "edgelog-test-cluster0",
      "--config",
      config,
    ], "kafka-storage format");
    const logFile = await Deno.open(`${dir}/kafka.log`, {
      write: true,
      create: true,
    });
    child = new Deno.Command("java", {
      args: [...JVM_FLAGS, "-cp", jars, "kafka.Kafka", config],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const logWriter = logFile.writable.getWriter();
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream) await logWriter.write(chunk);
    };
    Promise.all([pump(child.stdout), pump(child.stderr)])
      .finally(() => logWriter.close().catch(() => {}))
      .catch(() => {});
    let exited = false;
    child.status.then(() => exited = true);
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    while (!await answers(port)) {
      if (exited || Date.now() > deadline) {
        const log = await Deno.readTextFile(`${dir}/kafka.log`).catch(() => "");
        throw new Error(
          `Kafka did not start on port ${port}${
            exited ? " (it exited)" : ""
          }:\n${log.slice(-4000)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    bootstrap: `127.0.0.1:${options.advertisedPort ?? port}`,
    listener: `127.0.0.1:${port}`,
    stop,
  };
}
