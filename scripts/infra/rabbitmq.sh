# shellcheck shell=bash
# RabbitMQ, the broker as used: its users and the services' virtual host (management API), up, down, status, and the
# application stop/start `make bench` injects. Sourced by infra.sh after rabbitmq-node.sh.

rmq_ensure_user() {
    if [[ $(rmq_mgmt_status whoami) == 200 ]] && rmq_usable; then
        return
    fi
    local out
    if ! out="$(rmq /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE" add_user "$RMQ_USER" "$RMQ_PASSWORD" 2>&1)"; then
        if grep -qi 'already exists' <<<"$out"; then
            out="$(rmq /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE" change_password "$RMQ_USER" "$RMQ_PASSWORD" 2>&1)" ||
                die "RabbitMQ: changing the password of '$RMQ_USER' failed: $(tail -n 1 <<<"$out")"
        else
            die "RabbitMQ: creating user '$RMQ_USER' failed: $(tail -n 1 <<<"$out")"
        fi
    fi
    out="$(rmq /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE" set_user_tags "$RMQ_USER" administrator 2>&1)" ||
        die "RabbitMQ: tagging '$RMQ_USER' as administrator failed: $(tail -n 1 <<<"$out")"
    out="$(rmq /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE" set_permissions -p / "$RMQ_USER" '.*' '.*' '.*' 2>&1)" ||
        die "RabbitMQ: granting '$RMQ_USER' permissions on / failed: $(tail -n 1 <<<"$out")"
}

# The services' own user: configure/write/read on its virtual host only, no tags (no management API, no other vhost).
# Through the management API as the administrator: idempotent, and quicker than three rabbitmqctl runs.
rmq_ensure_app_user() {
    local api="http://$RMQ_HOST:$RMQ_MGMT_PORT/api" vhost user body
    vhost="$(jq -rn --arg v "$RMQ_APP_VHOST" '$v | @uri')"
    user="$(jq -rn --arg v "$RMQ_APP_USER" '$v | @uri')"
    rmq_api PUT "$api/vhosts/$vhost" '{}' || die "RabbitMQ: creating virtual host '$RMQ_APP_VHOST' failed"
    body="$(jq -cn --arg p "$RMQ_APP_PASSWORD" '{password: $p, tags: ""}')"
    rmq_api PUT "$api/users/$user" "$body" || die "RabbitMQ: creating user '$RMQ_APP_USER' failed"
    rmq_api PUT "$api/permissions/$vhost/$user" '{"configure":".*","write":".*","read":".*"}' ||
        die "RabbitMQ: granting '$RMQ_APP_USER' permissions on '$RMQ_APP_VHOST' failed"
    # The administrator keeps its rights on the services' vhost too (run.sh aligns queue types through it).
    user="$(jq -rn --arg v "$RMQ_USER" '$v | @uri')"
    rmq_api PUT "$api/permissions/$vhost/$user" '{"configure":".*","write":".*","read":".*"}' ||
        die "RabbitMQ: granting '$RMQ_USER' permissions on '$RMQ_APP_VHOST' failed"
}

rmq_api() {
    curl -s -o /dev/null --fail --max-time 10 -u "$RMQ_USER:$RMQ_PASSWORD" -X "$1" \
        -H 'content-type: application/json' -d "$3" "$2"
}

rmq_wait_management() {
    local deadline=$((SECONDS + TIMEOUT))
    until rmq_usable; do
        ((SECONDS < deadline)) || rmq_fail "RabbitMQ management API on $RMQ_HOST:$RMQ_MGMT_PORT did not accept user '$RMQ_USER' within ${TIMEOUT}s"
        sleep 1
    done
}

