#!/usr/bin/env bash
# testnet-local.sh: the compose testnet (bootstrap, seeder, peer-1..N) as plain processes on
# 127.0.0.1, no root needed. Every node runs docker/entrypoint.sh with the same environment
# variables as in docker/compose.yaml; only the data dirs, ports and the shared directory differ.
#
#   bash scripts/testnet-local.sh [peers]        (default 3 peers)
#
# Environment: SHOAL_SEED_SIZE (default 16M), SHOAL_TESTNET_BASE_PORT (default 24000; node i uses
# base+i for libp2p and base+100+i for its control API), SHOAL_TESTNET_TIMEOUT (seconds for every
# peer to finish, default 180), SHOAL_TESTNET_KEEP=1 keeps the testnet running after the report
# until Ctrl-C, SHOAL_TESTNET_DIR (work directory; default a new temp dir, removed afterwards).
# Other SHOAL_* settings (SHOAL_UPLOAD_LIMIT, SHOAL_CHUNK_SIZE, ...) reach every node.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS=${1:-3}
if ! [[ $PEERS =~ ^[0-9]+$ ]] || (( PEERS < 1 || PEERS > 50 )); then echo "testnet-local: peers must be 1..50, got '$PEERS'" >&2; exit 2; fi
BASE=${SHOAL_TESTNET_BASE_PORT:-24000}
TIMEOUT_S=${SHOAL_TESTNET_TIMEOUT:-180}
export SHOAL_SEED_SIZE=${SHOAL_SEED_SIZE:-16M}
[[ -f $ROOT/dist/src/cli/bundle/main.js ]] || { echo "testnet-local: building"; (cd "$ROOT" && npm run build); }

if [[ -n ${SHOAL_TESTNET_DIR:-} ]]; then WORK=$SHOAL_TESTNET_DIR; KEEP_WORK=1; mkdir -p "$WORK"; else WORK=$(mktemp -d /tmp/shoal-testnet-local.XXXXXX); KEEP_WORK=0; fi
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  (( KEEP_WORK )) || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_role <index> <name> <role>: one node as a background process, logging to $WORK/<name>.log.
start_role() {
  local i=$1 name=$2 role=$3
  SHOAL_ROLE=$role SHOAL_NAME=$name SHOAL_HOST=127.0.0.1 SHOAL_SHARE_DIR=$WORK/share \
    SHOAL_DATA_DIR=$WORK/$name SHOAL_PORT=$(( BASE + i )) SHOAL_LISTEN=/ip4/127.0.0.1/tcp/$(( BASE + i )) \
    SHOAL_API=127.0.0.1:$(( BASE + 100 + i )) SHOAL_API_TOKEN='' SHOAL_BOOTSTRAP='' \
    bash "$ROOT/docker/entrypoint.sh" > "$WORK/$name.log" 2>&1 &
  PIDS+=("$!")
}

mkdir -p "$WORK/share"
echo "testnet-local: 1 bootstrap, 1 seeder, $PEERS peers on 127.0.0.1:$BASE+ (work dir $WORK, file $SHOAL_SEED_SIZE)"
start=$(date +%s%3N)
start_role 0 bootstrap bootstrap
start_role 1 seeder seeder
for (( p = 1; p <= PEERS; p++ )); do start_role $(( p + 1 )) "peer-$p" peer; done

deadline=$(( $(date +%s) + TIMEOUT_S ))
while :; do
  done_count=$( (find "$WORK/share/done" -type f ! -name '*.*' 2>/dev/null || true) | wc -l)
  (( done_count >= PEERS )) && break
  for pid in "${PIDS[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "testnet-local: a node exited early; logs:" >&2
      tail -n 5 "$WORK"/*.log >&2
      exit 1
    fi
  done
  if (( $(date +%s) >= deadline )); then
    echo "testnet-local: only $done_count of $PEERS peers finished within ${TIMEOUT_S}s; logs:" >&2
    tail -n 5 "$WORK"/*.log >&2
    exit 1
  fi
  sleep 0.5
done
echo "testnet-local: all $PEERS peers verified the file in $(( $(date +%s%3N) - start )) ms from launch; per peer (from its get):"
sort -V "$WORK"/share/done/* | awk '{ printf "  %-10s %6d ms  sha256 %s\n", $1, $2, $3 }'
if [[ ${SHOAL_TESTNET_KEEP:-0} == 1 ]]; then
  echo "testnet-local: still running (SHOAL_TESTNET_KEEP=1); Ctrl-C stops it"
  wait
fi
