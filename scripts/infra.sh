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
set -Eeuo pipefail
# A command that fails under `set -e` ends the script; say which, so no failure is silent (a bench run saw
# `rabbit-app start` exit 1 with no output at all, under load 60).
trap 'rc=$?; [[ $BASH_COMMAND == return* || $BASH_COMMAND == exit* ]] ||
    printf "%s: line %s: \"%s\" exited with %s\n" "${0##*/}" "$LINENO" "$BASH_COMMAND" "$rc" >&2' ERR

SAGAS_SCRIPT=infra
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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

# ---------------------------------------------------------------------------------------------------
# Where the services keep their files
# ---------------------------------------------------------------------------------------------------

# The services run as their own system users, which must be able to reach .local. When the checkout
# lives somewhere they cannot traverse (e.g. under a private home directory), their files go to a
# per-checkout folder under /var/tmp instead, and .local/<name> becomes a symlink to it.
service_dir() {
    local name="$1" owner="$2" dir="$SAGAS_LOCAL/$1"
    if [[ -L $dir ]]; then
        readlink -f "$dir"
        return
    fi
    mkdir -p "$SAGAS_LOCAL"
    if runuser -u "$owner" -- test -x "$SAGAS_LOCAL" 2>/dev/null; then
        printf '%s' "$dir"
    else
        local hash fallback key="$SAGAS_ROOT"
        # A moved state folder gets a fallback of its own (the default keeps its historical name).
        [[ -z ${SAGAS_STATE_DIR:-} ]] || key="$SAGAS_LOCAL"
        hash="$(printf '%s' "$key" | cksum | cut -d' ' -f1)"
        fallback="/var/tmp/sagas-$hash/$name"
        mkdir -p "$fallback"
        chmod 755 "$(dirname "$fallback")"
        ln -sfn "$fallback" "$dir"
        printf '%s' "$fallback"
    fi
}

pg_paths() {
    PG_BASE="$(service_dir pg postgres)"
    PG_DATA="$PG_BASE/data"
    PG_RUN="$PG_BASE/run"
    PG_LOG="$PG_BASE/log/postgresql.log"
    PG_LOG_START=0
}

rmq_paths() {
    RMQ_BASE="$(service_dir rabbitmq rabbitmq)"
    RMQ_PID_FILE="$RMQ_BASE/rabbitmq.pid"
    RMQ_LOG_DIR="$RMQ_BASE/log"
    RMQ_LOG_START=0
    rmq_settings
}

# ---------------------------------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------------------------------

