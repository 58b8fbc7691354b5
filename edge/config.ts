/**
 * The broker's configuration: defaults, then a JSON config file
 * (`--config`), then environment variables, then flags. The file is
 * validated with zod; any mistake is a {@linkcode ConfigError} naming it,
 * which `serve.ts` turns into exit code 2.
 *
 * @module
 */

import { z } from "zod";
import type { AuthConfig, TokenRights } from "../runtime/server/auth.ts";
import type { TopicConfig } from "../runtime/log/types.ts";
import type { KafkaMirrorOptions } from "./kafka/mirror.ts";
import type { FsyncPolicy } from "./storage/sync_policy.ts";
import { DEFAULT_LIMITS, type NodeLimits } from "./limits.ts";

/** A configuration mistake, reported to the operator as is. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const RightsSchema = z.strictObject({
  admin: z.literal(true).optional(),
  produce: z.array(z.string().min(1)).optional(),
  consume: z.array(z.string().min(1)).optional(),
  nodeId: z.string().min(1).optional(),
  metrics: z.literal(true).optional(),
});

/** The `tokens` section of a broker's or a gateway's config file. */
export const TokensSchema = z.array(z.strictObject({
  token: z.string().min(1),
  rights: RightsSchema,
}));

/**
 * The auth settings of `tokens` and `metricsOpen` as a config file gives
 * them; undefined when the file names no tokens.
 */
export function authFromFile(
  tokens: z.infer<typeof TokensSchema> | undefined,
  metricsOpen: boolean | undefined,
): AuthConfig | undefined {
  if (tokens === undefined) return undefined;
  return {
    tokens: tokens.map(({ token, rights }) => ({
      token,
      rights: dropUndefined(rights) as TokenRights,
    })),
    ...(metricsOpen === undefined ? {} : { metricsOpen }),
  };
}

const count = z.number().int().min(1).max(1_000_000);
const millis = z.number().int().min(1).max(24 * 3600 * 1000);

/** The `limits` section of a config file (broker and gateway). */
export const LimitsSchema = z.strictObject({
  maxConnections: count.optional(),
  idleTimeoutMs: millis.optional(),
  headerTimeoutMs: millis.optional(),
  maxTopics: count.optional(),
  maxPartitionsPerTopic: z.number().int().min(1).max(10_000).optional(),
  maxPartitions: count.optional(),
  maxOpenSegmentFiles: count.optional(),
  maxGroupMembers: count.optional(),
  maxLongPolls: count.optional(),
  maxLongPollsPerClient: count.optional(),
  maxStreams: count.optional(),
  maxStreamsPerClient: count.optional(),
});

/** The config file's schema; every field optional. */
export const ConfigFileSchema = z.strictObject({
  host: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  dataDir: z.string().min(1).optional(),
  fsync: z.union([
    z.enum(["always", "never"]),
    z.strictObject({ intervalMs: z.number().int().positive() }),
  ]).optional(),
  topicDefaults: z.strictObject({
    partitions: z.number().int().min(1).optional(),
    retentionMs: z.number().int().min(-1).optional(),
    retentionBytes: z.number().int().min(-1).optional(),
    cleanupPolicy: z.enum(["delete", "compact"]).optional(),
    segmentBytes: z.number().int().positive().optional(),
    segmentMs: z.number().int().positive().optional(),
    diskBudgetBytes: z.number().int().min(-1).optional(),
    whenFull: z.enum(["reject", "dropOldest"]).optional(),
  }).optional(),
  autoCreateTopics: z.boolean().optional(),
  maxBodyBytes: z.number().int().positive().optional(),
  maxDecompressedBytes: z.number().int().positive().optional(),
  corsOrigins: z.array(z.string().min(1)).optional(),
  tokens: TokensSchema.optional(),
  /** Serve /metrics without a token even when tokens are configured. */
  metricsOpen: z.boolean().optional(),
  tls: z.strictObject({
    certFile: z.string().min(1),
    keyFile: z.string().min(1),
  }).optional(),
  retentionCheckMs: z.number().int().positive().optional(),
  deviceSilentMs: z.number().int().positive().optional(),
  limits: LimitsSchema.optional(),
  kafkaMirror: z.strictObject({
    bootstrap: z.array(z.string().regex(/^\S+:\d{1,5}$/)).min(1),
    topics: z.array(z.string().min(1)),
    maxInFlight: z.number().int().min(1).max(5).optional(),
    mode: z.enum(["dedicated", "shared"]).optional(),
    createTopics: z.boolean().optional(),
    replicationFactor: z.number().int().min(-1).optional(),
  }).optional(),
});

