/**
 * kafkajs, loaded on first use: a run that reads a CSV file or the demo stream never loads the Kafka
 * client (about 30–60 ms of process start). Before kafkajs loads, streamreg's record batch decoder is put in
 * its place ({@linkcode installRecordDecoder}).
 *
 * @example
 * ```ts
 * import { loadKafkajs } from "./kafkajs_module.ts";
 * const { Kafka } = await loadKafkajs();
 * ```
 * @module
 */

import { installRecordDecoder } from "./kafkajs_record_hook.ts";

/** The kafkajs module's exports. */
export type KafkajsModule = typeof import("kafkajs");

let loaded: Promise<KafkajsModule> | undefined;

/**
 * The kafkajs module, imported once.
 *
 * @example
 * ```ts
 * const { logLevel } = await loadKafkajs();
 * ```
 */
export function loadKafkajs(): Promise<KafkajsModule> {
  if (loaded === undefined) {
    installRecordDecoder();
    loaded = import("kafkajs");
  }
  return loaded;
}
