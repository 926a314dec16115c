#!/usr/bin/env bash
# `make bench [QUICK=1]`: the whole system under Black Friday load and faults, next to the machine's own
# limits measured in the same run. Installs what is missing (PostgreSQL, RabbitMQ, rsvg-convert for the
# charts), builds the benchmark and the services (Release) while it brings up the benchmark's own PostgreSQL
# cluster and RabbitMQ node (state in .local/bench, ports of their own, so the broker stop and the database
# restart never touch the servers `make run` and `make test` use), then runs bench/Sagas.Bench, which starts
# Api, Workers and the payment sandbox itself on fresh databases and virtual hosts.
#
#   make bench            full run (under 25 minutes on 2 cores); writes docs/benchmarks.md, .json, charts
#   make bench QUICK=1    4-5 minutes on 2 cores shared with other work (the phases are timed at the end), same
#                         scenarios and verdicts; report in .local/bench/report/
#
# Settings (environment): SAGAS_BENCH_PG_PORT (25436), SAGAS_BENCH_RABBIT_PORT (5676),
# SAGAS_BENCH_RABBIT_MGMT_PORT (15676), SAGAS_BENCH_RABBIT_NODE (rabbit-bench@localhost),
# SAGAS_BENCH_ARGS (extra arguments, e.g. "--seed 42 --keep-infra", or "--only cluster" for the two scenarios on the
# cluster topology alone); the cluster scenarios' own scripts/cluster.sh cluster (.local/bench-cluster):
# SAGAS_BENCH_CLUSTER_RABBIT_PORT (5711-5713), SAGAS_BENCH_CLUSTER_RABBIT_MGMT_PORT (15711-15713),
# SAGAS_BENCH_CLUSTER_PG_PORT (25446-25447).
# Exit code: 0 when every reliability verdict passed, 1 when one failed, 2 when the run broke.
set -euo pipefail

SAGAS_SCRIPT=bench
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SAGAS_ROOT"

BENCH_DLL="$SAGAS_ROOT/bench/Sagas.Bench/bin/Release/net10.0/Sagas.Bench.dll"

# scripts/infra.sh on the benchmark's own state folder and ports.
bench_infra() {
    SAGAS_STATE_DIR="$SAGAS_LOCAL/bench" \
        SAGAS_PG_PORT="${SAGAS_BENCH_PG_PORT:-25436}" \
        SAGAS_RABBIT_PORT="${SAGAS_BENCH_RABBIT_PORT:-5676}" \
        SAGAS_RABBIT_MGMT_PORT="${SAGAS_BENCH_RABBIT_MGMT_PORT:-15676}" \
        SAGAS_RABBIT_NODE="${SAGAS_BENCH_RABBIT_NODE:-rabbit-bench@localhost}" \
        SAGAS_RABBIT_DIST_PORT=$((${SAGAS_BENCH_RABBIT_PORT:-5676} + 20000)) \
        "$SAGAS_ROOT/scripts/infra.sh" "$@"
}

main() {
    have dotnet || die "dotnet is not installed (the .NET 10 SDK is needed)"
    [[ $EUID -eq 0 ]] || die "make bench must run as root (it starts PostgreSQL and RabbitMQ as their own users)"
    have rsvg-convert || apt_install librsvg2-bin

    local args=()
    if [[ -n ${QUICK:-} && ${QUICK} != 0 ]]; then
        args+=(--quick)
    fi
    # shellcheck disable=SC2206
    args+=(${SAGAS_BENCH_ARGS:-})

    # The benchmark's own PostgreSQL and RabbitMQ boot while the build runs (the program calls infra.sh up
    # again and finds them running); their output goes to a log, shown only if they fail.
    local started=$SECONDS infra_log="$SAGAS_LOCAL/bench/infra-up.log"
    mkdir -p "$SAGAS_LOCAL/bench"
    say "bringing up the benchmark's own PostgreSQL and RabbitMQ (.local/bench) in the background (log $infra_log)"
    bench_infra up </dev/null >"$infra_log" 2>&1 &
    local infra_pid=$!

    # Only what the run needs: the program, and the services it starts (project references of it).
    say "building bench/Sagas.Bench with Api, Workers and PaymentSandbox (Release)"
    if ! dotnet build bench/Sagas.Bench/Sagas.Bench.csproj -c Release -nologo -v minimal </dev/null; then
        wait "$infra_pid" || true
        bench_infra down >/dev/null 2>&1 || true
        die "build failed (errors above)"
    fi
    say "built in $((SECONDS - started)) s"
    if ! wait "$infra_pid"; then
        cat "$infra_log" >&2
        die "bringing up the benchmark's PostgreSQL and RabbitMQ failed (output above)"
    fi
    say "PostgreSQL and RabbitMQ up $((SECONDS - started)) s after the start"

    say "running bench/Sagas.Bench ${args[*]+${args[*]}}"
    local rc=0
    (cd "$(dirname "$BENCH_DLL")" && dotnet "$BENCH_DLL" "${args[@]+"${args[@]}"}") </dev/null || rc=$?
    return "$rc"
}

main "$@"
