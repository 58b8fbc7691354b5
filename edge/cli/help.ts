/**
 * The CLI's help texts, one per command.
 *
 * @module
 */

const GLOBAL = `Global options:
  --url URL       Node to talk to (default: $EDGELOG_URL or http://127.0.0.1:9092)
  --token TOKEN   Bearer token (default: $EDGELOG_TOKEN)
  -h, --help      Show help`;

/** Help per command; "" is the top level. */
export const HELP: Record<string, string> = {
  "": `Usage: deno task cli [global options] <command> [options]

Commands:
  topics list|create|describe|delete   Manage topics
  produce <topic>                      Send lines from stdin as records
  consume <topic>                      Print records of a topic
  groups list|describe|reset-offsets|delete
                                       Inspect and operate consumer groups

${GLOBAL}

Run 'deno task cli <command> --help' for the options of a command.
Exit codes: 0 ok, 1 the node answered with an error, 2 usage error.
`,
  topics: `Usage:
  deno task cli topics list
  deno task cli topics create <topic> [--partitions N] [--retention-ms MS]
                                      [--retention-bytes B] [--cleanup-policy delete|compact]
  deno task cli topics describe <topic>
  deno task cli topics delete <topic>

${GLOBAL}
`,
  produce: `Usage: deno task cli produce <topic> [options] < lines

Sends each non-empty line of stdin as one record. A line that parses as JSON
is sent as that JSON value (so "null" is a tombstone), any other line as a
string. On a terminal a progress line shows the count and rate; a summary
is printed at the end.

Options:
  -K, --key-separator SEP   Split each line at the first SEP into key and
                            value (\t is a tab)
  -H, --header NAME=VALUE   Add a header to every record (repeatable)
  -p, --partition N         Send every record to partition N

${GLOBAL}
`,
  consume: `Usage: deno task cli consume <topic> [options]

Prints one record per line: strings as they are, other values as JSON. Like
kafka-console-consumer it waits for new records until interrupted; -e stops
at the end of the log.

Options:
  --from-beginning          Start at the earliest offset (default: the end,
                            or the group's committed offset)
  -o, --offset SPEC         Start at: beginning, end, N (needs --partition),
                            -N (N records before the end of each partition),
                            s@MS (the first record at or after that time)
  --from-time DATETIME      Start at the first record at or after an ISO
                            date-time (2026-12-07T10:00:00Z) or ms
  --partition N             Read only partition N
  --group G                 Read as a member of consumer group G and commit
  -e, --exit                Stop at the end of the log
  --max-messages N          Stop after N records
  -f, --format FMT          Print with a format: %t topic, %p partition,
                            %o offset, %T timestamp, %k key, %s value,
                            %K/%S key/value length, %h headers, \n \t
  --print-key               Print the key and a tab before the value
  --json                    Print each record as a JSON object

${GLOBAL}
`,
  groups: `Usage:
  deno task cli groups list
  deno task cli groups describe <group>
  deno task cli groups reset-offsets <group> --to-earliest | --to-latest |
                    --to-offset N | --to-datetime ISO [--topic T [--partition N]]
  deno task cli groups delete <group>

reset-offsets and delete work only on a group with no active members (stop
its consumers first); without --topic, reset-offsets moves every partition
the group has committed.

${GLOBAL}
`,
};
