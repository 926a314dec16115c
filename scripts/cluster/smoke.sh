# shellcheck shell=bash
# `scripts/cluster.sh smoke`: with `make cluster` running, an order placed through the Api and paid at the sandbox
# reaches Placed; RabbitMQ node N is killed (-9) and a second order does too; the PostgreSQL standby is promoted and a
# third does, the services never restarted. Each step's time is printed. Sourced by cluster.sh after the other parts.

SMOKE_API="http://127.0.0.1:${SAGAS_API_PORT:-5080}"
SMOKE_SANDBOX="http://127.0.0.1:${SAGAS_SANDBOX_PORT:-5090}"
SMOKE_TIMEOUT="${SAGAS_SMOKE_TIMEOUT:-180}"

# An order of one MOUSE-1, submitted again with the same Idempotency-Key until the Api answers 202 (as a storefront does
# while the Api cannot reach its database), paid at the sandbox once its QR code is issued, followed until Placed.
smoke_order() {
    local label="$1" key started answer status order reference deadline
    key="cluster-smoke-$(date +%s%N)"
    started="$(now_ms)"
    deadline=$((SECONDS + SMOKE_TIMEOUT))
    until answer="$(curl -s --max-time 10 -w '\n%{http_code}' -X POST "$SMOKE_API/orders" -H 'X-Api-Key: dev-storefront-key' \
        -H "Idempotency-Key: $key" -H 'Content-Type: application/json' \
        -d '{"customerId":"cluster-smoke","currency":"USD","lines":[{"sku":"MOUSE-1","quantity":1}]}')" && [[ ${answer##*$'\n'} == 202 ]]; do
        ((SECONDS < deadline)) || die "$label: POST /orders never answered 202 within ${SMOKE_TIMEOUT}s (last: ${answer##*$'\n'})"
        sleep 0.5
    done
    order="$(jq -r .orderId <<<"${answer%$'\n'*}")"
    local accepted=$(($(now_ms) - started)) paid=0
    while :; do
        ((SECONDS < deadline)) || die "$label: order $order did not reach Placed within ${SMOKE_TIMEOUT}s (status ${status:-unknown})"
        answer="$(curl -s --max-time 10 "$SMOKE_API/orders/$order" -H 'X-Api-Key: dev-storefront-key' || true)"
        status="$(jq -r '.status // empty' <<<"$answer" 2>/dev/null || true)"
        reference="$(jq -r '.payment.providerReference // empty' <<<"$answer" 2>/dev/null || true)"
        case "$status" in
        Placed) break ;;
        Rejected | Expired | Canceled | Failed) die "$label: order $order ended $status ($(jq -r .failureReason <<<"$answer"))" ;;
        esac
        if ((paid == 0)) && [[ -n $reference ]] &&
            [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST "$SMOKE_SANDBOX/sandbox/qr-payments/$reference/pay") == 2* ]]; then
            paid=1
        fi
        sleep 0.3
    done
    say "$label: order $order accepted after $accepted ms, Placed after $(($(now_ms) - started)) ms"
}

cluster_smoke() {
    local node="${1:-1}" killed promoted
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$SMOKE_API/health/ready") == 200 ]] ||
        die "the Api does not answer ready on $SMOKE_API (start make cluster first; SAGAS_API_PORT/SAGAS_SANDBOX_PORT if you moved it)"
    smoke_order "1 all up"
    killed="$(now_ms)"
    in_rabbit_node "$node" rabbit_kill
    smoke_order "2 RabbitMQ node $node killed"
    say "   (order 2 was placed $(($(now_ms) - killed)) ms after the kill)"
    promoted="$(now_ms)"
    cluster_pg_promote
    smoke_order "3 PostgreSQL standby promoted"
    say "   (order 3 was placed $(($(now_ms) - promoted)) ms after the primary was stopped)"
    cluster_rabbit_status || true
    cluster_pg_status || true
    say "smoke passed; 'scripts/cluster.sh start-rabbit $node' and 'scripts/cluster.sh up' (rebuilds the old primary as the standby) restore the topology"
}
