#!/usr/bin/env bash
# Self-test of scripts/lib/netns.sh: builds 3 shaped hosts and checks that shaping, a shared uplink,
# link down/up, name resolution and teardown all work. Needs root. Every wait is bounded.
#
#   bash scripts/netns-selftest.sh [rate-mbit]     (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RATE_MBIT=${1:-20}
FILE_MIB=8
NODE=$ROOT/node_modules/.bin/node
[[ -x $NODE ]] || NODE=$(command -v node)
SERVER=$ROOT/dist/scripts/lib/http-file-server.js
CLIENT=$ROOT/dist/scripts/lib/http-fetch-client.js
if [[ ! -f $SERVER || ! -f $CLIENT ]]; then
  echo "building (dist/ is missing the http scripts)"
  "$ROOT/node_modules/.bin/tsc" -p "$ROOT"
fi

# shellcheck source=lib/netns.sh
source "$ROOT/scripts/lib/netns.sh"

failures=0
fail() { echo "FAIL: $*"; failures=$(( failures + 1 )); }
pass() { echo "ok: $*"; }

WORK=$(mktemp -d /tmp/shoal-netns-selftest.XXXXXX)
cleanup() { netns_down; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'cleanup; trap - INT; kill -INT $$' INT
trap 'cleanup; trap - TERM; kill -TERM $$' TERM
export NETNS_NO_TRAP=1   # our own trap above also removes $WORK

head -c $(( FILE_MIB * 1024 * 1024 )) /dev/urandom > "$WORK/file.bin"
SHA=$(sha256sum "$WORK/file.bin" | cut -d' ' -f1)

netns_up 3 "${RATE_MBIT}mbit"
netns_hosts_file bootstrap=0 seeder=0 peer-1=1 peer-2=2
echo "hosts: $(netns_info | tr '\n' ';')"

# Starts the file server inside host $1 and waits (bounded) until it listens.
start_server() {
  local host=$1 log="$WORK/server-h$1.log" t
  netns_exec "$host" "$NODE" "$SERVER" --file "$WORK/file.bin" --port 8080 > "$log" 2>&1 &
  for (( t = 0; t < 100; t++ )); do
    grep -q listening "$log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server on h$host did not start: $(cat "$log")"; return 1
}

# Downloads from url inside host $1 with timeout $3 ms; prints the client's JSON line.
fetch() {
  netns_exec "$1" "$NODE" "$CLIENT" --url "$2" --out "$WORK/out-h$1-$RANDOM.bin" --sha256 "$SHA" --timeout-ms "$3"
}
json_num() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
mbit() { awk -v b="$1" -v ms="$2" 'BEGIN { printf "%.2f", b * 8 / ms / 1000 }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# 1. names resolve inside each namespace (getaddrinfo through /etc/netns/<ns>/hosts)
for i in 0 1 2; do
  got=$(netns_exec "$i" "$NODE" -e "require('node:dns').lookup('peer-2', { family: 4 }, (e, a) => console.log(e ? 'ERR' : a))")
  if [[ $got == "$(netns_ip 2)" ]]; then pass "h$i resolves peer-2 to $got"; else fail "h$i resolved peer-2 to '$got', want $(netns_ip 2)"; fi
done

# 2. one shaped transfer h1 -> h2
start_server 1
start_server 0
out=$(fetch 2 "http://peer-1:8080/f" 60000) || true
bytes=$(json_num bytes <<< "$out"); ms=$(json_num ms <<< "$out")
if [[ -z $bytes || $bytes -ne $(( FILE_MIB * 1024 * 1024 )) ]]; then
  fail "single transfer h1->h2: $out"
else
  tput=$(mbit "$bytes" "$ms")
  echo "single flow: ${FILE_MIB} MiB in ${ms%.*} ms = $tput Mbit/s goodput (cap $RATE_MBIT)"
  if lt "$tput" $(( RATE_MBIT * 2 )) && lt $(( RATE_MBIT / 5 )) "$tput"; then pass "single flow is shaped"; else fail "single flow at $tput Mbit/s is not within (cap/5, 2*cap)"; fi
fi

# 3. two downloads from h0 share h0's uplink
tx0=$(netns_tx_bytes 0)
start=$(date +%s%N)
fetch 1 "http://seeder:8080/f" 90000 > "$WORK/c1.json" & p1=$!
fetch 2 "http://seeder:8080/f" 90000 > "$WORK/c2.json" & p2=$!
ok=1; wait "$p1" || ok=0; wait "$p2" || ok=0
wall_ms=$(( ($(date +%s%N) - start) / 1000000 ))
tx=$(( $(netns_tx_bytes 0) - tx0 ))
if (( ok )); then
  t1=$(mbit "$(json_num bytes < "$WORK/c1.json")" "$(json_num ms < "$WORK/c1.json")")
  t2=$(mbit "$(json_num bytes < "$WORK/c2.json")" "$(json_num ms < "$WORK/c2.json")")
  sum=$(mbit $(( 2 * FILE_MIB * 1024 * 1024 )) "$wall_ms")
  echo "two flows from h0: $t1 + $t2 Mbit/s per flow, $sum Mbit/s together over ${wall_ms} ms; h0 sent $tx bytes"
  if lt "$sum" "$(( RATE_MBIT * 3 / 2 ))"; then pass "h0's upload caps both flows together"; else fail "two flows reached $sum Mbit/s, above 1.5x the uplink cap"; fi
  if (( tx >= 2 * FILE_MIB * 1024 * 1024 )); then pass "h0 tx counter covers both files"; else fail "h0 tx counter only rose by $tx"; fi
else
  fail "concurrent downloads: $(cat "$WORK/c1.json" "$WORK/c2.json")"
fi

# 4. link down: a transfer stalls and fails; after link up it succeeds
netns_link 2 down
if out=$(fetch 2 "http://seeder:8080/f" 3000); then fail "download succeeded with h2's link down: $out"; else pass "download fails with h2's link down ($out)"; fi
netns_link 2 up
if out=$(fetch 2 "http://seeder:8080/f" 60000); then pass "download succeeds after link up"; else fail "download after link up: $out"; fi

# 5. teardown leaves nothing with our prefix
owner=$$
netns_down
left=$( { ip netns list | grep "shoal-$owner-" || true; ip -o link | grep -E "shv$owner|shbr$owner" || true; ls -d /etc/netns/shoal-"$owner"-* 2>/dev/null || true; } )
if [[ -z $left ]]; then pass "teardown left nothing behind"; else fail "left behind: $left"; fi

if (( failures )); then echo "netns selftest: $failures failed"; exit 1; fi
echo "netns selftest: all passed"
