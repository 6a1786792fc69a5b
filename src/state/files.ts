/**
 * What the `--state DIR` store needs from the file system, as an interface: each runtime provides it
 * (`nodeStateFiles()` of `../runtime/state_files.ts`), and the CLI's host hands it to the store.
 *
 * @example
 * ```ts
 * import type { StateFiles } from "./files.ts";
 * async function save(files: StateFiles, bytes: Uint8Array): Promise<void> {
 *   await files.writeAtomic("state/checkpoint.json", bytes);
 * }
 * ```
 * @module
 */

/**
 * The file operations behind `--state DIR`: atomic replacement, fsync, cutting a file back, appending.
 * Every method rejects with a message naming the path when it fails.
 *
 * @example
 * ```ts
 * await host.files!.writeAtomic("state/checkpoint.json", bytes); // temp file, fsync, rename, fsync dir
 * ```
 */
export interface StateFiles {
  /** Creates the directory (and its parents) if it does not exist. */
  makeDir(path: string): Promise<void>;
  /** The names of the entries of a directory. */
  list(dir: string): Promise<string[]>;
  /** The file's bytes, or undefined if it does not exist. */
  read(path: string): Promise<Uint8Array | undefined>;
  /** The file's size in bytes, or undefined if it does not exist. */
  size(path: string): Promise<number | undefined>;
  /**
   * Replaces the file atomically: writes `path` + ".tmp", fsyncs it, renames it over `path`, then
   * fsyncs the directory, so a crash leaves either the old content or the new one.
   */
  writeAtomic(path: string, bytes: Uint8Array): Promise<void>;
  /** Appends bytes to the file (creating it), then fsyncs it. */
  append(path: string, bytes: Uint8Array): Promise<void>;
  /** Cuts the file to `length` bytes and fsyncs it. */
  truncate(path: string, length: number): Promise<void>;
  /** Flushes the file's written data to the disk (fsync). */
  sync(path: string): Promise<void>;
  /** Opens the file for writing at its end (creating it): each write reaches the OS before it resolves. */
  openAppend(path: string): Promise<WritableStream<Uint8Array>>;
  /** Deletes the file; nothing happens if it does not exist. */
  remove(path: string): Promise<void>;
}
