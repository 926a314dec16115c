# shellcheck shell=bash
# Settings of scripts/infra.sh: who and where, from the environment (see the header of infra.sh), with the ports
# checked and reserved. Sourced by infra.sh after lib.sh; do not run it.

PGBIN=/usr/lib/postgresql/15/bin

PG_HOST="${SAGAS_PG_HOST:-127.0.0.1}"
PG_PORT="${SAGAS_PG_PORT:-55432}"
PG_USER="${SAGAS_PG_USER:-sagas}"
PG_PASSWORD="${SAGAS_PG_PASSWORD:-sagas-dev-password}"
PG_DATABASE="${SAGAS_PG_DATABASE:-sagas}"
# Least privilege: PG_USER owns the database and migrates (and, for the tests and the benchmark, creates databases);
# the Api connects as PG_API_USER and the Workers as PG_WORKERS_USER (each: DML on the tables the migrations grant its
# service, nothing else); the payment sandbox as PG_SANDBOX_USER, owner of a database of its own that no other role may
# enter. (A cluster made before the roles were split keeps its unused sagas_app role; nothing connects as it.)
PG_API_USER="${SAGAS_PG_API_USER:-sagas_api}"
PG_API_PASSWORD="${SAGAS_PG_API_PASSWORD:-sagas-api-dev-password}"
PG_WORKERS_USER="${SAGAS_PG_WORKERS_USER:-sagas_workers}"
PG_WORKERS_PASSWORD="${SAGAS_PG_WORKERS_PASSWORD:-sagas-workers-dev-password}"
PG_SANDBOX_USER="${SAGAS_PG_SANDBOX_USER:-sagas_sandbox}"
PG_SANDBOX_PASSWORD="${SAGAS_PG_SANDBOX_PASSWORD:-sagas-sandbox-dev-password}"
# Streaming replication only (a test's standby, scripts/infra.sh pg-standby): REPLICATION, no database rights.
PG_REPLICATION_USER="${SAGAS_PG_REPLICATION_USER:-sagas_replication}"
PG_REPLICATION_PASSWORD="${SAGAS_PG_REPLICATION_PASSWORD:-sagas-replication-dev-password}"
PG_SANDBOX_DATABASE="${SAGAS_PG_SANDBOX_DATABASE:-sagas_sandbox}"

RMQ_HOST="${SAGAS_RABBIT_HOST:-127.0.0.1}"
RMQ_PORT="${SAGAS_RABBIT_PORT:-5672}"
RMQ_MGMT_PORT="${SAGAS_RABBIT_MGMT_PORT:-15672}"
RMQ_USER="${SAGAS_RABBIT_USER:-sagas}"
RMQ_PASSWORD="${SAGAS_RABBIT_PASSWORD:-sagas-dev-password}"
RMQ_NODE="${SAGAS_RABBIT_NODE:-rabbit@localhost}"
# RMQ_USER administers the node (management UI, the tests' and the benchmark's own virtual hosts); the services
# connect as RMQ_APP_USER, which may configure, write and read on RMQ_APP_VHOST only and has no management tag.
RMQ_APP_USER="${SAGAS_RABBIT_APP_USER:-sagas_app}"
RMQ_APP_PASSWORD="${SAGAS_RABBIT_APP_PASSWORD:-sagas-app-dev-password}"
RMQ_APP_VHOST="${SAGAS_RABBIT_APP_VHOST:-sagas}"

TIMEOUT="${SAGAS_INFRA_TIMEOUT:-60}"

check_port_value SAGAS_PG_PORT "$PG_PORT"
check_port_value SAGAS_RABBIT_PORT "$RMQ_PORT"
check_port_value SAGAS_RABBIT_MGMT_PORT "$RMQ_MGMT_PORT"
# Erlang distribution port: AMQP port + 20000 (RabbitMQ's own convention), so a second node on other
# ports never collides with the first one's distribution listener.
RMQ_DIST_PORT="${SAGAS_RABBIT_DIST_PORT:-$((RMQ_PORT + 20000))}"
if [[ -z ${SAGAS_RABBIT_DIST_PORT:-} ]] && ((RMQ_DIST_PORT > 65535)); then
    die "SAGAS_RABBIT_PORT=$RMQ_PORT leaves no room for the distribution port (AMQP port + 20000); use a port below 45536 or set SAGAS_RABBIT_DIST_PORT"
fi
check_port_value SAGAS_RABBIT_DIST_PORT "$RMQ_DIST_PORT"
RMQ_PROMETHEUS_PORT="${SAGAS_RABBIT_PROMETHEUS_PORT:-$((RMQ_PORT + 10020))}"
if [[ -z ${SAGAS_RABBIT_PROMETHEUS_PORT:-} ]] && ((RMQ_PROMETHEUS_PORT > 65535)); then
    die "SAGAS_RABBIT_PORT=$RMQ_PORT leaves no room for the Prometheus port (AMQP port + 10020); set SAGAS_RABBIT_PROMETHEUS_PORT"
fi
check_port_value SAGAS_RABBIT_PROMETHEUS_PORT "$RMQ_PROMETHEUS_PORT"
for port in "$PG_PORT" "$RMQ_PORT" "$RMQ_MGMT_PORT" "$RMQ_DIST_PORT" "$RMQ_PROMETHEUS_PORT"; do
    reserve_port "$port"
done
