#!/usr/bin/env bash
# `make cluster`: the services against a three-node RabbitMQ cluster and a PostgreSQL primary with a synchronous
# streaming standby, all on this machine (state in .local/cluster), and the failovers an operator performs on them.
#
#   scripts/cluster.sh run               what `make cluster` does: build, `up`, migrate, run Api/Workers/sandbox on the
#                                        cluster (scripts/run.sh; Ctrl-C stops the services, the servers keep running)
#   scripts/cluster.sh up                start (or reuse) the three nodes and both servers; after a promotion, also
#                                        rebuilds the old primary as the new one's standby
#   scripts/cluster.sh down              stop the nodes and both servers started from this folder (part of `make stop`)
#   scripts/cluster.sh status            which node and server is up, primary or standby, the replication lag
#   scripts/cluster.sh env               export lines: the services' settings for the cluster
#   scripts/cluster.sh kill-rabbit N     kill -9 RabbitMQ node N (1-3)
#   scripts/cluster.sh start-rabbit N    start node N again; it rejoins the cluster
#   scripts/cluster.sh promote-standby   stop the primary (immediate, as a crash) and promote the standby
#   scripts/cluster.sh smoke [N]         with make cluster running: an order Placed, node N (1) killed, another,
#                                        the standby promoted, a third (SAGAS_API_PORT/SAGAS_SANDBOX_PORT if moved)
#
# Settings (environment): SAGAS_CLUSTER_RABBIT_PORT (5701: node N listens on 5700+N), SAGAS_CLUSTER_RABBIT_MGMT_PORT
# (15701: management of node N on 15700+N; distribution AMQP + 20000, Prometheus AMQP + 10020, as infra.sh numbers
# them), SAGAS_CLUSTER_RABBIT_NODE_PREFIX (sagas-cluster: nodes sagas-cluster-N@localhost), SAGAS_CLUSTER_PG_PORT
# (55441: server 1, server 2 on the next port), SAGAS_CLUSTER_PG_REPLICATION_USER/PASSWORD, and the users, passwords
# and databases scripts/infra.sh reads (SAGAS_PG_USER, SAGAS_RABBIT_APP_USER, ...).
#
# The work is in scripts/cluster/: settings.sh (ports, folders, running scripts/infra's functions against one node or
# server), rabbitmq.sh (the nodes), postgres.sh (primary, standby, promotion), smoke.sh (the smoke above).
set -Eeuo pipefail
trap 'rc=$?; [[ $BASH_COMMAND == return* || $BASH_COMMAND == exit* ]] ||
    printf "%s: line %s: \"%s\" exited with %s\n" "${BASH_SOURCE[0]##*/}" "$LINENO" "$BASH_COMMAND" "$rc" >&2' ERR

SAGAS_SCRIPT=cluster
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
INFRA_DIR="$(dirname "${BASH_SOURCE[0]}")/infra"
for part in settings paths packages postgres rabbitmq-node rabbitmq env; do
    # shellcheck source=/dev/null
    source "$INFRA_DIR/$part.sh"
done
CLUSTER_PARTS="$(dirname "${BASH_SOURCE[0]}")/cluster"
# shellcheck source=scripts/cluster/settings.sh
source "$CLUSTER_PARTS/settings.sh"
# shellcheck source=scripts/cluster/rabbitmq.sh
source "$CLUSTER_PARTS/rabbitmq.sh"
# shellcheck source=scripts/cluster/postgres.sh
source "$CLUSTER_PARTS/postgres.sh"
# shellcheck source=scripts/cluster/smoke.sh
source "$CLUSTER_PARTS/smoke.sh"

require_root() {
    [[ $EUID -eq 0 ]] || die "'$1' must run as root (the servers run as the postgres and rabbitmq users); try: sudo scripts/cluster.sh $1"
}

