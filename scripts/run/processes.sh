# shellcheck shell=bash
# scripts/run.sh, the processes: starting a .NET service in a session of its own, telling whether it lives, stopping
# it (and what a previous run left behind). Sourced by run.sh; do not run it.

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
