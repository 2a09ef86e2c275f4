#!/usr/bin/env bash
# entrypoint.sh: one script for every role of a shoal testnet, configured only through environment
# variables. The same script runs as the container entrypoint (docker/compose.yaml), in network
# namespaces (scripts/testnet-netns.sh) and as plain processes (scripts/testnet-local.sh).
#
#   SHOAL_ROLE=bootstrap   run `shoal bootstrap` (with its control API), publish its multiaddr
#   SHOAL_ROLE=seeder      run `shoal daemon`, publish a generated or given file, share its CID
#   SHOAL_ROLE=peer        run `shoal daemon`, fetch the seeder's CID, verify it, keep seeding
#   entrypoint.sh health   exit 0 when this node's control API answers /v1/health (HEALTHCHECK)
#
# Testnet variables (the node's own SHOAL_* settings pass straight through to shoal):
#   SHOAL_SHARE_DIR        directory every node of the testnet shares (default /share)
#   SHOAL_NAME             this node's name in the testnet (default: hostname)
#   SHOAL_HOST             name or IPv4 address other nodes dial this one at (default: SHOAL_NAME)
#   SHOAL_PORT             TCP port for libp2p when SHOAL_LISTEN is unset (default 4001)
#   SHOAL_BOOTSTRAP_COUNT  bootstrap addresses to wait for when SHOAL_BOOTSTRAP is unset (default 1)
#   SHOAL_SEED_FILE        seeder: file or folder to publish (default: a generated file)
#   SHOAL_SEED_SIZE        seeder: size of the generated file (default 64M)
#   SHOAL_OUT_DIR          peer: where the download goes (default $SHOAL_DATA_DIR/downloads)
#   SHOAL_WAIT             longest wait for another node, in seconds (default 120)
#   SHOAL_GET_TIMEOUT      peer: longest download, in seconds (default 600; 0 = no limit)
#   SHOAL_NODE             node binary (default: the repo's node_modules/.bin/node, else `node`)
#
# Files in SHOAL_SHARE_DIR (each written atomically):
#   bootstrap/<name>.addr  a bootstrap node's multiaddr: /dns4/<host>/tcp/<port>/p2p/<peer id>
#                          (/ip4/<host>/... when SHOAL_HOST is an address)
#   seed.cid, seed.sha256  the seeder's content ID and, for a single file, its sha256
#   done/<name>            a peer's line "<name> <ms> <sha256>" once its copy is verified
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROLE=${SHOAL_ROLE:-}
SHARE=${SHOAL_SHARE_DIR:-/share}
NAME=${SHOAL_NAME:-$(hostname)}
PORT=${SHOAL_PORT:-4001}
WAIT_S=${SHOAL_WAIT:-120}
if [[ -z ${SHOAL_NODE:-} ]]; then
  if [[ -x $ROOT/node_modules/.bin/node ]]; then SHOAL_NODE=$ROOT/node_modules/.bin/node; else SHOAL_NODE=node; fi
fi
CLI=$ROOT/dist/src/cli/bundle/main.js
# run the CLI with the node flags of its shebang (#!/usr/bin/env -S node <flags>), as the bin runs
read -r SHEBANG < "$CLI" || true
NODE_FLAGS=()
if [[ $SHEBANG == '#!/usr/bin/env -S node '* ]]; then read -r -a NODE_FLAGS <<< "${SHEBANG#'#!/usr/bin/env -S node '}"; fi
export SHOAL_DATA_DIR=${SHOAL_DATA_DIR:-/data}
export SHOAL_API=${SHOAL_API:-127.0.0.1:7070}
export SHOAL_LISTEN=${SHOAL_LISTEN:-/ip4/0.0.0.0/tcp/$PORT}
# The daemon's API adds and downloads only under SHOAL_ALLOW_PATHS (docs/control-api.md); by default
# a testnet node may use its data dir, the seed file's folder and the output folder.
if [[ -z ${SHOAL_ALLOW_PATHS:-} ]]; then
  SHOAL_ALLOW_PATHS=$(realpath -m "$SHOAL_DATA_DIR")
  if [[ -n ${SHOAL_SEED_FILE:-} ]]; then SHOAL_ALLOW_PATHS+=,$(dirname "$(realpath -m "$SHOAL_SEED_FILE")"); fi
  if [[ -n ${SHOAL_OUT_DIR:-} ]]; then SHOAL_ALLOW_PATHS+=,$(realpath -m "$SHOAL_OUT_DIR"); fi
  export SHOAL_ALLOW_PATHS
