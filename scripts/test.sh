#!/usr/bin/env bash
# `make test`: bring up PostgreSQL + RabbitMQ (left running afterwards, so reruns are fast), install the
# tools the tests call, build once, run every test project, and end with one summary line computed from
# the trx files:
#
#   N passed, N failed[, N skipped]
#
# Exit code: non-zero when the build failed, a test failed, or a test run did not report.
# Settings (environment): everything scripts/infra.sh reads; SAGAS_BROWSER_TESTS=0 skips the browser
# setup; SAGAS_TEST_FILTER passes a --filter expression to dotnet test.
set -euo pipefail

SAGAS_SCRIPT="test"
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$SAGAS_ROOT"

RESULTS_DIR="$SAGAS_LOCAL/test-results"

ensure_docker_compose() {
    # The deployment tests validate docker-compose.yml with `docker-compose config` (no engine needed).
    have docker-compose || apt_install docker-compose
}

# The alert rules are checked with `promtool check rules`/`test rules`, and the metrics end-to-end test runs a real
# Prometheus: Debian's package has both (apt_install keeps its service from starting).
ensure_prometheus() {
    have promtool && [[ -x /usr/bin/prometheus ]] || apt_install prometheus
}

# ---- ensure_browser -------------------------------------------------------------------------------
# Browser tests (Playwright) drive Debian's chromium at /usr/bin/chromium; nothing is downloaded by
# Playwright itself. Called unless SAGAS_BROWSER_TESTS=0.
ensure_browser() {
    [[ -x /usr/bin/chromium ]] || apt_install chromium
}
# ---------------------------------------------------------------------------------------------------

# Sum a counter attribute over every trx file in the results folder.
trx_sum() {
    local attribute="$1" file total=0 value
    for file in "$RESULTS_DIR"/*.trx; do
        [[ -f $file ]] || continue
        value="$(grep -o "<Counters [^>]*" "$file" | grep -o " $attribute=\"[0-9]*\"" | grep -o '[0-9]*' | head -n 1 || true)"
        total=$((total + ${value:-0}))
    done
    printf '%s' "$total"
}

# Name every failed test with the first lines of its message, so the end of a CI log says what failed.
trx_failures() {
    local file
    for file in "$RESULTS_DIR"/*.trx; do
        [[ -f $file ]] || continue
        awk '
            /<UnitTestResult / {
                failed = ($0 ~ /outcome="(Failed|Error|Timeout|Aborted)"/)
                if (failed && match($0, /testName="[^"]*"/)) print "FAILED " substr($0, RSTART + 10, RLENGTH - 11)
            }
            failed && /<Message>/ { in_message = 1; lines = 0 }
            in_message {
                line = $0
                sub(/^ *<Message>/, "", line); sub(/<\/Message>.*/, "", line)
                if (lines < 6) print "    " line
                lines++
                if ($0 ~ /<\/Message>/) { in_message = 0; if (lines > 6) print "    (" lines - 6 " more lines in the trx)" }
            }
            /<\/UnitTestResult>/ { failed = 0; in_message = 0 }
        ' "$file" | sed -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&quot;/"/g' -e "s/&apos;/'/g" -e 's/&amp;/\&/g'
    done
}

test_project_count() {
    grep -l '<IsTestProject>true</IsTestProject>' tests/*/*.csproj 2>/dev/null | wc -l
}

main() {
    have dotnet || die "dotnet is not installed (the .NET 10 SDK is needed)"

    "$SAGAS_ROOT/scripts/infra.sh" up
    eval "$("$SAGAS_ROOT/scripts/infra.sh" env)"

    ensure_docker_compose
    ensure_prometheus
    if [[ ${SAGAS_BROWSER_TESTS:-1} != 0 ]]; then
        ensure_browser
    fi

    # On CI, build servers must not outlive the run.
    local build_flags=(-c Release -nologo)
    if [[ -n ${CI:-} ]]; then
        build_flags+=(--disable-build-servers)
    fi

    say "building Sagas.sln (Release)"
    if ! dotnet build Sagas.sln "${build_flags[@]}" -v minimal </dev/null; then
        printf 'test: build failed (errors above); no tests ran\n' >&2
        printf '0 passed, 0 failed\n'
        exit 1
    fi

    rm -rf "$RESULTS_DIR"
    mkdir -p "$RESULTS_DIR"
    # -m:1 runs the test projects one after another: the broker-outage spec stops RabbitMQ for a few
    # seconds, which must not land in the middle of another project's end-to-end start-up.
    local test_args=(test Sagas.sln "${build_flags[@]}" --no-build -m:1
        --results-directory "$RESULTS_DIR"
        --logger trx
        --logger "console;verbosity=minimal")
    if [[ -n ${SAGAS_TEST_FILTER:-} ]]; then
        test_args+=(--filter "$SAGAS_TEST_FILTER")
    fi

    say "running the tests (results in $RESULTS_DIR)"
    local rc=0
    dotnet "${test_args[@]}" </dev/null || rc=$?

    local passed failed skipped reports expected
    passed="$(trx_sum passed)"
    failed=$(($(trx_sum failed) + $(trx_sum error) + $(trx_sum timeout) + $(trx_sum aborted)))
    skipped=$(($(trx_sum total) - $(trx_sum executed)))
    reports="$(find "$RESULTS_DIR" -maxdepth 1 -name '*.trx' | wc -l)"
    expected="$(test_project_count)"

    # Problems first, the summary line last (CI logs and people read the end).
    local status=0
    echo
    if ((reports < expected)); then
        printf 'test: only %s of %s test projects reported results (a test host crashed?); see the output above\n' \
            "$reports" "$expected" >&2
        status=1
    elif ((rc != 0 && failed == 0)); then
        printf 'test: dotnet test exited with code %s; see the output above\n' "$rc" >&2
        status=1
    elif ((passed + failed == 0)); then
        # A filter with a typo matches nothing: that is not a passing run.
        printf 'test: no test ran%s\n' "${SAGAS_TEST_FILTER:+ (filter: $SAGAS_TEST_FILTER)}" >&2
        status=1
    fi
    if ((failed > 0)); then
        status=1
        trx_failures >&2
        echo >&2
    fi
    if ((skipped > 0)); then
        printf '%s passed, %s failed, %s skipped\n' "$passed" "$failed" "$skipped"
    else
        printf '%s passed, %s failed\n' "$passed" "$failed"
    fi
    return "$status"
}

main "$@"
