# shellcheck shell=bash
# scripts/run.sh, the steps before the services start: the lock, the ports, the build, the infrastructure, the
# services' settings, the migrations, the queue types on the broker. Sourced by run.sh; do not run it.

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

# SAGAS_INFRA_SCRIPT: another script whose `up` brings the servers up (`make cluster`: scripts/cluster.sh).
infra_up() {
    "${SAGAS_INFRA_SCRIPT:-$SAGAS_ROOT/scripts/infra.sh}" up 9>&-
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
