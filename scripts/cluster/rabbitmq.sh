# shellcheck shell=bash
# The three RabbitMQ nodes: each started by scripts/infra's rmq_up in a folder of its own, nodes 2 and 3 joined to
# node 1 (rabbitmqctl join_cluster; one Erlang cookie, the rabbitmq user's), killed and started again one at a time,
# stopped, and what is up. Sourced by cluster.sh after settings.sh.

# All three at once: a node that was not the last of the cluster to stop waits for its peers while it boots, so
# starting them one after the other could wait on a node not yet started.
cluster_rabbit_up() {
    local n pids=() failed=0
    for n in "${RABBIT_NODES[@]}"; do
        in_rabbit_node "$n" rmq_up &
        pids+=($!)
    done
    for n in "${pids[@]}"; do
        wait "$n" || failed=1
    done
    ((failed == 0)) || die "RabbitMQ: a node of the cluster did not start (its error is above)"
    for n in "${RABBIT_NODES[@]:1}"; do
        in_rabbit_node "$n" rabbit_join_first
    done
    # Users, virtual host and permissions live in the cluster's shared metadata: set once, through node 1.
    in_rabbit_node 1 rmq_ensure_app_user
    say "RabbitMQ: cluster of $(rabbit_running_nodes | wc -w) running nodes: $(rabbit_running_nodes)"
}

# This node's view of the cluster as JSON (empty when it does not answer).
rabbit_cluster_status() {
    rmq /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE" cluster_status --formatter json 2>/dev/null || true
}

# The running members, as the first node that answers sees them.
rabbit_running_nodes() {
    local n status
    for n in "${RABBIT_NODES[@]}"; do
        status="$(in_rabbit_node "$n" rabbit_cluster_status)"
        if [[ -n $status ]]; then
            jq -r '.running_nodes | sort | join(" ")' <<<"$status"
            return
        fi
    done
}

rabbit_join_first() {
    local first status out
    first="$(rabbit_node_name 1)"
    status="$(rabbit_cluster_status)"
    if jq -e --arg first "$first" '(.disk_nodes // []) | index($first) != null' <<<"$status" >/dev/null 2>&1; then
        return
    fi
    say "RabbitMQ: joining $RMQ_NODE to $first (stop_app, reset, join_cluster, start_app)"
    out="$(rmq /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE" stop_app 2>&1)" || die "RabbitMQ: stop_app on $RMQ_NODE failed: $(tail -n 1 <<<"$out")"
    out="$(rmq /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE" reset 2>&1)" || die "RabbitMQ: reset of $RMQ_NODE failed: $(tail -n 1 <<<"$out")"
    out="$(rmq /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE" join_cluster "$first" 2>&1)" ||
        die "RabbitMQ: $RMQ_NODE could not join $first: $(tail -n 1 <<<"$out")"
    out="$(rmq /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE" start_app 2>&1)" || die "RabbitMQ: start_app on $RMQ_NODE failed: $(tail -n 1 <<<"$out")"
    rmq_wait_management
}

cluster_rabbit_down() {
    local n
    for n in 3 2 1; do
        in_rabbit_node "$n" rmq_down
    done
}

# `kill-rabbit N`: SIGKILL, as a crashed machine would; its quorum queue replicas elect leaders on the other two.
rabbit_kill() {
    local pid
    pid="$(rmq_ours_pid)" || die "RabbitMQ: node $RABBIT_N ($RMQ_NODE) is not running"
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    say "RabbitMQ: killed node $RABBIT_N ($RMQ_NODE, pid $pid) with SIGKILL at $(date -u +%H:%M:%S.%3N)"
}

# `start-rabbit N`: the node boots from its data folder and rejoins the running members by itself.
rabbit_start() {
    local started=$SECONDS
    rmq_up
    say "RabbitMQ: node $RABBIT_N back after $((SECONDS - started)) s; running nodes: $(rabbit_cluster_status | jq -r '.running_nodes | sort | join(" ")')"
}

rabbit_status_line() {
    local pid
    if pid="$(rmq_ours_pid)"; then
        printf 'RabbitMQ node %s: up   %s (pid %s) AMQP %s:%s, management http://%s:%s\n' \
            "$RABBIT_N" "$RMQ_NODE" "$pid" "$RMQ_HOST" "$RMQ_PORT" "$RMQ_HOST" "$RMQ_MGMT_PORT"
    else
        printf 'RabbitMQ node %s: DOWN %s (AMQP %s:%s)\n' "$RABBIT_N" "$RMQ_NODE" "$RMQ_HOST" "$RMQ_PORT"
        return 1
    fi
}

cluster_rabbit_status() {
    local n rc=0
    for n in "${RABBIT_NODES[@]}"; do
        in_rabbit_node "$n" rabbit_status_line || rc=1
    done
    printf 'RabbitMQ running members: %s\n' "$(rabbit_running_nodes || true)"
    rabbit_queue_summary || true
    return "$rc"
}

# The services' quorum queues as the first node that answers reports them: how many, where their leaders are, and how
# many lack a replica (a node down, or one catching up after it came back).
rabbit_queue_summary() {
    local n queues vhost
    vhost="$(jq -rn --arg v "$RMQ_APP_VHOST" '$v | @uri')"
    for n in "${RABBIT_NODES[@]}"; do
        queues="$(curl -s --fail --max-time 5 -u "$RMQ_USER:$RMQ_PASSWORD" \
            "http://$RMQ_HOST:$(rabbit_mgmt_port "$n")/api/queues/$vhost?columns=name,type,leader,members,online" 2>/dev/null)" || continue
        jq -r '[.[] | select(.type == "quorum")] as $q
            | "RabbitMQ quorum queues: \($q | length), leaders " + ([$q[].leader] | group_by(.) | map("\(.[0]) \(length)") | join(", "))
              + "; with a replica offline (management API, some seconds behind): \([$q[] | select((.online | length) < (.members | length))] | length)"' <<<"$queues"
        return
    done
}
