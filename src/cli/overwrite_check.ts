/**
 * Refuses to write an output over the run's own input: opening an output truncates it, so writing the
 * result, input or dead-letter log over the input file would destroy the data being read. Paths are
 * compared by their resolved real paths (symbolic links followed, `./a` = `a`) and, for existing files,
 * by device and inode (hard links); an input on standard input (`< data.csv`) is compared by inode. Two
 * outputs that are the same file are refused too. The CLI exits with code 2 before opening anything.
 * Only regular files (and paths that do not exist yet) are compared: writing twice to `/dev/null`, or to
 * a pipe, destroys nothing; outputs on standard output (`-`, `/dev/stdout`) are checked by `parseCli`.
 *
 * @example
 * ```ts
 * import { findOverwrite } from "./overwrite_check.ts";
 * const problem = await findOverwrite(host, ["data.csv"], [{ flag: "--output", path: "./data.csv" }]);
 * // '--output "./data.csv" is the input file "data.csv" (both are /home/me/data.csv): refusing to overwrite it'
 * ```
 * @module
 */

import { resolve } from "node:path";
import { isStdout } from "./args.ts";
import type { FileIdentity, Host } from "./host.ts";

/**
 * An output path and the flag that named it.
 *
 * @example
 * ```ts
 * const out: NamedPath = { flag: "--dead-letter", path: "bad.csv" };
 * ```
 */
export interface NamedPath {
  /** The flag, for the message: "--output". */
  readonly flag: string;
  /** The path as given; "-" and the other names of stdout (`/dev/stdout`) are never files here. */
  readonly path: string;
}

function same(p: FileIdentity | undefined, q: FileIdentity | undefined): boolean {
  if (p === undefined || q === undefined) return false;
  if ((p.kind ?? "file") !== "file" || (q.kind ?? "file") !== "file") return false; // a device, a pipe
  if (p.realPath !== undefined && p.realPath === q.realPath) return true;
  return !!p.ino && !!q.ino && p.dev === q.dev && p.ino === q.ino;
}

/**
 * Says which output would overwrite an input (`"-"` is stdin) or another output, or undefined if none.
 *
 * @example
 * ```ts
 * const problem = await findOverwrite(host, cli.inputFiles, [{ flag: "--output", path: cli.output }]);
 * if (problem) throw new UsageError(problem);
 * ```
 */
export async function findOverwrite(
  host: Pick<Host, "identify" | "identifyStdin">,
  inputs: readonly string[],
  outputs: readonly NamedPath[],
): Promise<string | undefined> {
  const identify = async (path: string): Promise<FileIdentity | undefined> =>
    host.identify ? await host.identify(path) : { realPath: resolve(path) };
  const sources = await Promise.all(
    inputs.map(async (path) => ({
      path,
      id: path === "-" ? await host.identifyStdin?.() : await identify(path),
    })),
  );
  const files = await Promise.all(
    outputs.filter((o) => !isStdout(o.path)).map(async (o) => ({ ...o, id: await identify(o.path) })),
  );
  /** How the two are the same, when the paths as given differ. */
  const how = (p: { path: string; id?: FileIdentity }, q: { path: string; id?: FileIdentity }) => {
    if (p.path === q.path || q.path === "-") return "";
    return p.id?.realPath !== undefined && p.id.realPath === q.id?.realPath
      ? ` (both are ${p.id.realPath})`
      : " (a hard link to it)";
  };
  for (const out of files) {
    for (const input of sources) {
      if (!same(out.id, input.id)) continue;
      const what = input.path === "-" ? "the file on standard input" : `the input file "${input.path}"`;
      return `${out.flag} "${out.path}" is ${what}${
        how(out, input)
      }: refusing to overwrite it; write to another path`;
    }
  }
  for (const [i, p] of files.entries()) {
    for (const q of files.slice(i + 1)) {
      if (!same(p.id, q.id)) continue;
      return `${p.flag} "${p.path}" and ${q.flag} "${q.path}" are the same file${
        how(p, q)
      }: give them different paths`;
    }
  }
  return undefined;
}
