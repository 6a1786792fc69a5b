/**
 * Where each partition of the Kafka source starts and stands: the topic's offsets and the group's
 * committed ones read when opening ({@linkcode readTopicPlan}), the start of each partition from a
 * checkpoint, the flags or the group ({@linkcode initialStates}), a checkpoint's position
 * ({@linkcode positionOf}, {@linkcode checkKafkaPosition}) and the check that the topic still matches it
 * ({@linkcode checkResume}).
 *
 * @example
 * ```ts
 * import { initialStates, readTopicPlan } from "./partitions.ts";
 * const plan = await readTopicPlan(admin, "points", "my-group");
 * const states = initialStates(plan, options, undefined, console.error);
 * ```
 * @module
 */

import type { Admin } from "kafkajs";
import { type CsvLayout, csvLayout } from "../../model/csv.ts";
import { preview } from "./messages.ts";
import type { KafkaPartitionPosition, KafkaPosition, KafkaSourceOptions } from "./options.ts";

/**
 * What the source knows of one partition: where it stands, where it started, its CSV header, and its
 * offsets handed to the pipeline, written, and committed.
 *
 * @example
 * ```ts
 * const state = newPartitionState(0, undefined);
 * ```
 */
export interface PartitionState {
  /** The partition. */
  readonly partition: number;
  /** The earliest offset at the start: where the partition's header is. */
  low: number;
  /** The next offset to accept; messages before it have been read (or are skipped by the start). */
  next: number;
  /** Whether `next` was decided by this reader (false for partitions that appeared later). */
  known: boolean;
  /** Where the first assignment starts was decided at the start (a checkpoint, --from-beginning/-end). */
  forced: boolean;
  /** Counts the assignments of the partition to this reader (0: never assigned yet). */
  tenure: number;
  /** Newly assigned, paused: its start (the group's committed offset) is being looked up. */
  pending: boolean;
  /** The end offset at the start (for exitAtEnd). */
  end: number;
  /** The header is the partition's first message, before `next`: read it first, then seek to `next`. */
  probe: boolean;
  /** The CSV header's layout, once known. */
  layout: CsvLayout | undefined;
  /** The CSV header's text, once read (not for --csv-header). */
  header: string | undefined;
  /** The offset of the header message (-1: before every offset of this run, e.g. from a checkpoint). */
  headerAt: number;
  /** Where this reader started on the partition (-1: decided by the group, for partitions seen later). */
  start: number;
  /** `next` of the last chunk with points handed to the pipeline (-1: none). */
  pushed: number;
  /** The offset to commit: after the last message whose batch was written (-1: none yet). */
  committed: number;
  /** The last offset this reader committed successfully (-1: none). */
  sent: number;
  /** `next` after a fetched batch without points that no pushed chunk covers (-1: none). */
  empty: number;
}

/**
 * The state of a partition this reader has not decided a start for (one added after the start).
 *
 * @example
 * ```ts
 * const state = newPartitionState(3, layout);
 * ```
 */
export function newPartitionState(partition: number, layout: CsvLayout | undefined): PartitionState {
  return {
    partition,
    low: 0,
    next: 0,
    known: false,
    forced: false,
    tenure: 0,
    pending: false,
    end: 0,
    probe: false,
    layout,
    header: undefined,
    headerAt: -1,
    start: -1,
    pushed: -1,
    committed: -1,
    sent: -1,
    empty: -1,
  };
}

/**
 * Starts a new assignment of the partition to this reader: what it did with the partition before is
 * not committed any more (see `KafkaSource.committed`).
 *
 * @example
 * ```ts
 * newTenure(state); // state.tenure + 1, nothing pushed, written or committed in it yet
 * ```
 */
export function newTenure(state: PartitionState): void {
  state.tenure++;
  state.pushed = -1;
  state.committed = -1;
  state.sent = -1;
  state.empty = -1;
}

/** What to do about a checkpoint the topic does not match. */
const RESUME_REMEDY = "restore the topic, or delete the --state directory to start over";