ensure_packages() {
    local missing=()
    [[ -x $PGBIN/postgres ]] || missing+=(postgresql-15)
    [[ -x /usr/sbin/rabbitmq-server ]] || missing+=(rabbitmq-server)
    have curl || missing+=(curl)
    have jq || missing+=(jq)
    if ((${#missing[@]} > 0)); then
        apt_install "${missing[@]}"
    fi
    [[ -x $PGBIN/postgres ]] || die "PostgreSQL 15 is still missing at $PGBIN after installing postgresql-15"
    [[ -x /usr/sbin/rabbitmq-server ]] || die "rabbitmq-server is still missing after installing it"
    id postgres >/dev/null 2>&1 || die "system user 'postgres' does not exist (the postgresql-15 package creates it)"
    id rabbitmq >/dev/null 2>&1 || die "system user 'rabbitmq' does not exist (the rabbitmq-server package creates it)"
}

# ---------------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------------

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
        -f - 2>&1 <<'SQL'
SELECT format('CREATE ROLE %I', r) FROM unnest(ARRAY[:'app_user', :'api_user', :'workers_user', :'sandbox_user']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION PASSWORD %L',
              :'app_user', :'app_password') \gexec
SELECT format('ALTER ROLE %I LOGIN NOCREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION PASSWORD %L', r, p)
  FROM (VALUES (:'api_user', :'api_password'), (:'workers_user', :'workers_password')) AS runtime(r, p) \gexec
SELECT format('ALTER ROLE %I LOGIN NOCREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION PASSWORD %L', :'sandbox_user', :'sandbox_password') \gexec
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

# ---------------------------------------------------------------------------------------------------
# RabbitMQ
# ---------------------------------------------------------------------------------------------------

# Run one of the /usr/sbin RabbitMQ wrappers (they switch to the rabbitmq user, which owns the Erlang
# cookie) with every path pointing into our folder, so nothing depends on /etc/rabbitmq.
rmq() {
    as_root env "${RMQ_ENV[@]}" "$@"
}

rmq_settings() {
    RMQ_ENV=(
        RABBITMQ_NODENAME="$RMQ_NODE"
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
        RABBITMQ_NODE_PORT="$RMQ_PORT"
        RABBITMQ_DIST_PORT="$RMQ_DIST_PORT"
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
        RABBITMQ_MNESIA_BASE="$RMQ_BASE/mnesia"
        RABBITMQ_LOG_BASE="$RMQ_LOG_DIR"
        RABBITMQ_PID_FILE="$RMQ_PID_FILE"
        RABBITMQ_CONFIG_FILE="$RMQ_BASE/rabbitmq.conf"
        RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_BASE/advanced.config"
        RABBITMQ_CONF_ENV_FILE="$RMQ_BASE/rabbitmq-env.conf"
        RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_BASE/enabled_plugins"
    )
    RMQ_CTL=(env "${RMQ_ENV[@]}" /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE")
}

# True when the process is a beam.smp whose environment points at our mnesia folder (so a recycled
# pid, or a node started from elsewhere, never counts as ours).
rmq_is_ours() {
    local pid="$1"
    [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/environ ]] || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == beam.smp ]] || return 1
    # The node itself (`-s rabbit boot`), not a rabbitmqctl/rabbitmq-plugins VM: those run beam.smp with the same
    # RABBITMQ_* environment, exit within seconds, and reading their environment a moment later fails (a test's
    # `rabbit-node down` and a bench's `rabbit-app start` exited 1 that way).
    local cmdline
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ $cmdline == *" -s rabbit boot "* ]] || return 1
    [[ $(rmq_ours_env "$pid" RABBITMQ_MNESIA_BASE) == "$RMQ_BASE/mnesia" ]]
}

# Pid of the node started from this folder, if it is alive: from the pid file, else (a node still
# booting, or a lost pid file) by looking through the running beam.smp processes.
rmq_ours_pid() {
    local pid
    pid="$(cat "$RMQ_PID_FILE" 2>/dev/null || true)"
    if rmq_is_ours "$pid"; then
        printf '%s' "$pid"
        return
    fi
    for pid in $(pgrep -x beam.smp 2>/dev/null || true); do
        if rmq_is_ours "$pid"; then
            printf '%s' "$pid"
            return
        fi
    done
    return 1
}

# One variable of the process's environment (empty when it is not set, or the process is gone). Read by bash itself:
# a pipeline whose reader stops early (sed's q, grep -q, head) fails under pipefail whenever the writer still had more
# (SIGPIPE, or EPIPE and exit 1 where SIGPIPE is ignored, as in every child of a .NET process): a test's
# `rabbit-node down` failed that way, its node's environment being longer than one pipe write.
rmq_ours_env() {
    local pid="$1" name="$2" entry
    { while IFS= read -r -d '' entry; do
        if [[ $entry == "$name="* ]]; then
            printf '%s' "${entry#"$name="}"
            break
        fi
    done <"/proc/$pid/environ"; } 2>/dev/null || true
}

# HTTP status of GET /api/<path> on the management API with the application user.
rmq_mgmt_status() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 -u "$RMQ_USER:$RMQ_PASSWORD" \
        "http://$RMQ_HOST:$RMQ_MGMT_PORT/api/$1" 2>/dev/null || true
}

# The AMQP port answers and the management API accepts the application user as an administrator.
rmq_usable() {
    port_open "$RMQ_HOST" "$RMQ_PORT" || return 1
    local body
    body="$(curl -s --max-time 5 -u "$RMQ_USER:$RMQ_PASSWORD" "http://$RMQ_HOST:$RMQ_MGMT_PORT/api/whoami" 2>/dev/null)" || return 1
    grep -q 'administrator' <<<"$body"
}

