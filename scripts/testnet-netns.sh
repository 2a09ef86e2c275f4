#!/usr/bin/env bash
# testnet-netns.sh: the compose testnet on real (emulated) hosts. Every node gets its own Linux
# network namespace on a private bridge (scripts/lib/netns.sh), with its own address, a tc rate cap
# both ways, and the compose service names (bootstrap, seeder, peer-1..N) resolvable inside every
# namespace. Each host runs docker/entrypoint.sh with the same environment variables as the
# containers. Everything is torn down on exit, also on failure or Ctrl-C. Needs root.
#
#   sudo bash scripts/testnet-netns.sh [peers]      (default 5 peers)
#
# Environment:
#   SHOAL_SEED_SIZE            file the seeder generates (default 16M)
#   SHOAL_TESTNET_RATE         per-host cap both ways, e.g. 20mbit, 1gbit (default 20mbit)
#   SHOAL_TESTNET_TIMEOUT      seconds for every peer to finish (default 150)
#   SHOAL_TESTNET_CUT_PEER     k: unplug peer-k's host mid-transfer and replug it (default: none)
#   SHOAL_TESTNET_CUT_AT       seconds after the CID is published to unplug it (default 3)
#   SHOAL_TESTNET_CUT_FOR      seconds it stays unplugged (default 5)
#   SHOAL_TESTNET_DIR          work directory (default: a new temp dir, removed afterwards)
# Other SHOAL_* settings (SHOAL_CHUNK_SIZE, SHOAL_UPLOAD_LIMIT, ...) reach every node.
#
# Output: one "peer <name> <ms> ..." line per peer, then "testnet-netns: ok" or a reason and exit 1.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS=${1:-5}
if ! [[ $PEERS =~ ^[0-9]+$ ]] || (( PEERS < 1 || PEERS > 100 )); then echo "testnet-netns: peers must be 1..100, got '$PEERS'" >&2; exit 2; fi
RATE=${SHOAL_TESTNET_RATE:-20mbit}
TIMEOUT_S=${SHOAL_TESTNET_TIMEOUT:-150}
CUT_PEER=${SHOAL_TESTNET_CUT_PEER:-}
CUT_AT=${SHOAL_TESTNET_CUT_AT:-3}
CUT_FOR=${SHOAL_TESTNET_CUT_FOR:-5}
export SHOAL_SEED_SIZE=${SHOAL_SEED_SIZE:-16M}
if [[ -n $CUT_PEER ]] && { ! [[ $CUT_PEER =~ ^[0-9]+$ ]] || (( CUT_PEER < 1 || CUT_PEER > PEERS )); }; then
  echo "testnet-netns: SHOAL_TESTNET_CUT_PEER must be 1..$PEERS, got '$CUT_PEER'" >&2; exit 2
fi
NODE=${SHOAL_NODE:-$ROOT/node_modules/.bin/node}
[[ -x $NODE ]] || NODE=$(command -v node)
export SHOAL_NODE=$NODE
[[ -f $ROOT/dist/src/cli/bundle/main.js ]] || { echo "testnet-netns: building"; (cd "$ROOT" && npm run build); }

# shellcheck source=/dev/null # (scripts/lib/netns.sh; shellcheck 0.9 cannot parse it)
source "$ROOT/scripts/lib/netns.sh"
netns_require

if [[ -n ${SHOAL_TESTNET_DIR:-} ]]; then WORK=$SHOAL_TESTNET_DIR; KEEP_WORK=1; mkdir -p "$WORK"; else WORK=$(mktemp -d /tmp/shoal-testnet-netns.XXXXXX); KEEP_WORK=0; fi
PIDS=()
cleanup() {
  local pid
  # entrypoints stop their nodes cleanly on TERM; netns_down then kills whatever is left
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  netns_down
  (( KEEP_WORK )) || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export NETNS_NO_TRAP=1   # our trap above also stops the nodes and removes $WORK

HOSTS=$(( PEERS + 2 ))
NAMES=(bootstrap seeder)
for (( p = 1; p <= PEERS; p++ )); do NAMES+=("peer-$p"); done
netns_up "$HOSTS" "$RATE"
pairs=()
for (( i = 0; i < HOSTS; i++ )); do pairs+=("${NAMES[$i]}=$i"); done
netns_hosts_file "${pairs[@]}"
mkdir -p "$WORK/share"
echo "testnet-netns: ${HOSTS} hosts at $RATE each way, file $SHOAL_SEED_SIZE, work dir $WORK"
netns_info | while read -r i ns ip; do echo "  ${NAMES[$i]} = h$i $ip ($ns)"; done

# start_host <index> <role>: docker/entrypoint.sh inside host i, as the compose service of that name.
start_host() {
  local i=$1 role=$2 name=${NAMES[$1]}
  netns_exec "$i" env SHOAL_ROLE="$role" SHOAL_NAME="$name" SHOAL_SHARE_DIR="$WORK/share" \
    SHOAL_DATA_DIR="$WORK/$name" SHOAL_API=127.0.0.1:7070 SHOAL_API_TOKEN='' SHOAL_BOOTSTRAP='' \
    SHOAL_LISTEN=/ip4/0.0.0.0/tcp/4001 SHOAL_PORT=4001 \
    bash "$ROOT/docker/entrypoint.sh" > "$WORK/$name.log" 2>&1 &
  PIDS+=("$!")
}

fail() {
  echo "testnet-netns: FAIL: $*" >&2
  local f
  for f in "$WORK"/*.log; do echo "--- ${f##*/}" >&2; tail -n 8 "$f" >&2; done
  exit 1
}

