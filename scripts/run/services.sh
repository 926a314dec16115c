# shellcheck shell=bash
# scripts/run.sh, the services running: started, waited for, the demo catalog seeded, the banner printed, then
# watched until Ctrl-C. Sourced by run.sh; do not run it.

start_services() {
    local name
    for name in "${SERVICES[@]}"; do
        [[ -f ${DLL[$name]} ]] || die "${DLL[$name]} is missing after the build"
        launch "$name" "$LOG_DIR/$name.log" "${DLL[$name]}" "http://127.0.0.1:${PORT[$name]}"
        say "started ${TITLE[$name]} (pid ${PID[$name]}) on http://127.0.0.1:${PORT[$name]}, log .local/logs/$name.log"
    done
}

wait_ready() {
    local deadline=$((SECONDS + READY_TIMEOUT)) name status pending=("${SERVICES[@]}")
    say "waiting for GET $READY_PATH -> 200 on ${pending[*]} (up to ${READY_TIMEOUT}s)"
    while ((${#pending[@]} > 0)); do
        local still=()
        for name in "${pending[@]}"; do
            if ! alive "${PID[$name]}"; then
                local rc=0
                wait "${PID[$name]}" || rc=$?
                die_with_log "$LOG_DIR/$name.log" 0 "${TITLE[$name]} exited (code $rc) before it was ready (log .local/logs/$name.log)"
            fi
            status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:${PORT[$name]}$READY_PATH" || true)"
            if [[ $status == 200 ]]; then
                say "${TITLE[$name]} is ready"
            else
                still+=("$name")
            fi
        done
        pending=("${still[@]+"${still[@]}"}")
        ((${#pending[@]} > 0)) || break
        if ((SECONDS >= deadline)); then
            name="${pending[0]}"
            die_with_log "$LOG_DIR/$name.log" 0 "${TITLE[$name]} did not answer 200 on http://127.0.0.1:${PORT[$name]}$READY_PATH within ${READY_TIMEOUT}s (not ready: ${pending[*]}; log .local/logs/$name.log)"
        fi
        sleep 1
    done
}

# The items the demo checkout offers (the sandbox's Demo:Skus): created through the Api as admin when the
# catalog lacks them; existing items and their stock are left as they are.
DEMO_ITEMS=(
    'MOUSE-1|Wireless mouse|peripherals|19.99'
    'KEYBOARD-1|Mechanical keyboard|peripherals|89.00'
    'MONITOR-1|27-inch monitor|displays|249.00'
)

seed_demo_catalog() {
    local api="http://127.0.0.1:$API_PORT" key=dev-admin-key item sku name category price status created=()
    for item in "${DEMO_ITEMS[@]}"; do
        IFS='|' read -r sku name category price <<<"$item"
        status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "X-Api-Key: $key" "$api/items/$sku" || true)"
        [[ $status == 404 ]] || continue
        status="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X PUT "$api/items/$sku" -H "X-Api-Key: $key" \
            -H 'Content-Type: application/json' \
            -d "{\"name\":\"$name\",\"category\":\"$category\",\"price\":$price,\"currency\":\"USD\",\"onHand\":100}" || true)"
        if [[ $status == 200 ]]; then
            created+=("$sku")
        else
            warn "could not add $sku for the demo checkout (PUT /items/$sku answered ${status:-nothing})"
        fi
    done
    if ((${#created[@]} > 0)); then
        say "demo checkout items added to the catalog: ${created[*]}"
    fi
}

# Where Api, Workers and sandbox serve GET /metrics (Prometheus text, no key).
metrics_urls() {
    if [[ $(printenv Metrics__Enabled || true) == false ]]; then
        printf 'off (Metrics__Enabled=false)'
    else
        printf 'http://127.0.0.1:%s/metrics, http://127.0.0.1:%s/metrics, http://127.0.0.1:%s/metrics' \
            "$API_PORT" "$WORKERS_PORT" "$SANDBOX_PORT"
    fi
}

banner() {
    local api="http://127.0.0.1:$API_PORT" rabbit_mgmt="http://$SAGAS_RABBIT_HOST:$SAGAS_RABBIT_MGMT_PORT"
    cat <<EOF

Sagas is running. Ctrl-C stops the .NET processes; 'make stop' also stops PostgreSQL and RabbitMQ.

  Api                  $api
  OpenAPI              $api/openapi/v1.json
  Swagger UI           $api/swagger
  Support console      $api/support  (sign in with dev-support-key)
  Demo checkout        http://127.0.0.1:$SANDBOX_PORT/demo/
  Workers              http://127.0.0.1:$WORKERS_PORT$READY_PATH
  Payment sandbox      http://127.0.0.1:$SANDBOX_PORT
  RabbitMQ management  $rabbit_mgmt  (administrator $SAGAS_RABBIT_USER, password $SAGAS_RABBIT_PASSWORD;
                       the services connect as $SAGAS_RABBIT_APP_USER, vhost $SAGAS_RABBIT_APP_VHOST only)
  Metrics              $(metrics_urls)
                       RabbitMQ http://$SAGAS_RABBIT_HOST:$SAGAS_RABBIT_PROMETHEUS_PORT/metrics/per-object
                       Prometheus: ops/prometheus/prometheus.yml, alerts ops/prometheus/alerts.yml (docs/observability.md)
  PostgreSQL           $SAGAS_PG_HOST:$SAGAS_PG_PORT, database $SAGAS_PG_DATABASE (owner $SAGAS_PG_USER migrates, the services
                       Api as $SAGAS_PG_API_USER, Workers as $SAGAS_PG_WORKERS_USER: DML on their own tables only); sandbox ledger in $SAGAS_PG_SANDBOX_DATABASE ($SAGAS_PG_SANDBOX_USER)
  Logs                 .local/logs/api.log, workers.log, sandbox.log
${SAGAS_RUN_TOPOLOGY:+  Cluster              $SAGAS_RUN_TOPOLOGY
}
Dev API keys (header X-Api-Key):
  dev-storefront-key   storefront
  dev-support-key      support
  dev-admin-key        admin

Try it:
  curl -s -X PUT $api/items/MOUSE-1 -H 'X-Api-Key: dev-admin-key' -H 'Content-Type: application/json' -d '{"name":"Mouse","category":"peripherals","price":19.99,"currency":"USD","onHand":100}'
  curl -si -X POST $api/orders -H 'X-Api-Key: dev-storefront-key' -H 'Idempotency-Key: demo-1' -H 'Content-Type: application/json' -d '{"customerId":"c-1","currency":"USD","lines":[{"sku":"MOUSE-1","quantity":2}]}'
  curl -s $api/orders/<orderId from the answer above> -H 'X-Api-Key: dev-storefront-key'
EOF
    if ((${#OVERRIDES[@]} > 0)); then
        printf '\nFrom your environment:\n'
        printf '  %s\n' "${OVERRIDES[@]}"
    fi
    printf '\n'
}

# Stay in the foreground; if a service dies on its own, report it and stop the others.
watch_services() {
    local name
    while true; do
        for name in "${SERVICES[@]}"; do
            if ! alive "${PID[$name]}"; then
                local rc=0
                wait "${PID[$name]}" || rc=$?
                die_with_log "$LOG_DIR/$name.log" 0 "${TITLE[$name]} (pid ${PID[$name]}) exited on its own (code $rc); stopping the others"
            fi
        done
        # Without the lock descriptor: a sleep outliving this script must not keep the next `make run` out.
        sleep 1 9>&- &
        wait $! || true
    done
}
