/**
 * The checkpoint file of `--state DIR` (`DIR/checkpoint.json`): everything a run needs to go on after
 * a crash exactly where its last batch ended.
 *
 * **Format.** One header line, then a JSON body:
 *
 * ```text
 * streamreg-checkpoint 1 bytes=1234 sha256=<64 hex digits of the SHA-256 of the body>
 * {"settings":{...},"complete":false,"time":1700000000123,"line":["0.0256...","0.9958..."],...}
 * ```
 *
 * The header names the format and its version, the body's length (a truncated file is told apart
 * from a corrupt one) and its SHA-256 (any changed byte is caught). The body holds: the run's
 * `settings` (a restart with other settings is refused), `complete` (the run ended cleanly after this
 * checkpoint: its outputs are final and are never cut back), the last commit `time`, the current
 * `line` (a and b as shortest round-trip decimals, so exact, -0 included), the running `totals`, the
 * core's exact state (`core`, base64 of `RegressionCore.snapshot()`, itself self-checking), the
 * source's `position` (opaque: see `Source.position`), the byte length of every output file after the
 * batch (`outputs`), and where the multiset of added points is kept when the source may retract
 * points (`points`: a snapshot file and an append-only journal in the same directory, each with its
 * length and checksum; see `./state_store.ts`).
 *
 * A run of a model other than the plain line (several x columns, a polynomial, no intercept, `--stats`)
 * has `line` null and, once the model holds points, `model`: its last fit (`n`, `rank`, and `r2`,
 * `sigma`, `coefficients`, `se` as shortest round-trip decimals, "NaN" where undefined, and `aliased`),
 * the row the result log retracts next; `core` is then the model core's state (`ModelCore.saveState()`).
 * The model itself (its x columns, y, degree, intercept, statistics) is among the `settings`, so a
 * restart with another model is refused. A checkpoint of the plain line has no `model` key, as before.
 *
 * @example
 * ```ts
 * import { decodeCheckpoint, encodeCheckpoint } from "./checkpoint.ts";
 * const bytes = await encodeCheckpoint(checkpoint);
 * const again = await decodeCheckpoint(bytes, "state/checkpoint.json");
 * ```
 * @module
 */

import { formatNumber } from "../model/format_number.ts";
import type { Line, ModelResult } from "../model/sink.ts";

/**
 * The first word of a checkpoint file.
 *
 * @example
 * ```ts
 * CHECKPOINT_MAGIC; // "streamreg-checkpoint"
 * ```
 */
export const CHECKPOINT_MAGIC = "streamreg-checkpoint";
/**
 * The format version this code writes and reads.
 *
 * @example
 * ```ts
 * CHECKPOINT_VERSION; // 1
 * ```
 */
export const CHECKPOINT_VERSION = 1;

/**
 * The settings a checkpoint is bound to: flat, by flag (`"source"`, `"--input"`, `"--output"`...).
 *
 * @example
 * ```ts
 * const settings: Settings = { source: "csv", "--input": "/data/points.csv", "--output": "/data/out.csv" };
 * ```
 */
export type Settings = Record<string, string | number | boolean | null>;

/**
 * An output file and its length after the batch.
 *
 * @example
 * ```ts
 * const output: OutputLength = { flag: "--output", path: "/data/out.csv", length: 4096 };
 * ```
 */
export interface OutputLength {
  /** The flag that names it: `--output`, `--input-log` or `--dead-letter`. */
  readonly flag: string;
  /** Its path, as given on the command line. */
  readonly path: string;
  /** Its length in bytes after the batch. */
  readonly length: number;
}

/**
 * A file of the state directory referenced by a checkpoint: its name, length and checksum.
 *
 * @example
 * ```ts
 * const journal: StateFileRef = { file: "points-3.log", length: 240, crc32: 123456789 };
 * ```
 */
export interface StateFileRef {
  /** Its name in the state directory. */
  readonly file: string;
  /** Its length in bytes. */
  readonly length: number;
  /** The CRC-32 of its first `length` bytes. */
  readonly crc32: number;
}

