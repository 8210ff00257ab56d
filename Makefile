# The project's vocabulary. Every target uses the virtualenv at .venv (created on demand).
#   make demo          the main job: stack, simulator, a seeded tenant, yesterday's partition of every
#                      media materialized through Dagster, then the web UI at http://127.0.0.1:3000
#   make demo-down     stop the demo's web UI and simulator, then the stack
#   make test          set everything up (venv, stack, Debian's chromium) and run the test suite (the media's
#                      default API versions: gdt and wx v3.0), then the modules that exercise the media API
#                      paths (marker api_paths) again with the notes' versions (ARK_API_VERSIONS=notes: gdt and
#                      wx v1.1, sending the new metric system's flag); about 6 more minutes
#   make test-notes    only that second pass
#   make test-unit     the tests that need no service (no stack, no JVM; well under a minute)
#   make prod-local    the production topology on loopback: Postgres storage, the run queue, dagster-webserver
#                      on http://127.0.0.1:3001, dagster-daemon and two Celery workers (steps run in them)
#   make prod-local-down  stop what `make prod-local` started (by pid file; the stack stays up)
#   make prod-hosts    the production topology on four hosts (network, mount and UTS namespaces on a bridge of
#                      their own, 10.213.0.0/24; root): services (its own PostgreSQL, Redis, MariaDB, HBase +
#                      Thrift, Kafka, the simulator) 10.213.0.10, control (web server, daemon) .11, workers .12,
#                      .13; the UI at http://10.213.0.11:3000 from `ip netns exec ph<id>-control ...` (it prints
#                      the name); installs iproute2, util-linux and socat when missing
#   make prod-hosts-down  stop every process of `make prod-hosts`, remove its namespaces and links (logs stay)
#   make browser       apt-install Debian's chromium if missing (the browser test's browser)
#   make hosts-tools   apt-install iproute2, util-linux and socat if missing (prod-hosts and its tests)
#   make stack         install and start Redis, MariaDB, PostgreSQL, HBase (+ Thrift), Kafka and HDFS on loopback
#   make stack-down    stop what `make stack` started (by pid file; nothing else)
#   make stack-status  a status table of the six services (exit 1 if one is unhealthy)
#   make stack-reset   stop the stack and delete its data
#   make validate      check that Dagster (and the `dg` CLI) can load the code location
#   make dev           the Dagster web UI and daemon on http://127.0.0.1:3000
#   make lint          ruff lint and format check, import contracts (lint-imports)
#   make bench-fetch   the fetch benchmark (seed threads vs seed asyncio vs our engine on the simulator)
#                      -> bench/RESULTS.md and bench/results/fetch.json (~7 minutes)
#   make bench-io      the write benchmark (raw happybase batches vs the HBase IO manager, 25k rows)
#                      -> its section of bench/RESULTS.md and bench/results/io.json (~1 minute)
#   make bench-partition  the partition benchmark (a seed-sized tenant's partition of every media in one
#                      process, simulator latency 0: wall time, CPU per account, peak RSS)
#                      -> its section of bench/RESULTS.md and bench/results/partition.json
#   make bench-load    the load benchmark (three seed-sized tenants materialized at once as Dagster runs, with
#                      the shipped pools and quotas, against the quota-bound and CPU-bound limits)
#                      -> its section of bench/RESULTS.md and bench/results/load.json
#   make bench-orchestration  the orchestration benchmark (the demo and a seed-sized partition as a Dagster run
#                      with the shipped executor next to the same partition in process: CPU of each)
#                      -> its section of bench/RESULTS.md and bench/results/orchestration.json
#   make bench-capacity  the capacity plan: 100 tenants a day modelled from the declarations and quotas and played
#                      through the run queue, pools and Celery workers; its run and step costs measured on the
#                      multi-host topology of prod-hosts, the model checked against a simulated day with
#                      scaled-down quotas (root; `python -m bench.capacity` without --hosts: on loopback)
#                      -> docs/CAPACITY.md and bench/results/capacity.json (~15 minutes)
#   make bench         the five benchmarks (not bench-capacity)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv browser hosts-tools demo demo-down test test-notes test-unit prod-local prod-local-down prod-hosts prod-hosts-down stack stack-down stack-status stack-reset validate dev lint format clean bench-fetch bench-io bench-partition bench-load bench-orchestration bench-capacity bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,production]'
	touch $(STAMP)

venv: $(STAMP)

stack: venv
	$(BIN)/ark-stack up
	$(BIN)/ark-assets db upgrade

stack-down: venv
	$(BIN)/ark-stack down

stack-status: venv
	$(BIN)/ark-stack status

stack-reset: venv
	$(BIN)/ark-stack reset --yes

validate: venv
	$(BIN)/dagster definitions validate -w workspace.yaml
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/dg check defs

# The browser test drives the system chromium through Playwright (browser downloads are not
# possible on our machines). Installed like the stack's Redis and MariaDB: apt, sudo unless root.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "• Installing chromium from Debian's packages (for the browser test)"; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

# The multi-host tests need iproute2 (ip netns), util-linux (nsenter, unshare) and socat.
hosts-tools: venv
	$(BIN)/ark-stack prod-hosts tools

test: stack browser hosts-tools
	$(BIN)/pytest
	ARK_API_VERSIONS=notes $(BIN)/pytest -m api_paths

test-notes: stack
	ARK_API_VERSIONS=notes $(BIN)/pytest -m api_paths

test-unit: venv
	$(BIN)/pytest -m "not stack"

demo: stack
	$(BIN)/ark-demo up

demo-down: venv
	$(BIN)/ark-demo down
	$(BIN)/ark-stack down

prod-local: stack
	$(BIN)/ark-stack prod-local up

prod-local-down: venv
	$(BIN)/ark-stack prod-local down

# Its own services on the services host: needs no loopback stack, only the packages and jars.
prod-hosts: hosts-tools
	$(BIN)/ark-stack prod-hosts up

prod-hosts-down: venv
	$(BIN)/ark-stack prod-hosts down

dev: stack
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/.stack/dagster_home}; mkdir -p $$DAGSTER_HOME; \
	cp deploy/dagster.local.yaml $$DAGSTER_HOME/dagster.yaml; \
	DAGSTER_HOME=$$DAGSTER_HOME $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

lint: venv
	$(BIN)/ruff check ark_assets ark_sim ark_stack ark_assets_tests bench scripts
	$(BIN)/ruff format --check ark_assets ark_sim ark_stack ark_assets_tests bench scripts
	$(BIN)/lint-imports

format: venv
	$(BIN)/ruff format ark_assets ark_sim ark_stack ark_assets_tests bench scripts
	$(BIN)/ruff check --fix ark_assets ark_sim ark_stack ark_assets_tests bench scripts

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache

bench-fetch: stack
	$(BIN)/python -m bench.fetch_bench

bench-io: stack
	$(BIN)/python -m bench.io_bench

bench-partition: stack
	$(BIN)/python -m bench.partition_bench

bench-load: stack
	$(BIN)/python -m bench.load_bench

bench-orchestration: stack
	$(BIN)/python -m bench.orchestration_bench

bench-capacity: stack hosts-tools
	$(BIN)/python -m bench.capacity --hosts

bench: bench-fetch bench-io bench-partition bench-load bench-orchestration