rmq_log_file() {
    if [[ -f $RMQ_LOG_DIR/$RMQ_NODE.log ]]; then
        printf '%s' "$RMQ_LOG_DIR/$RMQ_NODE.log"
        return
    fi
    local newest
    newest="$(find "$RMQ_LOG_DIR" -maxdepth 1 -name '*.log' -printf '%T@ %p\n' 2>/dev/null | sort -rn | sed -n 1p | cut -d' ' -f2-)"
    printf '%s' "${newest:-$RMQ_LOG_DIR/$RMQ_NODE.log}"
}

# One line plus, from this start's part of the node log, the first error lines and the tail.
rmq_fail() {
    local log
    log="$(rmq_log_file)"
    if [[ -f $log ]]; then
        local errors
        errors="$(tail -n "+$((RMQ_LOG_START + 1))" "$log" | grep -m 5 '\[error\]' || true)"
        if [[ -n $errors ]]; then
            printf -- '--- first errors in %s ---\n' "$log" >&2
            printf '    %s\n' "${errors//$'\n'/$'\n'    }" >&2
        fi
    fi
    log_tail "$log" 12 "$RMQ_LOG_START"
    die "$1 (log $log)"
}

# Wait for the node to boot (`rabbitmqctl wait`), but give up as soon as its process is gone.
rmq_wait_booted() {
    local started=$SECONDS
    setsid "${RMQ_CTL[@]}" wait "$RMQ_PID_FILE" --timeout "$TIMEOUT" >/dev/null 2>&1 &
    local waiter=$!
    while kill -0 "$waiter" 2>/dev/null; do
        if ((SECONDS - started > 5)) && ! rmq_ours_pid >/dev/null; then
            kill -TERM -- "-$waiter" 2>/dev/null || true
            wait "$waiter" 2>/dev/null || true
            rmq_fail "RabbitMQ node $RMQ_NODE failed to start (its process exited)"
        fi
        sleep 0.5
    done
    if ! wait "$waiter"; then
        if ((SECONDS - started < TIMEOUT)); then
            rmq_fail "RabbitMQ node $RMQ_NODE failed to start"
        fi
        rmq_fail "RabbitMQ node $RMQ_NODE did not become ready within ${TIMEOUT}s"
    fi
}

rmq_prepare() {
    mkdir -p "$RMQ_BASE"
    chown rabbitmq:rabbitmq "$RMQ_BASE"
    runuser -u rabbitmq -- mkdir -p "$RMQ_BASE/mnesia" "$RMQ_LOG_DIR"
    runuser -u rabbitmq -- tee "$RMQ_BASE/rabbitmq.conf" >/dev/null <<EOF
# Written by scripts/infra.sh before each start; edits are overwritten.
# AMQP listener, node name and distribution port come from the environment the script sets.
management.tcp.ip = 127.0.0.1
management.tcp.port = $RMQ_MGMT_PORT
# rabbitmq_prometheus: /metrics (per node) and /metrics/per-object (per queue, which 3.10's /metrics aggregates away).
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = $RMQ_PROMETHEUS_PORT
log.console = false
log.file.level = info
EOF
    runuser -u rabbitmq -- tee "$RMQ_BASE/rabbitmq-env.conf" >/dev/null <<'EOF'
# Intentionally empty: scripts/infra.sh passes every setting through the environment.
EOF
    if ! grep -qs rabbitmq_management "$RMQ_BASE/enabled_plugins" || ! grep -qs rabbitmq_prometheus "$RMQ_BASE/enabled_plugins"; then
        local out
        out="$(rmq /usr/sbin/rabbitmq-plugins enable --offline rabbitmq_management rabbitmq_prometheus 2>&1)" ||
            die "RabbitMQ: enabling the management and prometheus plugins failed: $(tail -n 1 <<<"$out")"
    fi
}

# A node of ours started before the scripts enabled rabbitmq_prometheus serves no metrics until restarted (its
# listener's port is read from rabbitmq.conf at boot); say so rather than stop a broker others may be using.
rmq_check_prometheus() {
    if ! port_open "$RMQ_HOST" "$RMQ_PROMETHEUS_PORT"; then
        warn "RabbitMQ serves no Prometheus metrics on $RMQ_HOST:$RMQ_PROMETHEUS_PORT (a node started before the scripts enabled rabbitmq_prometheus?); 'scripts/infra.sh down' then 'up' restarts it with them"
    fi
}