/**
 * Checks that the topic still holds every message a checkpoint goes on from; throws an Error if not.
 *
 * @example
 * ```ts
 * checkResume(position, "points", [{ partition: 0, low: 0, high: 120 }]);
 * ```
 */
export function checkResume(
  position: KafkaPosition,
  topic: string,
  plan: readonly { partition: number; low: number; high: number }[],
): void {
  if (position.topic !== topic) {
    throw new Error(`the checkpoint is of topic "${position.topic}", not "${topic}": ${RESUME_REMEDY}`);
  }
  for (const { partition, next } of position.partitions) {
    const offsets = plan.find((p) => p.partition === partition);
    if (offsets === undefined) {
      throw new Error(
        `the checkpoint goes on from partition ${partition} of topic "${topic}", which has ${plan.length} ` +
          `partition${plan.length === 1 ? "" : "s"} now (deleted and created again?): ${RESUME_REMEDY}`,
      );
    }
    if (next > offsets.high) {
      throw new Error(
        `partition ${partition} of topic "${topic}" ends at offset ${offsets.high}, before offset ${next} where the ` +
          `checkpoint goes on (the topic was deleted and created again?): ${RESUME_REMEDY}`,
      );
    }
    if (next < offsets.low) {
      throw new Error(
        `partition ${partition} of topic "${topic}" starts at offset ${offsets.low} now: the messages from offset ` +
          `${next}, where the checkpoint goes on, are gone (retention): ${RESUME_REMEDY}`,
      );
    }
  }
}

/**
 * A partition of the topic when the reader opens: its offsets and the group's committed one.
 *
 * @example
 * ```ts
 * const p: TopicPlan = { partition: 0, low: 0, high: 120, committed: -1 };
 * ```
 */
export interface TopicPlan {
  /** The partition. */
  readonly partition: number;
  /** Its earliest offset. */
  readonly low: number;
  /** Its end offset (the next new message's). */
  readonly high: number;
  /** The group's committed offset (-1: none). */
  readonly committed: number;
}

/**
 * Reads the topic's partitions, their offsets and the group's committed offsets with an admin client
 * (connecting it; the caller disconnects). Rejects with a kafkajs-style `UNKNOWN_TOPIC_OR_PARTITION`
 * error if the topic does not exist.
 *
 * @example
 * ```ts
 * const plan = await readTopicPlan(kafka.admin(), "points", "my-group");
 * ```
 */
export async function readTopicPlan(admin: Admin, topic: string, groupId: string): Promise<TopicPlan[]> {
  await admin.connect();
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  if (!metadata.topics.some((t) => t.name === topic)) {
    throw Object.assign(new Error("unknown topic"), { type: "UNKNOWN_TOPIC_OR_PARTITION" });
  }
  const offsets = await admin.fetchTopicOffsets(topic);
  const groupOffsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  const committed = new Map(
    (groupOffsets.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [
      p.partition,
      Number(p.offset),
    ]),
  );
  return offsets.map((o) => ({
    partition: o.partition,
    low: Number(o.low),
    high: Number(o.high),
    committed: committed.get(o.partition) ?? -1,
  })).sort((a, b) => a.partition - b.partition);
}

/**
 * Where each partition starts when the reader opens: at the checkpoint's offset if resuming (checked
 * against the topic), else as `start` and the group's committed offsets say; `message` gets a line per
 * partition when `verbose`. `layout` is that of `--csv-header`, if given.
 *
 * @example
 * ```ts
 * const states = initialStates(plan, { connection, start: "beginning" }, undefined, console.error);
 * ```
 */
