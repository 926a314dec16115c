# shellcheck shell=bash
# Where the services keep their files (.local, or a fallback under /var/tmp they can reach). Sourced by infra.sh.

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
