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

// The exact core.
export { type Fit, RegressionCore, Statistic, type StatisticName } from "./core/regression_core.ts";
export { checkValue, ModelCore, type ModelFit, type ModelSpec, ModelStateError } from "./core/model_core.ts";
export {
  NUMBER_TEXT_BYTES,
  NumberText,
  type NumberTextExports,
  sharedNumberText,
  shareNumberText,
} from "./core/number_text.ts";

// The engine.
export {
  DEFAULT_COMMIT_MS,
  DEFAULT_COMMIT_ROWS,
  type PipelineOptions,
  type PipelineResume,
  type PipelineStats,
  runPipeline,
} from "./pipeline/pipeline.ts";
export { type ChunkCheck, PointValidator, type RejectedRecord } from "./pipeline/validate/point_validator.ts";
export type { LineModel } from "./pipeline/core_stage.ts";
export { isModelEngine, type ModelEngine } from "./pipeline/model_stage.ts";
export { isKeyedEngine, KeyedEngine, LastRing } from "./pipeline/keyed/keyed_stage.ts";
export { ExactSums, KeyTable } from "./pipeline/keyed/key_table.ts";
export { isWindowedEngine, WindowedEngine } from "./pipeline/keyed/windowed_stage.ts";
export {
  isKeyedModelEngine,
  KeyedModelEngine,
  recordCount,
  RowRing,
  type SparseModel,
} from "./pipeline/keyed/keyed_model_stage.ts";
export { isWindowedModelEngine, WindowedModelEngine } from "./pipeline/keyed/windowed_model_stage.ts";
export { RecordArena } from "./pipeline/keyed/record_arena.ts";
export {
  type LastPoints,
  parseDuration,
  parseWindow,
  type TimeFormat,
  type WindowSpec,
} from "./model/windows.ts";
export { joinKey, KEY_SEPARATOR, MESSAGE_KEY, splitKey } from "./model/keys.ts";

// What sources and sinks implement, and bad records.
export type {
  BatchSpan,
  CommittedBatch,
  PartitionStatus,
  PointChunk,
  PointTexts,
  Source,
  SourceStatus,
} from "./model/source.ts";
export type { BatchUpdate, KeyChange, Line, ModelResult, PointRun, Sink } from "./model/sink.ts";
export {
  coefficientNames,
  inputColumns,
  isPlainLine,
  MAX_DEGREE,
  MAX_X_COLUMNS,
  type ModelConfig,
  resultColumns,
} from "./model/model_config.ts";
export {
  type RecordOrigin,
  REJECT_REASONS,
  RejectedRecordError,
  type Rejection,
  type RejectReason,
  type RejectSink,
  type SourceReject,
} from "./model/rejection.ts";
export { formatNumber } from "./model/format_number.ts";
export { PointCounts } from "./model/point_counts.ts";
export { RowCounts } from "./model/row_counts.ts";
export type { Columns } from "./model/csv.ts";

// Sources.
export { DEMO_DEFAULTS, type DemoChunk, type DemoOptions, DemoSource } from "./sources/demo/demo_source.ts";
export {
  type CsvChunk,
  type CsvPosition,
  CsvSource,
  type CsvSourceOptions,
} from "./sources/csv/csv_source.ts";
export { type KafkaChunk, KafkaSource, type KafkaSourceOptions } from "./sources/kafka/kafka_source.ts";
export type { KafkaPartitionPosition, KafkaPosition, StartPosition } from "./sources/kafka/options.ts";
export {
  type ConnectionFlags,
  type ConnectionIo,
  type KafkaConnection,
  resolveConnection,
} from "./sources/kafka/connection.ts";
export type {
  KafkaJsClientConfig,
  KafkaJsConsumerConfig,
  KafkaJsSasl,
  KafkaJsSettings,
  KafkaJsTls,
} from "./sources/kafka/kafkajs_config.ts";
export { silenceTimeoutWarnings } from "./runtime/kafkajs_quiet.ts";

// Sinks.
export { modelCells, ResultLog } from "./sinks/result_log.ts";
export { InputLog } from "./sinks/input_log.ts";
export { DeadLetterLog } from "./sinks/dead_letter.ts";

// Crash and restart.
export {
  type Checkpoint,
  type OutputLength,
  type PointsRef,
  type Settings,
  StateError,
  type StateFileRef,
  type Totals,
} from "./state/checkpoint.ts";
export { type BatchState, StateStore } from "./state/state_store.ts";
export type { StateFiles } from "./state/files.ts";
export {
  type CommitStats,
  KEYED_STATE_FILE,
  type KeyedCommit,
  type KeyedLayout,
  KeyedStore,
  type KeyedStoreOptions,
} from "./state/keyed_store.ts";
export type { SqlDatabase, Sqlite, SqlRow, SqlStatement, SqlValue } from "./state/sqlite.ts";
