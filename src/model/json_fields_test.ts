import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { PythonRandom } from "../sources/demo/python_random.ts";
import { type JsonFieldType, jsonMemberSources, PlainJsonObject } from "./json_fields.ts";

const read = (text: string, names = ["x", "y"], types?: JsonFieldType[]) => {
  const object = new PlainJsonObject(names, { types });
  return object.read(text, 0, text.length)
    ? names.map((_, k) => text.slice(object.ranges[2 * k], object.ranges[2 * k + 1]))
    : false;
};

test("json_fields: plain objects give each wanted member's text; anything else is left to JSON.parse", () => {
  assert.deepEqual(read('{"x":1,"y":2}'), ["1", "2"]);
  assert.deepEqual(read(' {\t"y" : -0.5e+3 ,\r\n "x":0 , "note":"a b", "t":true, "f":false, "n":null}\n'), [
    "0",
    "-0.5e+3",
  ]);
  assert.deepEqual(read('{"x":1,"y":2,"id":"s-1"}', ["x", "y", "id"], ["number", "number", "text"]), [
    "1",
    "2",
    "s-1",
  ]);
  assert.deepEqual(read('{"x":1,"y":2,"id":17}', ["x", "y", "id"], ["number", "number", "text"]), [
    "1",
    "2",
    "17",
  ]);
  const example = '{"x": 1.5, "y": -2, "id": "a"}';
  const object = new PlainJsonObject(["x", "y", "id"], { types: ["number", "number", "text"] });
  assert.ok(object.read(example, 0, example.length));
  assert.deepEqual([...object.ranges], [6, 9, 16, 18, 27, 28]);
  for (
    const text of [
      "",
      "{}",
      "[1,2]",
      '{"x":1}', // y missing
      '{"x":1,"x":2,"y":3}', // x twice: JSON.parse takes the last
      '{"x":"1","y":2}', // x a string
      '{"x":true,"y":2}',
      '{"x":null,"y":2}',
      '{"x":1,"y":{"a":2}}',
      '{"x":1,"y":2,"z":[1]}', // nested, not wanted: still left to JSON.parse
      '{"x":1,"y":2,"z":{}}',
      '{"x":01,"y":2}',
      '{"x":.5,"y":2}',
      '{"x":5.,"y":2}',
      '{"x":+5,"y":2}',
      '{"x":1e,"y":2}',
      '{"x":0x10,"y":2}',
      '{"x":NaN,"y":2}',
      '{"x":Infinity,"y":2}',
      '{"x":-,"y":2}',
      '{"x":1,"y":2,}',
      '{"x":1 "y":2}',
      '{"x":1,"y":2}}',
      '{"x":1,"y":2} x',
      '{"x":1,"y":2',
      '{"x\\u0030":1,"y":2}', // an escape in a name
      '{"x":1,"y":2,"s":"a\\"b"}', // an escape in a string
      '{"x":1,"y":2,"s":"é"}', // beyond ASCII
      '{"x":1,"y":2,"s":"a\tb"}', // a control character: not JSON
      "{'x':1,'y':2}",
      '{"x":1,"y":2,"t":tru}',
      '{"x":1,"y":2,"t":nulls}',
    ]
  ) {
    assert.equal(read(text), false, text);
  }
  for (const id of ["-0", "0.5", "1e3", "1234567890123456", "007", "true", "null"]) {
    assert.equal(read(`{"x":1,"y":2,"id":${id}}`, ["x", "y", "id"], ["number", "number", "text"]), false, id);
  }
  assert.deepEqual(
    read('{"x":1,"y":2,"id":-123456789012345}', ["x", "y", "id"], ["number", "number", "text"]),
    [
      "1",
      "2",
      "-123456789012345",
    ],
  );
});

