# shellcheck shell=bash
# PostgreSQL: our cluster in .local/pg — create, configure, start, the roles and databases, stop, status, and the
# restart `make bench` injects. Sourced by infra.sh.

as_postgres() {
    runuser -u postgres -- "$@"
}

# The cluster in .local/pg is running (postmaster.pid names a live postmaster of that data folder).
pg_ours_running() {
    [[ -f $PG_DATA/PG_VERSION ]] || return 1
    as_postgres "$PGBIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

pg_ours_pid() {
    head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true
}

pg_ours_port() {
    sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true
}

# The owner role can log in over TCP with its password.
pg_app_login_ok() {
    pg_login_ok "$PG_USER" "$PG_PASSWORD"
}

pg_login_ok() {
    PGPASSWORD="$2" PGCONNECT_TIMEOUT=5 "$PGBIN/psql" -X -w -q -A -t \
        -h "$PG_HOST" -p "$PG_PORT" -U "$1" -d "$PG_DATABASE" -c 'select 1' >/dev/null 2>&1
}

pg_init() {
    say "PostgreSQL: creating a new cluster in $PG_DATA"
    mkdir -p "$PG_BASE"
    chown postgres:postgres "$PG_BASE"
    as_postgres mkdir -p "$PG_DATA" "$PG_RUN" "$(dirname "$PG_LOG")"
    as_postgres chmod 700 "$PG_DATA"
    local initlog="$PG_BASE/log/initdb.log"
    if ! as_postgres "$PGBIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 >"$initlog" 2>&1; then
        die_with_log "$initlog" 0 "initdb failed for $PG_DATA"
    fi
    # Only the postgres superuser over the socket (peer), everybody else with a password over TCP.
    as_postgres tee "$PG_DATA/pg_hba.conf" >/dev/null <<'EOF'
# Written by scripts/infra.sh.
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 peer
host    all       all       127.0.0.1/32   scram-sha-256
host    all       all       ::1/128        scram-sha-256
EOF
    printf "\ninclude_if_exists = 'sagas.conf'\n" | as_postgres tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

# Settings are rewritten before every start so a changed SAGAS_PG_PORT takes effect.
# Streaming replication from 127.0.0.1 for roles with REPLICATION (a test's standby, `pg-standby`; the cluster's), with a
# password: "all" in pg_hba.conf does not match replication connections. Added to a cluster made before it, too.
pg_allow_replication() {
    grep -q "^host *replication" "$PG_DATA/pg_hba.conf" && return
    printf 'host    replication  all       127.0.0.1/32   scram-sha-256\n' | as_postgres tee -a "$PG_DATA/pg_hba.conf" >/dev/null
    as_postgres "$PGBIN/pg_ctl" reload -D "$PG_DATA" >/dev/null
}

pg_write_settings() {
    as_postgres mkdir -p "$PG_RUN" "$(dirname "$PG_LOG")"
    as_postgres tee "$PG_DATA/sagas.conf" >/dev/null <<EOF
# Written by scripts/infra.sh before each start; edits are overwritten.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
max_connections = 300
password_encryption = 'scram-sha-256'
# A development box: generous memory, durable commits (synchronous_commit stays on).
shared_buffers = 256MB
effective_cache_size = 1GB
work_mem = 8MB
maintenance_work_mem = 128MB
wal_buffers = 16MB
max_wal_size = 2GB
checkpoint_timeout = 15min
synchronous_commit = on
fsync = on
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = -1
EOF
}

pg_start() {
    local socket="$PG_RUN/.s.PGSQL.$PG_PORT"
    ((${#socket} < 100)) || die "socket path $socket is too long for PostgreSQL; clone the repository into a shorter path"
    pg_write_settings
    say "PostgreSQL: starting on 127.0.0.1:$PG_PORT (log $PG_LOG)"
    PG_LOG_START="$(line_count "$PG_LOG")"
    # A loopback connection that used this port as its ephemeral source port (the test suite opens
    # thousands) keeps it in TIME-WAIT for up to 60 s, and PostgreSQL cannot bind it meanwhile although
    # nothing listens there. Wait that out instead of failing.
    local deadline=$((SECONDS + 75))
    until as_postgres "$PGBIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t "$TIMEOUT" >/dev/null 2>&1; do
        if ((SECONDS < deadline)) && tail -n +"$((PG_LOG_START + 1))" "$PG_LOG" 2>/dev/null | grep "Address already in use" >/dev/null \
            && ! port_in_use "$PG_PORT"; then
            say "PostgreSQL: port $PG_PORT is still held by a closing connection (TIME-WAIT); retrying"
            sleep 3
            continue
        fi
        die_with_log "$PG_LOG" "$PG_LOG_START" "PostgreSQL failed to start on port $PG_PORT (data $PG_DATA, log $PG_LOG)"
    done
}

pg_wait_ready() {
    local deadline=$((SECONDS + TIMEOUT))
    until "$PGBIN/pg_isready" -q -h "$PG_HOST" -p "$PG_PORT" -t 2; do
        if ((SECONDS >= deadline)); then
            die_with_log "$PG_LOG" "$PG_LOG_START" "PostgreSQL on $PG_HOST:$PG_PORT not ready after ${TIMEOUT}s (log $PG_LOG)"
        fi
        sleep 0.5
    done
}

# Create or refresh the roles and databases (idempotent, run at every `up` of our cluster):
#   owner   LOGIN CREATEDB, never superuser: owns the database, migrates, creates the tests' databases;
#   api, workers  LOGIN only: may connect to the database, get DML on their service's tables from the migrations
#           (never CREATE, not even TEMP); the owner is a member of both, so it can end their sessions (the tests drop
#           their databases). Created when missing, so a cluster from before they were split gets them at its next `up`;
#   sandbox LOGIN only: owns a database of its own, which no other role (the owner included) may connect to.
pg_ensure_role() {
    local out
    if ! out="$(as_postgres "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PG_PORT" -d postgres \
        -v app_user="$PG_USER" -v app_password="$PG_PASSWORD" -v app_db="$PG_DATABASE" \
        -v api_user="$PG_API_USER" -v api_password="$PG_API_PASSWORD" \
        -v workers_user="$PG_WORKERS_USER" -v workers_password="$PG_WORKERS_PASSWORD" \
        -v sandbox_user="$PG_SANDBOX_USER" -v sandbox_password="$PG_SANDBOX_PASSWORD" -v sandbox_db="$PG_SANDBOX_DATABASE" \
        -v replication_user="$PG_REPLICATION_USER" -v replication_password="$PG_REPLICATION_PASSWORD" \
        -f - 2>&1 <<'SQL'
SELECT format('CREATE ROLE %I', r) FROM unnest(ARRAY[:'app_user', :'api_user', :'workers_user', :'sandbox_user', :'replication_user']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION PASSWORD %L',
              :'app_user', :'app_password') \gexec
SELECT format('ALTER ROLE %I LOGIN NOCREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION PASSWORD %L', r, p)
  FROM (VALUES (:'api_user', :'api_password'), (:'workers_user', :'workers_password')) AS runtime(r, p) \gexec
SELECT format('ALTER ROLE %I LOGIN NOCREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION PASSWORD %L', :'sandbox_user', :'sandbox_password') \gexec
SELECT format('ALTER ROLE %I LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'replication_user', :'replication_password') \gexec
SELECT format('GRANT %I TO %I', r, :'app_user') FROM unnest(ARRAY[:'api_user', :'workers_user']) AS r \gexec
SELECT format('CREATE DATABASE %I OWNER %I', d, o)
  FROM (VALUES (:'app_db', :'app_user'), (:'sandbox_db', :'sandbox_user')) AS wanted(d, o)
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = d) \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'app_db', :'app_user') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'sandbox_db', :'sandbox_user') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', d) FROM unnest(ARRAY[:'app_db', :'sandbox_db']) AS d \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'app_db', r) FROM unnest(ARRAY[:'api_user', :'workers_user']) AS r \gexec
SQL
    )"; then
        die "PostgreSQL: creating roles '$PG_USER', '$PG_API_USER', '$PG_WORKERS_USER', '$PG_SANDBOX_USER' / databases '$PG_DATABASE', '$PG_SANDBOX_DATABASE' failed: $(tail -n 1 <<<"$out")"
    fi
}

pg_up() {
    pg_paths
    if pg_ours_running; then
        local running_port
        running_port="$(pg_ours_port)"
        if [[ $running_port != "$PG_PORT" ]]; then
            die "our PostgreSQL cluster ($PG_DATA) is already running on port $running_port; run 'scripts/infra.sh down' first or set SAGAS_PG_PORT=$running_port"
        fi
        say "PostgreSQL: reusing our cluster on 127.0.0.1:$PG_PORT (pid $(pg_ours_pid))"
        pg_wait_ready
        pg_ensure_role
        pg_allow_replication
    elif port_in_use "$PG_PORT"; then
        if pg_app_login_ok; then
            say "PostgreSQL: reusing the server already listening on $PG_HOST:$PG_PORT (it accepts the $PG_USER role)"
            return
        fi
        die "port $PG_PORT is in use by another process ($(port_owner "$PG_PORT")); stop it or set SAGAS_PG_PORT"
    else
        [[ -f $PG_DATA/PG_VERSION ]] || pg_init
        pg_start
        pg_wait_ready
        pg_ensure_role
        pg_allow_replication
    fi
    pg_app_login_ok || die "PostgreSQL is up on $PG_HOST:$PG_PORT but role '$PG_USER' cannot log in to database '$PG_DATABASE' over TCP"
    local role password
    for role in "$PG_API_USER:$PG_API_PASSWORD" "$PG_WORKERS_USER:$PG_WORKERS_PASSWORD"; do
        password="${role#*:}" role="${role%%:*}"
        pg_login_ok "$role" "$password" ||
            die "PostgreSQL is up on $PG_HOST:$PG_PORT but the services' role '$role' cannot log in to database '$PG_DATABASE' over TCP (a server not started here: create it as docs/security.md, \"Roles\", says)"
    done
    say "PostgreSQL: ready on $PG_HOST:$PG_PORT (database $PG_DATABASE owned by $PG_USER, Api as $PG_API_USER, Workers as $PG_WORKERS_USER; sandbox database $PG_SANDBOX_DATABASE as $PG_SANDBOX_USER)"
}

pg_down() {
    pg_paths
    if ! pg_ours_running; then
        say "PostgreSQL: our cluster is not running"
        return
    fi
    local pid
    pid="$(pg_ours_pid)"
    say "PostgreSQL: stopping our cluster (pid $pid)"
    if ! as_postgres "$PGBIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t "$TIMEOUT" >/dev/null 2>&1; then
        warn "pg_ctl stop -m fast did not finish in ${TIMEOUT}s; using immediate shutdown"
        as_postgres "$PGBIN/pg_ctl" stop -D "$PG_DATA" -m immediate -w -t 30 >/dev/null 2>&1 ||
            die "PostgreSQL (pid $pid) did not stop; see $PG_LOG"
    fi
}

pg_status() {
    pg_paths
    if pg_ours_running; then
        printf 'PostgreSQL: running, ours (pid %s, 127.0.0.1:%s, data %s)\n' "$(pg_ours_pid)" "$(pg_ours_port)" "$PG_DATA"
        pg_app_login_ok || { printf 'PostgreSQL: but role %s cannot log in to %s\n' "$PG_USER" "$PG_DATABASE"; return 1; }
    elif pg_app_login_ok; then
        printf 'PostgreSQL: running, not started from this folder (%s:%s accepts the %s role)\n' "$PG_HOST" "$PG_PORT" "$PG_USER"
    elif port_in_use "$PG_PORT"; then
        printf 'PostgreSQL: port %s is taken by another process (%s)\n' "$PG_PORT" "$(port_owner "$PG_PORT")"
        return 1
    else
        printf 'PostgreSQL: not running (port %s)\n' "$PG_PORT"
        return 1
    fi
}

# Fault injection (make bench): only ever on the cluster started from this folder.
pg_restart() {
    pg_paths
    pg_ours_running || die "PostgreSQL: no cluster of ours is running in $PG_DATA; refusing to restart another server"
    say "PostgreSQL: restarting our cluster (pid $(pg_ours_pid))"
    PG_LOG_START="$(line_count "$PG_LOG")"
    if ! as_postgres "$PGBIN/pg_ctl" restart -D "$PG_DATA" -l "$PG_LOG" -m fast -w -t "$TIMEOUT" >/dev/null 2>&1; then
        die_with_log "$PG_LOG" "$PG_LOG_START" "PostgreSQL: pg_ctl restart failed (log $PG_LOG)"
    fi
    pg_wait_ready
    say "PostgreSQL: restarted (pid $(pg_ours_pid))"
}
