# shellcheck shell=bash
# RabbitMQ, the node process: its environment, whether a running node is ours, its log, its configuration and
# plugins (management, prometheus), its boot. Sourced by infra.sh.

# Run one of the /usr/sbin RabbitMQ wrappers (they switch to the rabbitmq user, which owns the Erlang
# cookie) with every path pointing into our folder, so nothing depends on /etc/rabbitmq.
rmq() {
    as_root env "${RMQ_ENV[@]}" "$@"
}

rmq_settings() {
    RMQ_ENV=(
        RABBITMQ_NODENAME="$RMQ_NODE"
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
        RABBITMQ_NODE_PORT="$RMQ_PORT"
        RABBITMQ_DIST_PORT="$RMQ_DIST_PORT"
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
        RABBITMQ_MNESIA_BASE="$RMQ_BASE/mnesia"
        RABBITMQ_LOG_BASE="$RMQ_LOG_DIR"
        RABBITMQ_PID_FILE="$RMQ_PID_FILE"
        RABBITMQ_CONFIG_FILE="$RMQ_BASE/rabbitmq.conf"
        RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_BASE/advanced.config"
        RABBITMQ_CONF_ENV_FILE="$RMQ_BASE/rabbitmq-env.conf"
        RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_BASE/enabled_plugins"
    )
    RMQ_CTL=(env "${RMQ_ENV[@]}" /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE")
}

# True when the process is a beam.smp whose environment points at our mnesia folder (so a recycled
# pid, or a node started from elsewhere, never counts as ours).
rmq_is_ours() {
    local pid="$1"
    [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/environ ]] || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == beam.smp ]] || return 1
    # The node itself (`-s rabbit boot`), not a rabbitmqctl/rabbitmq-plugins VM: those run beam.smp with the same
    # RABBITMQ_* environment, exit within seconds, and reading their environment a moment later fails (a test's
    # `rabbit-node down` and a bench's `rabbit-app start` exited 1 that way).
    local cmdline
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ $cmdline == *" -s rabbit boot "* ]] || return 1
    [[ $(rmq_ours_env "$pid" RABBITMQ_MNESIA_BASE) == "$RMQ_BASE/mnesia" ]]
}

# Pid of the node started from this folder, if it is alive: from the pid file, else (a node still
# booting, or a lost pid file) by looking through the running beam.smp processes.
rmq_ours_pid() {
    local pid
    pid="$(cat "$RMQ_PID_FILE" 2>/dev/null || true)"
    if rmq_is_ours "$pid"; then
        printf '%s' "$pid"
        return
    fi
    for pid in $(pgrep -x beam.smp 2>/dev/null || true); do
        if rmq_is_ours "$pid"; then
            printf '%s' "$pid"
            return
        fi
    done
    return 1
}

# One variable of the process's environment (empty when it is not set, or the process is gone). Read by bash itself:
# a pipeline whose reader stops early (sed's q, grep -q, head) fails under pipefail whenever the writer still had more
# (SIGPIPE, or EPIPE and exit 1 where SIGPIPE is ignored, as in every child of a .NET process): a test's
# `rabbit-node down` failed that way, its node's environment being longer than one pipe write.
rmq_ours_env() {
    local pid="$1" name="$2" entry
    { while IFS= read -r -d '' entry; do
        if [[ $entry == "$name="* ]]; then
            printf '%s' "${entry#"$name="}"
            break
        fi
    done <"/proc/$pid/environ"; } 2>/dev/null || true
}

# HTTP status of GET /api/<path> on the management API with the application user.
rmq_mgmt_status() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 -u "$RMQ_USER:$RMQ_PASSWORD" \
        "http://$RMQ_HOST:$RMQ_MGMT_PORT/api/$1" 2>/dev/null || true
}

# The AMQP port answers and the management API accepts the application user as an administrator.
rmq_usable() {
    port_open "$RMQ_HOST" "$RMQ_PORT" || return 1
    local body
    body="$(curl -s --max-time 5 -u "$RMQ_USER:$RMQ_PASSWORD" "http://$RMQ_HOST:$RMQ_MGMT_PORT/api/whoami" 2>/dev/null)" || return 1
    grep -q 'administrator' <<<"$body"
}

rmq_log_file() {
    if [[ -f $RMQ_LOG_DIR/$RMQ_NODE.log ]]; then
        printf '%s' "$RMQ_LOG_DIR/$RMQ_NODE.log"
        return
    fi
    local newest
    newest="$(find "$RMQ_LOG_DIR" -maxdepth 1 -name '*.log' -printf '%T@ %p\n' 2>/dev/null | sort -rn | sed -n 1p | cut -d' ' -f2-)"
    printf '%s' "${newest:-$RMQ_LOG_DIR/$RMQ_NODE.log}"
}