/** A config file as written. */
export type ConfigFile = z.infer<typeof ConfigFileSchema>;

/** The resolved configuration of a broker. */
export interface BrokerConfig {
  host: string;
  /** 0 picks a free port. */
  port: number;
  dataDir: string;
  fsync: FsyncPolicy;
  topicDefaults: Partial<TopicConfig>;
  autoCreateTopics: boolean;
  maxBodyBytes: number;
  /**
   * Cap on the bytes one compressed batch's records expand to, on produce,
   * sync and fetch; past it a batch is refused (413), never stored.
   */
  maxDecompressedBytes: number;
  /** Origins whose pages may call the API; ["*"] = any, [] = none. */
  corsOrigins: string[];
  auth: AuthConfig;
  tls?: { certFile: string; keyFile: string };
  retentionCheckMs: number;
  /** A device none of whose streams pushed for this long counts as silent. */
  deviceSilentMs: number;
  /** Connections, timeouts, topics, partitions, groups, long polls, streams. */
  limits: NodeLimits;
  /** Mirror these topics into Apache Kafka (edge/kafka). */
  kafkaMirror?: KafkaMirrorConfig;
}

/** The `kafkaMirror` config section. */
export type KafkaMirrorConfig = Pick<
  KafkaMirrorOptions,
  | "bootstrap"
  | "topics"
  | "maxInFlight"
  | "mode"
  | "createTopics"
  | "replicationFactor"
>;

/** The defaults PROTOCOL.md fixes, and the rest. */
export const DEFAULT_CONFIG: BrokerConfig = {
  host: "127.0.0.1",
  port: 9092,
  dataDir: "./data",
  fsync: "always",
  topicDefaults: {},
  autoCreateTopics: false,
  maxBodyBytes: 16 * 1024 * 1024,
  maxDecompressedBytes: 64 * 1024 * 1024,
  corsOrigins: ["*"],
  auth: { tokens: [] },
  retentionCheckMs: 60_000,
  deviceSilentMs: 60_000,
  limits: DEFAULT_LIMITS,
};

/** Flags of `deno task serve`. */
export interface ServeFlags {
  host?: string;
  port?: number;
  data?: string;
  config?: string;
  help?: boolean;
}

/** Usage text of `deno task serve`. */
export const USAGE =
  `Usage: deno task serve [--host H] [--port N] [--data DIR] [--config FILE]

  --host H       address to listen on (default 127.0.0.1; env EDGELOG_HOST)
  --port N       port, 0 for any free one (default 9092; env EDGELOG_PORT)
  --data DIR     data directory (default ./data; env EDGELOG_DATA)
  --config FILE  JSON config: host, port, dataDir, fsync, topicDefaults,
                 autoCreateTopics, maxBodyBytes, maxDecompressedBytes,
                 corsOrigins, tokens, metricsOpen, tls, retentionCheckMs,
                 deviceSilentMs,
                 limits, kafkaMirror
  --help         this text`;

function parsePort(value: string, source: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new ConfigError(
      `${source} must be a port number 0-65535, got '${value}'`,
    );
  }
  return Number(value);
}