# Fail early, with one line, when the node name is already registered by a node not started here.
rmq_check_node_name() {
    have epmd || return 0
    local short="${RMQ_NODE%%@*}"
    if epmd -names 2>/dev/null | grep "^name $short at port" >/dev/null; then
        die "RabbitMQ node name $RMQ_NODE is already used by a node not started from this folder; set SAGAS_RABBIT_NODE (e.g. SAGAS_RABBIT_NODE=sagas-$RMQ_PORT@localhost)"
    fi
}

rmq_check_free() {
    local port="$1" variable="$2"
    if port_in_use "$port"; then
        die "port $port is in use by another process ($(port_owner "$port")); stop it or set $variable"
    fi
}

rmq_ensure_user() {
    if [[ $(rmq_mgmt_status whoami) == 200 ]] && rmq_usable; then
        return
    fi
    local out
    if ! out="$(rmq /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE" add_user "$RMQ_USER" "$RMQ_PASSWORD" 2>&1)"; then
        if grep -qi 'already exists' <<<"$out"; then
            out="$(rmq /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE" change_password "$RMQ_USER" "$RMQ_PASSWORD" 2>&1)" ||
                die "RabbitMQ: changing the password of '$RMQ_USER' failed: $(tail -n 1 <<<"$out")"
        else
            die "RabbitMQ: creating user '$RMQ_USER' failed: $(tail -n 1 <<<"$out")"
        fi
    fi
    out="$(rmq /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE" set_user_tags "$RMQ_USER" administrator 2>&1)" ||
        die "RabbitMQ: tagging '$RMQ_USER' as administrator failed: $(tail -n 1 <<<"$out")"
    out="$(rmq /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE" set_permissions -p / "$RMQ_USER" '.*' '.*' '.*' 2>&1)" ||
        die "RabbitMQ: granting '$RMQ_USER' permissions on / failed: $(tail -n 1 <<<"$out")"
}

# The services' own user: configure/write/read on its virtual host only, no tags (no management API, no other vhost).
# Through the management API as the administrator: idempotent, and quicker than three rabbitmqctl runs.
rmq_ensure_app_user() {
    local api="http://$RMQ_HOST:$RMQ_MGMT_PORT/api" vhost user body
    vhost="$(jq -rn --arg v "$RMQ_APP_VHOST" '$v | @uri')"
    user="$(jq -rn --arg v "$RMQ_APP_USER" '$v | @uri')"
    rmq_api PUT "$api/vhosts/$vhost" '{}' || die "RabbitMQ: creating virtual host '$RMQ_APP_VHOST' failed"
    body="$(jq -cn --arg p "$RMQ_APP_PASSWORD" '{password: $p, tags: ""}')"
    rmq_api PUT "$api/users/$user" "$body" || die "RabbitMQ: creating user '$RMQ_APP_USER' failed"
    rmq_api PUT "$api/permissions/$vhost/$user" '{"configure":".*","write":".*","read":".*"}' ||
        die "RabbitMQ: granting '$RMQ_APP_USER' permissions on '$RMQ_APP_VHOST' failed"
    # The administrator keeps its rights on the services' vhost too (run.sh aligns queue types through it).
    user="$(jq -rn --arg v "$RMQ_USER" '$v | @uri')"
    rmq_api PUT "$api/permissions/$vhost/$user" '{"configure":".*","write":".*","read":".*"}' ||
        die "RabbitMQ: granting '$RMQ_USER' permissions on '$RMQ_APP_VHOST' failed"
}

rmq_api() {
    curl -s -o /dev/null --fail --max-time 10 -u "$RMQ_USER:$RMQ_PASSWORD" -X "$1" \
        -H 'content-type: application/json' -d "$3" "$2"
}

