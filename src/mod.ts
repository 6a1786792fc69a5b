/**
 * streamreg: streaming linear regression over an exact WebAssembly core, for Deno and Bun.
 *
 * Data flows one way — source → batcher → core → sinks — and each stage is a module of its own:
 * sources (`DemoSource`, `CsvSource`, or your own {@linkcode Source}), the {@linkcode PointValidator}
 * (bad records are rejected, never fitted: see {@linkcode Rejection}), the {@linkcode Batcher}, the
 * {@linkcode RegressionCore}, and change-log sinks (`ResultLog`, `InputLog`, or your own
 * {@linkcode Sink}); {@linkcode runPipeline} wires them together.
 *
 * @example
 * ```ts
 * import { DemoSource, RegressionCore, ResultLog, runPipeline } from "./mod.ts";
 *
 * const core = await RegressionCore.load(await Deno.readFile("build/streamreg.wasm"));
 * const stats = await runPipeline(new DemoSource({ rate: 0 }), core, [new ResultLog(Deno.stdout.writable)]);
 * console.error(stats.line); // { a: 0.025649728471302445, b: 0.9958341214647296 }
 * ```
 * @module
 */

export { type Fit, RegressionCore } from "./core/regression_core.ts";

export type { BatchSpan, CommittedBatch, PointChunk, Source } from "./model/source.ts";
export {
  DEFAULT_MAX_RECORD_BYTES,
  describeRejection,
  escapeRaw,
  type RecordOrigin,
  REJECT_REASONS,
  RejectedRecordError,
  type Rejection,
  type RejectReason,
  type RejectSink,
  showField,
  type SourceReject,
  TOO_LARGE_RAW_BYTES,
  unescapeRaw,
} from "./model/rejection.ts";
export {
  type ChunkCheck,
  MAX_MAGNITUDE,
  MIN_MAGNITUDE,
  PointValidator,
  type RejectedRecord,
} from "./pipeline/validate/point_validator.ts";
export { PointCounts } from "./model/point_counts.ts";
export { DEMO_DEFAULTS, type DemoChunk, type DemoOptions, DemoSource, demoY } from "./sources/demo/demo_source.ts";
export {
  type CsvChunk,
  type CsvPosition,
  CsvSource,
  type CsvSourceOptions,
} from "./sources/csv/csv_source.ts";
export { exactDecimal, parseNumber, parseNumberField } from "./model/numbers.ts";
export { type Columns, csvLayout, type CsvLayout, splitCsvRecord } from "./model/csv.ts";
export { PointParser } from "./sources/kafka/messages.ts";
export {
  KAFKA_FETCH_DEFAULTS,
  type KafkaChunk,
  KafkaSource,
  type KafkaSourceOptions,
  type StartPosition,
} from "./sources/kafka/kafka_source.ts";
export { connectionFlags, parseConnectionFlags } from "./cli/kafka_flags.ts";
export {
  type ConnectionFlags,
  type ConnectionIo,
  createKafka,
  DEFAULT_TOPIC,
  describeConnection,
  type KafkaConnection,
  kafkaErrorMessage,
  resolveConnection,
} from "./sources/kafka/connection.ts";
export { PythonRandom } from "./sources/demo/python_random.ts";
export { ChunkQueue } from "./sources/kafka/chunk_queue.ts";
export { ChunkBuilder, type ChunkColumns } from "./sources/chunk_builder.ts";

export { Batcher, type BatcherOptions } from "./pipeline/batcher/batcher.ts";
export { CommitClock } from "./pipeline/batcher/commit_clock.ts";

export type { BatchUpdate, Line, PointRun, Sink } from "./model/sink.ts";
export { RESULT_HEADER, ResultLog } from "./sinks/result_log.ts";
export { INPUT_HEADER, InputLog } from "./sinks/input_log.ts";
export { CsvWriter } from "./sinks/csv_writer.ts";
export { DEAD_LETTER_HEADER, DeadLetterLog } from "./sinks/dead_letter.ts";
export { formatNumber } from "./model/format_number.ts";

export {
  DEFAULT_COMMIT_MS,
  DEFAULT_COMMIT_ROWS,
  type PipelineOptions,
  type PipelineResume,
  type PipelineStats,
  runPipeline,
} from "./pipeline/pipeline.ts";
export {
  type Checkpoint,
  decodeCheckpoint,
  encodeCheckpoint,
  type OutputLength,
  type PointsRef,
  type Settings,
  StateError,
  type StateFileRef,
  type Totals,
} from "./state/checkpoint.ts";
export { type BatchState, CHECKPOINT_FILE, StateStore } from "./state/state_store.ts";
export { type OpenedState, openState, runSettings } from "./cli/state_setup.ts";
export { applyBatch, type ApplyOptions, type CoreResult, type LineModel } from "./pipeline/core_stage.ts";
export { main, type MainOptions } from "./cli/main.ts";
export { RejectReporter, type RejectReporterOptions } from "./cli/reject_reporter.ts";
export { findOverwrite, type NamedPath } from "./cli/overwrite_check.ts";
export type { FileIdentity, FileKind, Host, StateFiles, StopSignal } from "./cli/host.ts";
export {
  csvSpec,
  demoSpec,
  type OpenContext,
  type OpenSource,
  SOURCES,
  type SourceSpec,
  type StateSupport,
} from "./cli/source_specs.ts";
export { kafkaSpec } from "./cli/kafka_spec.ts";
export { type FlagSpec, type FlagValues, numberFlag, UsageError } from "./cli/flags.ts";
export { silenceTimeoutWarnings } from "./runtime/kafkajs_quiet.ts";
