# shellcheck shell=bash
# Shared helpers for the scripts in this folder. Source it; do not run it.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Repository root (the folder holding Sagas.sln) and the git-ignored state folder. SAGAS_STATE_DIR moves
# the state elsewhere: `make bench` uses it to run a PostgreSQL cluster and a RabbitMQ node of its own
# (in .local/bench) beside the ones `make run` and `make test` use.
SAGAS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
SAGAS_LOCAL="${SAGAS_STATE_DIR:-$SAGAS_ROOT/.local}"
export SAGAS_ROOT SAGAS_LOCAL

# One-line progress message.
say() {
    printf '==> %s\n' "$*"
}

# One-line warning on stderr; execution continues.
warn() {
    printf '%s: warning: %s\n' "${SAGAS_SCRIPT:-sagas}" "$*" >&2
}

# One clear line on stderr, then exit non-zero.
die() {
    printf '%s: %s\n' "${SAGAS_SCRIPT:-sagas}" "$*" >&2
    exit 1
}

# Print the last lines of a log file (indented) to stderr, if it exists. With a third argument, only
# lines after that line number count (the part written by this start).
log_tail() {
    local file="$1" lines="${2:-25}" after="${3:-0}"
    if [[ -f "$file" ]]; then
        printf -- '--- last lines of %s ---\n' "$file" >&2
        tail -n "+$((after + 1))" "$file" | tail -n "$lines" | sed 's/^/    /' >&2
    else
        printf -- '--- (no log at %s) ---\n' "$file" >&2
    fi
}

# Number of lines a file has now (0 when it does not exist).
line_count() {
    if [[ -f $1 ]]; then
        wc -l <"$1"
    else
        printf '0'
    fi
}

# The tail of a log (after line $2), then one clear line on stderr (last, so it is what the reader sees), then exit 1.
die_with_log() {
    local file="$1" after="$2"
    shift 2
    log_tail "$file" 25 "$after"
    die "$*"
}

have() {
    command -v "$1" >/dev/null 2>&1
}

# Run as root (directly or through sudo).
as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif have sudo; then
        sudo -n "$@"
    else
        die "need root to run '$*' (no sudo available)"
    fi
}

# Install Debian packages without starting their services (a freshly installed rabbitmq-server or
# postgresql would otherwise occupy the default ports). Runs `apt-get update` first when the package
# lists are empty, and once more if the install fails with stale lists.
_SAGAS_APT_UPDATED=0
apt_install() {
    have apt-get || die "cannot install $* automatically: apt-get not found (install it by hand)"
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [[ ! -e $policy ]]; then
        as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
        created_policy=1
    fi
    local rc=0
    if [[ $_SAGAS_APT_UPDATED -eq 0 ]] && ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
        say "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get update -qq </dev/null >/dev/null || rc=$?
        _SAGAS_APT_UPDATED=1
    fi
    say "installing $*"
    if ! as_root env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq --no-install-recommends "$@" </dev/null >/dev/null; then
        if [[ $_SAGAS_APT_UPDATED -eq 0 ]]; then
            say "apt-get update (install failed with the current package lists)"
            as_root env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get update -qq </dev/null >/dev/null || true
            _SAGAS_APT_UPDATED=1
            as_root env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq --no-install-recommends "$@" </dev/null >/dev/null || rc=$?
        else
            rc=1
        fi
    fi
    if [[ $created_policy -eq 1 ]]; then
        as_root rm -f "$policy"
    fi
    [[ $rc -eq 0 ]] || die "installing $* with apt-get failed; run 'apt-get install -y $*' by hand to see why"
}

# True when something accepts TCP connections on host:port.
port_open() {
    local host="$1" port="$2"
    (exec 3<>"/dev/tcp/$host/$port") >/dev/null 2>&1
}

# True when something listens on the port on any local address (uses ss when present).
# Keep the kernel from handing a port out as the ephemeral source port of an outgoing connection (55432 lies
# in Linux's default ephemeral range, and the suites open thousands of loopback connections): a connection
# that happens to get it blocks PostgreSQL from binding it until it closes. Needs root; a no-op otherwise.
reserve_port() {
    local port="$1" file=/proc/sys/net/ipv4/ip_local_reserved_ports current
    [[ -w $file ]] || return 0
    current="$(cat "$file" 2>/dev/null || true)"
    [[ ",$current," == *",$port,"* ]] && return 0
    printf '%s\n' "${current:+$current,}$port" >"$file" 2>/dev/null || true
}

port_in_use() {
    local port="$1"
    if have ss; then
        [[ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]]
    else
        port_open 127.0.0.1 "$port"
    fi
}

# "pid 123 (postgres)" of the listener on a port, or "unknown pid" when it cannot be told.
port_owner() {
    local port="$1" line pid name
    if have ss; then
        line="$(ss -Hltnp "sport = :$port" 2>/dev/null | sed -n 1p)"
        pid="$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$line")"
        name="$(sed -n 's/.*users:(("\([^"]*\)".*/\1/p' <<<"$line")"
        if [[ -n $pid ]]; then
            printf 'pid %s%s' "$pid" "${name:+, $name}"
            return
        fi
    fi
    printf 'unknown pid'
}

# True when the pid is alive and its command line contains the given text.
pid_matches() {
    local pid="$1" text="$2"
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -F -- "$text" >/dev/null
}

# Validate a TCP port number given through the environment.
check_port_value() {
    local name="$1" value="$2"
    if ! [[ $value =~ ^[0-9]+$ ]] || ((value < 1 || value > 65535)); then
        die "$name must be a TCP port number, got '$value'"
    fi
}
