# shellcheck shell=bash
# The two PostgreSQL servers: the primary (scripts/infra's pg_up: created, started, roles and databases) and a
# synchronous streaming standby made from it with pg_basebackup -R; the promotion of the standby, stopping both, and
# their roles and replication lag. Sourced by cluster.sh after settings.sh.

pg_sql() {
    as_postgres "$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PG_PORT" -d postgres "$@"
}

# The cluster's own settings, rewritten before every start like sagas.conf: the name the server replicates under and,
# on a primary, whom it waits for. Included from postgresql.conf (pg_basebackup copies that line to the standby).
pg_write_cluster_settings() {
    local synchronous="${1:-}"
    as_postgres tee "$PG_DATA/cluster.conf" >/dev/null <<EOF
# Written by scripts/cluster.sh; edits are overwritten.
cluster_name = '$(pg_server_name "$PG_N")'
# Empty on a primary until its standby streams (a commit would wait for a standby that is not there), and on a standby.
synchronous_standby_names = '$synchronous'
wal_keep_size = 512MB
EOF
    grep -q "^include_if_exists = 'cluster.conf'" "$PG_DATA/postgresql.conf" ||
        printf "include_if_exists = 'cluster.conf'\n" | as_postgres tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

pg_reload() {
    as_postgres "$PGBIN/pg_ctl" reload -D "$PG_DATA" >/dev/null
}

pg_in_recovery() {
    [[ $(pg_sql -c 'select pg_is_in_recovery()' 2>/dev/null) == t ]]
}

now_ms() {
    date +%s%3N
}

pg_primary_up() {
    [[ ! -f $PG_DATA/standby.signal ]] ||
        die "PostgreSQL: server $PG_N ($PG_DATA) is a standby, but .local/cluster/pg-primary names it the primary"
    if [[ -f $PG_DATA/PG_VERSION ]]; then
        pg_write_cluster_settings
        ! pg_ours_running || pg_reload
    fi
    pg_up
    pg_write_cluster_settings
    # Replication connections are their own kind in pg_hba.conf ("all" does not match them).
    grep -q "^host *replication" "$PG_DATA/pg_hba.conf" ||
        printf 'host    replication  %s  127.0.0.1/32   scram-sha-256\n' "$CLUSTER_PG_REPLICATION_USER" |
        as_postgres tee -a "$PG_DATA/pg_hba.conf" >/dev/null
    pg_sql -v user="$CLUSTER_PG_REPLICATION_USER" -v password="$CLUSTER_PG_REPLICATION_PASSWORD" -f - >/dev/null <<'SQL' ||
SELECT format('CREATE ROLE %I', :'user') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I LOGIN REPLICATION PASSWORD %L', :'user', :'password') \gexec
SQL
        die "PostgreSQL: creating the replication role $CLUSTER_PG_REPLICATION_USER failed"
    pg_reload
}

# A standby of the primary on port $1: made with pg_basebackup -R when it has no data yet, or when its data is a former
# primary's (after a promotion it has no standby.signal: the old timeline, to be replaced rather than started).
pg_standby_up() {
    local primary_port="$1"
    if pg_ours_running; then
        pg_in_recovery || die "PostgreSQL: server $PG_N is running as a primary; refusing to make it a standby (stop it first)"
        say "PostgreSQL: reusing standby $PG_N on 127.0.0.1:$PG_PORT"
        return
    fi
    if [[ -f $PG_DATA/PG_VERSION && ! -f $PG_DATA/standby.signal ]]; then
        say "PostgreSQL: server $PG_N holds a former primary's data; replacing it with a copy of the primary on $primary_port"
        as_postgres rm -rf "$PG_DATA"
    fi
    if [[ ! -f $PG_DATA/PG_VERSION ]]; then
        mkdir -p "$PG_BASE"
        chown postgres:postgres "$PG_BASE"
        as_postgres mkdir -p "$(dirname "$PG_LOG")"
        say "PostgreSQL: copying the primary (127.0.0.1:$primary_port) into $PG_DATA with pg_basebackup -R"
        local log="$PG_BASE/log/basebackup.log"
        if ! as_postgres "$PGBIN/pg_basebackup" -D "$PG_DATA" -R -X stream -c fast \
            -d "host=$PG_HOST port=$primary_port user=$CLUSTER_PG_REPLICATION_USER password=$CLUSTER_PG_REPLICATION_PASSWORD application_name=$(pg_server_name "$PG_N")" \
            >"$log" 2>&1; then
            die_with_log "$log" 0 "PostgreSQL: pg_basebackup from 127.0.0.1:$primary_port failed"
        fi
    fi
    pg_write_cluster_settings
    pg_start
    pg_wait_ready
    say "PostgreSQL: standby $PG_N ready on 127.0.0.1:$PG_PORT"
}

# On the primary: wait until standby $1 streams, then make its commits wait for it (synchronous_standby_names, a reload).
pg_require_sync() {
    local standby name deadline=$((SECONDS + TIMEOUT))
    standby="$1"
    name="$(pg_server_name "$standby")" # sagas_pg_N: safe inside a literal (psql does not interpolate variables in -c)
    until [[ $(pg_sql -c "select state from pg_stat_replication where application_name = '$name'" 2>/dev/null) == streaming ]]; do
        ((SECONDS < deadline)) || die "PostgreSQL: standby $standby ($name) is not streaming from the primary after ${TIMEOUT}s (log $CLUSTER_DIR/pg-$standby)"
        sleep 0.5
    done
    pg_write_cluster_settings "$name"
    pg_reload
    deadline=$((SECONDS + TIMEOUT))
    until [[ $(pg_sql -c "select sync_state from pg_stat_replication where application_name = '$name'") == sync ]]; do
        ((SECONDS < deadline)) || die "PostgreSQL: standby $name streams but is not synchronous after ${TIMEOUT}s"
        sleep 0.3
    done
    say "PostgreSQL: primary $PG_N on 127.0.0.1:$PG_PORT commits synchronously to standby $standby ($name)"
}

cluster_pg_up() {
    local primary standby
    primary="$(pg_primary_number)" standby=$((3 - primary))
    mkdir -p "$CLUSTER_DIR"
    printf '%s\n' "$primary" >"$CLUSTER_DIR/pg-primary"
    in_pg_server "$primary" pg_primary_up
    in_pg_server "$standby" pg_standby_up "$(pg_server_port "$primary")"
    in_pg_server "$primary" pg_require_sync "$standby"
}

# The primary first (a fast shutdown sends its last WAL to the standby), then the standby.
cluster_pg_down() {
    local primary
    primary="$(pg_primary_number)"
    in_pg_server "$primary" pg_down
    in_pg_server $((3 - primary)) pg_down
}

pg_stop_immediately() {
    pg_ours_running || { say "PostgreSQL: primary $PG_N was not running"; return; }
    as_postgres "$PGBIN/pg_ctl" stop -D "$PG_DATA" -m immediate -w -t 30 >/dev/null 2>&1 ||
        die "PostgreSQL: could not stop primary $PG_N; see $PG_LOG"
    say "PostgreSQL: primary $PG_N stopped (immediate: no checkpoint, every connection cut) at $(date -u +%H:%M:%S.%3N)"
}

pg_promote_here() {
    pg_ours_running && pg_in_recovery || die "PostgreSQL: server $PG_N is not a running standby; nothing to promote"
    as_postgres "$PGBIN/pg_ctl" promote -D "$PG_DATA" -w -t "$TIMEOUT" >/dev/null || die "PostgreSQL: pg_ctl promote failed; see $PG_LOG"
    until ! pg_in_recovery; do sleep 0.1; done
}

# `promote-standby`: the primary goes (immediate stop, as a crash), the standby is promoted. Its synchronous_standby_names
# is empty (cluster.conf of a standby), so the new primary's commits wait for nobody: no write hangs for want of a
# standby. `up` later replaces the old primary's data with a copy of the new one and turns synchronous commit back on.
cluster_pg_promote() {
    local primary standby started
    primary="$(pg_primary_number)" standby=$((3 - primary))
    in_pg_server "$standby" pg_ours_running || die "PostgreSQL: standby $standby is not running; promoting it is not possible"
    started="$(now_ms)"
    in_pg_server "$primary" pg_stop_immediately
    in_pg_server "$standby" pg_promote_here
    printf '%s\n' "$standby" >"$CLUSTER_DIR/pg-primary"
    say "PostgreSQL: server $standby (127.0.0.1:$(pg_server_port "$standby")) is the primary, $(($(now_ms) - started)) ms after the old one was stopped; it commits without a standby until 'scripts/cluster.sh up' rebuilds server $primary as one"
}

pg_status_line() {
    if ! pg_ours_running; then
        printf 'PostgreSQL server %s: DOWN (127.0.0.1:%s)\n' "$PG_N" "$PG_PORT"
        return 1
    fi
    if pg_in_recovery; then
        printf 'PostgreSQL server %s: up   standby (pid %s, 127.0.0.1:%s) %s\n' "$PG_N" "$(pg_ours_pid)" "$PG_PORT" \
            "$(pg_sql -c "select 'WAL receiver ' || coalesce(r.status, 'not running') || ', last commit replayed '
                                 || coalesce(date_trunc('second', now() - pg_last_xact_replay_timestamp())::text || ' ago', 'never')
                            from (select 1) one left join pg_stat_wal_receiver r on true")"
    else
        printf 'PostgreSQL server %s: up   PRIMARY (pid %s, 127.0.0.1:%s) synchronous_standby_names=%s\n' "$PG_N" "$(pg_ours_pid)" "$PG_PORT" \
            "'$(pg_sql -c 'show synchronous_standby_names')'"
        pg_sql -F ' ' -c "select '  standby ' || application_name, state, sync_state,
                                 'replay behind by ' || pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)),
                                 'replay_lag ' || coalesce(replay_lag::text, '0')
                            from pg_stat_replication"
    fi
}

cluster_pg_status() {
    local n rc=0
    for n in "${PG_SERVERS[@]}"; do
        in_pg_server "$n" pg_status_line || rc=1
    done
    return "$rc"
}