fi

log() { printf '[%s %s] %s\n' "$NAME" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
shoal() { "$SHOAL_NODE" "${NODE_FLAGS[@]}" "$CLI" "$@"; }
now_ms() { date +%s%3N; }

# Exits 0 when the control API at $SHOAL_API answers /v1/health (no token needed for health).
health() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  "$SHOAL_NODE" -e '
    const a = (process.env.SHOAL_API || "127.0.0.1:7070").replace(/^0\.0\.0\.0:/, "127.0.0.1:").replace(/^\[::\]:/, "[::1]:")
    fetch(`http://${a}/v1/health`, { signal: AbortSignal.timeout(5000) })
      .then(r => r.json().then(b => { if (r.ok && b.ok) { console.log(`${b.peerId} peers=${b.peers}`); process.exit(0) } process.exit(1) }))
      .catch(() => process.exit(1))'
}

# Writes stdin to $1 atomically, so a reader never sees half a file.
write_atomic() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat > "$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$1"
}

# wait_for <what> <test command...>: polls every 0.2 s, at most SHOAL_WAIT seconds.
wait_for() {
  local what=$1; shift
  local deadline=$(( $(date +%s) + WAIT_S ))
  until "$@"; do
    if (( $(date +%s) >= deadline )); then
      die "gave up after ${WAIT_S}s waiting for $what (raise SHOAL_WAIT, or check that node's log)"
    fi
    [[ -n ${NODE_PID:-} ]] && ! kill -0 "$NODE_PID" 2>/dev/null && die "the shoal process exited while waiting for $what"
    sleep 0.2
  done
}

bootstrap_files() {
  local n
  n=$( (find "$SHARE/bootstrap" -maxdepth 1 -name '*.addr' 2>/dev/null || true) | wc -l)
  (( n >= ${SHOAL_BOOTSTRAP_COUNT:-1} ))
}

