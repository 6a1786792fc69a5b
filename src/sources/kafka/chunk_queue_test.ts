import assert from "node:assert/strict";
import { test } from "../../../test/harness.ts";
import { ChunkQueue } from "./chunk_queue.ts";

test("ChunkQueue delivers pushed items in order and ends", async () => {
  const queue = new ChunkQueue<number>({ limit: 10 });
  await queue.push(1);
  await queue.push(2);
  queue.end();
  const seen: number[] = [];
  for await (const n of queue) seen.push(n);
  assert.deepEqual(seen, [1, 2]);
});

test("ChunkQueue applies backpressure: push resolves once at most `limit` items wait", async () => {
  const queue = new ChunkQueue<number>({ limit: 1 });
  const events: string[] = [];
  const p1 = queue.push(1).then(() => events.push("1 released"));
  const p2 = queue.push(2).then(() => events.push("2 released"));
  await p1;
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(events, ["1 released"]);
  assert.equal(queue.size, 2);
  const iterator = queue[Symbol.asyncIterator]();
  assert.deepEqual(await iterator.next(), { value: 1, done: false });
  await p2;
  assert.deepEqual(events, ["1 released", "2 released"]);
});

test("ChunkQueue with limit 0 releases a push only when its item is taken", async () => {
  const queue = new ChunkQueue<string>({ limit: 0 });
  let taken = false;
  const pushed = queue.push("a").then(() => (taken = true));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(taken, false);
  const iterator = queue[Symbol.asyncIterator]();
  assert.equal((await iterator.next()).value, "a");
  await pushed;
  assert.equal(taken, true);
});

test("ChunkQueue hands a push straight to a waiting reader", async () => {
  const queue = new ChunkQueue<number>({ limit: 0 });
  const iterator = queue[Symbol.asyncIterator]();
  const next = iterator.next();
  await queue.push(7);
  assert.deepEqual(await next, { value: 7, done: false });
});

test("ChunkQueue.fail raises the error after the items already pushed", async () => {
  const queue = new ChunkQueue<number>({ limit: 5 });
  await queue.push(1);
  queue.fail(new Error("broker gone"));
  const iterator = queue[Symbol.asyncIterator]();
  assert.deepEqual(await iterator.next(), { value: 1, done: false });
  await assert.rejects(iterator.next(), /broker gone/);
  await assert.rejects(queue.push(2), /push after end/);
});

test("ChunkQueue: a waiting reader sees the end, and return() ends the queue", async () => {
  const queue = new ChunkQueue<number>();
  const iterator = queue[Symbol.asyncIterator]();
  const next = iterator.next();
  queue.end();
  assert.deepEqual(await next, { value: undefined, done: true });
  const other = new ChunkQueue<number>();
  const blocked = other.push(1).then(() => other.push(2));
  await other[Symbol.asyncIterator]().return!();
  await assert.rejects(blocked, /push after end/);
});
