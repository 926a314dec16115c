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

# ---------------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------------

# Alive and not a zombie.
alive() {
    local pid="$1" state
    [[ -n $pid ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    state="$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)"
    [[ $state != Z ]]
}

# SIGTERM (the process group, then the process), wait up to STOP_TIMEOUT, then SIGKILL.
terminate() {
    local name="$1" pid="$2"
    alive "$pid" || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while alive "$pid"; do
        if ((SECONDS >= deadline)); then
            warn "$name (pid $pid) did not stop within ${STOP_TIMEOUT}s; killing it"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    wait "$pid" 2>/dev/null || true
}

stop_services() {
    local quiet="${1:-}" name pids=()
    for name in "${!PID[@]}"; do
        if alive "${PID[$name]}"; then
            pids+=("$name")
            kill -TERM -- "-${PID[$name]}" 2>/dev/null || kill -TERM "${PID[$name]}" 2>/dev/null || true
        fi
    done
    if ((${#pids[@]} > 0)); then
        [[ -n $quiet ]] || say "stopping ${pids[*]}"
        for name in "${pids[@]}"; do
            terminate "$name" "${PID[$name]}"
        done
    fi
    for name in "${!PID[@]}"; do
        rm -f "$RUN_DIR/$name.pid"
    done
    PID=()
}

on_exit() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if ((rc == 0 || rc == 129 || rc == 130 || rc == 143)); then
        stop_services
        say "stopped (PostgreSQL and RabbitMQ keep running; 'make stop' stops them)"
    else
        # A failure: its one line has been printed and stays the last thing on the screen.
        stop_services quiet
    fi
    rm -f "$RUN_DIR/run.pid"
    exit "$rc"
}

# Start a .NET program in its output folder (its content root: appsettings.json, wwwroot) in a session
# of its own, so a Ctrl-C in the terminal reaches only this script, which then stops it in order.
# The lock descriptor (9) is closed so no child can keep `make run` locked. The address is also given as
# plain `Urls`, which outranks a "Urls" in the program's appsettings.json (the sandbox has one).
launch() {
    local name="$1" log="$2" dll="$3" urls="$4"
    shift 4
    local own=()
    case "$name" in
    # Least privilege: only the migration step gets the owner's connection; the Api and the Workers each their own role
    # (DML on their own tables), the sandbox its own role and database. A ConnectionStrings__Postgres of the caller's
    # environment wins, as every other setting does.
    migrate) own=("ConnectionStrings__Migrations=$SAGAS_PG_OWNER_CONNECTION" "ConnectionStrings__Postgres=$(own_connection "$SAGAS_PG_API_CONNECTION")") ;;
    api) own=("ConnectionStrings__Postgres=$(own_connection "$SAGAS_PG_API_CONNECTION")") ;;
    workers) own=("ConnectionStrings__Postgres=$(own_connection "$SAGAS_PG_WORKERS_CONNECTION")") ;;
    sandbox) own=("ConnectionStrings__Postgres=$SAGAS_PG_SANDBOX_CONNECTION") ;;
    esac
    (cd "$(dirname "$dll")" && exec setsid env "${SERVICE_ENV[@]}" "${own[@]}" ASPNETCORE_URLS="$urls" Urls="$urls" dotnet "$dll" "$@") \
        >"$log" 2>&1 </dev/null 9>&- &
    PID[$name]=$!
    printf '%s\n' "$!" >"$RUN_DIR/$name.pid"
}

# The connection a service gets: the caller's ConnectionStrings__Postgres when set, else its own role's.
own_connection() {
    printenv ConnectionStrings__Postgres || printf '%s' "$1"
}