rmq_up() {
    rmq_paths
    local pid
    if pid="$(rmq_ours_pid)"; then
        local running_port running_node
        running_port="$(rmq_ours_env "$pid" RABBITMQ_NODE_PORT)"
        running_node="$(rmq_ours_env "$pid" RABBITMQ_NODENAME)"
        if [[ $running_port != "$RMQ_PORT" || $running_node != "$RMQ_NODE" ]]; then
            die "our RabbitMQ node ($running_node, AMQP port $running_port) is already running; run 'scripts/infra.sh down' first or set SAGAS_RABBIT_NODE=$running_node SAGAS_RABBIT_PORT=$running_port"
        fi
        say "RabbitMQ: reusing our node $RMQ_NODE (pid $pid)"
        REUSED_NODE=1
    elif port_in_use "$RMQ_PORT"; then
        if rmq_usable; then
            say "RabbitMQ: reusing the broker already on $RMQ_HOST:$RMQ_PORT (management on $RMQ_MGMT_PORT accepts the $RMQ_USER user)"
            return
        fi
        die "port $RMQ_PORT is in use by another process ($(port_owner "$RMQ_PORT")); stop it or set SAGAS_RABBIT_PORT"
    else
        rmq_check_free "$RMQ_MGMT_PORT" SAGAS_RABBIT_MGMT_PORT
        rmq_check_free "$RMQ_DIST_PORT" "SAGAS_RABBIT_PORT (the distribution port is AMQP port + 20000) or SAGAS_RABBIT_DIST_PORT"
        rmq_check_free "$RMQ_PROMETHEUS_PORT" "SAGAS_RABBIT_PORT (the Prometheus port is AMQP port + 10020) or SAGAS_RABBIT_PROMETHEUS_PORT"
        rmq_check_node_name
        say "RabbitMQ: preparing node $RMQ_NODE (configuration, plugins) in $RMQ_BASE"
        rmq_prepare
        if ! pgrep -x epmd >/dev/null 2>&1; then
            # The node starts epmd; remember that, so 'down' can stop it again when nothing else uses it.
            touch "$RMQ_BASE/started-epmd"
        fi
        say "RabbitMQ: starting node $RMQ_NODE on 127.0.0.1:$RMQ_PORT, management $RMQ_MGMT_PORT (logs $RMQ_LOG_DIR)"
        rm -f "$RMQ_PID_FILE"
        RMQ_LOG_START="$(line_count "$(rmq_log_file)")"
        local out
        out="$(rmq /usr/sbin/rabbitmq-server -detached 2>&1)" || rmq_fail "RabbitMQ failed to start: $(tail -n 1 <<<"$out")"
    fi
    rmq_wait_booted
    rmq_ensure_user
    rmq_wait_management
    [[ -z ${REUSED_NODE:-} ]] || rmq_check_prometheus
    say "RabbitMQ: ready on $RMQ_HOST:$RMQ_PORT (management http://$RMQ_HOST:$RMQ_MGMT_PORT, user $RMQ_USER; metrics http://$RMQ_HOST:$RMQ_PROMETHEUS_PORT/metrics/per-object)"
}

rmq_down() {
    rmq_paths
    local pid
    if ! pid="$(rmq_ours_pid)"; then
        say "RabbitMQ: our node is not running"
        return
    fi
    local node
    node="$(rmq_ours_env "$pid" RABBITMQ_NODENAME)"
    say "RabbitMQ: stopping our node $node (pid $pid)"
    RMQ_NODE="$node"
    rmq_settings
    if ! rmq /usr/sbin/rabbitmqctl -q -n "$node" stop "$RMQ_PID_FILE" >/dev/null 2>&1; then
        warn "rabbitmqctl stop failed; sending SIGTERM to pid $pid"
        kill -TERM "$pid" 2>/dev/null || true
    fi
    local deadline=$((SECONDS + TIMEOUT))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            warn "RabbitMQ (pid $pid) still running after ${TIMEOUT}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.5
    done
    # Erlang port-mapper daemon: stop it only if our node started it and no other node is registered.
    if [[ -f $RMQ_BASE/started-epmd ]]; then
        if have epmd && ! epmd -names 2>/dev/null | grep '^name ' >/dev/null; then
            epmd -kill >/dev/null 2>&1 || true
        fi
        rm -f "$RMQ_BASE/started-epmd"
    fi
}

rmq_status() {
    rmq_paths
    local pid
    if pid="$(rmq_ours_pid)"; then
        printf 'RabbitMQ: running, ours (pid %s, node %s, AMQP 127.0.0.1:%s, management %s, prometheus %s)\n' \
            "$pid" "$(rmq_ours_env "$pid" RABBITMQ_NODENAME)" "$(rmq_ours_env "$pid" RABBITMQ_NODE_PORT)" "$RMQ_MGMT_PORT" "$RMQ_PROMETHEUS_PORT"
        rmq_usable || { printf 'RabbitMQ: but the management API does not accept user %s\n' "$RMQ_USER"; return 1; }
    elif rmq_usable; then
        printf 'RabbitMQ: running, not started from this folder (%s:%s, management %s accepts %s)\n' \
            "$RMQ_HOST" "$RMQ_PORT" "$RMQ_MGMT_PORT" "$RMQ_USER"
    elif port_in_use "$RMQ_PORT"; then
        printf 'RabbitMQ: port %s is taken by another process (%s)\n' "$RMQ_PORT" "$(port_owner "$RMQ_PORT")"
        return 1
    else
        printf 'RabbitMQ: not running (port %s)\n' "$RMQ_PORT"
        return 1
    fi
}

# Fault injection (make bench): only ever on the node started from this folder.
rmq_app() {
    local action="$1" pid
    rmq_paths
    pid="$(rmq_ours_pid)" || die "RabbitMQ: no node of ours is running; refusing to touch another broker"
    RMQ_NODE="$(rmq_ours_env "$pid" RABBITMQ_NODENAME)"
    rmq_settings
    local out
    case "$action" in
    stop)
        out="$(rmq /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE" stop_app 2>&1)" ||
            die "RabbitMQ: stop_app on $RMQ_NODE failed: $(tail -n 1 <<<"$out")"
        say "RabbitMQ: application stopped on $RMQ_NODE (node still up)"
        ;;
    start)
        out="$(rmq /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE" start_app 2>&1)" ||
            die "RabbitMQ: start_app on $RMQ_NODE failed: $(tail -n 1 <<<"$out")"
        rmq_wait_management
        say "RabbitMQ: application started on $RMQ_NODE"
        ;;
    *) die "usage: scripts/infra.sh rabbit-app stop|start" ;;
    esac
}