usage() {
    sed -n '3,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# What scripts/run.sh needs to run the services on the cluster: the servers' settings it reads (SAGAS_*, which win over
# `infra.sh env`'s) with multi-host connection strings, and the node list for the services.
cluster_env() {
    local primary
    primary="$(pg_primary_number)"
    cat <<EOF
SAGAS_PG_PORT=$(pg_server_port "$primary")
SAGAS_RABBIT_PORT=$(rabbit_port 1)
SAGAS_RABBIT_MGMT_PORT=$(rabbit_mgmt_port 1)
SAGAS_RABBIT_PROMETHEUS_PORT=$(($(rabbit_port 1) + 10020))
SAGAS_RABBIT_NODE=$(rabbit_node_name 1)
SAGAS_PG_OWNER_CONNECTION=$(cluster_connection "$PG_DATABASE" "$PG_USER" "$PG_PASSWORD")
SAGAS_PG_API_CONNECTION=$(cluster_connection "$PG_DATABASE" "$PG_API_USER" "$PG_API_PASSWORD")
SAGAS_PG_WORKERS_CONNECTION=$(cluster_connection "$PG_DATABASE" "$PG_WORKERS_USER" "$PG_WORKERS_PASSWORD")
SAGAS_PG_SANDBOX_CONNECTION=$(cluster_connection "$PG_SANDBOX_DATABASE" "$PG_SANDBOX_USER" "$PG_SANDBOX_PASSWORD")
RabbitMq__Nodes=$(rabbit_nodes_setting)
ConnectionStrings__PostgresReadOnly=$(cluster_read_only_connection "$PG_DATABASE" "$PG_API_USER" "$PG_API_PASSWORD")
SAGAS_RUN_TOPOLOGY=RabbitMQ nodes $(rabbit_nodes_setting) (management $RMQ_HOST:$(rabbit_mgmt_port 1)-$(rabbit_mgmt_port 3)); PostgreSQL primary $PG_HOST:$(pg_server_port "$primary"), synchronous standby $PG_HOST:$(pg_server_port $((3 - primary))); scripts/cluster.sh status
EOF
}

cluster_run() {
    local line
    while IFS= read -r line; do
        # The SAGAS_* settings describe the cluster (a SAGAS_PG_PORT left exported for make run must not point the
        # services at another server); a .NET setting of the caller's (RabbitMq__Nodes) wins, as with make run.
        if [[ $line == SAGAS_* ]] || ! printenv "${line%%=*}" >/dev/null; then
            export "${line?}"
        fi
    done < <(cluster_env)
    export SAGAS_INFRA_SCRIPT="$SAGAS_ROOT/scripts/cluster.sh"
    exec "$SAGAS_ROOT/scripts/run.sh"
}

main() {
    local command="${1:-}"
    case "$command" in
    run) cluster_run ;;
    up)
        require_root up
        ensure_packages
        cluster_pg_up
        cluster_rabbit_up
        ;;
    down)
        require_root down
        [[ -d $CLUSTER_DIR ]] || return 0
        cluster_pg_down
        cluster_rabbit_down
        ;;
    status)
        local rc=0
        cluster_rabbit_status || rc=1
        cluster_pg_status || rc=1
        return "$rc"
        ;;
    env)
        local line
        while IFS= read -r line; do
            printf 'export %s=%s\n' "${line%%=*}" "$(quote "${line#*=}")"
        done < <(cluster_env)
        ;;
    kill-rabbit | start-rabbit)
        require_root "$command"
        local n="${2:-}"
        [[ $n =~ ^[123]$ ]] || die "usage: scripts/cluster.sh $command 1|2|3"
        if [[ $command == kill-rabbit ]]; then
            in_rabbit_node "$n" rabbit_kill
        else
            in_rabbit_node "$n" rabbit_start
        fi
        ;;
    promote-standby)
        require_root promote-standby
        cluster_pg_promote
        ;;
    smoke)
        require_root smoke
        have jq || die "jq is missing (scripts/cluster.sh up installs it)"
        cluster_smoke "${2:-1}"
        ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
}

main "$@"
