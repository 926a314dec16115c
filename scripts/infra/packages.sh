# shellcheck shell=bash
# The Debian packages infra.sh needs, installed when missing. Sourced by infra.sh.

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