start=$(date +%s%3N)
start_host 0 bootstrap
start_host 1 seeder
for (( p = 1; p <= PEERS; p++ )); do start_host $(( p + 1 )) peer; done

deadline=$(( $(date +%s) + TIMEOUT_S ))
published=
cut_state=none   # none -> down -> up
cut_done_before=0
while :; do
  now=$(date +%s%3N)
  done_count=$( (find "$WORK/share/done" -type f ! -name '*.*' 2>/dev/null || true) | wc -l)
  (( done_count >= PEERS )) && break
  for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || fail "a node exited early"; done
  (( $(date +%s) < deadline )) || fail "only $done_count of $PEERS peers finished within ${TIMEOUT_S}s"
  if [[ -z $published && -s $WORK/share/seed.cid ]]; then
    published=$now
    seeder_tx0=$(netns_tx_bytes 1)
    echo "testnet-netns: seeder published $(cat "$WORK/share/seed.cid") after $(( now - start )) ms"
  fi
  if [[ -n $CUT_PEER && -n $published ]]; then
    cut_host=$(( CUT_PEER + 1 ))
    if [[ $cut_state == none ]] && (( now - published >= CUT_AT * 1000 )); then
      [[ -e $WORK/share/done/peer-$CUT_PEER ]] && cut_done_before=1
      netns_link "$cut_host" down
      cut_state=down; cut_since=$now
      echo "testnet-netns: unplugged peer-$CUT_PEER at +$(( now - published )) ms (already done: $cut_done_before)"
    elif [[ $cut_state == down ]] && (( now - cut_since >= CUT_FOR * 1000 )); then
      netns_link "$cut_host" up
      cut_state=up
      echo "testnet-netns: replugged peer-$CUT_PEER at +$(( now - published )) ms"
    fi
  fi
  sleep 0.2
done
# a cut still pending means everyone finished before it could happen: the cut was not exercised
if [[ -n $CUT_PEER && $cut_state != up ]]; then
  [[ $cut_state == down ]] && netns_link $(( CUT_PEER + 1 )) up
  fail "peer-$CUT_PEER finished before it was unplugged; use a bigger SHOAL_SEED_SIZE or a lower SHOAL_TESTNET_RATE"
fi
(( cut_done_before == 0 )) || fail "peer-$CUT_PEER had already finished when it was unplugged; use a bigger SHOAL_SEED_SIZE or a lower SHOAL_TESTNET_RATE"

want=$(cat "$WORK/share/seed.sha256")
seeder_tx=$(( $(netns_tx_bytes 1) - seeder_tx0 ))
size=$(stat -c %s "$WORK/seeder/seed/testnet-$SHOAL_SEED_SIZE.bin")
echo "testnet-netns: per-peer completion (get = from the peer's get call; since-publish = from the seeder's CID):"
bad=0
for (( p = 1; p <= PEERS; p++ )); do
  read -r name ms sha < "$WORK/share/done/peer-$p"
  since=$(( $(date -r "$WORK/share/done/peer-$p" +%s%3N) - published ))
  note=''
  [[ $p == "$CUT_PEER" ]] && note=" (unplugged for ${CUT_FOR}s mid-transfer)"
  [[ $sha == "$want" ]] || { note+=" SHA256 MISMATCH"; bad=1; }
  printf 'peer %s get %d ms, since-publish %d ms, sha256 %s%s\n' "$name" "$ms" "$since" "${sha:0:16}" "$note"
done
awk -v tx="$seeder_tx" -v f="$size" 'BEGIN { printf "testnet-netns: seeder sent %.2f x the file size (%d bytes on the wire for a %d-byte file)\n", tx / f, tx, f }'
(( bad == 0 )) || fail "a peer's sha256 differs from the seeder's"
echo "testnet-netns: ok ($PEERS peers verified in $(( $(date +%s%3N) - start )) ms from launch)"
