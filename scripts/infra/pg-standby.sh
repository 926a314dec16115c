# shellcheck shell=bash
# `pg-standby`: a throwaway streaming standby of our PostgreSQL cluster for one test (read routing, issue 17): made with
# pg_basebackup -R into .local/pg-standby, started on SAGAS_PG_STANDBY_PORT, its replay paused and resumed on request,
# stopped and deleted by `down` (and by `infra.sh down` when a killed test run left it). Asynchronous: the primary never
# waits for it, so stopping it cannot hold a commit. Sourced by infra.sh.

pg_standby_paths() {
    PG_STANDBY_BASE="$(service_dir pg-standby postgres)"
    PG_STANDBY_DATA="$PG_STANDBY_BASE/data"
    PG_STANDBY_RUN="$PG_STANDBY_BASE/run"
    PG_STANDBY_LOG="$PG_STANDBY_BASE/log/postgresql.log"
}

pg_standby_running() {
    [[ -f $PG_STANDBY_DATA/PG_VERSION ]] && as_postgres "$PGBIN/pg_ctl" status -D "$PG_STANDBY_DATA" >/dev/null 2>&1
}

pg_standby_sql() {
    as_postgres "$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_STANDBY_RUN" -p "$(sed -n 4p "$PG_STANDBY_DATA/postmaster.pid")" \
        -d postgres -c "$1"
}

pg_standby_up() {
    local port="${SAGAS_PG_STANDBY_PORT:-}"
    [[ $port =~ ^[0-9]+$ ]] || die "pg-standby up needs SAGAS_PG_STANDBY_PORT (the standby's port)"
    pg_paths
    pg_ours_running || die "PostgreSQL: our cluster ($PG_DATA) is not running; 'scripts/infra.sh up' first"
    pg_standby_down
    mkdir -p "$PG_STANDBY_BASE"
    chown postgres:postgres "$PG_STANDBY_BASE"
    as_postgres mkdir -p "$PG_STANDBY_RUN" "$(dirname "$PG_STANDBY_LOG")"
    local log="$PG_STANDBY_BASE/log/basebackup.log"
    # -c fast: an immediate checkpoint instead of waiting for the next one; -X stream: the WAL of the copy comes along.
    if ! as_postgres "$PGBIN/pg_basebackup" -D "$PG_STANDBY_DATA" -R -X stream -c fast \
        -d "host=$PG_HOST port=$PG_PORT user=$PG_REPLICATION_USER password=$PG_REPLICATION_PASSWORD application_name=sagas_test_standby" \
        >"$log" 2>&1; then
        die_with_log "$log" 0 "PostgreSQL: pg_basebackup of 127.0.0.1:$PG_PORT failed"
    fi
    # The copy carries the primary's sagas.conf (its port, its socket folder): the command line wins over it. Little
    # memory: it serves one test's reads (max_connections must stay at least the primary's, or recovery refuses to start).
    if ! as_postgres "$PGBIN/pg_ctl" start -D "$PG_STANDBY_DATA" -l "$PG_STANDBY_LOG" -w -t "$TIMEOUT" \
        -o "-p $port -k $PG_STANDBY_RUN -c shared_buffers=32MB" >/dev/null 2>&1; then
        die_with_log "$PG_STANDBY_LOG" 0 "PostgreSQL: the test standby failed to start on port $port"
    fi
    until "$PGBIN/pg_isready" -q -h "$PG_HOST" -p "$port" -t 2; do sleep 0.3; done
    say "PostgreSQL: test standby of 127.0.0.1:$PG_PORT streaming on 127.0.0.1:$port ($PG_STANDBY_DATA)"
}

pg_standby_down() {
    if pg_standby_running; then
        as_postgres "$PGBIN/pg_ctl" stop -D "$PG_STANDBY_DATA" -m immediate -w -t 30 >/dev/null 2>&1 ||
            die "PostgreSQL: could not stop the test standby ($PG_STANDBY_DATA)"
        say "PostgreSQL: test standby stopped"
    fi
    as_postgres rm -rf "$PG_STANDBY_DATA"
}

pg_standby() {
    local action="${1:-}"
    pg_standby_paths
    case "$action" in
    up) pg_standby_up ;;
    down) pg_standby_down ;;
    pause | resume)
        pg_standby_running || die "PostgreSQL: no test standby is running"
        pg_standby_sql "select pg_wal_replay_$action()" >/dev/null
        say "PostgreSQL: test standby replay ${action}d"
        ;;
    *) die "usage: scripts/infra.sh pg-standby up|down|pause|resume (SAGAS_PG_STANDBY_PORT for up)" ;;
    esac
}