export function initialStates(
  plan: readonly TopicPlan[],
  options: KafkaSourceOptions,
  layout: CsvLayout | undefined,
  message: (text: string) => void,
): PartitionState[] {
  const c = options.connection;
  const format = options.format ?? "csv";
  const columns = options.columns ?? { x: "x", y: "y" };
  const resetToBeginning = c.settings.fromBeginning ?? true;
  const start = options.start ?? "committed";
  const resume = new Map((options.resume?.partitions ?? []).map((p) => [p.partition, p]));
  if (options.resume !== undefined) checkResume(options.resume, c.topic, plan);
  return plan.map(({ partition, low, high, committed }) => {
    let next: number;
    let why: string;
    const resumed = resume.get(partition);
    let partitionLayout = layout;
    if (resumed !== undefined) {
      next = resumed.next;
      why = `the checkpoint${
        committed >= 0 && committed !== next ? `; group "${c.groupId}" committed ${committed}` : ""
      }`;
      if (resumed.header !== undefined && format === "csv" && layout === undefined) {
        const l = csvLayout(resumed.header, columns);
        if (typeof l === "string") {
          throw new Error(
            `partition ${partition}: the checkpoint's CSV header ${preview(resumed.header)}: ${l}`,
          );
        }
        partitionLayout = l;
      }
    } else if (start === "beginning") [next, why] = [low, "--from-beginning"];
    else if (start === "end") [next, why] = [high, "--from-end"];
    else if (committed >= 0 && committed <= high) {
      [next, why] = [Math.max(committed, low), `group "${c.groupId}" committed offset ${committed}`];
    } else [next, why] = resetToBeginning ? [low, "no committed offset: earliest"] : [high, "latest"];
    const probe = format === "csv" && partitionLayout === undefined && next > low &&
      !(options.exitAtEnd && next >= high);
    if (options.verbose) {
      message(
        `streamreg: partition ${partition}: offsets ${low}..${high - 1}, reading from ${next} (${why})` +
          (probe ? `, header from offset ${low}` : ""),
      );
    }
    return {
      partition,
      low,
      next,
      known: true,
      forced: resumed !== undefined || start !== "committed",
      tenure: 0,
      pending: false,
      end: high,
      probe,
      layout: partitionLayout,
      header: partitionLayout !== layout ? resumed?.header : undefined,
      headerAt: -1,
      start: next,
      pushed: -1,
      // Resumed from a checkpoint: everything before `next` is written and persisted, so the group is
      // owed that offset even if this run reads nothing (a crash may have come before the commit).
      committed: resumed !== undefined ? next : -1,
      sent: -1,
      empty: -1,
    };
  });
}

/**
 * The group's committed offsets and the topic's offset ranges now, by partition, with an admin client
 * (connecting it; the caller disconnects).
 *
 * @example
 * ```ts
 * const { committed, offsets } = await readGroupOffsets(kafka.admin(), "points", "my-group");
 * ```
 */
