/**
 * A minimal Kafka client: it finds the cluster's brokers through a
 * bootstrap address, keeps one connection per broker, and sends the
 * Metadata, CreateTopics, InitProducerId, ListOffsets, Produce and Fetch requests
 * the mirror needs. It knows nothing of edgelog's log.
 *
 * @module
 */

import { KafkaConnection } from "./connection.ts";
import { checkErrorCode, KafkaError, networkError } from "./errors.ts";
import {
  API,
  type BrokerAddress,
  checkApiVersions,
  decodeApiVersions,
  decodeCreateTopics,
  decodeFetch,
  decodeInitProducerId,
  decodeListOffsets,
  decodeMetadata,
  decodeProduce,
  encodeCreateTopics,
  encodeFetch,
  encodeInitProducerId,
  encodeListOffsets,
  encodeMetadata,
  encodeProduce,
  type FetchedPartition,
  type Metadata,
  type NewTopic,
  type ProduceBatch,
  type ProducePartitionResult,
  type ProducerIdentity,
} from "./messages.ts";

/** Options of {@linkcode KafkaClient}. */
export interface KafkaClientOptions {
  /** Sent in request headers; default "edgelog". */
  clientId?: string;
  /** Default 30 s. */
  requestTimeoutMs?: number;
}

/** Parses `host:port` (IPv6 in brackets). */
export function parseAddress(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address.trim());
  if (!match) throw new TypeError(`Invalid Kafka address '${address}'`);
  return { host: match[1]!, port: Number(match[2]) };
}

/** A client of one Kafka cluster. */
export class KafkaClient {
  #bootstrap: { host: string; port: number }[];
  #options: KafkaClientOptions;
  #brokers = new Map<number, BrokerAddress>();
  #connections = new Map<string, Promise<KafkaConnection>>();
  #closed = false;

  /** `bootstrap`: one or more `host:port` addresses of the cluster. */
  constructor(bootstrap: readonly string[], options: KafkaClientOptions = {}) {
    if (bootstrap.length === 0) {
      throw new TypeError("No Kafka bootstrap address");
    }
    this.#bootstrap = bootstrap.map(parseAddress);
    this.#options = options;
  }

  /** Metadata of `topics` (brokers are remembered for {@linkcode send}). */
  async metadata(topics: readonly string[]): Promise<Metadata> {
    const body = await this.#sendAny(API.metadata, encodeMetadata(topics));
    const metadata = decodeMetadata(body);
    for (const broker of metadata.brokers) {
      this.#brokers.set(broker.nodeId, broker);
    }
    return metadata;
  }