/**
 * Where the multiset of added points is kept: a snapshot of (x, y, count) triples and a journal of the
 * (x, y, diff) points accepted since, all little-endian doubles.
 *
 * @example
 * ```ts
 * const points: PointsRef = { generation: 3, snapshot: undefined, journal: { file: "points-3.log", length: 0, crc32: 0 } };
 * ```
 */
export interface PointsRef {
  /** Increases each time the journal is folded into a new snapshot. */
  readonly generation: number;
  /** The snapshot, if any (none: start from an empty multiset). */
  readonly snapshot: StateFileRef | undefined;
  /** The journal. */
  readonly journal: StateFileRef;
}

/**
 * Running totals, carried over so that progress counts the whole run.
 *
 * @example
 * ```ts
 * const totals: Totals = { points: 10, refused: 0, rejected: 1, batches: 2, changes: 2, count: 10 };
 * ```
 */
export interface Totals {
  /** Points the core accepted. */
  readonly points: number;
  /** Points the core refused. */
  readonly refused: number;
  /** Records rejected. */
  readonly rejected: number;
  /** Batches written. */
  readonly batches: number;
  /** Batches that changed the line. */
  readonly changes: number;
  /** Net points in the model. */
  readonly count: number;
}

/**
 * The content of a checkpoint.
 *
 * @example
 * ```ts
 * const checkpoint: Checkpoint = { settings, complete: false, time: undefined, line: undefined, totals,
 *   core: core.snapshot(), source: undefined, outputs: [], points: undefined };
 * ```
 */
export interface Checkpoint {
  /** The run's settings. */
  readonly settings: Settings;
  /** The run ended cleanly after this checkpoint: its outputs are complete. */
  readonly complete: boolean;
  /** The last commit time handed out, if any batch was written. */
  readonly time: number | undefined;
  /** The line after the last batch (undefined: no points, or a model other than the line). */
  readonly line: Line | undefined;
  /** A model other than the line: its fit after the last batch (undefined: no points, or the line). */
  readonly model?: ModelResult | undefined;
  /** The running totals. */
  readonly totals: Totals;
  /** The core's exact state (`RegressionCore.snapshot()`). */
  readonly core: Uint8Array;
  /** The source's position after the last batch (a JSON value), or undefined: from the start. */
  readonly source: unknown;
  /** The output files and their lengths. */
  readonly outputs: readonly OutputLength[];
  /** The multiset of added points, when it is kept. */
  readonly points: PointsRef | undefined;
}

/**
 * A checkpoint that cannot be used: missing pieces, corrupt, truncated, other settings. Its message
 * names the file and says what to do; the CLI exits with 1.
 *
 * @example
 * ```ts
 * throw new StateError("state/checkpoint.json is corrupt: ...");
 * ```
 */
export class StateError extends Error {
  /** `message` names the file, what is wrong, and what to do. */
  constructor(message: string) {
    super(message);
    this.name = "StateError";
  }
}

const encoder = new TextEncoder();

/**
 * The hex SHA-256 of `bytes`.
 *
 * @example
 * ```ts
 * await sha256Hex(new Uint8Array(0)); // "e3b0c442..."
 * ```
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/**
 * The bytes of a checkpoint file.
 *
 * @example
 * ```ts
 * await files.writeAtomic(path, await encodeCheckpoint(checkpoint));
 * ```
 */
