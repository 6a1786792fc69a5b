/**
 * Puts streamreg's record batch decoder ({@linkcode createRecordBatchDecoder}) into kafkajs, in this
 * process only, through the CommonJS module cache (`require.cache`) that Deno's npm compatibility and Bun
 * both keep for kafkajs: the entry of `kafkajs/src/protocol/recordBatch/v0/decoder.js` becomes a module
 * whose export is streamreg's decoder. kafkajs requires that module from
 * `requests/fetch/v4/decodeMessages.js`, which the fetch responses (`requests/fetch/vN/response.js`)
 * require, which `requests/fetch/index.js` requires anew for every fetch request it builds; so the entries
 * of those response modules are dropped too, and the next fetch request of any consumer loads them again,
 * now with streamreg's decoder, whether or not kafkajs had already fetched in this process. kafkajs's
 * other pieces the decoder uses (Decoder, its record decoder for the rare records outside the fast path,
 * the compression codec registry, its partial-batch error) are taken from the same cache: the instances
 * kafkajs itself uses, codecs registered later included.
 *
 * kafkajs's `Batch` (`consumer/batch.js`) is replaced the same way by {@linkcode createBatchConstructor}
 * (plain-number offset comparisons), but only while kafkajs's consumer is not loaded yet — its
 * `consumerGroup.js` keeps the class it required: so in streamreg's own runs, where
 * {@linkcode loadKafkajs} installs both before it first imports kafkajs, not in a process that imported
 * kafkajs before (a test), where kafkajs's `Batch` stays, with the same result.
 *
 * @example
 * ```ts
 * import { installRecordDecoder } from "./kafkajs_record_hook.ts";
 * installRecordDecoder();
 * const { Kafka } = await import("kafkajs");
 * ```
 * @module
 */

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";
import { createBatchConstructor } from "./fetched_batch.ts";
import {
  createRecordBatchDecoder,
  type DecodedRecordBatch,
  type KafkajsDecoder,
  type KafkajsRecordInternals,
} from "./record_batch_decoder.ts";

const require = createRequire(import.meta.url);

/** The module id kafkajs's fetch responses require for record batches. */
const BATCH_DECODER = "kafkajs/src/protocol/recordBatch/v0/decoder.js";
/** kafkajs's fetched batch class, and the consumer module that requires it once. */
const BATCH = "kafkajs/src/consumer/batch.js";
const CONSUMER_GROUP = "kafkajs/src/consumer/consumerGroup.js";

let installed: boolean | undefined;
let batchInstalled = false;
let replacement: unknown;
let batches = 0;
let fetchedBatches = 0;

/**
 * Installs the decoder once; true if kafkajs uses it from its next fetch request on, false where there is
 * no module cache to put it in (a `bun build --compile` binary: kafkajs is bundled there).
 * `STREAMREG_KAFKAJS_DECODER=kafkajs` in the environment keeps kafkajs's own decoder and `Batch` (returns
 * false): stock kafkajs, for comparisons.
 *
 * @example
 * ```ts
 * if (!installRecordDecoder()) console.error("kafkajs decodes its records itself");
 * ```
 */
export function installRecordDecoder(): boolean {
  if (installed !== undefined) return installed;
  if (process.env.STREAMREG_KAFKAJS_DECODER === "kafkajs") return installed = false;
  try {
    return installed = install();
  } catch {
    // No CommonJS module cache to put it in (a `bun build --compile` binary, where kafkajs is bundled):
    // kafkajs decodes as it does by itself.
    return installed = false;
  }
}

/** Puts both pieces into the module cache; true if `require` returns the decoder from then on. */
function install(): boolean {
  const path = require.resolve(BATCH_DECODER);
  const internals = kafkajsRecordInternals();
  kafkajsRecordBatchDecoder(); // kept for tests and benchmarks before it leaves the cache
  const decode = createRecordBatchDecoder(internals);
  const counted = (decoder: KafkajsDecoder): Promise<DecodedRecordBatch> => {
    batches++;
    return decode(decoder);
  };
  cache(path, replacement = counted);
  if (require.cache[require.resolve(CONSUMER_GROUP)] === undefined) {
    const Batch = kafkajsBatch();
    cache(
      require.resolve(BATCH),
      createBatchConstructor({
        Batch,
        Long: require("kafkajs/src/utils/long.js"),
        filterAbortedMessages: require("kafkajs/src/consumer/filterAbortedMessages.js"),
      }, { onBatch: () => fetchedBatches++ }),
    );
    batchInstalled = true;
  }
  const fetchRequests = join(dirname(path), "../../requests/fetch/");
  for (const id of Object.keys(require.cache)) {
    if (id.startsWith(fetchRequests) && (id.endsWith("/response.js") || id.endsWith("/decodeMessages.js"))) {
      delete require.cache[id];
    }
  }
  return require(path) === counted;
}