export async function readGroupOffsets(
  admin: Admin,
  topic: string,
  groupId: string,
): Promise<{ committed: Map<number, number>; offsets: Map<number, { low: number; high: number }> }> {
  await admin.connect();
  const [group] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const committed = new Map((group?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  const offsets = new Map(
    (await admin.fetchTopicOffsets(topic)).map((o) => [
      o.partition,
      { low: Number(o.low), high: Number(o.high) },
    ]),
  );
  return { committed, offsets };
}

/**
 * Starts a new assignment of a newly assigned partition at `committed` (the group's committed offset or
 * a checkpoint's, -1: none) if the topic still has it, else as `auto.offset.reset` says; returns where
 * it starts. The header is read first if the partition needs one and starts past its first message.
 *
 * @example
 * ```ts
 * const next = restartAt(state, { low: 0, high: 120 }, 57, { resetToBeginning: true, csv: true, exitAtEnd: false });
 * ```
 */
export function restartAt(
  state: PartitionState,
  range: { low: number; high: number },
  committed: number,
  how: { resetToBeginning: boolean; csv: boolean; exitAtEnd: boolean },
): number {
  newTenure(state);
  state.low = range.low;
  if (!state.known) state.end = range.high;
  const c = committed;
  const next = c >= 0 && c <= range.high
    ? Math.max(c, range.low)
    : how.resetToBeginning
    ? range.low
    : range.high;
  state.next = next;
  state.start = next;
  state.known = true;
  state.probe = how.csv && state.layout === undefined && next > state.low &&
    !(how.exitAtEnd && next >= state.end);
  state.pending = false;
  return next;
}

/**
 * Takes a new assignment of the group (`states`: the partitions assigned now, in order): a partition
 * held before goes on where it is; one newly assigned at the first join with a start decided when
 * opening (a checkpoint, --from-beginning/-end) starts there; every other one is marked pending and
 * returned, for its start to be looked up (the group's committed offset as it is now). `seek` is called
 * for each partition that goes on or starts now, in order.
 *
 * @example
 * ```ts
 * const lookUp = assignPartitions(states, { previous: new Set([0]), first: false, resumed, seek });
 * ```
 */
export function assignPartitions(
  states: readonly PartitionState[],
  how: {
    previous: ReadonlySet<number>;
    first: boolean;
    resumed: ReadonlyMap<number, number>;
    seek: (state: PartitionState) => void;
  },
): PartitionState[] {
  const lookUp: PartitionState[] = [];
  for (const state of states) {
    const partition = state.partition;
    if (how.previous.has(partition) && !state.pending) {
      // Held before this rejoin too (a broker outage, another reader joining or leaving): go on where
      // this reader is, so that points already handed to the pipeline are not read twice.
      how.seek(state);
      continue;
    }
    // Newly assigned: another reader may have read and committed it meanwhile.
    if (how.first && state.forced) {
      newTenure(state);
      // The start decided when opening: the checkpoint's offset, --from-beginning, --from-end.
      // Resumed from a checkpoint: everything before `next` is written and persisted, so the group is
      // owed that offset even if this run reads nothing (a crash may have come before the commit).
      if (how.resumed.has(partition)) state.committed = state.next;
      how.seek(state);
    } else {
      state.pending = true;
      lookUp.push(state);
    }
  }
  return lookUp;
}

/**
 * Where a reader stands for a checkpoint: for every partition given (those assigned to it, in any
 * order; pending ones are skipped), the offset after its last message written (where it started on it
 * if none), and its CSV header if that is before.
 *
 * @example
 * ```ts
 * positionOf("points", states); // { topic: "points", partitions: [{ partition: 0, next: 501, header: "x,y" }] }
 * ```
 */
export function positionOf(topic: string, states: readonly PartitionState[]): KafkaPosition {
  const assigned = states.filter((state) => !state.pending);
  const partitions: KafkaPartitionPosition[] = [];
  for (const state of assigned.sort((p, q) => p.partition - q.partition)) {
    const next = state.committed >= 0 ? state.committed : state.start;
    if (next < 0) continue; // (a partition seen later, nothing of it written: the group decides)
    const header = state.header !== undefined && state.headerAt < next ? state.header : undefined;
    partitions.push({ partition: state.partition, next, ...(header !== undefined ? { header } : {}) });
  }
  return { topic, partitions };
}

/**
 * Checks a position from a checkpoint (a JSON value); returns it typed, or throws an Error saying
 * what is wrong.
 *
 * @example
 * ```ts
 * const resume = checkKafkaPosition(JSON.parse(text));
 * ```
 */
export function checkKafkaPosition(value: unknown): KafkaPosition {
  const p = value as Partial<KafkaPosition> | null;
  const ok = typeof p === "object" && p !== null && typeof p.topic === "string" &&
    Array.isArray(p.partitions) &&
    p.partitions.every((q: Partial<KafkaPartitionPosition> | null) =>
      typeof q === "object" && q !== null && Number.isSafeInteger(q.partition) && q.partition! >= 0 &&
      Number.isSafeInteger(q.next) && q.next! >= 0 &&
      (q.header === undefined || typeof q.header === "string")
    ) &&
    new Set(p.partitions.map((q) => q.partition)).size === p.partitions.length;
  if (!ok) {
    const json = JSON.stringify(value) ?? String(value);
    throw new Error(
      `not a Kafka position (topic, partitions with partition, next, header): ${
        json.length > 200 ? `${json.slice(0, 200)}…` : json
      }`,
    );
  }
  return p as KafkaPosition;
}
