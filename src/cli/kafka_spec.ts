/**
 * `--source kafka`: points from a Kafka topic (see `../sources/kafka/kafka_source.ts` for the semantics and
 * `../sources/kafka/connection.ts` for the connection flags and properties).
 *
 * @example
 * ```ts
 * import { kafkaSpec } from "./kafka_spec.ts";
 * const open = kafkaSpec.configure({ brokers: "127.0.0.1:9092", topic: "linear-regression", format: "csv", x: "x", y: "y" });
 * ```
 * @module
 */

import { type ConnectionIo, DEFAULT_TOPIC, resolveConnection } from "../sources/kafka/connection.ts";
import { connectionFlags, parseConnectionFlags, PROPERTY_HELP } from "./kafka_flags.ts";
import type { StartPosition } from "../sources/kafka/kafka_source.ts";
import { csvLayout } from "../model/csv.ts";
import { type FlagValues, numberFlag, UsageError } from "./flags.ts";
import type { Host } from "./host.ts";
import type { SourceSpec } from "./source_specs.ts";
import { modelColumns, X_HELP } from "./model_flags.ts";
import { keyColumns, keyFlag } from "./key_flags.ts";
import { timeFlag } from "./window_flags.ts";

/**
 * Reads files and the environment through the host.
 *
 * @example
 * ```ts
 * const io = hostIo(host);
 * ```
 */
export function hostIo(host: Host): ConnectionIo {
  return {
    env: (name) => host.env(name),
    readText: async (path) => await new Response(await host.openRead(path)).text(),
  };
}

const text = (values: FlagValues, name: string): string => String(values[name]);

/** kcat's `-o` words: where reading starts. */
const OFFSETS: Readonly<Record<string, StartPosition>> = {
  beginning: "beginning",
  end: "end",
  stored: "committed",
};

/**
 * `--source kafka`.
 *
 * @example
 * ```ts
 * const sources = [demoSpec, csvSpec, kafkaSpec];
 * ```
 */
