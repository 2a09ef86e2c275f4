# shellcheck shell=bash
# netns.sh: N emulated hosts on one machine as Linux network namespaces on a private bridge,
# each with its own address and `tc tbf` caps on both upload and download.
#
# Source it, then:
#   netns_up <n-hosts> [rate]     create hosts h0..h(n-1) (rate like 20mbit, 500kbit, 1gbit; default 20mbit)
#   netns_exec <i> cmd...         run cmd inside host i
#   netns_ip <i>                  print host i's address
#   netns_ns <i>                  print host i's namespace name (for `ip netns exec`)
#   netns_hosts_file name=i ...   make names resolve inside every host (replaces earlier names; h0.. always resolve)
#   netns_tx_bytes <i> / netns_rx_bytes <i>   host i's interface byte counters
#   netns_link <i> down|up        unplug / replug host i's cable
#   netns_info                    print "i ns ip" per host
#   netns_down                    remove everything of this run (idempotent)
#   netns_cleanup_stale           remove leftovers of dead owners (netns_up does this too)
#
# Isolation: the bridge lives in its own "switch" namespace and the veth pairs are created directly
# inside the namespaces, so nothing of the run ever appears in the host's root namespace, and the
# 10.213.x.0/24 addresses are reachable only from inside our namespaces.
#
# Names carry the owner PID (NETNS_OWNER, default $$) so parallel runs never clash and a leftover
# can be attributed: namespaces `shoal-<pid>-sw` and `shoal-<pid>-h<i>`, bridge `shbr<pid>`, switch
# ports `shv<pid>h<i>`, the host side is `eth0` in each host namespace.
#
# Callers that keep no shell (e.g. netns-hosts.ts calling `bash -c`) set NETNS_OWNER to their own
# PID and NETNS_NO_TRAP=1; otherwise netns_up installs a trap that runs netns_down on EXIT/INT/TERM.

NETNS_PREFIX='shoal-'
NETNS_DEFAULT_RATE='20mbit'
# Queueing delay tbf tolerates before dropping: enough for TCP to keep the pipe full on a
# sub-millisecond RTT link without turning the link into a bufferbloat benchmark.
NETNS_TBF_LATENCY_MS=50
# Token bucket depth in ms of line rate; never below NETNS_TBF_MIN_BURST bytes (a few MTU frames).
NETNS_TBF_BURST_MS=5
NETNS_TBF_MIN_BURST=15140
NETNS_MTU=1500

_netns_owner() { printf '%s' "${NETNS_OWNER:-$$}"; }
_netns_sw() { printf '%s%s-sw' "$NETNS_PREFIX" "$(_netns_owner)"; }
_netns_host_ns() { printf '%s%s-h%s' "$NETNS_PREFIX" "$(_netns_owner)" "$1"; }
_netns_bridge() { printf 'shbr%s' "$(_netns_owner)"; }
_netns_port() { printf 'shv%sh%s' "$(_netns_owner)" "$1"; }
# The third octet is derived from the owner so two runs also differ in addresses (not needed for
# isolation, which the separate switch namespaces already give, but it makes captures unambiguous).
_netns_octet() { printf '%s' "$(( ($(_netns_owner) % 250) + 1 ))"; }

_netns_die() { echo "netns: $*" >&2; return 1; }

# Ensure iproute2 is present (installing it when root) and that we may create namespaces.
netns_require() {
  if [[ $EUID -ne 0 ]]; then
    _netns_die "network namespaces need root (run as root or with sudo); current uid is $EUID"
    return 1
  fi
  if ! command -v ip >/dev/null 2>&1 || ! command -v tc >/dev/null 2>&1; then
    echo "netns: ip/tc missing, installing iproute2" >&2
    if ! command -v apt-get >/dev/null 2>&1; then
      _netns_die "ip and tc (iproute2) are missing and apt-get is not available: install iproute2"
      return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >&2 ||
      { _netns_die "apt-get install -y iproute2 failed: install iproute2 by hand"; return 1; }
  fi
}

# Print a tc rate in bits per second (accepts 500kbit, 20mbit, 1gbit, or a bare number = mbit).
_netns_rate_bps() {
  local r=${1,,}
  case $r in
    *gbit) echo $(( ${r%gbit} * 1000000000 )) ;;
    *mbit) echo $(( ${r%mbit} * 1000000 )) ;;
    *kbit) echo $(( ${r%kbit} * 1000 )) ;;
    *bit) echo $(( ${r%bit} )) ;;
    *[!0-9]*|'') return 1 ;;
    *) echo $(( r * 1000000 )) ;;
  esac
}

