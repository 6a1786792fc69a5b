/**
 * Numbers as text from the WebAssembly core: the shortest decimal that reads back as the same double,
 * written byte for byte as JavaScript's `String(n)` writes it ("-0" for negative zero, as
 * `formatNumber` in `../model/format_number.ts`), straight into a caller's byte buffer.
 *
 * The digits are Ryu's (`assembly/format/shortest.ts`, integer arithmetic only); `String(n)` is slow on
 * doubles of 16–17 significant digits in JavaScriptCore and V8, and this is what the change logs write.
 * See docs/numerics.md, "Numbers as text".
 *
 * @example
 * ```ts
 * import { NumberText } from "./number_text.ts";
 * const numbers = await NumberText.load(await Deno.readFile("build/streamreg.wasm"));
 * const bytes = new Uint8Array(64);
 * const end = numbers.write(0.1 + 0.2, bytes, 0);
 * new TextDecoder().decode(bytes.subarray(0, end)); // "0.30000000000000004"
 * ```
 * @module
 */

/** The exports of `build/streamreg.wasm` that write numbers; see docs/numerics.md, "The WASM ABI". */
export interface NumberTextExports {
  /** The module's memory. */
  memory: WebAssembly.Memory;
  /** Address of the text format_f64 writes. */
  text_ptr(): number;
  /** Writes x's text at text_ptr(); returns its length in bytes. */
  format_f64(x: number): number;
}

/**
 * The most bytes {@linkcode NumberText.write} writes for one number ("-0.00000" and 17 digits).
 *
 * @example
 * ```ts
 * const bytes = new Uint8Array(NUMBER_TEXT_BYTES);
 * ```
 */
export const NUMBER_TEXT_BYTES = 25;

/**
 * Writes numbers as text through an instance of the core (its own, or a core's).
 *
 * @example
 * ```ts
 * const numbers = await NumberText.load(await Deno.readFile("build/streamreg.wasm"));
 * numbers.text(-0); // "-0"
 * ```
 */
export class NumberText {
  readonly #ex: NumberTextExports;
  readonly #format: (x: number) => number;
  #view: Uint8Array;

  private constructor(exports: NumberTextExports) {
    this.#ex = exports;
    this.#format = exports.format_f64;
    this.#view = new Uint8Array(exports.memory.buffer, exports.text_ptr(), 32);
  }

  /**
   * Instantiates the core (the bytes of `streamreg.wasm`, or the compiled module) for its numbers: an
   * instance of its own (its memory included, about 12 MiB); {@linkcode NumberText.of} takes one made.
   *
   * @example
   * ```ts
   * const numbers = await NumberText.load(await Deno.readFile("build/streamreg.wasm"));
   * ```
   */
  static async load(bytes: BufferSource | WebAssembly.Module): Promise<NumberText> {
    const instance = bytes instanceof WebAssembly.Module
      ? await WebAssembly.instantiate(bytes, {})
      : (await WebAssembly.instantiate(bytes, {})).instance;
    return new NumberText(instance.exports as unknown as NumberTextExports);
  }

  /**
   * The formatter of an instance already made: a core's (`RegressionCore.numberText`,
   * `ModelCore.numberText`), so that a run needs no instance, and no memory, of its own for numbers.
   * `format_f64` touches only its text area, never a core's state.
   *
   * @example
   * ```ts
   * const { instance } = await WebAssembly.instantiate(bytes, {});
   * const numbers = NumberText.of(instance.exports as unknown as NumberTextExports);
   * ```
   */
  static of(exports: NumberTextExports): NumberText {
    return new NumberText(exports);
  }

  /**
   * Writes n's text (ASCII: digits, ".", "-", "+", "e", "NaN", "Infinity") into `bytes` from `at`;
   * returns the offset after it. Throws a RangeError, writing nothing, when it does not fit (room for
   * {@linkcode NUMBER_TEXT_BYTES} always suffices).
   *
   * @example
   * ```ts
   * const bytes = new Uint8Array(32);
   * let at = numbers.write(1e21, bytes, 0); // "1e+21": at is 5
   * bytes[at++] = 0x2c; // ","
   * ```
   */
  write(n: number, bytes: Uint8Array, at: number): number {
    const length = this.#format(n);
    let text = this.#view;
    if (text.length === 0) text = this.#views(); // (the memory grew: a view of its new buffer)
    const end = at + length;
    if (end > bytes.length) {
      throw new RangeError(`no room for a number's text: ${length} bytes at ${at} of ${bytes.length}`);
    }
    for (let i = 0; i < length; i++) bytes[at + i] = text[i];
    return end;
  }

  /**
   * n's text as a string (as `formatNumber` gives it).
   *
   * @example
   * ```ts
   * numbers.text(1e-7); // "1e-7"
   * ```
   */
  text(n: number): string {
    const length = this.#format(n);
    const text = this.#view.length === 0 ? this.#views() : this.#view;
    return String.fromCharCode(...text.subarray(0, length));
  }

  #views(): Uint8Array {
    this.#view = new Uint8Array(this.#ex.memory.buffer, this.#ex.text_ptr(), 32);
    return this.#view;
  }
}

let shared: NumberText | undefined;

/**
 * Makes `numbers` the instance that writers use when given none (`CsvWriter`, `../sinks/csv_writer.ts`);
 * `undefined` leaves them to `formatNumber`. A run shares one, made once it has the core's bytes.
 *
 * @example
 * ```ts
 * shareNumberText(await NumberText.load(wasm));
 * ```
 */
export function shareNumberText(numbers: NumberText | undefined): void {
  shared = numbers;
}

/**
 * The instance {@linkcode shareNumberText} shared, if any.
 *
 * @example
 * ```ts
 * const numbers = sharedNumberText(); // undefined until a run shares one
 * ```
 */
export function sharedNumberText(): NumberText | undefined {
  return shared;
}
