# shellcheck shell=bash
# Brokers of single tests (.local/test-brokers/<name>, each with SAGAS_STATE_DIR pointing there): `rabbit-node`, and
# what `down` and `status` do about those a killed test run left behind. Sourced by infra.sh.

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
