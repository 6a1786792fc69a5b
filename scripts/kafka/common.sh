# shellcheck shell=bash
# Shared settings for scripts/kafka/start.sh and scripts/kafka/stop.sh (sourced, not run).
#
# Environment (all optional):
#   KAFKA_VERSION          Kafka release from Maven Central (default 3.9.2)
#   KAFKA_STATE_DIR        state dir: certs, passwords, server.properties, data, logs, pid
#                          (default <repo>/.cache/kafka/run)
#   KAFKA_CACHE_DIR        jar cache root (default <repo>/.cache/kafka)
#   KAFKA_MAVEN_REPO       Maven local repository for the download (default: Maven's own, ~/.m2/repository,
#                          shared with other checkouts so a fresh clone need not download again)
#   KAFKA_PLAINTEXT_PORT   PLAINTEXT listener port (default 39092)
#   KAFKA_SASL_SSL_PORT    SASL_SSL listener port (default 39093)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener port (default 39094)
#   KAFKA_SSL_PORT         SSL listener port, client certificates required (mutual TLS) (default 39095)
#   KAFKA_HEAP_OPTS        JVM heap flags (default "-Xms128m -Xmx512m")
#   KAFKA_READY_TIMEOUT    seconds to wait for the broker to answer (default 90)

KAFKA_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KAFKA_REPO_ROOT=$(cd "$KAFKA_SCRIPT_DIR/../.." && pwd)

KAFKA_VERSION=${KAFKA_VERSION:-3.9.2}
KAFKA_CACHE_DIR=${KAFKA_CACHE_DIR:-$KAFKA_REPO_ROOT/.cache/kafka}
KAFKA_MAVEN_REPO=${KAFKA_MAVEN_REPO:-}
KAFKA_STATE_DIR=${KAFKA_STATE_DIR:-$KAFKA_CACHE_DIR/run}
KAFKA_PLAINTEXT_PORT=${KAFKA_PLAINTEXT_PORT:-39092}
KAFKA_SASL_SSL_PORT=${KAFKA_SASL_SSL_PORT:-39093}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-39094}
KAFKA_SSL_PORT=${KAFKA_SSL_PORT:-39095}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}
KAFKA_READY_TIMEOUT=${KAFKA_READY_TIMEOUT:-90}
KAFKA_SASL_USER=streamreg

# Absolute state dir (relative paths would break once the JVM or a client runs elsewhere).
mkdir -p "$KAFKA_STATE_DIR"
KAFKA_STATE_DIR=$(cd "$KAFKA_STATE_DIR" && pwd)
KAFKA_PID_FILE=$KAFKA_STATE_DIR/kafka.pid
KAFKA_DATA_DIR=$KAFKA_STATE_DIR/data
KAFKA_CONSOLE_LOG=$KAFKA_STATE_DIR/kafka.log

kafka_log() { printf '[kafka] %s\n' "$*" >&2; }
kafka_die() { printf '[kafka] ERROR: %s\n' "$*" >&2; exit 1; }

# Prints the pid from the pid file if that process is alive and is a Kafka broker; fails otherwise.
kafka_running_pid() {
  [[ -f $KAFKA_PID_FILE ]] || return 1
  local pid
  pid=$(cat "$KAFKA_PID_FILE" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kafka_alive "$pid" || return 1
  # Guard against pid reuse: the process must be our kafka.Kafka JVM.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  echo "$pid"
}

# True while the process exists and is not a zombie (an unreaped child of this shell still answers kill -0).
kafka_alive() {
  local pid=$1 state
  kill -0 "$pid" 2>/dev/null || return 1
  state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

# Sends TERM, waits up to $2 seconds (default 30), then KILL. Returns once the process is gone.
kafka_kill_pid() {
  local pid=$1 wait_s=${2:-30} i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < wait_s * 10; i++)); do
    kafka_alive "$pid" || return 0
    sleep 0.1
  done
  kafka_log "pid $pid still alive after ${wait_s}s, sending KILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kafka_alive "$pid" || return 0
    sleep 0.1
  done
  kafka_log "pid $pid did not exit after KILL"
  return 1
}