rmq_wait_management() {
    local deadline=$((SECONDS + TIMEOUT))
    until rmq_usable; do
        ((SECONDS < deadline)) || rmq_fail "RabbitMQ management API on $RMQ_HOST:$RMQ_MGMT_PORT did not accept user '$RMQ_USER' within ${TIMEOUT}s"
        sleep 1
    done
}

rmq_up() {
    rmq_paths
    local pid
    if pid="$(rmq_ours_pid)"; then
        local running_port running_node
        running_port="$(rmq_ours_env "$pid" RABBITMQ_NODE_PORT)"
        running_node="$(rmq_ours_env "$pid" RABBITMQ_NODENAME)"
        if [[ $running_port != "$RMQ_PORT" || $running_node != "$RMQ_NODE" ]]; then
            die "our RabbitMQ node ($running_node, AMQP port $running_port) is already running; run 'scripts/infra.sh down' first or set SAGAS_RABBIT_NODE=$running_node SAGAS_RABBIT_PORT=$running_port"
        fi
        say "RabbitMQ: reusing our node $RMQ_NODE (pid $pid)"
        REUSED_NODE=1
    elif port_in_use "$RMQ_PORT"; then
        if rmq_usable; then
            say "RabbitMQ: reusing the broker already on $RMQ_HOST:$RMQ_PORT (management on $RMQ_MGMT_PORT accepts the $RMQ_USER user)"
            return
        fi
        die "port $RMQ_PORT is in use by another process ($(port_owner "$RMQ_PORT")); stop it or set SAGAS_RABBIT_PORT"
    else
        rmq_check_free "$RMQ_MGMT_PORT" SAGAS_RABBIT_MGMT_PORT
        rmq_check_free "$RMQ_DIST_PORT" "SAGAS_RABBIT_PORT (the distribution port is AMQP port + 20000) or SAGAS_RABBIT_DIST_PORT"
        rmq_check_free "$RMQ_PROMETHEUS_PORT" "SAGAS_RABBIT_PORT (the Prometheus port is AMQP port + 10020) or SAGAS_RABBIT_PROMETHEUS_PORT"
        rmq_check_node_name
        say "RabbitMQ: preparing node $RMQ_NODE (configuration, plugins) in $RMQ_BASE"
        rmq_prepare
        if ! pgrep -x epmd >/dev/null 2>&1; then
            # The node starts epmd; remember that, so 'down' can stop it again when nothing else uses it.
            touch "$RMQ_BASE/started-epmd"
        fi
        say "RabbitMQ: starting node $RMQ_NODE on 127.0.0.1:$RMQ_PORT, management $RMQ_MGMT_PORT (logs $RMQ_LOG_DIR)"
        rm -f "$RMQ_PID_FILE"
        RMQ_LOG_START="$(line_count "$(rmq_log_file)")"
        local out
        out="$(rmq /usr/sbin/rabbitmq-server -detached 2>&1)" || rmq_fail "RabbitMQ failed to start: $(tail -n 1 <<<"$out")"
    fi
    rmq_wait_booted
    rmq_ensure_user
    rmq_wait_management
    [[ -z ${REUSED_NODE:-} ]] || rmq_check_prometheus
    say "RabbitMQ: ready on $RMQ_HOST:$RMQ_PORT (management http://$RMQ_HOST:$RMQ_MGMT_PORT, user $RMQ_USER; metrics http://$RMQ_HOST:$RMQ_PROMETHEUS_PORT/metrics/per-object)"
}

rmq_down() {
    rmq_paths
    local pid
    if ! pid="$(rmq_ours_pid)"; then
        say "RabbitMQ: our node is not running"
        return
    fi
    local node
    node="$(rmq_ours_env "$pid" RABBITMQ_NODENAME)"
    say "RabbitMQ: stopping our node $node (pid $pid)"
    RMQ_NODE="$node"
    rmq_settings
    if ! rmq /usr/sbin/rabbitmqctl -q -n "$node" stop "$RMQ_PID_FILE" >/dev/null 2>&1; then
        warn "rabbitmqctl stop failed; sending SIGTERM to pid $pid"
        kill -TERM "$pid" 2>/dev/null || true
    fi
    local deadline=$((SECONDS + TIMEOUT))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            warn "RabbitMQ (pid $pid) still running after ${TIMEOUT}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.5
    done
    # Erlang port-mapper daemon: stop it only if our node started it and no other node is registered.
    if [[ -f $RMQ_BASE/started-epmd ]]; then
        if have epmd && ! epmd -names 2>/dev/null | grep '^name ' >/dev/null; then
            epmd -kill >/dev/null 2>&1 || true
        fi
        rm -f "$RMQ_BASE/started-epmd"
    fi
}

