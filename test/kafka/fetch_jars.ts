/**
 * Fetches the jars of an Apache Kafka broker (the dependencies of
 * `test/kafka/pom.xml`) with Maven into a cache outside the repository, so
 * the Kafka mirror tests can start a real broker. CI runs it before the
 * tests: `deno run -A test/kafka/fetch_jars.ts`. It prints the directory.
 *
 * @module
 */

const POM = new URL("./pom.xml", import.meta.url).pathname;

/** The Kafka version of pom.xml; the cache directory is named after it. */
export const KAFKA_VERSION = "4.1.1";

/** Where the jars go: `$EDGELOG_KAFKA_JARS`, else `~/.cache/edgelog/kafka-jars-<version>`. */
export function kafkaJarsDir(): string {
  const dir = Deno.env.get("EDGELOG_KAFKA_JARS");
  if (dir) return dir;
  const home = Deno.env.get("HOME") ?? "/tmp";
  return `${home}/.cache/edgelog/kafka-jars-${KAFKA_VERSION}`;
}

/** How to fetch the jars by hand, for skip messages. */
export const FETCH_HINT =
  `install a JDK 17+ and Maven, then run \`deno run -A test/kafka/fetch_jars.ts\` ` +
  `(or \`mvn -q -f test/kafka/pom.xml dependency:copy-dependencies -DoutputDirectory=${kafkaJarsDir()}\`)`;

/** Whether `dir` holds the Kafka server jar. */
export async function hasKafkaJars(dir = kafkaJarsDir()): Promise<boolean> {
  try {
    await Deno.stat(`${dir}/kafka_2.13-${KAFKA_VERSION}.jar`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Copies the jars into `dir` unless they are there: Maven writes to a
 * sibling directory first, renamed into place, so a failed fetch never
 * leaves half a set.
 */
export async function fetchKafkaJars(dir = kafkaJarsDir()): Promise<string> {
  if (await hasKafkaJars(dir)) return dir;
  const parent = dir.replace(/\/[^/]+\/?$/, "") || ".";
  await Deno.mkdir(parent, { recursive: true });
  const staging = await Deno.makeTempDir({
    dir: parent,
    prefix: ".kafka-jars-",
  });
  try {
    const { code, stderr, stdout } = await new Deno.Command("mvn", {
      args: [
        "-q",
        "-B",
        "-f",
        POM,
        "dependency:copy-dependencies",
        `-DoutputDirectory=${staging}`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      const text = new TextDecoder().decode(stdout) +
        new TextDecoder().decode(stderr);
      throw new Error(`mvn failed with exit code ${code}:\n${text}`);
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.rename(staging, dir);
    return dir;
  } catch (err) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw err;
  }
}

if (import.meta.main) {
  console.log(await fetchKafkaJars());
}