/** Parses `--name value` and `--name=value` flags. */
export function parseFlags(args: readonly string[]): ServeFlags {
  const flags: ServeFlags = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--help" || arg === "-h") {
      flags.help = true;
      continue;
    }
    const match = /^--(host|port|data|config)(?:=(.*))?$/.exec(arg);
    if (!match) throw new ConfigError(`Unknown argument '${arg}'\n${USAGE}`);
    const name = match[1] as "host" | "port" | "data" | "config";
    let value = match[2];
    if (value === undefined) {
      value = args[++i];
      if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    }
    if (value === "") throw new ConfigError(`--${name} needs a value`);
    if (name === "port") flags.port = parsePort(value, "--port");
    else flags[name] = value;
  }
  return flags;
}

/** Validates a parsed config file; `source` names it in errors. */
export function parseConfigFile(json: unknown, source: string): ConfigFile {
  const result = ConfigFileSchema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues.map((issue) =>
      `  ${issue.path.join(".") || "(top level)"}: ${issue.message}`
    ).join("\n");
    throw new ConfigError(`Invalid config file ${source}:\n${issues}`);
  }
  return result.data;
}

async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new ConfigError(
      `Cannot read config file ${path}: ${(err as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      `Config file ${path} is not JSON: ${(err as Error).message}`,
    );
  }
  return parseConfigFile(json, path);
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

/**
 * Resolves the configuration from flags, environment and config file.
 * `env` defaults to the process environment.
 */
export async function loadConfig(
  args: readonly string[],
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): Promise<BrokerConfig> {
  const flags = parseFlags(args);
  const file = flags.config === undefined
    ? {}
    : await readConfigFile(flags.config);
  const config: BrokerConfig = { ...DEFAULT_CONFIG };
  if (file.host !== undefined) config.host = file.host;
  if (file.port !== undefined) config.port = file.port;
  if (file.dataDir !== undefined) config.dataDir = file.dataDir;
  if (file.fsync !== undefined) config.fsync = file.fsync;
  if (file.topicDefaults !== undefined) {
    config.topicDefaults = dropUndefined(file.topicDefaults) as Partial<
      TopicConfig
    >;
  }
  if (file.autoCreateTopics !== undefined) {
    config.autoCreateTopics = file.autoCreateTopics;
  }
  if (file.maxBodyBytes !== undefined) config.maxBodyBytes = file.maxBodyBytes;
  if (file.maxDecompressedBytes !== undefined) {
    config.maxDecompressedBytes = file.maxDecompressedBytes;
  }
  if (file.corsOrigins !== undefined) config.corsOrigins = file.corsOrigins;
  const auth = authFromFile(file.tokens, file.metricsOpen);
  if (auth !== undefined) config.auth = auth;
  if (file.tls !== undefined) config.tls = file.tls;
  if (file.retentionCheckMs !== undefined) {
    config.retentionCheckMs = file.retentionCheckMs;
  }
  if (file.deviceSilentMs !== undefined) {
    config.deviceSilentMs = file.deviceSilentMs;
  }
  if (file.limits !== undefined) {
    config.limits = {
      ...DEFAULT_LIMITS,
      ...dropUndefined(file.limits) as Partial<NodeLimits>,
    };
  }
  if (file.kafkaMirror !== undefined) {
    config.kafkaMirror = dropUndefined(file.kafkaMirror) as KafkaMirrorConfig;
  }

  const envHost = env("EDGELOG_HOST");
  const envPort = env("EDGELOG_PORT");
  const envData = env("EDGELOG_DATA");
  if (envHost) config.host = envHost;
  if (envPort) config.port = parsePort(envPort, "EDGELOG_PORT");
  if (envData) config.dataDir = envData;

  if (flags.host !== undefined) config.host = flags.host;
  if (flags.port !== undefined) config.port = flags.port;
  if (flags.data !== undefined) config.dataDir = flags.data;
  return config;
}