rmq_status() {
    rmq_paths
    local pid
    if pid="$(rmq_ours_pid)"; then
        printf 'RabbitMQ: running, ours (pid %s, node %s, AMQP 127.0.0.1:%s, management %s, prometheus %s)\n' \
            "$pid" "$(rmq_ours_env "$pid" RABBITMQ_NODENAME)" "$(rmq_ours_env "$pid" RABBITMQ_NODE_PORT)" "$RMQ_MGMT_PORT" "$RMQ_PROMETHEUS_PORT"
        rmq_usable || { printf 'RabbitMQ: but the management API does not accept user %s\n' "$RMQ_USER"; return 1; }
    elif rmq_usable; then
        printf 'RabbitMQ: running, not started from this folder (%s:%s, management %s accepts %s)\n' \
            "$RMQ_HOST" "$RMQ_PORT" "$RMQ_MGMT_PORT" "$RMQ_USER"
    elif port_in_use "$RMQ_PORT"; then
        printf 'RabbitMQ: port %s is taken by another process (%s)\n' "$RMQ_PORT" "$(port_owner "$RMQ_PORT")"
        return 1
    else
        printf 'RabbitMQ: not running (port %s)\n' "$RMQ_PORT"
        return 1
    fi
}

# ---------------------------------------------------------------------------------------------------
# Fault injection (make bench): only ever on the servers started from this folder
# ---------------------------------------------------------------------------------------------------

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

rmq_app() {
    local action="$1" pid
    rmq_paths
    pid="$(rmq_ours_pid)" || die "RabbitMQ: no node of ours is running; refusing to touch another broker"
    RMQ_NODE="$(rmq_ours_env "$pid" RABBITMQ_NODENAME)"
    rmq_settings
    local out
    case "$action" in
    stop)
        out="$(rmq /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE" stop_app 2>&1)" ||
            die "RabbitMQ: stop_app on $RMQ_NODE failed: $(tail -n 1 <<<"$out")"
        say "RabbitMQ: application stopped on $RMQ_NODE (node still up)"
        ;;
    start)
        out="$(rmq /usr/sbin/rabbitmqctl -q -n "$RMQ_NODE" start_app 2>&1)" ||
            die "RabbitMQ: start_app on $RMQ_NODE failed: $(tail -n 1 <<<"$out")"
        rmq_wait_management
        say "RabbitMQ: application started on $RMQ_NODE"
        ;;
    *) die "usage: scripts/infra.sh rabbit-app stop|start" ;;
    esac
}

# ---------------------------------------------------------------------------------------------------
# Brokers of single tests (.local/test-brokers/<name>, each with SAGAS_STATE_DIR pointing there)
# ---------------------------------------------------------------------------------------------------

rmq_node() {
    local action="$1"
    case "$action" in
    up)
        if [[ ! -x /usr/sbin/rabbitmq-server ]] || ! have curl; then
            apt_install rabbitmq-server curl
        fi
        rmq_up
        ;;
    down) rmq_down ;;
    *) die "usage: scripts/infra.sh rabbit-node up|down" ;;
    esac
}

