// deno-lint-ignore-file no-control-regex -- the tests match ANSI escapes on purpose
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "../../test/harness.ts";
import { BrokenPipeError, type Host, isBrokenPipe, type StopSignal } from "./host.ts";
import { main } from "./main.ts";

const wasm = await readFile(new URL("../../build/streamreg.wasm", import.meta.url));

interface FakeOptions {
  terminal?: boolean;
  env?: Record<string, string>;
  files?: Record<string, string>;
  stdin?: string;
  wasmMissing?: boolean;
}

/** An in-memory host: files and standard streams are strings. */
function fakeHost(args: string[], options: FakeOptions = {}) {
  const decoder = new TextDecoder();
  const files = new Map(Object.entries(options.files ?? {}));
  const state = {
    stdout: "",
    stderr: "",
    signal: undefined as ((s: StopSignal) => void) | undefined,
    exited: -1,
  };
  const collect = (onText: (text: string) => void) =>
    new WritableStream<Uint8Array>({ write: (chunk) => onText(decoder.decode(chunk, { stream: true })) });
  const host: Host = {
    runtime: "fake",
    args,
    env: (name) => options.env?.[name],
    stdin: () => new Blob([options.stdin ?? ""]).stream(),
    stdout: () => collect((t) => (state.stdout += t)),
    writeStderr: (text) => void (state.stderr += text),
    stderrIsTerminal: options.terminal ?? false,
    openRead(path) {
      const text = files.get(path);
      if (text === undefined) {
        return Promise.reject(new Error(`cannot read "${path}": no such file or directory`));
      }
      return Promise.resolve(new Blob([text]).stream());
    },
    openWrite(path) {
      if (path.startsWith("/missing/")) {
        return Promise.reject(new Error(`cannot write "${path}": no such file or directory`));
      }
      files.set(path, "");
      return Promise.resolve(collect((t) => files.set(path, files.get(path) + t)));
    },
    readWasm: () =>
      options.wasmMissing
        ? Promise.reject(new Error("build/streamreg.wasm not found: run `npm run build:wasm` first"))
        : Promise.resolve(wasm),
    onSignal(handler) {
      state.signal = handler;
      return () => (state.signal = undefined);
    },
    exit(code) {
      state.exited = code;
      throw new Error(`exit ${code}`);
    },
  };
  return { host, state, files };
}

const lastLine = (csv: string) => csv.trim().split("\n").at(-1);

test("main: the default demo (fast) writes both change logs to their default files", async () => {
  const { host, state, files } = fakeHost(["--rate", "0", "--commit-rows", "1"]);
  assert.equal(await main(host), 0);
  assert.equal(state.stdout, "");
  assert.equal(state.stderr, "", "quiet when stderr is not a terminal");
  const output = files.get("regression_output_stream.csv")!;
  assert.equal(output.split("\n")[0], "a,b,time,diff");
  assert.match(lastLine(output)!, /^0\.025649728471302445,0\.9958341214647296,\d+,1$/);
  assert.equal(output.trim().split("\n").length, 1 + 1 + 2 * 9);
  const input = files.get("regression_input.csv")!;
  assert.equal(input.trim().split("\n").length, 11);
  assert.match(lastLine(input)!, /^9,9\.016676407891007,\d+,1$/);
});

