#!/usr/bin/env bash
# Stops the test broker started by scripts/kafka/start.sh (by its pid: TERM, wait, then KILL).
#
#   bash scripts/kafka/stop.sh           # stop, keep data, certificates and passwords
#   bash scripts/kafka/stop.sh --clean   # stop and delete the data (topics, SCRAM users) and logs;
#                                        # the next start formats a fresh cluster
set -euo pipefail
# shellcheck source=scripts/kafka/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CLEAN=0
for arg in "$@"; do
  case $arg in
    --clean) CLEAN=1 ;;
    -h | --help) sed -n '2,7p' "$0"; exit 0 ;;
    *) kafka_die "unknown argument '$arg' (use --clean)" ;;
  esac
done

if pid=$(kafka_running_pid); then
  kafka_log "stopping Kafka broker pid $pid"
  kafka_kill_pid "$pid" 30 || kafka_die "could not stop pid $pid"
  kafka_log "stopped"
elif [[ -f $KAFKA_PID_FILE ]]; then
  kafka_log "pid file $KAFKA_PID_FILE names no running broker; removing it"
else
  kafka_log "not running (no $KAFKA_PID_FILE)"
fi
rm -f "$KAFKA_PID_FILE"

if ((CLEAN)); then
  rm -rf "$KAFKA_DATA_DIR" "$KAFKA_STATE_DIR/logs" "$KAFKA_CONSOLE_LOG" "$KAFKA_STATE_DIR/format.log"
  kafka_log "deleted data and logs in $KAFKA_STATE_DIR"
fi