# A test stops its own node when it ends, even when it fails; a test run that was killed cannot. Each such node
# is stopped the way `rabbit-node down` stops it, from its own folder (which is how it is recognised as ours).
test_brokers_down() {
    local dir out
    for dir in "$SAGAS_LOCAL"/test-brokers/*/; do
        [[ -d $dir ]] || continue
        out="$(SAGAS_STATE_DIR="${dir%/}" "$SAGAS_ROOT/scripts/infra.sh" rabbit-node down 2>&1)" ||
            warn "stopping the test broker in ${dir%/} failed: $(tail -n 1 <<<"$out")"
        grep -v 'our node is not running' <<<"$out" | sed "s|^==> RabbitMQ:|==> RabbitMQ (test broker ${dir%/}):|" || true
    done
}

test_brokers_status() {
    local dir pid
    for dir in "$SAGAS_LOCAL"/test-brokers/*/; do
        [[ -d $dir ]] || continue
        RMQ_BASE="$(readlink -f "${dir%/}/rabbitmq" 2>/dev/null || true)"
        [[ -n $RMQ_BASE ]] || continue
        RMQ_PID_FILE="$RMQ_BASE/rabbitmq.pid"
        if pid="$(rmq_ours_pid)"; then
            printf 'RabbitMQ test broker: left running in %s (pid %s, node %s); scripts/infra.sh down stops it\n' \
                "${dir%/}" "$pid" "$(rmq_ours_env "$pid" RABBITMQ_NODENAME)"
        fi
    done
}

# ---------------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------------

# Single-quote a value for the shell.
quote() {
    local value="$1"
    printf "'%s'" "${value//\'/\'\\\'\'}"
}

print_env() {
    local name value
    while IFS='=' read -r name value; do
        printf 'export %s=%s\n' "$name" "$(quote "$value")"
    done <<EOF
SAGAS_PG_HOST=$PG_HOST
SAGAS_PG_PORT=$PG_PORT
SAGAS_PG_USER=$PG_USER
SAGAS_PG_PASSWORD=$PG_PASSWORD
SAGAS_PG_DATABASE=$PG_DATABASE
SAGAS_PG_API_USER=$PG_API_USER
SAGAS_PG_API_PASSWORD=$PG_API_PASSWORD
SAGAS_PG_WORKERS_USER=$PG_WORKERS_USER
SAGAS_PG_WORKERS_PASSWORD=$PG_WORKERS_PASSWORD
SAGAS_PG_SANDBOX_USER=$PG_SANDBOX_USER
SAGAS_PG_SANDBOX_PASSWORD=$PG_SANDBOX_PASSWORD
SAGAS_PG_SANDBOX_DATABASE=$PG_SANDBOX_DATABASE
SAGAS_RABBIT_HOST=$RMQ_HOST
SAGAS_RABBIT_PORT=$RMQ_PORT
SAGAS_RABBIT_MGMT_PORT=$RMQ_MGMT_PORT
SAGAS_RABBIT_PROMETHEUS_PORT=$RMQ_PROMETHEUS_PORT
SAGAS_RABBIT_USER=$RMQ_USER
SAGAS_RABBIT_PASSWORD=$RMQ_PASSWORD
SAGAS_RABBIT_APP_USER=$RMQ_APP_USER
SAGAS_RABBIT_APP_PASSWORD=$RMQ_APP_PASSWORD
SAGAS_RABBIT_APP_VHOST=$RMQ_APP_VHOST
SAGAS_PG_OWNER_CONNECTION=Host=$PG_HOST;Port=$PG_PORT;Database=$PG_DATABASE;Username=$PG_USER;Password=$PG_PASSWORD
SAGAS_PG_SANDBOX_CONNECTION=Host=$PG_HOST;Port=$PG_PORT;Database=$PG_SANDBOX_DATABASE;Username=$PG_SANDBOX_USER;Password=$PG_SANDBOX_PASSWORD
SAGAS_PG_API_CONNECTION=Host=$PG_HOST;Port=$PG_PORT;Database=$PG_DATABASE;Username=$PG_API_USER;Password=$PG_API_PASSWORD
SAGAS_PG_WORKERS_CONNECTION=Host=$PG_HOST;Port=$PG_PORT;Database=$PG_DATABASE;Username=$PG_WORKERS_USER;Password=$PG_WORKERS_PASSWORD
DatabaseRoles__Api=$PG_API_USER
DatabaseRoles__Workers=$PG_WORKERS_USER
RabbitMq__Host=$RMQ_HOST
RabbitMq__Port=$RMQ_PORT
RabbitMq__VirtualHost=$RMQ_APP_VHOST
RabbitMq__Username=$RMQ_APP_USER
RabbitMq__Password=$RMQ_APP_PASSWORD
EOF
}

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
