#!/usr/bin/env bash
# Project-local PostgreSQL 15 and RabbitMQ for development and tests, without Docker.
#
#   scripts/infra.sh up       install what is missing, start (or reuse) both, create the sagas role/user
#   scripts/infra.sh down     stop the PostgreSQL cluster and RabbitMQ node started from this folder
#   scripts/infra.sh status   say what is running where
#   scripts/infra.sh env      print export lines for the SAGAS_* and .NET configuration variables
#   scripts/infra.sh restart-pg           restart our PostgreSQL cluster (pg_ctl restart -m fast)
#   scripts/infra.sh rabbit-app stop|start  stop/start the RabbitMQ application on our node (the Erlang
#                                         node stays up, as `rabbitmqctl stop_app` does)
# The last two are fault injection for `make bench`; they refuse to touch a server not started from
# this folder (SAGAS_STATE_DIR, see lib.sh).
#   scripts/infra.sh pg-standby up|down|pause|resume  a streaming standby of our PostgreSQL for one test
#                                         (pg_basebackup -R, on SAGAS_PG_STANDBY_PORT; replay paused/resumed on request)
#   scripts/infra.sh rabbit-node up|down  start/stop only the RabbitMQ node of this folder, the whole node
#                                         (`rabbitmqctl stop`): for a test that stops a broker of its own
#                                         (SAGAS_STATE_DIR=.local/test-brokers/<name>, ports of its own)
# `down` also stops every node left running under .local/test-brokers (a test run that was killed).
#
# Settings (environment): SAGAS_PG_HOST/PORT/USER/PASSWORD/DATABASE (the owner), SAGAS_PG_API_USER/PASSWORD and
# SAGAS_PG_WORKERS_USER/PASSWORD (the Api's and the Workers' runtime roles), SAGAS_PG_SANDBOX_USER/PASSWORD/DATABASE, SAGAS_RABBIT_HOST/PORT/MGMT_PORT/
# USER/PASSWORD/NODE/DIST_PORT/PROMETHEUS_PORT (USER: the administrator), SAGAS_RABBIT_APP_USER/PASSWORD/VHOST (the
# services' user, on that vhost only), SAGAS_INFRA_TIMEOUT (seconds per readiness wait, default 60).
#
# RabbitMQ serves Prometheus metrics (the rabbitmq_prometheus plugin) on SAGAS_RABBIT_PROMETHEUS_PORT, by
# default the AMQP port + 10020 (15692 for 5672, RabbitMQ's own default): /metrics aggregated per node,
# /metrics/per-object per queue (depth, unacknowledged, the MassTransit _error queues).
#
# This file is the command interface; the work is in scripts/infra/, one file per concern: settings.sh (the
# environment above, ports checked and reserved), paths.sh, packages.sh, postgres.sh, rabbitmq-node.sh (the node
# process), rabbitmq.sh (users, up/down/status), test-brokers.sh (rabbit-node and the tests' leftovers), env.sh.
set -Eeuo pipefail
# A command that fails under `set -e` ends the script; say which, so no failure is silent (a bench run saw
# `rabbit-app start` exit 1 with no output at all, under load 60). The file named is the part the command is in.
trap 'rc=$?; [[ $BASH_COMMAND == return* || $BASH_COMMAND == exit* ]] ||
    printf "%s: line %s: \"%s\" exited with %s\n" "${BASH_SOURCE[0]##*/}" "$LINENO" "$BASH_COMMAND" "$rc" >&2' ERR

SAGAS_SCRIPT=infra
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# The parts, by concern (scripts/infra/): settings first (they read the environment and check the ports).
INFRA_DIR="$(dirname "${BASH_SOURCE[0]}")/infra"
# shellcheck source=scripts/infra/settings.sh
source "$INFRA_DIR/settings.sh"
# shellcheck source=scripts/infra/paths.sh
source "$INFRA_DIR/paths.sh"
# shellcheck source=scripts/infra/packages.sh
source "$INFRA_DIR/packages.sh"
# shellcheck source=scripts/infra/postgres.sh
source "$INFRA_DIR/postgres.sh"
# shellcheck source=scripts/infra/pg-standby.sh
source "$INFRA_DIR/pg-standby.sh"
# shellcheck source=scripts/infra/rabbitmq-node.sh
source "$INFRA_DIR/rabbitmq-node.sh"
# shellcheck source=scripts/infra/rabbitmq.sh
source "$INFRA_DIR/rabbitmq.sh"
# shellcheck source=scripts/infra/test-brokers.sh
source "$INFRA_DIR/test-brokers.sh"
# shellcheck source=scripts/infra/env.sh
source "$INFRA_DIR/env.sh"

require_root() {
    [[ $EUID -eq 0 ]] || die "'$1' must run as root (the services run as the postgres and rabbitmq users); try: sudo scripts/infra.sh $1"
}

usage() {
    cat <<'EOF'
usage: scripts/infra.sh up|down|status|env
  up      install what is missing, start (or reuse) PostgreSQL and RabbitMQ, create the sagas role/user
  down    stop the PostgreSQL cluster and RabbitMQ node started from this folder
  status  say what is running where (exit 1 if something is not usable)
  env     print export lines: eval "$(scripts/infra.sh env)"
  restart-pg              restart our PostgreSQL cluster (fault injection for make bench)
  rabbit-app stop|start   stop/start the RabbitMQ application on our node (fault injection)
  pg-standby up|down|pause|resume  a throwaway standby of our PostgreSQL (a test's; SAGAS_PG_STANDBY_PORT)
  rabbit-node up|down     start/stop only the RabbitMQ node of this folder (a test's own broker,
                          with SAGAS_STATE_DIR=.local/test-brokers/<name>); 'down' stops those too
EOF
}

main() {
    local command="${1:-}"
    case "$command" in
    up)
        require_root up
        ensure_packages
        pg_up
        rmq_up
        rmq_ensure_app_user
        ;;
    down)
        require_root down
        pg_standby_paths
        pg_standby_down
        pg_down
        rmq_down
        test_brokers_down
        ;;
    status)
        local rc=0
        pg_status || rc=1
        rmq_status || rc=1
        test_brokers_status
        return "$rc"
        ;;
    env)
        print_env
        ;;
    restart-pg)
        require_root restart-pg
        pg_restart
        ;;
    rabbit-app)
        require_root rabbit-app
        rmq_app "${2:-}"
        ;;
    pg-standby)
        require_root pg-standby
        pg_standby "${2:-}"
        ;;
    rabbit-node)
        require_root rabbit-node
        rmq_node "${2:-}"
        ;;
    -h | --help | help)
        usage
        ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
}

main "$@"