# tbf arguments for a rate: the one place that decides how shaping is parameterised.
netns_tbf_args() {
  local bps burst
  bps=$(_netns_rate_bps "$1") || { _netns_die "bad rate '$1' (use e.g. 20mbit)"; return 1; }
  burst=$(( bps / 8 * NETNS_TBF_BURST_MS / 1000 ))
  (( burst < NETNS_TBF_MIN_BURST )) && burst=$NETNS_TBF_MIN_BURST
  printf 'rate %sbit burst %s latency %sms' "$bps" "$burst" "$NETNS_TBF_LATENCY_MS"
}

_netns_pid_alive() { [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; }

# Kill whatever still runs inside a namespace (only ever called on our own namespaces).
_netns_kill_ns_pids() {
  local ns=$1 pids
  pids=$(ip netns pids "$ns" 2>/dev/null) || return 0
  [[ -z $pids ]] && return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null
  local t
  for t in 1 2 3 4 5 6 7 8 9 10; do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [[ -z $pids ]] && return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null
  return 0
}

_netns_delete_ns() {
  local ns=$1
  _netns_kill_ns_pids "$ns"
  ip netns delete "$ns" 2>/dev/null
  rm -rf "/etc/netns/$ns"
  return 0
}

# Our namespaces, one name per line.
_netns_list_ours() {
  ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${NETNS_PREFIX}[0-9]+-(sw|h[0-9]+)\$"
}

# Remove namespaces (and their /etc/netns dirs) left by shoal runs whose owner process is dead.
netns_cleanup_stale() {
  local ns owner
  while read -r ns; do
    [[ -z $ns ]] && continue
    owner=${ns#"$NETNS_PREFIX"}; owner=${owner%%-*}
    if ! _netns_pid_alive "$owner"; then
      echo "netns: removing stale $ns (owner $owner is gone)" >&2
      _netns_delete_ns "$ns"
    fi
  done < <(_netns_list_ours)
  local d
  for d in /etc/netns/"$NETNS_PREFIX"*; do
    [[ -d $d ]] || continue
    ns=${d#/etc/netns/}
    owner=${ns#"$NETNS_PREFIX"}; owner=${owner%%-*}
    [[ $owner =~ ^[0-9]+$ ]] || continue
    _netns_pid_alive "$owner" || rm -rf "$d"
  done
  return 0
}

# Number of hosts of this run (derived from what exists, so a fresh shell with NETNS_OWNER set works).
netns_count() {
  _netns_list_ours | grep -c "^${NETNS_PREFIX}$(_netns_owner)-h" || true
}

_netns_check_index() {
  local i=$1 n
  [[ $i =~ ^[0-9]+$ ]] || { _netns_die "host index '$i' is not a number"; return 1; }
  n=$(netns_count)
  (( i < n )) || { _netns_die "no host h$i (this run has $n hosts; call netns_up first)"; return 1; }
}

netns_ns() { _netns_host_ns "$1"; }
netns_ip() { printf '10.213.%s.%s\n' "$(_netns_octet)" "$(( $1 + 1 ))"; }

# Create the switch and n hosts, each shaped to rate both ways.
netns_up() {
  local n=${1:?usage: netns_up <n-hosts> [rate]} rate=${2:-$NETNS_DEFAULT_RATE}
  [[ $n =~ ^[0-9]+$ ]] && (( n >= 1 && n <= 250 )) || { _netns_die "host count must be 1..250, got '$n'"; return 1; }
  netns_require || return 1
  local tbf
  tbf=$(netns_tbf_args "$rate") || return 1
  netns_cleanup_stale
  if [[ -n $(_netns_list_ours | grep "^${NETNS_PREFIX}$(_netns_owner)-") ]]; then
    _netns_die "a testbed of owner $(_netns_owner) already exists; call netns_down first"
    return 1
  fi
  if [[ -z ${NETNS_NO_TRAP:-} ]]; then
    trap 'netns_down' EXIT
    trap 'netns_down; trap - INT; kill -INT $$' INT
    trap 'netns_down; trap - TERM; kill -TERM $$' TERM
  fi
  local sw br octet
  sw=$(_netns_sw); br=$(_netns_bridge); octet=$(_netns_octet)
  {
    ip netns add "$sw" &&
      ip -n "$sw" link set lo up &&
      ip -n "$sw" link add "$br" type bridge &&
      ip -n "$sw" link set "$br" up
  } || { _netns_die "could not create switch namespace $sw"; netns_down; return 1; }
  local i ns port
  for (( i = 0; i < n; i++ )); do
    ns=$(_netns_host_ns "$i"); port=$(_netns_port "$i")
    {
      ip netns add "$ns" &&
        ip -n "$ns" link set lo up &&
        # No IPv6 on eth0: its autoconfiguration chatter would pollute the byte counters.
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 &&
        ip link add name "$port" netns "$sw" mtu "$NETNS_MTU" type veth peer name eth0 netns "$ns" mtu "$NETNS_MTU" &&
        ip -n "$sw" link set "$port" master "$br" &&
        ip -n "$sw" link set "$port" up &&
        ip -n "$ns" addr add "10.213.$octet.$(( i + 1 ))/24" dev eth0 &&
        ip -n "$ns" link set eth0 up &&
        # shellcheck disable=SC2086
        tc -n "$ns" qdisc replace dev eth0 root tbf $tbf &&
        # shellcheck disable=SC2086
        tc -n "$sw" qdisc replace dev "$port" root tbf $tbf
    } || { _netns_die "could not create host h$i ($ns)"; netns_down; return 1; }
  done
  netns_hosts_file
}

# Run a command inside host i (stdin/stdout pass through).
netns_exec() {
  local i=${1:?usage: netns_exec <i> cmd...}; shift
  _netns_check_index "$i" || return 1
  ip netns exec "$(_netns_host_ns "$i")" "$@"
}

# Write /etc/netns/<ns>/hosts for every host: h<i> always, plus name=i pairs (e.g. seeder=0 peer-1=1).
# `ip netns exec` bind-mounts that file over /etc/hosts, so getaddrinfo resolves the names.
netns_hosts_file() {
  local n i ns pair name idx content
  n=$(netns_count)
  content=$'127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
  for (( i = 0; i < n; i++ )); do
    content+="$(netns_ip "$i")"$'\t'"h$i"$'\n'
  done
  for pair in "$@"; do
    name=${pair%%=*}; idx=${pair#*=}
    [[ $name != "$pair" && $name =~ ^[A-Za-z0-9][A-Za-z0-9.-]*$ ]] || { _netns_die "bad name=index pair '$pair'"; return 1; }
    _netns_check_index "$idx" || return 1
    content+="$(netns_ip "$idx")"$'\t'"$name"$'\n'
  done
  for (( i = 0; i < n; i++ )); do
    ns=$(_netns_host_ns "$i")
    mkdir -p "/etc/netns/$ns" && printf '%s' "$content" > "/etc/netns/$ns/hosts" || return 1
  done
}

_netns_counter() {
  local i=$1 what=$2
  _netns_check_index "$i" || return 1
  # `ip netns exec` remounts /sys for the namespace, so this is the host's own eth0.
  ip netns exec "$(_netns_host_ns "$i")" cat "/sys/class/net/eth0/statistics/${what}_bytes"
}

# Bytes host i has sent (tx) / received (rx) on its interface since netns_up.
netns_tx_bytes() { _netns_counter "${1:?usage: netns_tx_bytes <i>}" tx; }
netns_rx_bytes() { _netns_counter "${1:?usage: netns_rx_bytes <i>}" rx; }

# Unplug (down) or replug (up) host i: the switch port goes down, so the host sees no carrier and
# keeps its address and sockets, like a pulled cable rather than an ifdown.
netns_link() {
  local i=${1:?usage: netns_link <i> down|up} state=${2:?usage: netns_link <i> down|up}
  [[ $state == up || $state == down ]] || { _netns_die "link state must be up or down, got '$state'"; return 1; }
  _netns_check_index "$i" || return 1
  ip -n "$(_netns_sw)" link set "$(_netns_port "$i")" "$state"
  [[ $state == up ]] || return 0
  # Replugged: wait (bounded, 5 s) until the switch forwards on the port again, then forget the
  # neighbour entries that failed while it was down, so the next connect re-resolves at once instead
  # of failing with EHOSTUNREACH until the kernel's FAILED entry ages out.
  local tries=0
  until bridge -n "$(_netns_sw)" link show dev "$(_netns_port "$i")" 2>/dev/null | grep -q 'state forwarding'; do
    (( ++tries > 50 )) && { _netns_die "port of host $i did not come back up"; return 1; }
    sleep 0.1
  done
  local h
  for (( h = 0; h < $(netns_count); h++ )); do
    ip -n "$(_netns_host_ns "$h")" neigh flush dev eth0 2>/dev/null || true
  done
}

# One line per host: index, namespace, address.
netns_info() {
  local n i
  n=$(netns_count)
  for (( i = 0; i < n; i++ )); do
    printf '%s %s %s\n' "$i" "$(_netns_host_ns "$i")" "$(netns_ip "$i")"
  done
}

# Remove every namespace, process and /etc/netns entry of this run. Safe to call repeatedly.
netns_down() {
  local ns
  while read -r ns; do
    [[ -n $ns ]] && _netns_delete_ns "$ns"
  done < <(_netns_list_ours | grep "^${NETNS_PREFIX}$(_netns_owner)-")
  rm -rf /etc/netns/"${NETNS_PREFIX}$(_netns_owner)"-* 2>/dev/null
  return 0
}