export async function encodeCheckpoint(checkpoint: Checkpoint): Promise<Uint8Array> {
  const body = encoder.encode(JSON.stringify({
    settings: checkpoint.settings,
    complete: checkpoint.complete,
    time: checkpoint.time ?? null,
    line: checkpoint.line ? [formatNumber(checkpoint.line.a), formatNumber(checkpoint.line.b)] : null,
    ...(checkpoint.model ? { model: encodeModel(checkpoint.model) } : {}),
    totals: checkpoint.totals,
    core: toBase64(checkpoint.core),
    source: checkpoint.source ?? null,
    outputs: checkpoint.outputs,
    points: checkpoint.points
      ? {
        generation: checkpoint.points.generation,
        snapshot: checkpoint.points.snapshot ?? null,
        journal: checkpoint.points.journal,
      }
      : null,
  }));
  const header = encoder.encode(
    `${CHECKPOINT_MAGIC} ${CHECKPOINT_VERSION} bytes=${body.length} sha256=${await sha256Hex(body)}\n`,
  );
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

const HEADER = /^streamreg-checkpoint (\d+) bytes=(\d+) sha256=([0-9a-f]{64})$/;

/**
 * Reads a checkpoint file's bytes; throws a {@linkcode StateError} naming `path` (and saying what to
 * do) if it is not a checkpoint, is truncated or corrupt, or is from another format version.
 *
 * @example
 * ```ts
 * const checkpoint = await decodeCheckpoint(bytes, "state/checkpoint.json");
 * ```
 */
export async function decodeCheckpoint(bytes: Uint8Array, path: string): Promise<Checkpoint> {
  const remedy = `restore it from a backup, or delete the state directory to start over ` +
    `(the outputs are then written again from the start)`;
  const newline = bytes.indexOf(0x0a);
  const headerText = new TextDecoder().decode(
    bytes.subarray(0, newline < 0 ? Math.min(bytes.length, 200) : newline),
  );
  const header = HEADER.exec(headerText);
  if (!header) {
    if (bytes.length === 0) throw new StateError(`checkpoint ${path} is empty (truncated): ${remedy}`);
    if (CHECKPOINT_MAGIC.startsWith(headerText) || (newline < 0 && headerText.startsWith(CHECKPOINT_MAGIC))) {
      throw new StateError(`checkpoint ${path} is truncated (its header line is incomplete): ${remedy}`);
    }
    throw new StateError(
      `${path} is not a streamreg checkpoint (it does not start with "${CHECKPOINT_MAGIC}"): ${remedy}`,
    );
  }
  const version = Number(header[1]);
  if (version !== CHECKPOINT_VERSION) {
    throw new StateError(
      `checkpoint ${path} has format version ${version}; this streamreg reads version ${CHECKPOINT_VERSION}: ` +
        `run the streamreg that wrote it, or delete the state directory to start over`,
    );
  }
  const length = Number(header[2]);
  const body = bytes.subarray(newline + 1);
  if (body.length < length) {
    throw new StateError(
      `checkpoint ${path} is truncated (its content has ${body.length} of ${length} bytes): ${remedy}`,
    );
  }
  if (body.length > length || (await sha256Hex(body)) !== header[3]) {
    throw new StateError(
      `checkpoint ${path} is corrupt (its checksum does not match its content): ${remedy}`,
    );
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch (error) {
    throw new StateError(`checkpoint ${path} is not valid JSON (${(error as Error).message}): ${remedy}`);
  }
  try {
    return parseBody(json);
  } catch (error) {
    throw new StateError(
      `checkpoint ${path} is not a valid checkpoint: ${(error as Error).message}: ${remedy}`,
    );
  }
}

function fail(what: string): never {
  throw new Error(what);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function fileRef(v: unknown, what: string): StateFileRef {
  if (
    !isObject(v) || typeof v.file !== "string" || !/^[\w.-]+$/.test(v.file) || !isCount(v.length) ||
    !isCount(v.crc32) || (v.crc32 as number) > 0xffffffff
  ) fail(`${what} is not a file reference`);
  return { file: v.file as string, length: v.length as number, crc32: v.crc32 as number };
}

function parseBody(json: unknown): Checkpoint {
  if (!isObject(json)) fail("the content is not an object");
  const { settings, complete, time, line, model, totals, core, source, outputs, points } = json;
  if (!isObject(settings)) fail("settings is not an object");
  for (const [key, value] of Object.entries(settings)) {
    if (value !== null && !["string", "number", "boolean"].includes(typeof value)) {
      fail(`setting ${key} is not a plain value`);
    }
  }
  if (typeof complete !== "boolean") fail("complete is not a boolean");
  if (time !== null && !Number.isSafeInteger(time)) fail("time is not an integer");
  let parsedLine: Line | undefined;
  if (line !== null) {
    if (!Array.isArray(line) || line.length !== 2 || !line.every((v) => typeof v === "string")) {
      fail("line is not [a, b]");
    }
    const [a, b] = line.map(Number);
    if (!Number.isFinite(a) || !Number.isFinite(b)) fail("line is not two finite numbers");
    parsedLine = { a, b };
  }
  const parsedModel = model === undefined || model === null ? undefined : decodeModel(model);
  if (!isObject(totals)) fail("totals is not an object");
  const t: Record<string, number> = {};
  for (const key of ["points", "refused", "rejected", "batches", "changes", "count"]) {
    if (typeof totals[key] !== "number" || !Number.isFinite(totals[key])) {
      fail(`totals.${key} is not a number`);
    }
    t[key] = totals[key] as number;
  }
  if (typeof core !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(core)) fail("core is not base64");
  if (!Array.isArray(outputs)) fail("outputs is not a list");
  const parsedOutputs = outputs.map((o, i) => {
    if (!isObject(o) || typeof o.flag !== "string" || typeof o.path !== "string" || !isCount(o.length)) {
      fail(`outputs[${i}] is not { flag, path, length }`);
    }
    return { flag: o.flag as string, path: o.path as string, length: o.length as number };
  });
  let parsedPoints: PointsRef | undefined;
  if (points !== null) {
    if (!isObject(points) || !isCount(points.generation)) {
      fail("points is not { generation, snapshot, journal }");
    }
    parsedPoints = {
      generation: points.generation as number,
      snapshot: points.snapshot === null ? undefined : fileRef(points.snapshot, "points.snapshot"),
      journal: fileRef(points.journal, "points.journal"),
    };
  }
  return {
    settings: settings as Settings,
    complete,
    time: time === null ? undefined : time as number,
    line: parsedLine,
    ...(parsedModel ? { model: parsedModel } : {}),
    totals: t as unknown as Totals,
    core: fromBase64(core as string),
    source: source === null ? undefined : source,
    outputs: parsedOutputs,
    points: parsedPoints,
  };
}

function encodeModel(model: ModelResult): Record<string, unknown> {
  return {
    n: model.n,
    rank: model.rank,
    r2: formatNumber(model.r2),
    sigma: formatNumber(model.sigma),
    coefficients: Array.from(model.coefficients, formatNumber),
    aliased: model.aliased,
    se: Array.from(model.se, formatNumber),
  };
}

function decodeModel(v: unknown): ModelResult {
  const numbers = (list: unknown, what: string): Float64Array => {
    if (
      !Array.isArray(list) ||
      !list.every((x) => typeof x === "string" && !Number.isNaN(Number(x)) || x === "NaN")
    ) {
      fail(`model.${what} is not a list of numbers`);
    }
    return Float64Array.from(list as string[], Number);
  };
  const number = (x: unknown, what: string): number => {
    if (typeof x !== "string" || (x !== "NaN" && Number.isNaN(Number(x)))) {
      fail(`model.${what} is not a number`);
    }
    return Number(x);
  };
  if (!isObject(v) || !isCount(v.n) || !isCount(v.rank)) fail("model is not { n, rank, r2, sigma, ... }");
  const coefficients = numbers(v.coefficients, "coefficients");
  const se = numbers(v.se, "se");
  const aliased = v.aliased;
  if (
    !Array.isArray(aliased) || !aliased.every((a) => typeof a === "boolean") ||
    aliased.length !== coefficients.length || se.length !== coefficients.length
  ) fail("model.aliased, model.coefficients and model.se do not match");
  return {
    n: v.n as number,
    rank: v.rank as number,
    r2: number(v.r2, "r2"),
    sigma: number(v.sigma, "sigma"),
    coefficients,
    aliased: aliased as boolean[],
    se,
  };
}
