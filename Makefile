# The user interface of the project: `make help` lists the targets.
# Scripts live in scripts/; state (databases, logs, pid files, test results) in the git-ignored .local/.

# bash, not sh: dash drops environment variables whose names contain '-', such as
# ApiKeys__dev-storefront-key, before they reach the scripts.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# `make bench QUICK=1` passes QUICK through to scripts/bench.sh.
QUICK ?=
export QUICK

.PHONY: help run cluster test stop bench build clean clean-data

help: ## list the targets
	@echo "Sagas: order-fulfilment sagas on MassTransit, PostgreSQL and RabbitMQ"
	@echo
	@echo "usage: make <target>"
	@echo
	@awk -F ':.*## ' '/^[a-z-]+:.*## / { printf "  %-11s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo
	@echo "Ports and settings are overridable by environment, e.g. Saga__PaymentWindow=00:00:10 make run"

run: ## build, start PostgreSQL + RabbitMQ, migrate, run Api/Workers/PaymentSandbox (Ctrl-C stops them)
	@scripts/run.sh

cluster: ## like run, on a 3-node RabbitMQ cluster and a PostgreSQL primary + synchronous standby (scripts/cluster.sh)
	@scripts/cluster.sh run

test: ## start PostgreSQL + RabbitMQ and run every test project; ends with "N passed, N failed"
	@scripts/test.sh

stop: ## stop leftover .NET processes of `make run`/`make cluster`, then PostgreSQL and RabbitMQ (and the clusters of make cluster and make bench) started from here
	@scripts/run.sh stop
	@scripts/infra.sh down
	@scripts/cluster.sh down
	@SAGAS_STATE_DIR="$(CURDIR)/.local/bench-cluster" SAGAS_CLUSTER_RABBIT_NODE_PREFIX=sagas-bench-cluster scripts/cluster.sh down

bench: ## run the benchmarks (QUICK=1 for a short run)
	@scripts/bench.sh

build: ## build the solution (Release)
	dotnet build Sagas.sln -c Release -nologo

clean: ## remove build output (bin/, obj/); keeps .local data
	-dotnet clean Sagas.sln -c Release -nologo -v quiet
	-dotnet clean Sagas.sln -c Debug -nologo -v quiet
	rm -rf src/*/bin src/*/obj tests/*/bin tests/*/obj bench/*/bin bench/*/obj

clean-data: stop ## stop the infrastructure and delete .local (databases, queues, logs, test results)
	@for link in .local/pg .local/rabbitmq .local/test-brokers/*/rabbitmq .local/cluster/*/pg .local/cluster/*/rabbitmq; do \
		if [[ -L $$link ]]; then target="$$(readlink -f $$link)"; rm -rf "$$target"; rmdir "$$(dirname "$$target")" 2>/dev/null || true; fi; \
	done
	rm -rf .local