# `run.sh stop`: stop what a previous run left behind (a run killed with SIGKILL, a closed terminal).
stop_leftovers() {
    local runner
    runner="$(cat "$RUN_DIR/run.pid" 2>/dev/null || true)"
    if pid_matches "$runner" scripts/run.sh; then
        say "asking the running 'make run' (pid $runner) to stop"
        kill -TERM "$runner" 2>/dev/null || true
        local deadline=$((SECONDS + STOP_TIMEOUT + 10))
        while alive "$runner" && ((SECONDS < deadline)); do sleep 0.2; done
    fi
    local file name pid
    for file in "$RUN_DIR"/*.pid; do
        [[ -f $file ]] || continue
        name="$(basename "$file" .pid)"
        pid="$(cat "$file" 2>/dev/null || true)"
        if [[ $name != run ]] && pid_matches "$pid" "$SAGAS_ROOT/src/"; then
            say "stopping leftover $name (pid $pid)"
            terminate "$name" "$pid"
        fi
        rm -f "$file"
    done
}

# ---------------------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------------------

take_lock() {
    mkdir -p "$RUN_DIR" "$LOG_DIR"
    exec 9>>"$RUN_DIR/run.lock"
    if ! flock -n 9; then
        local other
        other="$(cat "$RUN_DIR/run.pid" 2>/dev/null || true)"
        die "make run is already running (pid ${other:-unknown}); stop it with Ctrl-C in its terminal"
    fi
    printf '%s\n' "$$" >"$RUN_DIR/run.pid"
}

check_ports() {
    local name
    for name in "${SERVICES[@]}"; do
        check_port_value "${PORT_VARIABLE[$name]}" "${PORT[$name]}"
        if port_in_use "${PORT[$name]}"; then
            die "port ${PORT[$name]} (${TITLE[$name]}) is in use by another process ($(port_owner "${PORT[$name]}")); stop it or set ${PORT_VARIABLE[$name]}"
        fi
    done
}

build() {
    say "building Sagas.sln (Release)"
    if ! dotnet build Sagas.sln -c Release -nologo -v minimal 9>&-; then
        die "build failed (errors above); fix them and run 'make run' again"
    fi
}

infra_up() {
    "$SAGAS_ROOT/scripts/infra.sh" up 9>&-
}

# Use a value unless the caller's environment already has the name. Works for names bash cannot hold
# as variables (ApiKeys__dev-storefront-key), which is why the values travel through `env`.
default_setting() {
    local name="$1" value="$2" current
    if current="$(printenv "$name")"; then
        [[ $current == "$value" ]] || OVERRIDES+=("$name=$current")
    else
        SERVICE_ENV+=("$name=$value")
    fi
}

configure() {
    local line name value
    # The connection settings of the infrastructure, parsed from `infra.sh env`.
    while IFS= read -r line; do
        [[ $line == export\ * ]] || continue
        line="${line#export }"
        name="${line%%=*}"
        value="$(eval "printf '%s' ${line#*=}")"
        # SAGAS_* (the owner's and the administrator's credentials among them) are this script's, not the services'.
        if [[ $name == SAGAS_* ]]; then
            printf -v "$name" '%s' "$(printenv "$name" || printf '%s' "$value")"
        else
            default_setting "$name" "$value"
        fi
    done < <("$SAGAS_ROOT/scripts/infra.sh" env)

    default_setting ASPNETCORE_ENVIRONMENT Development
    default_setting DOTNET_ENVIRONMENT Development
    default_setting ApiKeys__dev-storefront-key storefront
    default_setting ApiKeys__dev-support-key support
    default_setting ApiKeys__dev-admin-key admin
    default_setting Webhooks__Secret dev-webhook-secret
    default_setting PaymentProvider__BaseUrl "http://127.0.0.1:$SANDBOX_PORT"
    default_setting Sandbox__WebhookUrl "http://127.0.0.1:$API_PORT/webhooks/payments"
    default_setting Demo__ApiUrl "http://127.0.0.1:$API_PORT"
    # The sandbox's appsettings.json holds no key: the demo checkout plays the development storefront.
    default_setting Demo__StorefrontKey dev-storefront-key
    local timing
    for timing in Saga__PaymentWindow Saga__PollInterval Saga__StuckAfter; do
        if value="$(printenv "$timing")"; then
            OVERRIDES+=("$timing=$value")
        fi
    done
}

# Run `Sagas.Api migrate` (src/Data/MigrateCommand.cs): it applies pending migrations and exits, so a failed
# migration is reported in one line before any service starts.
migrate() {
    local log="$LOG_DIR/migrate.log"
    say "migrating the database (Sagas.Api migrate, log $log)"
    # The command never listens; port 0 all the same, so no URL of a running service is ever handed to it.
    launch migrate "$log" "${DLL[api]}" http://127.0.0.1:0 migrate
    local pid="${PID[migrate]}" deadline=$((SECONDS + MIGRATE_TIMEOUT)) rc=0
    while alive "$pid"; do
        if ((SECONDS >= deadline)); then
            terminate migrate "$pid"
            log_tail "$log"
            printf 'migration failed: no result within %ss (log %s)\n' "$MIGRATE_TIMEOUT" "$log" >&2
            exit 1
        fi
        sleep 0.3
    done
    wait "$pid" || rc=$?
    unset 'PID[migrate]'
    rm -f "$RUN_DIR/migrate.pid"
    if ((rc != 0)); then
        local reason
        reason="$(grep -m 1 '^migration failed:' "$log" || true)"
        log_tail "$log"
        printf '%s\n' "${reason:-migration failed: Sagas.Api migrate exited with code $rc (log $log)}" >&2
        exit 1
    fi
    local summary
    summary="$(grep -v '^[[:space:]]*$' "$log" | tail -n 1 || true)"
    say "${summary:-migrations: done}"
}

# The services declare every durable queue as a quorum queue unless RabbitMq__QuorumQueues=false, and RabbitMQ refuses
# to declare an existing queue with another type (PRECONDITION_FAILED): on a broker kept from a run before the switch
# (.local/rabbitmq survives `make stop`), or after flipping the setting, the Api and the Workers would never become
# ready. So the endpoint queues of the other type (a durable queue bound from the exchange of its own name: how
# MassTransit declares endpoints and their _error/_skipped queues) are deleted when empty, and the services declare
# them again; a queue that still holds messages (orders in flight, or faulted ones) stops the run with what to do.
align_queue_types() {
    local wanted=quorum other=classic
    if [[ "$(printenv RabbitMq__QuorumQueues || true)" == [Ff]alse ]]; then
        wanted=classic other=quorum
    fi
    have jq || apt_install jq
    local vhost encoded api queues bindings candidates
    vhost="$(printenv RabbitMq__VirtualHost || printf '%s' "$SAGAS_RABBIT_APP_VHOST")"
    encoded="$(jq -rn --arg v "$vhost" '$v | @uri')"
    api="http://$SAGAS_RABBIT_HOST:$SAGAS_RABBIT_MGMT_PORT/api"
    local curl_args=(-s --fail --max-time 10 -u "$SAGAS_RABBIT_USER:$SAGAS_RABBIT_PASSWORD")
    queues="$(curl "${curl_args[@]}" "$api/queues/$encoded?columns=name,type,durable,auto_delete,exclusive,messages")" ||
        die "RabbitMQ: could not list the queues of vhost $vhost through the management API ($api)"
    bindings="$(curl "${curl_args[@]}" "$api/bindings/$encoded")" ||
        die "RabbitMQ: could not list the bindings of vhost $vhost through the management API ($api)"
    candidates="$(jq -r --arg other "$other" --argjson bindings "$bindings" '
        [$bindings[] | select(.destination_type == "queue" and .source == .destination) | .destination] as $endpoints
        | .[] | select(.type == $other and .durable and (.auto_delete | not) and ((.exclusive // false) | not))
        | select(.name as $name | any($endpoints[]; . == $name))
        | "\(.name)\t\(.messages // "?")"' <<<"$queues")"
    [[ -n $candidates ]] || return 0

    local name messages status guard deleted=() kept=()
    while IFS=$'\t' read -r name messages; do
        # if-empty: the broker itself refuses (400) to delete a classic queue that holds messages, whatever the lagging
        # count says. Quorum queues do not support it (RabbitMQ 3.10): for them the count must read 0, with no service
        # running to change it.
        guard='?if-empty=true'
        if [[ $other == quorum ]]; then
            guard=''
            [[ $messages == 0 ]] || { kept+=("$name ($messages messages)"); continue; }
        fi
        status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -u "$SAGAS_RABBIT_USER:$SAGAS_RABBIT_PASSWORD" -X DELETE \
            "$api/queues/$encoded/$(jq -rn --arg q "$name" '$q | @uri')$guard" || true)"
        case "$status" in
        204) deleted+=("$name") ;;
        *) kept+=("$name ($messages messages)") ;;
        esac
    done <<<"$candidates"
    if ((${#deleted[@]} > 0)); then
        say "RabbitMQ: deleted the empty $other queue(s) ${deleted[*]} on vhost $vhost; the services declare them again as $wanted queues"
    fi
    if ((${#kept[@]} > 0)); then
        die "RabbitMQ: ${kept[*]} on vhost $vhost are $other queues holding messages, and the services declare $wanted queues (RabbitMq__QuorumQueues); move or purge them at http://$SAGAS_RABBIT_HOST:$SAGAS_RABBIT_MGMT_PORT/#/queues and run make run again, or keep $other queues with RabbitMq__QuorumQueues=$([[ $other == quorum ]] && echo true || echo false) make run"
    fi
}

start_services() {
    local name
    for name in "${SERVICES[@]}"; do
        [[ -f ${DLL[$name]} ]] || die "${DLL[$name]} is missing after the build"
        launch "$name" "$LOG_DIR/$name.log" "${DLL[$name]}" "http://127.0.0.1:${PORT[$name]}"
        say "started ${TITLE[$name]} (pid ${PID[$name]}) on http://127.0.0.1:${PORT[$name]}, log .local/logs/$name.log"
    done
}

wait_ready() {
    local deadline=$((SECONDS + READY_TIMEOUT)) name status pending=("${SERVICES[@]}")
    say "waiting for GET $READY_PATH -> 200 on ${pending[*]} (up to ${READY_TIMEOUT}s)"
    while ((${#pending[@]} > 0)); do
        local still=()
        for name in "${pending[@]}"; do
            if ! alive "${PID[$name]}"; then
                local rc=0
                wait "${PID[$name]}" || rc=$?
                die_with_log "$LOG_DIR/$name.log" 0 "${TITLE[$name]} exited (code $rc) before it was ready (log .local/logs/$name.log)"
            fi
            status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:${PORT[$name]}$READY_PATH" || true)"
            if [[ $status == 200 ]]; then
                say "${TITLE[$name]} is ready"
            else
                still+=("$name")
            fi
        done
        pending=("${still[@]+"${still[@]}"}")
        ((${#pending[@]} > 0)) || break
        if ((SECONDS >= deadline)); then
            name="${pending[0]}"
            die_with_log "$LOG_DIR/$name.log" 0 "${TITLE[$name]} did not answer 200 on http://127.0.0.1:${PORT[$name]}$READY_PATH within ${READY_TIMEOUT}s (not ready: ${pending[*]}; log .local/logs/$name.log)"
        fi
        sleep 1
    done
}

# The items the demo checkout offers (the sandbox's Demo:Skus): created through the Api as admin when the
# catalog lacks them; existing items and their stock are left as they are.
DEMO_ITEMS=(
    'MOUSE-1|Wireless mouse|peripherals|19.99'
    'KEYBOARD-1|Mechanical keyboard|peripherals|89.00'
    'MONITOR-1|27-inch monitor|displays|249.00'
)

seed_demo_catalog() {
    local api="http://127.0.0.1:$API_PORT" key=dev-admin-key item sku name category price status created=()
    for item in "${DEMO_ITEMS[@]}"; do
        IFS='|' read -r sku name category price <<<"$item"
        status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "X-Api-Key: $key" "$api/items/$sku" || true)"
        [[ $status == 404 ]] || continue
        status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X PUT "$api/items/$sku" -H "X-Api-Key: $key" \
            -H 'Content-Type: application/json' \
            -d "{\"name\":\"$name\",\"category\":\"$category\",\"price\":$price,\"currency\":\"USD\",\"onHand\":100}" || true)"
        if [[ $status == 200 ]]; then
            created+=("$sku")
        else
            warn "could not add $sku for the demo checkout (PUT /items/$sku answered ${status:-nothing})"
        fi
    done
    if ((${#created[@]} > 0)); then
        say "demo checkout items added to the catalog: ${created[*]}"
    fi
}

# Where Api, Workers and sandbox serve GET /metrics (Prometheus text, no key).
metrics_urls() {
    if [[ $(printenv Metrics__Enabled || true) == false ]]; then
        printf 'off (Metrics__Enabled=false)'
    else
        printf 'http://127.0.0.1:%s/metrics, http://127.0.0.1:%s/metrics, http://127.0.0.1:%s/metrics' \
            "$API_PORT" "$WORKERS_PORT" "$SANDBOX_PORT"
    fi
}

banner() {
    local api="http://127.0.0.1:$API_PORT" rabbit_mgmt="http://$SAGAS_RABBIT_HOST:$SAGAS_RABBIT_MGMT_PORT"
    cat <<EOF

Sagas is running. Ctrl-C stops the .NET processes; 'make stop' also stops PostgreSQL and RabbitMQ.

  Api                  $api
  OpenAPI              $api/openapi/v1.json
  Swagger UI           $api/swagger
  Support console      $api/support  (sign in with dev-support-key)
  Demo checkout        http://127.0.0.1:$SANDBOX_PORT/demo/
  Workers              http://127.0.0.1:$WORKERS_PORT$READY_PATH
  Payment sandbox      http://127.0.0.1:$SANDBOX_PORT
  RabbitMQ management  $rabbit_mgmt  (administrator $SAGAS_RABBIT_USER, password $SAGAS_RABBIT_PASSWORD;
                       the services connect as $SAGAS_RABBIT_APP_USER, vhost $SAGAS_RABBIT_APP_VHOST only)
  Metrics              $(metrics_urls)
                       RabbitMQ http://$SAGAS_RABBIT_HOST:$SAGAS_RABBIT_PROMETHEUS_PORT/metrics/per-object
                       Prometheus: ops/prometheus/prometheus.yml, alerts ops/prometheus/alerts.yml (docs/observability.md)
  PostgreSQL           $SAGAS_PG_HOST:$SAGAS_PG_PORT, database $SAGAS_PG_DATABASE (owner $SAGAS_PG_USER migrates, the services
                       Api as $SAGAS_PG_API_USER, Workers as $SAGAS_PG_WORKERS_USER: DML on their own tables only); sandbox ledger in $SAGAS_PG_SANDBOX_DATABASE ($SAGAS_PG_SANDBOX_USER)
  Logs                 .local/logs/api.log, workers.log, sandbox.log

Dev API keys (header X-Api-Key):
  dev-storefront-key   storefront
  dev-support-key      support
  dev-admin-key        admin

Try it:
  curl -s -X PUT $api/items/MOUSE-1 -H 'X-Api-Key: dev-admin-key' -H 'Content-Type: application/json' -d '{"name":"Mouse","category":"peripherals","price":19.99,"currency":"USD","onHand":100}'
  curl -si -X POST $api/orders -H 'X-Api-Key: dev-storefront-key' -H 'Idempotency-Key: demo-1' -H 'Content-Type: application/json' -d '{"customerId":"c-1","currency":"USD","lines":[{"sku":"MOUSE-1","quantity":2}]}'
  curl -s $api/orders/<orderId from the answer above> -H 'X-Api-Key: dev-storefront-key'
EOF
    if ((${#OVERRIDES[@]} > 0)); then
        printf '\nFrom your environment:\n'
        printf '  %s\n' "${OVERRIDES[@]}"
    fi
    printf '\n'
}

# Stay in the foreground; if a service dies on its own, report it and stop the others.
watch_services() {
    local name
    while true; do
        for name in "${SERVICES[@]}"; do
            if ! alive "${PID[$name]}"; then
                local rc=0
                wait "${PID[$name]}" || rc=$?
                die_with_log "$LOG_DIR/$name.log" 0 "${TITLE[$name]} (pid ${PID[$name]}) exited on its own (code $rc); stopping the others"
            fi
        done
        # Without the lock descriptor: a sleep outliving this script must not keep the next `make run` out.
        sleep 1 9>&- &
        wait $! || true
    done
}

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
