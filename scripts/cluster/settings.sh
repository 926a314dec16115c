# shellcheck shell=bash
# Settings of scripts/cluster.sh: the three RabbitMQ nodes and the two PostgreSQL servers, their ports (from the
# environment, checked and reserved as scripts/infra/settings.sh does for one server) and folders, and a way to run one
# of scripts/infra's functions against one of them. Sourced by cluster.sh after the infra parts; do not run it.

CLUSTER_DIR="$SAGAS_LOCAL/cluster"
CLUSTER_RABBIT_PORT="${SAGAS_CLUSTER_RABBIT_PORT:-5701}"
CLUSTER_RABBIT_MGMT_PORT="${SAGAS_CLUSTER_RABBIT_MGMT_PORT:-15701}"
CLUSTER_RABBIT_NODE_PREFIX="${SAGAS_CLUSTER_RABBIT_NODE_PREFIX:-sagas-cluster}"
CLUSTER_PG_PORT="${SAGAS_CLUSTER_PG_PORT:-55441}"
CLUSTER_PG_REPLICATION_USER="${SAGAS_CLUSTER_PG_REPLICATION_USER:-sagas_replicator}"
CLUSTER_PG_REPLICATION_PASSWORD="${SAGAS_CLUSTER_PG_REPLICATION_PASSWORD:-sagas-replication-dev-password}"
# Three nodes booting at once on a small machine take longer than one.
TIMEOUT="${SAGAS_INFRA_TIMEOUT:-120}"
RABBIT_NODES=(1 2 3)
PG_SERVERS=(1 2)

check_port_value SAGAS_CLUSTER_RABBIT_PORT "$CLUSTER_RABBIT_PORT"
check_port_value SAGAS_CLUSTER_RABBIT_MGMT_PORT "$CLUSTER_RABBIT_MGMT_PORT"
check_port_value SAGAS_CLUSTER_PG_PORT "$CLUSTER_PG_PORT"
((CLUSTER_RABBIT_PORT + 2 + 20000 <= 65535)) ||
    die "SAGAS_CLUSTER_RABBIT_PORT=$CLUSTER_RABBIT_PORT leaves no room for the distribution ports (AMQP port + 20000); use a port below 45534"
((CLUSTER_RABBIT_MGMT_PORT + 2 <= 65535 && CLUSTER_PG_PORT + 1 <= 65535)) || die "SAGAS_CLUSTER_RABBIT_MGMT_PORT / SAGAS_CLUSTER_PG_PORT too high"

# Node N (1-3): AMQP, management, distribution (AMQP + 20000) and Prometheus (AMQP + 10020) ports, as infra.sh numbers one node's.
rabbit_port() { printf '%s' "$((CLUSTER_RABBIT_PORT + $1 - 1))"; }
rabbit_mgmt_port() { printf '%s' "$((CLUSTER_RABBIT_MGMT_PORT + $1 - 1))"; }
rabbit_node_name() { printf '%s-%s@localhost' "$CLUSTER_RABBIT_NODE_PREFIX" "$1"; }
pg_server_port() { printf '%s' "$((CLUSTER_PG_PORT + $1 - 1))"; }
# The name a server's WAL receiver gives itself (cluster_name), which synchronous_standby_names on the primary names.
pg_server_name() { printf 'sagas_pg_%s' "$1"; }

for n in "${RABBIT_NODES[@]}"; do
    for port in "$(rabbit_port "$n")" "$(rabbit_mgmt_port "$n")" "$(($(rabbit_port "$n") + 20000))" "$(($(rabbit_port "$n") + 10020))"; do
        reserve_port "$port"
    done
done
for n in "${PG_SERVERS[@]}"; do
    reserve_port "$(pg_server_port "$n")"
done

# Run a function of scripts/infra (rmq_up, rmq_down, ...) or of this folder against node N, in a subshell: each node
# is a state folder of its own (.local/cluster/rabbit-N, as a test's broker is), so infra's ownership checks hold.
in_rabbit_node() {
    local n="$1"
    shift
    (
        SAGAS_STATE_DIR="$CLUSTER_DIR/rabbit-$n"
        SAGAS_LOCAL="$SAGAS_STATE_DIR"
        RMQ_PORT="$(rabbit_port "$n")"
        RMQ_MGMT_PORT="$(rabbit_mgmt_port "$n")"
        RMQ_DIST_PORT=$((RMQ_PORT + 20000))
        RMQ_PROMETHEUS_PORT=$((RMQ_PORT + 10020))
        RMQ_NODE="$(rabbit_node_name "$n")"
        RABBIT_N="$n"
        rmq_paths
        "$@"
    )
}

# The same for PostgreSQL server N (1 or 2), in .local/cluster/pg-N.
in_pg_server() {
    local n="$1"
    shift
    (
        SAGAS_STATE_DIR="$CLUSTER_DIR/pg-$n"
        SAGAS_LOCAL="$SAGAS_STATE_DIR"
        PG_PORT="$(pg_server_port "$n")"
        PG_N="$n"
        pg_paths
        "$@"
    )
}

# Which server is the primary (1 unless a promotion made it 2): remembered in .local/cluster/pg-primary, so that
# `up` after a failover never starts the old primary as a second one.
pg_primary_number() {
    local n
    n="$(cat "$CLUSTER_DIR/pg-primary" 2>/dev/null || true)"
    [[ $n == 2 ]] && printf '2' || printf '1'
}

# The connection strings of the services: both servers, Npgsql picks the one that is primary now (and again after a
# promotion, without a restart of the service).
cluster_connection() {
    local database="$1" user="$2" password="$3"
    printf 'Host=%s:%s,%s:%s;Database=%s;Username=%s;Password=%s;Target Session Attributes=primary' \
        "$PG_HOST" "$(pg_server_port 1)" "$PG_HOST" "$(pg_server_port 2)" "$database" "$user" "$password"
}

# The Api's read-only pool (ConnectionStrings__PostgresReadOnly): a standby when there is one, else the primary; the
# standby first in the list, so reads follow a rebuilt standby back after a promotion.
cluster_read_only_connection() {
    local database="$1" user="$2" password="$3" standby
    standby=$((3 - $(pg_primary_number)))
    printf 'Host=%s:%s,%s:%s;Database=%s;Username=%s;Password=%s;Target Session Attributes=prefer-standby' \
        "$PG_HOST" "$(pg_server_port "$standby")" "$PG_HOST" "$(pg_server_port $((3 - standby)))" "$database" "$user" "$password"
}

rabbit_nodes_setting() {
    local n nodes=()
    for n in "${RABBIT_NODES[@]}"; do
        nodes+=("$RMQ_HOST:$(rabbit_port "$n")")
    done
    local IFS=,
    printf '%s' "${nodes[*]}"
}
