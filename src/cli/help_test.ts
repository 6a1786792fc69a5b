import assert from "node:assert/strict";
import { test } from "../../test/harness.ts";
import { GENERAL_FLAGS } from "./args.ts";
import { helpText } from "./help.ts";
import { SOURCES } from "./source_specs.ts";

test("helpText lists every flag with its default, and examples", () => {
  const help = helpText(SOURCES);
  for (const flag of [...GENERAL_FLAGS, ...SOURCES.flatMap((s) => s.flags)]) {
    const line = help.split("\n").find((l) =>
      l.includes(`--${flag.name}${flag.value ? ` ${flag.value}` : ""} `)
    );
    assert.ok(line, `--${flag.name} is listed`);
    if (flag.default !== undefined) assert.ok(line.includes(`(default: ${flag.default})`), line);
  }
  for (const source of SOURCES) assert.ok(help.includes(`--source ${source.name}`));
  assert.match(help, /Examples:/);
  assert.match(help, /example: deno task regress --source csv --input/);
  assert.match(help, /Exit codes: 0 done.*1 failure.*2 bad flags/s);
});
