/**
 * `--state DIR` for the CLI: the settings a checkpoint is bound to, and opening the state directory
 * (checking the checkpoint, cutting the outputs back, restoring the core and the multiset of points).
 *
 * @example
 * ```ts
 * import { openState } from "./state_setup.ts";
 * const state = await openState(host, cli, core, (line) => progress.info(line));
 * state.store.resumed; // the checkpoint the run goes on from, if any
 * ```
 * @module
 */

import type { RegressionCore } from "../core/regression_core.ts";
import { type Settings, StateError } from "../state/checkpoint.ts";
import { CHECKPOINT_FILE, StateStore } from "../state/state_store.ts";
import type { PointCounts } from "../model/point_counts.ts";
import type { RowCounts } from "../model/row_counts.ts";
import type { CliOptions } from "./args.ts";
import type { Host } from "./host.ts";

/**
 * The settings a run's checkpoint is bound to: the source, its flags (those the source names, else
 * all), the model flags (`--degree`, `--no-intercept`, `--stats`: null at their defaults, so a checkpoint
 * of the plain line reads as before; the columns are the source's `--x` and `--y`), the input files and
 * the outputs (as resolved paths, so that `./out.csv` and `out.csv` agree). `--stats` is bound because it
 * changes the result change log's columns, which a resumed run appends to.
 *
 * @example
 * ```ts
 * await runSettings(host, cli); // { source: "csv", "--x": "x", ..., input: "/data/p.csv", "--output": "/data/out.csv", ... }
 * ```
 */
export async function runSettings(host: Host, cli: CliOptions): Promise<Settings> {
  const resolve = async (path: string) => (await host.identify?.(path))?.realPath ?? path;
  const values = cli.sourceValues ?? {};
  const flags: Settings = {};
  if (cli.source.state?.settings) Object.assign(flags, cli.source.state.settings(values));
  else {
    for (const flag of cli.source.flags) {
      const value = values[flag.name];
      flags[`--${flag.name}`] = value === undefined
        ? null
        : Array.isArray(value)
        ? JSON.stringify(value)
        : value as string | boolean;
    }
  }
  const inputs = cli.source.state?.bindInputFiles === false ? [] : cli.inputFiles ?? [];
  const settings: Settings = { source: cli.source.name, ...flags };
  const model = cli.model;
  if (model !== undefined) {
    if (model.degree !== 1) settings["--degree"] = String(model.degree);
    if (!model.intercept) settings["--no-intercept"] = true;
    if (model.stats) settings["--stats"] = true;
  }
  for (const [i, path] of inputs.entries()) {
    settings[inputs.length === 1 ? "input" : `input ${i + 1}`] = await resolve(path);
  }
  settings["--output"] = await resolve(cli.output);
  settings["--input-log"] = cli.inputLog === undefined ? null : await resolve(cli.inputLog);
  settings["--dead-letter"] = cli.deadLetter === undefined ? null : await resolve(cli.deadLetter);
  return settings;
}

/**
 * Says which output `--state` cannot keep, or undefined if none: a checkpoint records each output's
 * length, fsyncs it and cuts it back on a restart, which only a regular file allows (a device such as
 * `/dev/null`, a pipe or a socket has no length to go back to). Outputs on stdout (`-`, `/dev/stdout`)
 * are refused by `parseCli` already; a path that does not exist yet will be a regular file.
 *
 * @example
 * ```ts
 * await stateOutputProblem(host, [{ flag: "--output", path: "/dev/null" }]);
 * // '--state needs regular files as outputs: --output "/dev/null" is a character device, ...'
 * ```
 */
export async function stateOutputProblem(
  host: Pick<Host, "identify">,
  outputs: readonly { readonly flag: string; readonly path: string }[],
): Promise<string | undefined> {
  for (const { flag, path } of outputs) {
    const kind = (await host.identify?.(path))?.kind;
    if (kind === undefined || kind === "file") continue;
    return `--state needs regular files as outputs: ${flag} "${path}" is a ${kind}, which cannot be cut back ` +
      `after a crash; give a file path, or run without --state`;
  }
  return undefined;
}

/**
 * An opened state directory, with what the run resumes from.
 *
 * @example
 * ```ts
 * const { store, counts } = await openState(host, cli, core);
 * ```
 */
export interface OpenedState {
  /** The state directory. */
  readonly store: StateStore;
  /** The multiset of added points of the checkpoint, if it keeps one (rows, with several x columns). */
  readonly counts: PointCounts | RowCounts | undefined;
}

/**
 * Opens `cli.state`: a fresh run if it holds no checkpoint; else checks the checkpoint, cuts the
 * outputs back to their recorded lengths, restores `core` (`restore` is `RegressionCore.restore`, or
 * `ModelCore.loadState` for another model) and loads the multiset of points. Throws a
 * {@linkcode StateError} (exit 1) if anything does not match.
 *
 * @example
 * ```ts
 * const { store, counts } = await openState(host, cli, core, (line) => progress.info(line));
 * ```
 */
export async function openState(
  host: Host,
  cli: CliOptions,
  core: Pick<RegressionCore, "restore">,
  info: (line: string) => void = () => {},
  opened?: (store: StateStore) => Promise<void>,
): Promise<OpenedState> {
  if (!host.files) throw new StateError(`--state is not supported by ${host.runtime}`);
  const store = await StateStore.open(host.files, cli.state!, await runSettings(host, cli), info);
  await opened?.(store); // (e.g. the keyed state's store, which may roll the checkpoint forward)
  const resumed = store.resumed;
  if (!resumed) return { store, counts: undefined };
  await store.prepareOutputs();
  try {
    core.restore(resumed.core);
  } catch (error) {
    throw new StateError(
      `the core state in ${store.path(CHECKPOINT_FILE)} was refused (${(error as Error).message}): ` +
        `restore the file from a backup, or delete the state directory ${store.dir} to start over`,
    );
  }
  const k = cli.model?.x.length ?? 1;
  const counts = k > 1 ? await store.loadRows(k + 1) : await store.loadPoints();
  const { batches, points } = resumed.totals;
  info(
    `streamreg: resuming from ${store.path(CHECKPOINT_FILE)} after ${batches} ${
      batches === 1 ? "batch" : "batches"
    } ` +
      `(${points} ${points === 1 ? "point" : "points"})`,
  );
  return { store, counts };
}
