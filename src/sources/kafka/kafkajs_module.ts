/**
 * kafkajs, loaded on first use: a run that reads a CSV file or the demo stream never loads the Kafka
 * client (about 30–60 ms of process start).
 *
 * @example
 * ```ts
 * import { loadKafkajs } from "./kafkajs_module.ts";
 * const { Kafka } = await loadKafkajs();
 * ```
 * @module
 */

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
  return loaded ??= import("kafkajs");
}