  /**
   * Creates the topics that do not exist yet; an existing topic is not an
   * error. Answers nothing: callers read the partition counts from metadata.
   */
  async createTopics(
    topics: readonly NewTopic[],
    timeoutMs = 10_000,
  ): Promise<void> {
    if (topics.length === 0) return;
    const results = decodeCreateTopics(
      await this.#sendAny(
        API.createTopics,
        encodeCreateTopics(topics, timeoutMs),
      ),
    );
    for (const result of results) {
      if (result.errorCode === 36) continue;
      checkErrorCode(
        result.errorCode,
        `Cannot create Kafka topic '${result.name}'`,
        result.errorMessage,
      );
    }
  }

  /** A new idempotent producer identity. */
  async initProducerId(): Promise<ProducerIdentity> {
    return decodeInitProducerId(
      await this.#sendAny(API.initProducerId, encodeInitProducerId()),
    );
  }

  /** The log end offset of one partition, asked of its leader `nodeId`. */
  async endOffset(
    topic: string,
    partition: number,
    nodeId: number,
  ): Promise<number> {
    const body = await this.send(
      nodeId,
      API.listOffsets,
      encodeListOffsets([{ topic, partition }]),
    );
    const [result] = decodeListOffsets(body);
    if (result === undefined) {
      throw new KafkaError(
        -1,
        `ListOffsets answered nothing for ${topic}-${partition}`,
      );
    }
    checkErrorCode(
      result.errorCode,
      `Cannot list offsets of ${topic}-${partition}`,
    );
    return result.offset;
  }

  /**
   * Produces one batch to one partition through its leader `nodeId` with
   * acks=-1. Requests to one leader are appended in the order they were
   * called. Answers the partition's result; its error code is not thrown.
   */
  async produce(
    batch: ProduceBatch,
    nodeId: number,
    timeoutMs = 30_000,
  ): Promise<ProducePartitionResult> {
    const body = await this.send(
      nodeId,
      API.produce,
      encodeProduce([batch], timeoutMs),
    );
    const result = decodeProduce(body).find((r) =>
      r.topic === batch.topic && r.partition === batch.partition
    );
    if (result === undefined) {
      throw new KafkaError(
        -1,
        `Produce answered nothing for ${batch.topic}-${batch.partition}`,
      );
    }
    return result;
  }

  /**
   * Reads batches of one partition from `offset` through its leader
   * `nodeId`, up to about `maxBytes` (the first batch comes whole). Kafka's
   * error code is thrown.
   */
  async fetch(
    topic: string,
    partition: number,
    offset: number,
    nodeId: number,
    maxBytes = 1 << 20,
  ): Promise<FetchedPartition> {
    const body = await this.send(
      nodeId,
      API.fetch,
      encodeFetch(topic, partition, offset, maxBytes),
    );
    const result = decodeFetch(body, topic, partition);
    checkErrorCode(
      result.errorCode,
      `Cannot fetch ${topic}-${partition} at ${offset}`,
    );
    return result;
  }

  /** Sends one request to broker `nodeId` (known from metadata). */
  async send(
    nodeId: number,
    api: { key: number; version: number },
    body: Uint8Array,
  ): Promise<Uint8Array> {
    const broker = this.#brokers.get(nodeId);
    if (broker === undefined) {
      throw new KafkaError(8, `Kafka broker ${nodeId} is not in the metadata`, {
        retriable: true,
      });
    }
    const conn = await this.#connection(broker.host, broker.port);
    return await conn.send(api, body);
  }

  /** Closes every connection; requests in flight fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const connections = [...this.#connections.values()];
    this.#connections.clear();
    for (const conn of await Promise.allSettled(connections)) {
      if (conn.status === "fulfilled") conn.value.close();
    }
  }

  /** Sends to the bootstrap brokers in turn until one answers. */
  async #sendAny(
    api: { key: number; version: number },
    body: Uint8Array,
  ): Promise<Uint8Array> {
    let last: unknown;
    for (const { host, port } of this.#bootstrap) {
      try {
        const conn = await this.#connection(host, port);
        return await conn.send(api, body);
      } catch (err) {
        if (!(err instanceof KafkaError && err.retriable)) throw err;
        last = err;
      }
    }
    throw last;
  }

  /** The open connection to a broker, opened (and its versions checked) on first use. */
  #connection(host: string, port: number): Promise<KafkaConnection> {
    if (this.#closed) {
      return Promise.reject(networkError("The Kafka client is closed"));
    }
    const address = `${host}:${port}`;
    const existing = this.#connections.get(address);
    if (existing !== undefined) {
      return existing.then((conn) => {
        if (!conn.closed) return conn;
        if (this.#connections.get(address) === existing) {
          this.#connections.delete(address);
        }
        return this.#connection(host, port);
      });
    }
    const opening = (async () => {
      const conn = await KafkaConnection.open(host, port, this.#options);
      try {
        checkApiVersions(
          decodeApiVersions(
            await conn.send(API.apiVersions, new Uint8Array(0)),
          ),
        );
      } catch (err) {
        conn.close();
        throw err;
      }
      return conn;
    })();
    this.#connections.set(address, opening);
    opening.catch(() => {
      if (this.#connections.get(address) === opening) {
        this.#connections.delete(address);
      }
    });
    return opening;
  }
}