# SHOAL_BOOTSTRAP as given, or every address bootstrap nodes wrote into the share directory.
resolve_bootstrap() {
  if [[ -n ${SHOAL_BOOTSTRAP:-} ]]; then return 0; fi
  wait_for "${SHOAL_BOOTSTRAP_COUNT:-1} bootstrap address(es) in $SHARE/bootstrap/" bootstrap_files
  SHOAL_BOOTSTRAP=$(cat "$SHARE"/bootstrap/*.addr | paste -sd, -)
  export SHOAL_BOOTSTRAP
  log "bootstrap: $SHOAL_BOOTSTRAP"
}

NODE_PID=
# Stops the node on TERM/INT so `docker stop` and the testnet scripts end cleanly.
stop_node() {
  if [[ -n $NODE_PID ]] && kill -0 "$NODE_PID" 2>/dev/null; then
    kill -TERM "$NODE_PID" 2>/dev/null || true
    wait "$NODE_PID" 2>/dev/null || true
  fi
  exit 0
}
trap stop_node TERM INT

# start_node <shoal command...>: runs it in the background and waits until its API is healthy.
start_node() {
  "$SHOAL_NODE" "${NODE_FLAGS[@]}" "$CLI" "$@" &
  NODE_PID=$!
  wait_for "the control API on $SHOAL_API" health_quiet
  log "node up: $(health)"
}
health_quiet() { health > /dev/null 2>&1; }

# Keeps serving until the node exits or we are told to stop.
serve() {
  local rc=0
  wait "$NODE_PID" || rc=$?
  NODE_PID=
  exit "$rc"
}

generate_file() {
  # Deterministic bytes (AES-CTR keystream from the size) so a restarted seeder publishes the same
  # CID, and not compressible, so no layer below can cheat.
  # shellcheck disable=SC2016 # JavaScript, not shell
  "$SHOAL_NODE" -e '
    const { createCipheriv, createHash } = require("node:crypto")
    const fs = require("node:fs")
    const [out, sizeText] = process.argv.slice(1)
    const m = /^(\d+)([kmg]?)$/i.exec(sizeText)
    if (m === null) { console.error(`SHOAL_SEED_SIZE "${sizeText}" is not a size; write e.g. 64M`); process.exit(2) }
    let left = Number(m[1]) * 1024 ** " kmg".indexOf((m[2] || " ").toLowerCase())
    const key = createHash("sha256").update(`shoal-testnet-${left}`).digest()
    const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16))
    const fd = fs.openSync(out, "w")
    const zeros = Buffer.alloc(1 << 20)
    while (left > 0) { const n = Math.min(left, zeros.length); fs.writeSync(fd, cipher.update(zeros.subarray(0, n))); left -= n }
    fs.closeSync(fd)' "$1" "$2"
}

role_bootstrap() {
  mkdir -p "$SHARE/bootstrap"
  local id
  id=$(shoal id --quiet)
  # `shoal bootstrap` honours SHOAL_LISTEN; its API (health, peers, /metrics) is on SHOAL_API.
  start_node bootstrap --port "$PORT"
  local host=${SHOAL_HOST:-$NAME} proto=dns4
  [[ $host =~ ^[0-9]+(\.[0-9]+){3}$ ]] && proto=ip4
  printf '/%s/%s/tcp/%s/p2p/%s\n' "$proto" "$host" "$PORT" "$id" | write_atomic "$SHARE/bootstrap/$NAME.addr"
  log "published $SHARE/bootstrap/$NAME.addr"
  serve
}

role_seeder() {
  mkdir -p "$SHARE"
  rm -f "$SHARE/seed.cid" "$SHARE/seed.sha256"
  resolve_bootstrap
  local file=${SHOAL_SEED_FILE:-}
  if [[ -z $file ]]; then
    mkdir -p "$SHOAL_DATA_DIR/seed"
    file=$SHOAL_DATA_DIR/seed/testnet-${SHOAL_SEED_SIZE:-64M}.bin
    if [[ ! -s $file ]]; then
      log "generating $file (${SHOAL_SEED_SIZE:-64M})"
      generate_file "$file.part" "${SHOAL_SEED_SIZE:-64M}"
      mv -f "$file.part" "$file"
    fi
  fi
  [[ -e $file ]] || die "SHOAL_SEED_FILE $file does not exist (mount it into the container)"
  start_node daemon
  local cid
  cid=$(shoal add --quiet "$file") || die "shoal add $file failed"
  if [[ -f $file ]]; then
    sha256sum "$file" | cut -d' ' -f1 | write_atomic "$SHARE/seed.sha256"
  fi
  printf '%s\n' "$cid" | write_atomic "$SHARE/seed.cid"
  log "seeding $file as $cid"
  serve
}

role_peer() {
  resolve_bootstrap
  local out=${SHOAL_OUT_DIR:-$SHOAL_DATA_DIR/downloads}
  mkdir -p "$out"
  start_node daemon
  wait_for "the seeder's CID in $SHARE/seed.cid" test -s "$SHARE/seed.cid"
  local cid started path ms limit want got
  cid=$(cat "$SHARE/seed.cid")
  log "fetching $cid"
  started=$(now_ms)
  limit=${SHOAL_GET_TIMEOUT:-600}
  # `shoal get` through the daemon verifies every chunk against the manifest and polls until done.
  if [[ $limit == 0 ]]; then
    path=$(shoal get --quiet "$cid" -o "$out") || die "shoal get $cid failed"
  else
    path=$(timeout "$limit" "$SHOAL_NODE" "${NODE_FLAGS[@]}" "$CLI" get --quiet "$cid" -o "$out") || die "shoal get $cid failed or took over ${limit}s (SHOAL_GET_TIMEOUT)"
  fi
  ms=$(( $(now_ms) - started ))
  got=-
  if [[ -s $SHARE/seed.sha256 && -f $path ]]; then
    want=$(cat "$SHARE/seed.sha256")
    got=$(sha256sum "$path" | cut -d' ' -f1)
    [[ $got == "$want" ]] || die "sha256 of $path is $got, the seeder published $want"
  fi
  mkdir -p "$SHARE/done"
  printf '%s %s %s\n' "$NAME" "$ms" "$got" | write_atomic "$SHARE/done/$NAME"
  log "verified $path in ${ms} ms (sha256 $got); seeding on"
  serve
}

case ${1:-$ROLE} in
  health) health ;;
  bootstrap) role_bootstrap ;;
  seeder) role_seeder ;;
  peer) role_peer ;;
  '') die "set SHOAL_ROLE to bootstrap, seeder or peer (or run: entrypoint.sh health)" ;;
  *) die "unknown role '${1:-$ROLE}'; SHOAL_ROLE must be bootstrap, seeder or peer" ;;
esac
