#!/usr/bin/env bash
# Runs every suite — static checks (deno fmt, lint, doc --lint, type check), Deno, Bun, and the ABI checks from Node, Python (wasmtime) and Go (wazero) — against a real Kafka broker that this
# script starts (scripts/kafka/start.sh) and stops again, then prints one line: "N passed, N failed".
# Usage: npm test   (after npm ci; set STREAMREG_NO_KAFKA_START=1 to use a broker you started yourself)
set -uo pipefail
cd "$(dirname "$0")/.."
DENO=./node_modules/deno/deno
BUN=./node_modules/.bin/bun
if [ ! -x "$DENO" ] || [ ! -x "$BUN" ]; then
  echo "test_all: Deno or Bun missing under node_modules: run 'npm ci' first" >&2
  exit 1
fi
[ -f build/streamreg.wasm ] && [ -f build/streamreg.debug.wasm ] || npm run --silent build:wasm || exit 1

export NO_COLOR=1
logs=$(mktemp -d)
started_kafka=0
if [ -z "${STREAMREG_NO_KAFKA_START:-}" ]; then
  if bash scripts/kafka/start.sh >"$logs/kafka_start.txt" 2>&1; then
    started_kafka=1
  else
    echo "test_all: the Kafka broker did not start; Kafka tests will fail. Its output:" >&2
    tail -n 30 "$logs/kafka_start.txt" >&2
  fi
fi
stop_kafka() { [ "$started_kafka" = 1 ] && bash scripts/kafka/stop.sh >/dev/null 2>&1; rm -rf "$logs"; }
trap stop_kafka EXIT

passed=0
failed=0
status=0
count() { # suite-name log sed-expression-for-passed sed-expression-for-failed
  local p f
  p=$(sed -nE "$3" "$2" | tail -n 1)
  f=$(sed -nE "$4" "$2" | tail -n 1)
  if [ -z "$p" ] || [ -z "$f" ]; then
    echo "test_all: $1 printed no summary; counted as 1 failure" >&2
    p=${p:-0}; f=$(( ${f:-0} + 1 ))
  fi
  echo "test_all: $1: $p passed, $f failed" >&2
  passed=$((passed + p)); failed=$((failed + f))
}

echo "== Static checks (deno fmt, lint, doc --lint, type check) ==" >&2
static_passed=0
static_failed=0
static() { # name command...
  local name=$1; shift
  if "$@" >"$logs/static.txt" 2>&1; then
    static_passed=$((static_passed + 1)); echo "static: $name: ok" >&2
  else
    static_failed=$((static_failed + 1)); status=1
    echo "static: $name: FAILED" >&2; tail -n 40 "$logs/static.txt" >&2
  fi
}
static "deno fmt --check" "$DENO" fmt --check
static "deno lint" "$DENO" lint
static "deno doc --lint (library and CLI exports)" "$DENO" doc --lint src/mod.ts src/cli/mod.ts
static "type check (src, test, bench, scripts)" "$DENO" check src/ test/ bench/ scripts/
echo "$static_passed static-passed" >"$logs/static_sum.txt"
echo "$static_failed static-failed" >>"$logs/static_sum.txt"
count static "$logs/static_sum.txt" 's/^([0-9]+) static-passed$/\1/p' 's/^([0-9]+) static-failed$/\1/p'

echo "== Deno ==" >&2
"$DENO" test --allow-all 2>&1 | tee "$logs/deno.txt" >&2 || status=1
count deno "$logs/deno.txt" 's/^(ok|FAILED) \| ([0-9]+) passed.*/\2/p' 's/^(ok|FAILED) \|.*\| ([0-9]+) failed.*/\2/p'

echo "== Bun ==" >&2
"$BUN" test ./src ./test 2>&1 | tee "$logs/bun.txt" >&2 || status=1
count bun "$logs/bun.txt" 's/^ *([0-9]+) pass$/\1/p' 's/^ *([0-9]+) fail$/\1/p'

echo "== Node (plain WebAssembly ABI) ==" >&2
node --test --test-reporter=tap test/node/*.mjs 2>&1 | tee "$logs/node.txt" >&2 || status=1
count node "$logs/node.txt" 's/^# pass ([0-9]+)$/\1/p' 's/^# fail ([0-9]+)$/\1/p'

echo "== Python (wasmtime) ==" >&2
if [ ! -x .cache/py/bin/python ]; then python3 -m venv .cache/py >&2; fi
if .cache/py/bin/pip install --quiet --disable-pip-version-check -r test/python/requirements.txt >&2; then
  .cache/py/bin/python -m unittest discover -s test/python -v >"$logs/python.txt" 2>&1 || status=1
  cat "$logs/python.txt" >&2
  ran=$(sed -nE 's/^Ran ([0-9]+) tests?.*/\1/p' "$logs/python.txt")
  bad=$(grep -cE '^(FAIL|ERROR): ' "$logs/python.txt")
  if [ -n "$ran" ]; then echo "$((ran - bad)) py-passed" >"$logs/python_sum.txt"; echo "$bad py-failed" >>"$logs/python_sum.txt"; fi
else
  echo "test_all: pip could not install test/python/requirements.txt" >&2
  status=1
fi
count python "$logs/python_sum.txt" 's/^([0-9]+) py-passed$/\1/p' 's/^([0-9]+) py-failed$/\1/p'

echo "== Go (wazero) ==" >&2
(cd test/go && go test -count=1 -v ./... 2>&1) | tee "$logs/go.txt" >&2 || status=1
echo "$(grep -c -- '--- PASS' "$logs/go.txt") go-passed" >"$logs/go_sum.txt"
echo "$(grep -c -- '--- FAIL' "$logs/go.txt") go-failed" >>"$logs/go_sum.txt"
grep -q '^ok' "$logs/go.txt" || status=1
count go "$logs/go_sum.txt" 's/^([0-9]+) go-passed$/\1/p' 's/^([0-9]+) go-failed$/\1/p'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
