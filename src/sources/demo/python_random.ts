/**
 * Python's `random` module, bit for bit: `random.seed(n)` for an integer n and `random.random()`.
 *
 * CPython uses the Mersenne Twister MT19937, seeds it with `init_by_array` over the 32-bit words of
 * |n| (least significant first; the key is `[0]` for n = 0) and builds each double from two outputs:
 * `((a >>> 5) * 67108864 + (b >>> 6)) / 9007199254740992`.
 *
 * @example
 * ```ts
 * import { PythonRandom } from "./python_random.ts";
 * const rng = new PythonRandom(0);
 * rng.random(); // 0.8444218515250481, as random.seed(0); random.random() in Python
 * ```
 * @module
 */

const N = 624;
const M = 397;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const MATRIX_A = 0x9908b0df;

/**
 * A Python-compatible random number generator.
 *
 * @example
 * ```ts
 * const rng = new PythonRandom(42);
 * const r = rng.random(); // in [0, 1)
 * ```
 */
export class PythonRandom {
  readonly #mt = new Uint32Array(N);
  #index = N + 1;

  /**
   * Seeds like Python's `random.seed(seed)`; `seed` must be an integer (a `bigint` for any size,
   * a `number` up to ±2^53). Negative seeds act like their absolute value, as in Python.
   */
  constructor(seed: number | bigint = 0) {
    this.seed(seed);
  }

  /**
   * Re-seeds like Python's `random.seed(seed)`.
   *
   * @example
   * ```ts
   * const rng = new PythonRandom();
   * rng.seed(7n);
   * ```
   */
  seed(seed: number | bigint): void {
    if (typeof seed === "number" && !Number.isSafeInteger(seed)) {
      throw new RangeError(`seed must be an integer between -(2^53-1) and 2^53-1: got ${seed}`);
    }
    let n = BigInt(seed);
    if (n < 0n) n = -n;
    const key: number[] = [];
    do {
      key.push(Number(n & 0xffffffffn));
      n >>= 32n;
    } while (n > 0n);
    this.#initByArray(key);
  }

  /**
   * The next double in [0, 1), equal to Python's `random.random()` after the same seed and calls.
   *
   * @example
   * ```ts
   * const y = 5 + (2 * rng.random() - 1) / 10;
   * ```
   */
  random(): number {
    const a = this.#next() >>> 5;
    const b = this.#next() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  #initGenrand(s: number): void {
    const mt = this.#mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1];
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
    this.#index = N;
  }

  #initByArray(key: readonly number[]): void {
    const mt = this.#mt;
    this.#initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1];
      mt[i] = ((mt[i] ^ Math.imul(prev ^ (prev >>> 30), 1664525)) + key[j] + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1];
      mt[i] = ((mt[i] ^ Math.imul(prev ^ (prev >>> 30), 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = UPPER_MASK;
    this.#index = N;
  }

  #next(): number {
    const mt = this.#mt;
    if (this.#index >= N) {
      let kk = 0;
      for (; kk < N - M; kk++) {
        const y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
        mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      for (; kk < N - 1; kk++) {
        const y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
        mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      const y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
      mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      this.#index = 0;
    }
    let y = mt[this.#index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}
