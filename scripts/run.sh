#!/usr/bin/env bash
# `make run`: build once, bring up PostgreSQL + RabbitMQ, migrate, start Api, Workers and PaymentSandbox
# with development settings, wait until all three are ready, print how to use them, then stay in the
# foreground until Ctrl-C / SIGTERM, which stops the three .NET processes (the infrastructure keeps
# running; `make stop` stops it).
#
#   scripts/run.sh          start (what `make run` does)
#   scripts/run.sh stop     stop .NET processes a previous run left behind (part of `make stop`)
#
# Settings (environment): SAGAS_API_PORT (5080), SAGAS_WORKERS_PORT (5081), SAGAS_SANDBOX_PORT (5090),
# SAGAS_READY_PATH (/health/ready), SAGAS_READY_TIMEOUT (90 s), SAGAS_MIGRATE_TIMEOUT (120 s),
# SAGAS_STOP_TIMEOUT (10 s), plus everything scripts/infra.sh reads. Any .NET setting already present in
# the environment (e.g. Saga__PaymentWindow=00:00:10, ApiKeys__…, Webhooks__Secret) wins over the
# development defaults below.
set -euo pipefail

SAGAS_SCRIPT=run
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SAGAS_ROOT"

API_PORT="${SAGAS_API_PORT:-5080}"
WORKERS_PORT="${SAGAS_WORKERS_PORT:-5081}"
SANDBOX_PORT="${SAGAS_SANDBOX_PORT:-5090}"
READY_PATH="${SAGAS_READY_PATH:-/health/ready}"
READY_TIMEOUT="${SAGAS_READY_TIMEOUT:-90}"
MIGRATE_TIMEOUT="${SAGAS_MIGRATE_TIMEOUT:-120}"
STOP_TIMEOUT="${SAGAS_STOP_TIMEOUT:-10}"

RUN_DIR="$SAGAS_LOCAL/run"
LOG_DIR="$SAGAS_LOCAL/logs"
BIN="bin/Release/net10.0"

SERVICES=(api workers sandbox)
declare -A DLL=(
    [api]="$SAGAS_ROOT/src/Api/$BIN/Sagas.Api.dll"
    [workers]="$SAGAS_ROOT/src/Workers/$BIN/Sagas.Workers.dll"
    [sandbox]="$SAGAS_ROOT/src/PaymentSandbox/$BIN/Sagas.PaymentSandbox.dll"
)
declare -A PORT=([api]="$API_PORT" [workers]="$WORKERS_PORT" [sandbox]="$SANDBOX_PORT")
declare -A PORT_VARIABLE=([api]=SAGAS_API_PORT [workers]=SAGAS_WORKERS_PORT [sandbox]=SAGAS_SANDBOX_PORT)
declare -A TITLE=([api]=Api [workers]=Workers [sandbox]=PaymentSandbox)
declare -A PID=()

# Extra NAME=value settings handed to the .NET processes (only those the caller has not set).
SERVICE_ENV=()
# Settings the caller provided that differ from the defaults, shown in the banner.
OVERRIDES=()

# The work, by concern (scripts/run/): processes.sh (start, watch, stop a .NET process), prepare.sh (the steps before
# the services start), services.sh (start, wait, seed, banner, watch).
RUN_PARTS="$(dirname "${BASH_SOURCE[0]}")/run"
# shellcheck source=scripts/run/processes.sh
source "$RUN_PARTS/processes.sh"
# shellcheck source=scripts/run/prepare.sh
source "$RUN_PARTS/prepare.sh"
# shellcheck source=scripts/run/services.sh
source "$RUN_PARTS/services.sh"

main() {
    case "${1:-start}" in
    start) ;;
    stop)
        stop_leftovers
        return
        ;;
    *) die "usage: scripts/run.sh [start|stop]" ;;
    esac

    have dotnet || die "dotnet is not installed (the .NET 10 SDK is needed)"
    take_lock
    trap on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    check_ports
    build
    infra_up
    configure
    check_ports
    migrate
    align_queue_types
    start_services
    wait_ready
    seed_demo_catalog
    banner
    watch_services
}

main "$@"