test("main: a status line on a terminal, coloured unless NO_COLOR is set", async () => {
  const colored = fakeHost(["--rate", "0", "--no-input-log"], { terminal: true });
  assert.equal(await main(colored.host), 0);
  assert.match(colored.state.stderr, /\r\x1b\[2Kstreamreg: .*\x1b\[1m10\x1b\[22m points/);
  assert.match(colored.state.stderr, /b = .*0\.9958341214647296/);
  assert.ok(colored.state.stderr.endsWith("\n"));

  const plain = fakeHost(["--rate", "0", "--no-input-log"], { terminal: true, env: { NO_COLOR: "1" } });
  assert.equal(await main(plain.host), 0);
  assert.match(plain.state.stderr, /\r\x1b\[2Kstreamreg: 10 points · 1 batch/);
  assert.ok(!plain.state.stderr.includes("\x1b[1m"), "no colour with NO_COLOR");

  const verbose = fakeHost(["--rate", "0", "--no-input-log", "--verbose"], { env: { NO_COLOR: "1" } });
  assert.equal(await main(verbose.host), 0);
  assert.match(verbose.state.stderr, /^streamreg: demo stream \(10 points, as fast as possible.*\(fake\)\n/);
  assert.match(
    verbose.state.stderr,
    /streamreg: 10 points · 1 batch · .* · a = 0\.025649728471302445 · b = 0\.9958341214647296\n$/,
  );
});

test("main: SIGINT/SIGTERM close the open batch, flush and exit 0; a second signal within 1 s is the same request, a later one exits at once", async () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const { host, state, files } = fakeHost([
      "--rows",
      "0",
      "--rate",
      "1000",
      "--commit-ms",
      "100000",
      "--output",
      "-",
    ]);
    const running = main(host);
    await new Promise((r) => setTimeout(r, 200));
    state.signal!(signal);
    assert.equal(await running, 0);
    const rows = state.stdout.trim().split("\n");
    assert.equal(rows.length, 2, "header and the one open batch's line");
    const points = files.get("regression_input.csv")!.trim().split("\n").length - 1;
    assert.ok(points > 10, `${points} points written`);
  }
  const { host, state } = fakeHost(["--rows", "0", "--rate", "1"]);
  const running = main(host);
  await new Promise((r) => setTimeout(r, 50));
  state.signal!("SIGINT");
  // Within a second of the first: the same request (a wrapper forwarding the terminal's Ctrl-C).
  state.signal!("SIGINT");
  assert.equal(state.exited, -1, "not exited");
  // Later: exit at once. (The clock is moved on for this call only; nothing else runs meanwhile.)
  const now = performance.now;
  const later = now.call(performance) + 1500;
  performance.now = () => later;
  try {
    assert.throws(() => state.signal!("SIGINT"), /exit 1/);
  } finally {
    performance.now = now;
  }
  assert.equal(state.exited, 1);
  assert.match(state.stderr, /second SIGINT: exiting without flushing/);
  await running;
});

test("main: exit 2 with one line for bad flags, nothing on stdout", async () => {
  const { host, state } = fakeHost(["--rate", "soon"]);
  assert.equal(await main(host), 2);
  assert.equal(state.stderr, 'streamreg: --rate: expected a number ≥ 0, got "soon"\n');
  assert.equal(state.stdout, "");
});

test("main: --help goes to stdout, exit 0", async () => {
  const { host, state } = fakeHost(["--help"]);
  assert.equal(await main(host), 0);
  assert.match(state.stdout, /^streamreg: streaming linear regression/);
  assert.equal(state.stderr, "");
});

test("main: run-time failures exit 1 with a message", async () => {
  const missing = fakeHost([], { wasmMissing: true });
  assert.equal(await main(missing.host), 1);
  assert.equal(
    missing.state.stderr,
    "streamreg: build/streamreg.wasm not found: run `npm run build:wasm` first\n",
  );

  const noInput = fakeHost(["--source", "csv", "--input", "nope.csv"]);
  assert.equal(await main(noInput.host), 1);
  assert.equal(noInput.state.stderr, 'streamreg: cannot read "nope.csv": no such file or directory\n');

  const badDir = fakeHost(["--output", "/missing/out.csv"]);
  assert.equal(await main(badDir.host), 1);
  assert.match(badDir.state.stderr, /^streamreg: cannot write "\/missing\/out\.csv"/);

  const badLine = fakeHost(
    ["--source", "csv", "--input", "-", "--output", "-", "--no-input-log", "--on-error", "fail"],
    { stdin: "x,y\n0,1\n1,3\n2,five\n4,4\n" },
  );
  assert.equal(await main(badLine.host), 1);
  assert.equal(
    badLine.state.stderr,
    'streamreg: stdin line 4: y is "five", not a number [not_a_number] (stopped at the first bad record: --on-error fail)\n',
  );
  assert.match(
    badLine.state.stdout,
    /^a,b,time,diff\n1,2,\d+,1\n$/,
    "the points before the error are written",
  );
});

test("main: a broken pipe on stdout ends the run quietly with exit 0", async () => {
  const { host, state, files } = fakeHost([
    "--rows",
    "0",
    "--rate",
    "0",
    "--commit-rows",
    "1",
    "--output",
    "-",
  ]);
  let writes = 0;
  host.stdout = () =>
    new WritableStream<Uint8Array>({
      write: () => (++writes > 3 ? Promise.reject(new BrokenPipeError()) : Promise.resolve()),
    });
  assert.equal(await main(host), 0);
  assert.equal(state.stderr, "");
  assert.ok(files.get("regression_input.csv")!.split("\n").length >= 4, "the files are closed properly");
  assert.equal(isBrokenPipe(new Error("cannot write stdout", { cause: new BrokenPipeError() })), true);
  assert.equal(isBrokenPipe(new Error("disk full")), false);
});

test("main: rejected records are reported (the first ten, then a summary) and left out of the fit", async () => {
  const rows = Array.from({ length: 30 }, (_, i) => (i % 2 ? `${i},NaN` : `${i},${2 * i}`));
  const { host, state, files } = fakeHost(
    ["--source", "csv", "--input", "p.csv", "--output", "-", "--no-input-log", "--dead-letter", "bad.csv"],
    { files: { "p.csv": ["x,y", ...rows].join("\n") } },
  );
  assert.equal(await main(host), 0);
  const messages = state.stderr.trim().split("\n");
  assert.equal(messages.length, 11);
  assert.equal(messages[0], "streamreg: rejected p.csv line 3: y is NaN [nan]");
  assert.equal(
    messages[10],
    "streamreg: rejected 15 records (nan 15) in all; the first 10 are shown above; every one is in bad.csv",
  );
  assert.match(state.stdout, /\n0,2,\d+,1\n$/);
  const dead = files.get("bad.csv")!.trim().split("\n");
  assert.equal(dead.length, 16);
  assert.equal(dead[0], "source,location,reason,detail,raw");
  assert.equal(dead[1], 'p.csv,line 3,nan,y is NaN,"1,NaN"');
});

test("main: the dead-letter file is created with its header even when nothing is rejected", async () => {
  const { host, state, files } = fakeHost(["--rate", "0", "--dead-letter", "bad.csv", "--output", "-"]);
  assert.equal(await main(host), 0);
  assert.equal(state.stderr, "");
  assert.equal(files.get("bad.csv"), "source,location,reason,detail,raw\n");
});

test("main: an output over the input file is refused with exit 2 before anything is written", async () => {
  const input = "x,y\n1,2\n";
  for (
    const [args, message] of [
      [["--output", "./p.csv"], '--output "./p.csv" is the input file "p.csv"'],
      [["--input-log", "p.csv"], '--input-log "p.csv" is the input file "p.csv": refusing to overwrite it'],
      [["--dead-letter", "sub/../p.csv"], '--dead-letter "sub/../p.csv" is the input file "p.csv"'],
    ] as const
  ) {
    const { host, state, files } = fakeHost(["--source", "csv", "--input", "p.csv", ...args], {
      files: { "p.csv": input },
    });
    assert.equal(await main(host), 2, args.join(" "));
    assert.ok(state.stderr.startsWith(`streamreg: ${message}`), state.stderr);
    assert.equal(state.stderr.split("\n").length, 2, "one line");
    assert.equal(files.get("p.csv"), input, "untouched");
    assert.equal(files.size, 1, "nothing opened");
  }
  const usage = fakeHost(["--output", "-", "--dead-letter", "-"]);
  assert.equal(await main(usage.host), 2);
  assert.equal(
    usage.state.stderr,
    "streamreg: --output and --dead-letter cannot both be stdout (-): send one to a file\n",
  );
  const mode = fakeHost(["--on-error", "ignore"]);
  assert.equal(await main(mode.host), 2);
  assert.equal(mode.state.stderr, 'streamreg: --on-error: expected skip or fail, got "ignore"\n');
});

test("main: -q (--quiet) draws no status line, even on a terminal; messages still show (issue 13.7)", async () => {
  const quiet = fakeHost(["--rate", "0", "--no-input-log", "-q"], { terminal: true });
  assert.equal(await main(quiet.host), 0);
  assert.equal(quiet.state.stderr, "");
  assert.match(lastLine(quiet.files.get("regression_output_stream.csv")!)!, /^0\.025649728471302445,/);
  const bad = fakeHost(
    ["--source", "csv", "--input", "in.csv", "--output", "-", "--no-input-log", "--quiet"],
    {
      terminal: true,
      files: { "in.csv": "x,y\n1,2\noops,3\n2,4\n" },
    },
  );
  assert.equal(await main(bad.host), 0);
  assert.match(bad.state.stderr, /^streamreg: .*in\.csv.*line 3/m, "a rejected record is still reported");
  assert.doesNotMatch(bad.state.stderr, /\r\x1b\[2K/, "no status line");
});
