/**
 * Kafka's error codes, one table: the name Kafka gives each code and whether
 * the same request may succeed later unchanged (retriable). Codes not in the
 * table are reported by number and treated as not retriable.
 *
 * @module
 */

/** code → [name, retriable], from Kafka's protocol guide. */
const KAFKA_ERRORS: ReadonlyMap<number, readonly [string, boolean]> = new Map([
  [-1, ["UNKNOWN_SERVER_ERROR", false]],
  [1, ["OFFSET_OUT_OF_RANGE", false]],
  [2, ["CORRUPT_MESSAGE", true]],
  [3, ["UNKNOWN_TOPIC_OR_PARTITION", true]],
  [5, ["LEADER_NOT_AVAILABLE", true]],
  [6, ["NOT_LEADER_OR_FOLLOWER", true]],
  [7, ["REQUEST_TIMED_OUT", true]],
  [8, ["BROKER_NOT_AVAILABLE", false]],
  [9, ["REPLICA_NOT_AVAILABLE", true]],
  [10, ["MESSAGE_TOO_LARGE", false]],
  [13, ["NETWORK_EXCEPTION", true]],
  [14, ["COORDINATOR_LOAD_IN_PROGRESS", true]],
  [15, ["COORDINATOR_NOT_AVAILABLE", true]],
  [17, ["INVALID_TOPIC_EXCEPTION", false]],
  [18, ["RECORD_LIST_TOO_LARGE", false]],
  [19, ["NOT_ENOUGH_REPLICAS", true]],
  [20, ["NOT_ENOUGH_REPLICAS_AFTER_APPEND", true]],
  [21, ["INVALID_REQUIRED_ACKS", false]],
  [29, ["TOPIC_AUTHORIZATION_FAILED", false]],
  [31, ["CLUSTER_AUTHORIZATION_FAILED", false]],
  [32, ["INVALID_TIMESTAMP", false]],
  [35, ["UNSUPPORTED_VERSION", false]],
  [36, ["TOPIC_ALREADY_EXISTS", false]],
  [37, ["INVALID_PARTITIONS", false]],
  [38, ["INVALID_REPLICATION_FACTOR", false]],
  [40, ["INVALID_CONFIG", false]],
  [41, ["NOT_CONTROLLER", true]],
  [42, ["INVALID_REQUEST", false]],
  [45, ["OUT_OF_ORDER_SEQUENCE_NUMBER", false]],
  [46, ["DUPLICATE_SEQUENCE_NUMBER", false]],
  [47, ["INVALID_PRODUCER_EPOCH", false]],
  [53, ["TRANSACTIONAL_ID_AUTHORIZATION_FAILED", false]],
  [56, ["KAFKA_STORAGE_ERROR", true]],
  [59, ["UNKNOWN_PRODUCER_ID", false]],
  [74, ["FENCED_LEADER_EPOCH", true]],
  [75, ["UNKNOWN_LEADER_EPOCH", true]],
  [87, ["INVALID_RECORD", false]],
  [89, ["THROTTLING_QUOTA_EXCEEDED", true]],
  [90, ["PRODUCER_FENCED", false]],
]);

/** An error code Kafka answered, or a failure of the connection to it. */
export class KafkaError extends Error {
  /** Kafka's error code; -1 also stands for a lost connection. */
  readonly code: number;
  /** Kafka's name of the code, e.g. `NOT_LEADER_OR_FOLLOWER`. */
  readonly type: string;
  /** Whether the same request may succeed later. */
  readonly retriable: boolean;

  constructor(
    code: number,
    message: string,
    options: { retriable?: boolean; type?: string } = {},
  ) {
    const [type, retriable] = KAFKA_ERRORS.get(code) ??
      [`KAFKA_ERROR_${code}`, false];
    const name = options.type ?? type;
    super(`${message}: ${name} (${code})`);
    this.name = "KafkaError";
    this.code = code;
    this.type = name;
    this.retriable = options.retriable ?? retriable;
  }
}

/** Kafka's name of an error code. */
export function kafkaErrorName(code: number): string {
  return KAFKA_ERRORS.get(code)?.[0] ?? `KAFKA_ERROR_${code}`;
}

/** Throws a {@linkcode KafkaError} unless `code` is 0. */
export function checkErrorCode(
  code: number,
  context: string,
  detail?: string | null,
): void {
  if (code === 0) return;
  throw new KafkaError(code, detail ? `${context} (${detail})` : context);
}

/** A connection that failed or closed: always retriable. */
export function networkError(message: string): KafkaError {
  return new KafkaError(13, message, { retriable: true });
}
