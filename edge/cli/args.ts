/**
 * Command-line parsing for the CLI: the global options, a usage error that
 * maps to exit code 2, and number checks. Built on node:util parseArgs.
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";

/** Bad command-line input; the CLI prints it with a hint and exits 2. */
export class UsageError extends Error {
  /** The command whose help to point to, e.g. "consume". */
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Options every command takes. */
export const GLOBAL_OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

/** Parsed options and positionals of one command. */
export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Parses `argv` with the global options and `options`; an unknown option
 * or a missing value is a {@linkcode UsageError}.
 */
export function parseCommand(
  argv: string[],
  options: Options,
  command?: string,
): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...GLOBAL_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Parsed["values"], positionals };
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
}

/**
 * Finds the command word: the first argument that is neither an option nor
 * the value of `--url`/`--token`. Returns it and the other arguments.
 */
export function splitCommand(
  argv: readonly string[],
): { command: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    if ((arg === "--url" || arg === "--token") && i + 1 < argv.length) {
      i++;
      continue;
    }
    if (!arg.startsWith("-")) {
      return {
        command: arg,
        rest: [...argv.slice(0, i), ...argv.slice(i + 1)],
      };
    }
  }
  return { command: undefined, rest: [...argv] };
}

/** A non-negative integer option, or undefined when absent. */
function intOption(
  values: Parsed["values"],
  name: string,
  options: { command: string; min?: number },
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const min = options.min ?? 0;
  const value = Number(raw);
  if (
    typeof raw !== "string" || !/^-?\d+$/.test(raw) ||
    !Number.isSafeInteger(value) || value < min
  ) {
    throw new UsageError(
      `--${name} must be an integer >= ${min}, got '${String(raw)}'`,
      options.command,
    );
  }
  return value;
}

/** A string option, or undefined when absent. */
export function stringOption(
  values: Parsed["values"],
  name: string,
): string | undefined {
  const raw = values[name];
  return typeof raw === "string" ? raw : undefined;
}

/** Exactly `names.length` positionals, else a UsageError naming what is missing. */
function expectPositionals(
  positionals: string[],
  names: string[],
  command: string,
): string[] {
  if (positionals.length < names.length) {
    throw new UsageError(`Missing <${names[positionals.length]}>`, command);
  }
  if (positionals.length > names.length) {
    throw new UsageError(
      `Unexpected argument '${positionals[names.length]}'`,
      command,
    );
  }
  return positionals;
}

/**
 * One command's arguments with its checks bound to the command's name, so
 * every usage error points to the right help without each call saying it.
 */
export interface CommandArgs extends Parsed {
  /** A non-negative integer option (at least `min`, default 0), or undefined. */
  int(name: string, min?: number): number | undefined;
  /** A string option, or undefined when absent. */
  string(name: string): string | undefined;
  /** Every value of a repeatable string option, in order. */
  strings(name: string): string[];
  /** Exactly `names.length` of `positionals`, else a UsageError. */
  expect(positionals: string[], names: string[]): string[];
  /** A UsageError of this command, to throw. */
  usage(message: string): UsageError;
}

/** Parses `argv` for `command` (see {@linkcode parseCommand}). */
export function commandArgs(
  argv: string[],
  options: Options,
  command: string,
): CommandArgs {
  const { values, positionals } = parseCommand(argv, options, command);
  return {
    values,
    positionals,
    int: (name, min) =>
      intOption(
        values,
        name,
        min === undefined ? { command } : {
          command,
          min,
        },
      ),
    string: (name) => stringOption(values, name),
    strings: (name) => {
      const raw = values[name];
      return Array.isArray(raw) ? raw : [];
    },
    expect: (given, names) => expectPositionals(given, names, command),
    usage: (message) => new UsageError(message, command),
  };
}