test("json_fields: on random objects and near-objects, what it reads is what JSON.parse reads, and every plain object is read", () => {
  const random = new PythonRandom(11);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random.random() * list.length)];
  const names = ["x", "y", "id"];
  const types: JsonFieldType[] = ["number", "number", "text"];
  const numbers = [
    "0",
    "-0",
    "1",
    "-12.5",
    "1e5",
    "1E-5",
    "2.5e+10",
    "0.000001",
    "1700000000.037",
    "5e-324",
    "1e400",
  ];
  const strange = ["01", ".5", "5.", "+1", "1e", "-", "NaN", "0x1", "1..2", "--1"];
  const strings = ['"a"', '"s-1"', '""', '"a b"', '"a\\"b"', '"é"', '"\\u0041"', '"a\tb"'];
  const others = ["true", "false", "null", "[1]", "{}", '{"a":1}', "tru"];
  const spaces = ["", " ", "\t", "\r\n", "\n  "];
  let plain = 0;
  for (let round = 0; round < 20_000; round++) {
    const members: string[] = [];
    const tidy = random.random() < 0.4; // (then only what a plain object may hold)
    const count = Math.floor(random.random() * 6);
    for (let m = 0; m < count; m++) {
      const name = tidy
        ? pick(["note", "z", "a_b"])
        : pick([...names, ...names, "note", "z", "x\\u0031", "é"]);
      const r = random.random();
      const value = tidy
        ? pick([...numbers, '"a"', '"s-1"', "true", "false", "null"])
        : r < 0.5
        ? pick(numbers)
        : r < 0.6
        ? pick(strange)
        : r < 0.8
        ? pick(strings)
        : r < 0.9
        ? pick(others)
        : String(Math.floor(random.random() * 1e6));
      members.push(`${pick(spaces)}"${name}"${pick(spaces)}:${pick(spaces)}${value}${pick(spaces)}`);
    }
    // Mostly x, y and id present (the common case), each once.
    if (tidy || random.random() < 0.6) {
      for (const name of names) {
        if (!members.some((m) => m.includes(`"${name}"`))) {
          members.splice(Math.floor(random.random() * (members.length + 1)), 0, `"${name}":${pick(numbers)}`);
        }
      }
    }
    let text = `${pick(spaces)}{${members.join(",")}}${pick(spaces)}`;
    const mutate = random.random();
    if (tidy) { /* as it is */ }
    else if (mutate < 0.05) text = text.slice(0, -1 - Math.floor(random.random() * 3));
    else if (mutate < 0.1) text += pick([",", "}", "x", " 1"]);
    else if (mutate < 0.15) {
      const at = Math.floor(random.random() * text.length);
      text = text.slice(0, at) + pick([",", ":", '"', "{", "\\", "1"]) + text.slice(at);
    }

    // The text as the source sees it: its UTF-8 bytes as latin1 characters, with other text around it.
    const bytes = new TextEncoder().encode(text);
    const latin1 = "ab" + String.fromCharCode(...bytes) + "cd";
    const object = new PlainJsonObject(names, { types });
    const got = object.read(latin1, 2, 2 + bytes.length);

    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const isObject = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
    if (got) {
      plain++;
      assert.ok(isObject, `read, but JSON.parse does not give an object: ${text}`);
      const record = parsed as Record<string, unknown>;
      const source = jsonMemberSources(text);
      for (let k = 0; k < names.length; k++) {
        const value = record[names[k]];
        const slice = latin1.slice(object.ranges[2 * k], object.ranges[2 * k + 1]);
        if (typeof value === "number") {
          assert.equal(slice, source.get(names[k]), text);
          if (types[k] === "text") assert.equal(String(value), slice, text);
        } else {
          assert.equal(types[k], "text", text);
          assert.equal(value, slice, text);
        }
      }
    } else if (isObject && /^[\x20-\x7e\t\r\n]*$/.test(text) && !text.includes("\\")) {
      // Left out although ASCII without escapes: it must be one the fast path may not read.
      const record = parsed as Record<string, unknown>;
      const source = jsonMemberSources(text);
      const counts = names.map((name) => (text.match(new RegExp(`"${name}"\\s*:`, "g")) ?? []).length);
      // (duplicated members are in the text, not in the record: look at the text)
      const flat = (text.match(/[{[]/g) ?? []).length === 1;
      const typed = names.every((name, k) =>
        typeof record[name] === "number"
          ? types[k] === "number" || /^(0|-?[1-9][0-9]{0,14})$/.test(source.get(name)!)
          : types[k] === "text" && typeof record[name] === "string"
      );
      assert.ok(!flat || !typed || counts.some((c) => c !== 1), `a plain object not read: ${text}`);
    }
  }
  assert.ok(plain > 1_500, `only ${plain} plain objects among the random texts`);
});