export const kafkaSpec: SourceSpec = {
  name: "kafka",
  summary: "a Kafka topic, read in a consumer group; offsets are committed once a batch's lines are written",
  flags: [
    ...connectionFlags({ group: true, topicHelp: "topic to read" }),
    {
      name: "format",
      value: "csv|json",
      default: "csv",
      help: 'csv (a partition\'s first message is its header) or json ({"x": 1, "y": 2})',
    },
    {
      name: "csv-header",
      value: "COLUMNS",
      help: "use this header (e.g. x,y) instead of each partition's first message, which is then data",
    },
    { name: "x", value: "NAME", default: "x", help: `${X_HELP}: CSV columns or JSON fields` },
    { name: "y", value: "NAME", default: "y", help: "CSV column or JSON field holding y" },
    keyFlag({ messageKey: true }),
    timeFlag({ messageTimestamp: true }),
    { name: "from-beginning", help: "start at each partition's first message, not at the group's offsets" },
    { name: "from-end", help: "start after the last message: read only new messages" },
    {
      name: "offset",
      short: "o",
      value: "beginning|end|stored",
      help: "as kcat: --from-beginning, --from-end, or the group's committed offsets (the default)",
    },
    {
      name: "exit-at-end",
      short: "e",
      help: "stop once caught up with the end offsets seen at the start (as kcat -e)",
    },
    {
      name: "max-messages",
      short: "c",
      value: "N",
      help: "stop after N messages (every message counts: the CSV header and skipped ones too)",
    },
  ],
  notes: [
    "Reading starts at the group's committed offsets, else at the earliest (auto.offset.reset=latest: at the",
    "end); the fit covers the messages this run reads (--from-beginning refits the whole topic). A reader",
    "starting past a partition's first message reads that one message first, as the CSV header; if it is not",
    "a header naming the x and y columns the run stops: pass --csv-header. Messages that are not points are",
    "rejected like bad lines (see Bad input below). An unknown topic, an unreachable broker, failed",
    "authentication or a TLS failure ends the run with exit code 1 within about 30 seconds. Readers of one",
    "group share the partitions, and each fits only its share: use one reader per group, or --readers many",
    "(the plain line, with --output-topic and --state kafka: one global line from all). With --state DIR, a",
    "restart goes on from the checkpoint's offsets (they win over the group's, which lag after a crash) and",
    "needs no header message; it is bound to -t, --format, --csv-header, --x and --y (and the model flags), not",
    "to the brokers or credentials. A restart after a SIGKILL may wait up to session.timeout.ms for the group",
    "to drop the killed reader. A broker that goes away during a run is waited for: the reader reconnects",
    "(saying so on stderr) and goes on where it was.",
    ...PROPERTY_HELP,
  ],
  example: "-b 127.0.0.1:9092 -t linear-regression --exit-at-end --output -",
  inputFiles: (values) => (typeof values.config === "string" ? [values.config] : []),
  state: {
    // What the messages mean; not where the brokers are or how to log in (they may change).
    settings: (values) => ({
      "--topic": typeof values.topic === "string" ? values.topic : DEFAULT_TOPIC,
      "--format": text(values, "format"),
      "--csv-header": typeof values["csv-header"] === "string" ? values["csv-header"] : null,
      "--x": text(values, "x"),
      "--y": text(values, "y"),
    }),
    bindInputFiles: false, // -F holds connection properties, not data
  },
  configure(values) {
    const flags = parseConnectionFlags(values, { group: true });
    const format = text(values, "format");
    if (format !== "csv" && format !== "json") {
      throw new UsageError(`--format: expected csv or json, got "${format}"`);
    }
    for (const column of ["x", "y"]) {
      if (text(values, column) === "") throw new UsageError(`--${column}: expected a name, got ""`);
    }
    const { x, y } = modelColumns(values);
    const keys = typeof values.key === "string"
      ? keyColumns(values.key, { x, y }, { messageKey: true })
      : undefined;
    const columns = { x: x[0], ...(x.length > 1 ? { xs: x } : {}), y, ...(keys ? { keys } : {}) };
    const csvHeader = typeof values["csv-header"] === "string" ? values["csv-header"] : undefined;
    if (csvHeader !== undefined) {
      if (format !== "csv") throw new UsageError("--csv-header applies to --format csv only");
      const layout = csvLayout(csvHeader, columns);
      if (typeof layout === "string") {
        throw new UsageError(`--csv-header "${csvHeader}": ${layout} (name the columns with --x and --y)`);
      }
    }
    const starts: [string, StartPosition][] = [];
    if (values["from-beginning"] === true) starts.push(["--from-beginning", "beginning"]);
    if (values["from-end"] === true) starts.push(["--from-end", "end"]);
    if (typeof values.offset === "string") {
      const offset = Object.hasOwn(OFFSETS, values.offset) ? OFFSETS[values.offset] : undefined;
      if (offset === undefined) {
        throw new UsageError(
          `-o: expected beginning, end or stored, got "${values.offset}" (kcat's numeric and relative offsets are not supported)`,
        );
      }
      starts.push([`-o ${values.offset}`, offset]);
    }
    const conflict = starts.find(([, s]) => s !== starts[0][1]);
    if (conflict !== undefined) {
      throw new UsageError(`${starts[0][0]} and ${conflict[0]} contradict each other: give one of them`);
    }
    const start: StartPosition = starts[0]?.[1] ?? "committed";
    const maxMessages = typeof values["max-messages"] === "string"
      ? numberFlag("max-messages", values["max-messages"], { min: 1, integer: true })
      : undefined;
    const exitAtEnd = values["exit-at-end"] === true;
    return async (host, signal, context) => {
      // (loaded here: a run that reads a file or the demo stream never loads the Kafka source)
      const { KafkaSource } = await import("../sources/kafka/kafka_source.ts");
      const resume = context?.resume === undefined ? undefined : KafkaSource.checkPosition(context.resume);
      const message = context?.message ?? ((line: string) => host.writeStderr(`${line}\n`));
      const connection = await resolveConnection(flags, hostIo(host));
      for (const warning of connection.warnings) message(`streamreg: ${warning}`);
      if (connection.settings.compression !== undefined) {
        message(
          `streamreg: ignoring compression.type=${connection.settings.compression}: it is the codec of the ` +
            "batches produced; the reader reads every codec",
        );
      }
      return await KafkaSource.open({
        connection,
        format,
        ...(csvHeader !== undefined ? { csvHeader } : {}),
        columns: context?.time !== undefined ? { ...columns, time: context.time } : columns,
        start,
        exitAtEnd,
        ...(maxMessages !== undefined ? { maxMessages } : {}),
        message,
        ...(context?.maxRecordBytes !== undefined ? { maxRecordBytes: context.maxRecordBytes } : {}),
        verbose: context?.verbose ?? false,
        signal,
        ...(resume !== undefined ? { resume } : {}),
        ...(context?.transactional ? { transactional: true } : {}),
        ...(context?.dropsRevoked ? { dropsRevoked: true } : {}),
      });
    };
  },
};
