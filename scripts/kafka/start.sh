#!/usr/bin/env bash
# Starts a single-node Apache Kafka broker (KRaft, broker+controller in one JVM) for tests,
# from Maven Central jars, bound to 127.0.0.1 only.
#
#   bash scripts/kafka/start.sh          # start (idempotent: exits 0 if already running)
#   bash scripts/kafka/stop.sh [--clean] # stop; --clean also deletes the data
#
# Listeners: PLAINTEXT (no auth), SASL_SSL (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN; self-signed CA in
# ca.pem), SSL (mutual TLS: a client certificate signed by that CA is required; one is made in tls/),
# CONTROLLER (KRaft). Connection details are written to $KAFKA_STATE_DIR/client.env.
# Settings come from environment variables, see scripts/kafka/common.sh.
set -euo pipefail
# shellcheck source=scripts/kafka/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

T0=$(date +%s.%N)
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

[[ $KAFKA_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || kafka_die "KAFKA_VERSION must look like 3.9.2, got '$KAFKA_VERSION'"
KAFKA_MAJOR=${KAFKA_VERSION%%.*}
command -v java >/dev/null || kafka_die "java not found (Kafka $KAFKA_VERSION needs Java 17+)"
command -v keytool >/dev/null || kafka_die "keytool not found (comes with the JDK)"
command -v openssl >/dev/null || kafka_die "openssl not found (needed to write the client's private key as PEM)"

print_connection_info() {
  cat <<EOF
Kafka $KAFKA_VERSION broker running (pid $(cat "$KAFKA_PID_FILE")), state dir $KAFKA_STATE_DIR
  PLAINTEXT bootstrap : 127.0.0.1:$KAFKA_PLAINTEXT_PORT   (no auth)
  SASL_SSL bootstrap  : 127.0.0.1:$KAFKA_SASL_SSL_PORT   (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN)
  SSL bootstrap       : 127.0.0.1:$KAFKA_SSL_PORT   (mutual TLS: client certificate required)
  client certificate  : $KAFKA_STATE_DIR/tls/client.pem, key $KAFKA_STATE_DIR/tls/client.key
  CA certificate (PEM): $KAFKA_STATE_DIR/ca.pem
  SASL user           : $KAFKA_SASL_USER
  SASL password file  : $KAFKA_STATE_DIR/sasl_password
  client env file     : $KAFKA_STATE_DIR/client.env
  broker log          : $KAFKA_CONSOLE_LOG
  stop with           : bash scripts/kafka/stop.sh   (--clean to delete the data too)
EOF
}

# --- already running? ---------------------------------------------------------------------------
if pid=$(kafka_running_pid); then
  kafka_log "already running (pid $pid)"
  print_connection_info
  exit 0
fi
rm -f "$KAFKA_PID_FILE"

# --- ports free? --------------------------------------------------------------------------------
port_in_use() {
  local p=$1
  if command -v ss >/dev/null; then
    [[ -n $(ss -Hltn "sport = :$p" 2>/dev/null) ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null
  fi
}
ports=("$KAFKA_PLAINTEXT_PORT" "$KAFKA_SASL_SSL_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SSL_PORT")
for p in "${ports[@]}"; do
  [[ $p =~ ^[0-9]+$ ]] && ((p > 0 && p < 65536)) || kafka_die "invalid port '$p'"
done
[[ $(printf '%s\n' "${ports[@]}" | sort -u | wc -l) -eq 4 ]] ||
  kafka_die "ports must differ: PLAINTEXT=$KAFKA_PLAINTEXT_PORT SASL_SSL=$KAFKA_SASL_SSL_PORT CONTROLLER=$KAFKA_CONTROLLER_PORT SSL=$KAFKA_SSL_PORT"
for p in "${ports[@]}"; do
  if port_in_use "$p"; then
    kafka_die "port $p on 127.0.0.1 is already in use (another broker?); free it or set KAFKA_PLAINTEXT_PORT / KAFKA_SASL_SSL_PORT / KAFKA_CONTROLLER_PORT / KAFKA_SSL_PORT"
  fi
done

# The readiness check (wait_ready.mjs) uses the project's kafkajs.
[[ -d $KAFKA_REPO_ROOT/node_modules/kafkajs ]] || kafka_die "node_modules/kafkajs missing: run npm ci first"

# --- jars from Maven Central (once per version; sets CLASSPATH_LIBS) -------------------------------
# shellcheck source=scripts/kafka/jars.sh
source "$KAFKA_SCRIPT_DIR/jars.sh"

# --- secrets and TLS material (once per state dir) -----------------------------------------------
umask 077
random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
TLS_DIR=$KAFKA_STATE_DIR/tls
mkdir -p "$TLS_DIR"
[[ -s $KAFKA_STATE_DIR/sasl_password ]] || random_hex 18 >"$KAFKA_STATE_DIR/sasl_password"
[[ -s $TLS_DIR/keystore_password ]] || random_hex 18 >"$TLS_DIR/keystore_password"
chmod 600 "$KAFKA_STATE_DIR/sasl_password" "$TLS_DIR/keystore_password"
SASL_PASSWORD=$(cat "$KAFKA_STATE_DIR/sasl_password")
KS_PASSWORD=$(cat "$TLS_DIR/keystore_password")

kt() { keytool "$@" -storetype PKCS12 -storepass "$KS_PASSWORD" >>"$TLS_DIR/keytool.log" 2>&1 ||
  { cat "$TLS_DIR/keytool.log" >&2; kafka_die "keytool $1 failed"; }; }

if [[ ! -s $TLS_DIR/broker.p12 || ! -s $KAFKA_STATE_DIR/ca.pem ]]; then
  kafka_log "generating a self-signed CA and the broker certificate (SAN IP:127.0.0.1, DNS:localhost)"
  rm -f "$TLS_DIR"/ca.p12 "$TLS_DIR"/broker.p12 "$TLS_DIR"/broker.csr "$TLS_DIR"/broker.crt "$KAFKA_STATE_DIR/ca.pem"
  kt -genkeypair -alias ca -keyalg RSA -keysize 2048 -validity 3650 -dname "CN=streamreg test CA" \
    -ext bc:c=ca:true -ext ku:c=keyCertSign,cRLSign -keystore "$TLS_DIR/ca.p12"
  kt -exportcert -rfc -alias ca -keystore "$TLS_DIR/ca.p12" -file "$KAFKA_STATE_DIR/ca.pem"
  kt -genkeypair -alias broker -keyalg RSA -keysize 2048 -validity 3650 -dname "CN=localhost" \
    -keystore "$TLS_DIR/broker.p12"
  kt -certreq -alias broker -keystore "$TLS_DIR/broker.p12" -file "$TLS_DIR/broker.csr"
  kt -gencert -alias ca -keystore "$TLS_DIR/ca.p12" -infile "$TLS_DIR/broker.csr" -outfile "$TLS_DIR/broker.crt" \
    -rfc -validity 3650 -ext san=ip:127.0.0.1,dns:localhost -ext ku:c=digitalSignature,keyEncipherment \
    -ext eku=serverAuth
  kt -importcert -noprompt -alias ca -file "$KAFKA_STATE_DIR/ca.pem" -keystore "$TLS_DIR/broker.p12"
  kt -importcert -noprompt -alias broker -file "$TLS_DIR/broker.crt" -keystore "$TLS_DIR/broker.p12"
  chmod 644 "$KAFKA_STATE_DIR/ca.pem"
  rm -f "$TLS_DIR"/truststore.p12 "$TLS_DIR"/client.pem # signed by the CA before: made again below
fi

# Mutual TLS (the SSL listener): the broker trusts client certificates signed by the CA; the client's
# key is written by openssl (keytool cannot export a private key), once as plain PEM and once encrypted
# with a password (ssl.key.password).
if [[ ! -s $TLS_DIR/truststore.p12 || ! -s $TLS_DIR/client.pem || ! -s $TLS_DIR/client-encrypted.key ]]; then
  kafka_log "generating a client certificate for mutual TLS (CN=streamreg-client), signed by the CA"
  rm -f "$TLS_DIR"/truststore.p12 "$TLS_DIR"/client.{pem,key,csr} "$TLS_DIR"/client-encrypted.key
  kt -importcert -noprompt -alias ca -file "$KAFKA_STATE_DIR/ca.pem" -keystore "$TLS_DIR/truststore.p12"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$TLS_DIR/client.key" -subj "/CN=streamreg-client" \
    -out "$TLS_DIR/client.csr" >>"$TLS_DIR/openssl.log" 2>&1 || kafka_die "openssl req failed (log: $TLS_DIR/openssl.log)"
  kt -gencert -alias ca -keystore "$TLS_DIR/ca.p12" -infile "$TLS_DIR/client.csr" -outfile "$TLS_DIR/client.pem" \
    -rfc -validity 3650 -ext ku:c=digitalSignature,keyEncipherment -ext eku=clientAuth
  [[ -s $TLS_DIR/client_key_password ]] || random_hex 18 >"$TLS_DIR/client_key_password"
  openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$TLS_DIR/client.key" -out "$TLS_DIR/client-encrypted.key" \
    -passout "file:$TLS_DIR/client_key_password" >>"$TLS_DIR/openssl.log" 2>&1 ||
    kafka_die "openssl pkcs8 failed (log: $TLS_DIR/openssl.log)"
  rm -f "$TLS_DIR/client.csr"
fi
CLIENT_KEY_PASSWORD=$(cat "$TLS_DIR/client_key_password")

# --- configuration -------------------------------------------------------------------------------
mkdir -p "$KAFKA_DATA_DIR" "$KAFKA_STATE_DIR/logs"
SERVER_PROPS=$KAFKA_STATE_DIR/server.properties
P=$KAFKA_PLAINTEXT_PORT S=$KAFKA_SASL_SSL_PORT C=$KAFKA_CONTROLLER_PORT M=$KAFKA_SSL_PORT
cat >"$SERVER_PROPS" <<EOF
# Generated by scripts/kafka/start.sh (rewritten on every start). Single-node KRaft test broker.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$C
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$P,SASL_SSL://127.0.0.1:$S,CONTROLLER://127.0.0.1:$C,SSL://127.0.0.1:$M
advertised.listeners=PLAINTEXT://127.0.0.1:$P,SASL_SSL://127.0.0.1:$S,SSL://127.0.0.1:$M
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT,SSL:SSL
inter.broker.listener.name=PLAINTEXT

sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_SASL_USER="$SASL_PASSWORD";
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS_DIR/broker.p12
ssl.keystore.password=$KS_PASSWORD
ssl.key.password=$KS_PASSWORD
ssl.client.auth=none
# The SSL listener: mutual TLS, a client certificate signed by the CA is required.
ssl.truststore.type=PKCS12
ssl.truststore.location=$TLS_DIR/truststore.p12
ssl.truststore.password=$KS_PASSWORD
listener.name.ssl.ssl.client.auth=required

log.dirs=$KAFKA_DATA_DIR
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
num.network.threads=2
num.io.threads=2
background.threads=4
log.retention.hours=24
EOF
chmod 600 "$SERVER_PROPS"

# Logging: everything at INFO to stdout, which goes to $KAFKA_CONSOLE_LOG.
if ((KAFKA_MAJOR >= 4)); then
  cat >"$KAFKA_STATE_DIR/log4j2.properties" <<'EOF'
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = info
EOF
  LOG_OPTS=(-Dlog4j2.configurationFile="$KAFKA_STATE_DIR/log4j2.properties")
else
  cat >"$KAFKA_STATE_DIR/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
  LOG_OPTS=(-Dlog4j.configuration="file:$KAFKA_STATE_DIR/log4j.properties")
fi
JAVA_OPTS=(-Djava.awt.headless=true -Dkafka.logs.dir="$KAFKA_STATE_DIR/logs" "${LOG_OPTS[@]}")

# --- format the storage (once per data dir; SCRAM users are created here) ------------------------
VERSION_MARK=$KAFKA_DATA_DIR/.streamreg_kafka_version
if [[ ! -f $KAFKA_DATA_DIR/meta.properties ]]; then
  CLUSTER_ID=
  while [[ -z $CLUSTER_ID || $CLUSTER_ID == -* ]]; do # a leading '-' would read as a CLI flag
    CLUSTER_ID=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
  done
  kafka_log "formatting $KAFKA_DATA_DIR (cluster id $CLUSTER_ID, SCRAM-SHA-256/512 user '$KAFKA_SASL_USER')"
  if ! java -Xmx256m "${JAVA_OPTS[@]}" -cp "$CLASSPATH_LIBS" kafka.tools.StorageTool format \
    -t "$CLUSTER_ID" -c "$SERVER_PROPS" \
    --add-scram "SCRAM-SHA-256=[name=$KAFKA_SASL_USER,password=$SASL_PASSWORD]" \
    --add-scram "SCRAM-SHA-512=[name=$KAFKA_SASL_USER,password=$SASL_PASSWORD]" \
    >"$KAFKA_STATE_DIR/format.log" 2>&1; then
    grep -v '^\[' "$KAFKA_STATE_DIR/format.log" | tail -n 20 >&2 || true
    kafka_die "kafka.tools.StorageTool format failed (log: $KAFKA_STATE_DIR/format.log)"
  fi
  echo "$KAFKA_VERSION" >"$VERSION_MARK"
else
  formatted_with=$(cat "$VERSION_MARK" 2>/dev/null || echo unknown)
  if [[ $formatted_with != "$KAFKA_VERSION" ]]; then
    kafka_die "data in $KAFKA_DATA_DIR was formatted by Kafka $formatted_with, not $KAFKA_VERSION: run 'bash scripts/kafka/stop.sh --clean' or use another KAFKA_STATE_DIR"
  fi
fi

# --- client connection file ----------------------------------------------------------------------
cat >"$KAFKA_STATE_DIR/client.env" <<EOF
# Written by scripts/kafka/start.sh. Connection details of the local test broker (Kafka $KAFKA_VERSION).
# KAFKA_BOOTSTRAP_SERVERS is the PLAINTEXT listener. For SASL_SSL set
#   KAFKA_BOOTSTRAP_SERVERS=\$KAFKA_SASL_SSL_BOOTSTRAP_SERVERS KAFKA_SECURITY_PROTOCOL=sasl_ssl
KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$P
KAFKA_PLAINTEXT_BOOTSTRAP_SERVERS=127.0.0.1:$P
KAFKA_SASL_SSL_BOOTSTRAP_SERVERS=127.0.0.1:$S
KAFKA_SSL_CA_LOCATION=$KAFKA_STATE_DIR/ca.pem
KAFKA_SASL_MECHANISM=SCRAM-SHA-256
KAFKA_SASL_USERNAME=$KAFKA_SASL_USER
KAFKA_SASL_PASSWORD=$SASL_PASSWORD
KAFKA_SASL_PASSWORD_FILE=$KAFKA_STATE_DIR/sasl_password
# Mutual TLS: the SSL listener requires a client certificate. For it set
#   KAFKA_BOOTSTRAP_SERVERS=\$KAFKA_SSL_BOOTSTRAP_SERVERS KAFKA_SECURITY_PROTOCOL=ssl
# and ssl.certificate.location / ssl.key.location as below (the encrypted key needs ssl.key.password).
KAFKA_SSL_BOOTSTRAP_SERVERS=127.0.0.1:$M
KAFKA_SSL_CERTIFICATE_LOCATION=$TLS_DIR/client.pem
KAFKA_SSL_KEY_LOCATION=$TLS_DIR/client.key
STREAMREG_KAFKA_SSL_ENCRYPTED_KEY_LOCATION=$TLS_DIR/client-encrypted.key
STREAMREG_KAFKA_SSL_KEY_PASSWORD=$CLIENT_KEY_PASSWORD
STREAMREG_KAFKA_VERSION=$KAFKA_VERSION
EOF
chmod 600 "$KAFKA_STATE_DIR/client.env"

# --- launch --------------------------------------------------------------------------------------
umask 022
kafka_log "starting Kafka $KAFKA_VERSION (log: $KAFKA_CONSOLE_LOG)"
echo "===== $(date -u +%FT%TZ) start Kafka $KAFKA_VERSION =====" >>"$KAFKA_CONSOLE_LOG"
SETSID=()
command -v setsid >/dev/null && SETSID=(setsid) # own session: survives the caller's terminal/process group
# shellcheck disable=SC2086 # KAFKA_HEAP_OPTS holds several flags
nohup "${SETSID[@]}" java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
  "${JAVA_OPTS[@]}" -cp "$CLASSPATH_LIBS" kafka.Kafka "$SERVER_PROPS" \
  >>"$KAFKA_CONSOLE_LOG" 2>&1 </dev/null &
JAVA_PID=$!
# setsid only forks when it is a process-group leader; if it did, find the JVM under it.
for _ in 1 2 3 4 5 6 7 8 9 10; do
  tr '\0' ' ' <"/proc/$JAVA_PID/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' && break
  child=$(pgrep -P "$JAVA_PID" 2>/dev/null | head -n1 || true)
  [[ -n $child ]] && tr '\0' ' ' <"/proc/$child/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' && JAVA_PID=$child && break
  sleep 0.1
done
echo "$JAVA_PID" >"$KAFKA_PID_FILE"

# Until the broker is ready, any exit of this script (error, Ctrl-C, closed output) stops it again.
READY=0
stop_unready() {
  if ((!READY)) && kafka_alive "$JAVA_PID"; then
    kafka_kill_pid "$JAVA_PID" 10 || true
    wait "$JAVA_PID" 2>/dev/null || true
    rm -f "$KAFKA_PID_FILE"
  fi
}
trap stop_unready EXIT
trap 'exit 130' INT TERM HUP
trap '' PIPE # a closed stdout/stderr must not kill the script before it cleans up

fail_start() {
  stop_unready
  {
    echo "----- last lines of $KAFKA_CONSOLE_LOG (this start) -----"
    awk '/^===== .* start Kafka /{n=0} {buf[n++]=$0} END{for(i=(n>40?n-40:0);i<n;i++) print buf[i]}' \
      "$KAFKA_CONSOLE_LOG" || true
    echo "-----"
  } >&2
  kafka_die "$1"
}

# --- wait until an admin client can describe the cluster ------------------------------------------
if command -v node >/dev/null; then
  JS_RUN=(node)
elif [[ -x $KAFKA_REPO_ROOT/node_modules/.bin/bun ]]; then
  JS_RUN=("$KAFKA_REPO_ROOT/node_modules/.bin/bun")
else
  JS_RUN=("$KAFKA_REPO_ROOT/node_modules/deno/deno" run --allow-all)
fi
if ! WAIT_PLAINTEXT=127.0.0.1:$P WAIT_SASL_SSL=127.0.0.1:$S WAIT_CA=$KAFKA_STATE_DIR/ca.pem \
  WAIT_USER=$KAFKA_SASL_USER WAIT_PASSWORD_FILE=$KAFKA_STATE_DIR/sasl_password WAIT_PID=$JAVA_PID \
  WAIT_TIMEOUT_S=$KAFKA_READY_TIMEOUT "${JS_RUN[@]}" "$KAFKA_SCRIPT_DIR/wait_ready.mjs"; then
  fail_start "Kafka $KAFKA_VERSION did not become ready within ${KAFKA_READY_TIMEOUT}s"
fi

READY=1
trap - EXIT INT TERM HUP PIPE
kafka_log "started in $(elapsed)s"
print_connection_info