/** Enters `exports` into the module cache as the loaded module `path`: what `require` returns for it. */
function cache(path: string, exports: unknown): void {
  const Module = require("node:module") as new (id: string) => {
    filename: string;
    loaded: boolean;
    exports: unknown;
  };
  const entry = new Module(path);
  entry.filename = path;
  entry.loaded = true;
  entry.exports = exports;
  require.cache[path] = entry as unknown as NodeJS.Module;
}

/**
 * How many fetched batches (kafkajs `Batch` objects) streamreg's constructor has made in this process
 * (for tests: proof that kafkajs's consumer uses it).
 *
 * @example
 * ```ts
 * console.log(constructedBatches() > 0);
 * ```
 */
export function constructedBatches(): number {
  return fetchedBatches;
}

/**
 * Whether {@linkcode installRecordDecoder} also put streamreg's `Batch` constructor into kafkajs (it does
 * only before kafkajs's consumer is loaded).
 *
 * @example
 * ```ts
 * installRecordDecoder();
 * console.log(batchConstructorInstalled());
 * ```
 */
export function batchConstructorInstalled(): boolean {
  return batchInstalled;
}

let originalBatch: { prototype: object } | undefined;

/**
 * kafkajs's own `Batch` class (kept before {@linkcode installRecordDecoder} replaced it): the reference
 * the tests compare with.
 *
 * @example
 * ```ts
 * const Batch = kafkajsBatch();
 * ```
 */
export function kafkajsBatch(): { prototype: object } {
  if (originalBatch === undefined) {
    const loaded = require(BATCH);
    if (batchInstalled) {
      throw new Error("kafkajs_record_hook: kafkajs's Batch was replaced before it was kept");
    }
    originalBatch = loaded;
  }
  return originalBatch!;
}

/**
 * kafkajs's own pieces that streamreg's decoder uses, from the module cache kafkajs uses.
 *
 * @example
 * ```ts
 * const decode = createRecordBatchDecoder(kafkajsRecordInternals());
 * ```
 */
export function kafkajsRecordInternals(): KafkajsRecordInternals {
  return {
    Decoder: require("kafkajs/src/protocol/decoder.js"),
    decodeRecord: require("kafkajs/src/protocol/recordBatch/record/v0/decoder.js"),
    lookupCodecByAttributes: require("kafkajs/src/protocol/message/compression/index.js")
      .lookupCodecByAttributes,
    KafkaJSPartialMessageError: require("kafkajs/src/errors.js").KafkaJSPartialMessageError,
  };
}

let original: ((decoder: KafkajsDecoder) => Promise<DecodedRecordBatch>) | undefined;

/**
 * kafkajs's own record batch decoder (the export of `protocol/recordBatch/v0/decoder.js` before
 * {@linkcode installRecordDecoder} replaced it): the reference the tests compare with.
 *
 * @example
 * ```ts
 * const { Decoder } = kafkajsRecordInternals();
 * const theirs = await kafkajsRecordBatchDecoder()(new Decoder(bytes));
 * ```
 */
export function kafkajsRecordBatchDecoder(): (decoder: KafkajsDecoder) => Promise<DecodedRecordBatch> {
  if (original === undefined) {
    const path = require.resolve(BATCH_DECODER);
    const cached = require.cache[path]?.exports;
    if (cached !== undefined && cached === replacement) {
      throw new Error("kafkajs_record_hook: kafkajs's record batch decoder was replaced before it was kept");
    }
    original = require(path);
  }
  return original!;
}

/**
 * How many record batches streamreg's decoder has decoded in this process (for tests: proof that kafkajs
 * uses it).
 *
 * @example
 * ```ts
 * const before = decodedBatches();
 * // ... consume ...
 * console.log(decodedBatches() > before);
 * ```
 */
export function decodedBatches(): number {
  return batches;
}