# One line plus, from this start's part of the node log, the first error lines and the tail.
rmq_fail() {
    local log
    log="$(rmq_log_file)"
    if [[ -f $log ]]; then
        local errors
        errors="$(tail -n "+$((RMQ_LOG_START + 1))" "$log" | grep -m 5 '\[error\]' || true)"
        if [[ -n $errors ]]; then
            printf -- '--- first errors in %s ---\n' "$log" >&2
            printf '    %s\n' "${errors//$'\n'/$'\n'    }" >&2
        fi
    fi
    log_tail "$log" 12 "$RMQ_LOG_START"
    die "$1 (log $log)"
}

# Wait for the node to boot (`rabbitmqctl wait`), but give up as soon as its process is gone.
rmq_wait_booted() {
    local started=$SECONDS
    setsid "${RMQ_CTL[@]}" wait "$RMQ_PID_FILE" --timeout "$TIMEOUT" >/dev/null 2>&1 &
    local waiter=$!
    while kill -0 "$waiter" 2>/dev/null; do
        if ((SECONDS - started > 5)) && ! rmq_ours_pid >/dev/null; then
            kill -TERM -- "-$waiter" 2>/dev/null || true
            wait "$waiter" 2>/dev/null || true
            rmq_fail "RabbitMQ node $RMQ_NODE failed to start (its process exited)"
        fi
        sleep 0.5
    done
    if ! wait "$waiter"; then
        if ((SECONDS - started < TIMEOUT)); then
            rmq_fail "RabbitMQ node $RMQ_NODE failed to start"
        fi
        rmq_fail "RabbitMQ node $RMQ_NODE did not become ready within ${TIMEOUT}s"
    fi
}

rmq_prepare() {
    mkdir -p "$RMQ_BASE"
    chown rabbitmq:rabbitmq "$RMQ_BASE"
    runuser -u rabbitmq -- mkdir -p "$RMQ_BASE/mnesia" "$RMQ_LOG_DIR"
    runuser -u rabbitmq -- tee "$RMQ_BASE/rabbitmq.conf" >/dev/null <<EOF
# Written by scripts/infra.sh before each start; edits are overwritten.
# AMQP listener, node name and distribution port come from the environment the script sets.
management.tcp.ip = 127.0.0.1
management.tcp.port = $RMQ_MGMT_PORT
# rabbitmq_prometheus: /metrics (per node) and /metrics/per-object (per queue, which 3.10's /metrics aggregates away).
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = $RMQ_PROMETHEUS_PORT
log.console = false
log.file.level = info
EOF
    runuser -u rabbitmq -- tee "$RMQ_BASE/rabbitmq-env.conf" >/dev/null <<'EOF'
# Intentionally empty: scripts/infra.sh passes every setting through the environment.
EOF
    if ! grep -qs rabbitmq_management "$RMQ_BASE/enabled_plugins" || ! grep -qs rabbitmq_prometheus "$RMQ_BASE/enabled_plugins"; then
        local out
        out="$(rmq /usr/sbin/rabbitmq-plugins enable --offline rabbitmq_management rabbitmq_prometheus 2>&1)" ||
            die "RabbitMQ: enabling the management and prometheus plugins failed: $(tail -n 1 <<<"$out")"
    fi
}

# A node of ours started before the scripts enabled rabbitmq_prometheus serves no metrics until restarted (its
# listener's port is read from rabbitmq.conf at boot); say so rather than stop a broker others may be using.
rmq_check_prometheus() {
    if ! port_open "$RMQ_HOST" "$RMQ_PROMETHEUS_PORT"; then
        warn "RabbitMQ serves no Prometheus metrics on $RMQ_HOST:$RMQ_PROMETHEUS_PORT (a node started before the scripts enabled rabbitmq_prometheus?); 'scripts/infra.sh down' then 'up' restarts it with them"
    fi
}

# Fail early, with one line, when the node name is already registered by a node not started here.
rmq_check_node_name() {
    have epmd || return 0
    local short="${RMQ_NODE%%@*}"
    if epmd -names 2>/dev/null | grep "^name $short at port" >/dev/null; then
        die "RabbitMQ node name $RMQ_NODE is already used by a node not started from this folder; set SAGAS_RABBIT_NODE (e.g. SAGAS_RABBIT_NODE=sagas-$RMQ_PORT@localhost)"
    fi
}

rmq_check_free() {
    local port="$1" variable="$2"
    if port_in_use "$port"; then
        die "port $port is in use by another process ($(port_owner "$port")); stop it or set $variable"
    fi
}
