# Overlap — the common jobs. `make run` and `make test` are the two a newcomer needs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
UV_VERSION := 0.13.9
LOCAL := deploy/local
ENV := source $(LOCAL)/env.sh
PYTEST_ARGS ?=
# Python writes its bytecode caches (__pycache__, ignored by git) even where the environment
# says not to: without them every process compiled its imports again (the API's 7 s of CPU
# instead of 3), and the tests start many processes.
unexport PYTHONDONTWRITEBYTECODE
# What `make test-cluster` runs on the Redis Cluster: the cache, invalidation and read paths.
CLUSTER_TESTS ?= tests/integration/cluster tests/integration/test_view_cache.py \
	tests/integration/test_invalidation.py tests/integration/test_view_engine.py \
	tests/integration/api/test_hot_reads.py tests/integration/api/test_view_engine_reads.py \
	tests/integration/api/test_one_query.py tests/integration/api/test_rate_limits.py \
	tests/integration/api/test_monitor_and_warm.py tests/integration/api/test_events.py \
	tests/integration/api/test_participants.py

.PHONY: help install infra browser topics run stop status test test-cluster test-unit lint fmt asyncapi bench \
	chaos soak audit images test-containers test-compose expire backup restore replay

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

install:  ## install uv (pinned) and the locked Python environment
	@command -v uv >/dev/null || python3 -m pip install -q "uv==$(UV_VERSION)"
	@uv sync --frozen --all-packages -q

infra:  ## start PostgreSQL, Redis, Kafka and soketi on loopback (installs what is missing)
	@$(LOCAL)/infra.sh up

topics: install infra  ## create the Kafka topics (idempotent)
	@$(ENV); .venv/bin/python -m overlap_shared.topics

run: install infra  ## the whole stack: services, workers, gateway, a demo event; prints the URLs
	@$(LOCAL)/apps.sh up
	@$(ENV); .venv/bin/python scripts/seed_demo.py "http://127.0.0.1:$$GATEWAY_PORT" \
	 || echo "  (demo seed failed; the stack is up)"
	@$(ENV); echo; \
	 echo "Overlap is running:"; \
	 echo "  gateway      http://127.0.0.1:$$GATEWAY_PORT/   (API under /api/, docs /api/docs)"; \
	 echo "  api          http://127.0.0.1:$$API_PORT/api/healthz"; \
	 echo "  workers      health on :$$AVAILABILITY_HEALTH_PORT :$$INVALIDATOR_HEALTH_PORT :$$NOTIFIER_HEALTH_PORT"; \
	 echo "  logs         $$OVERLAP_HOME/log/    stop with: make stop"

stop:  ## stop everything that `make run` / `make test` / `make chaos` started
	@$(LOCAL)/apps.sh down
	@$(LOCAL)/scale-out.sh down
	@$(LOCAL)/infra.sh down
	@for home in .local/chaos .local/soak; do \
	  [[ ! -d $$home/run ]] || OVERLAP_HOME=$$PWD/$$home $(LOCAL)/infra.sh down; done

status:  ## what is running
	@$(LOCAL)/infra.sh status; $(LOCAL)/apps.sh status

browser:  ## Debian's Chromium for the browser test (never a downloaded browser)
	@command -v chromium >/dev/null || (apt-get update -qq && \
	 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	@[[ -f tests/e2e/axe/node_modules/axe-core/axe.min.js ]] || \
	 npm ci --prefix tests/e2e/axe --no-audit --no-fund --loglevel=error

test: install infra browser  ## all tests on the real services (starts them first)
	@$(ENV); export DATABASE_URL="postgresql+asyncpg://$$PG_USER:$$PG_PASSWORD@127.0.0.1:$$PG_PORT/$${PG_DB}_test"; \
	 export OVERLAP_SERVICES=local REDIS_URL="redis://127.0.0.1:$$REDIS_PORT/1"; \
	 export DOMAIN_TOPIC=overlap.test.domain.v1 VIEWS_TOPIC=overlap.test.views.v1; \
	 .venv/bin/python -m overlap_shared.topics; \
	 .venv/bin/pytest $(PYTEST_ARGS)

test-cluster: install infra  ## the cache and read paths on a 3-primary Redis Cluster and a PostgreSQL replica
	@$(LOCAL)/scale-out.sh up
	@$(ENV); export DATABASE_URL="postgresql+asyncpg://$$PG_USER:$$PG_PASSWORD@127.0.0.1:$$PG_PORT/$${PG_DB}_test"; \
	 export REPLICA_DATABASE_URL="postgresql+asyncpg://$$PG_USER:$$PG_PASSWORD@127.0.0.1:$$PG_REPLICA_PORT/$${PG_DB}_test"; \
	 export OVERLAP_SERVICES=local REDIS_CLUSTER=true REDIS_URL="redis://127.0.0.1:$$REDIS_CLUSTER_PORT/0"; \
	 export DOMAIN_TOPIC=overlap.test.domain.v1 VIEWS_TOPIC=overlap.test.views.v1; \
	 .venv/bin/python -m overlap_shared.topics; \
	 .venv/bin/pytest $(CLUSTER_TESTS) $(PYTEST_ARGS)

test-unit: install  ## the tests that need no service
	@.venv/bin/pytest tests/unit $(PYTEST_ARGS)

images:  ## build every image of deploy/compose.yaml and the container tests, here (Docker, root)
	@deploy/images/build.sh

test-containers: install images  ## the integration tests on containers of those images
	@deploy/images/test.sh containers $(PYTEST_ARGS)

test-compose: install images  ## deploy/compose.yaml up, driven through its gateway, torn down
	@deploy/images/test.sh compose $(PYTEST_ARGS)

backup: install  ## a consistent PostgreSQL backup (pg_dump, under load too) -> .local/backups/ (or BACKUP=file)
	@$(LOCAL)/backup.sh backup $${BACKUP:-}

restore: install  ## BACKUP=file (default: the newest) into a fresh database; versions advanced, caches cleared and warmed
	@$(LOCAL)/backup.sh restore $${BACKUP:-}

expire: install  ## delete the events past RETENTION_DAYS once (what the CronJob runs)
	@$(ENV); .venv/bin/overlap-expire $${EXPIRE_ARGS:-}

replay: install  ## publish a dead-letter topic's records back to their source topic: DLT=<topic> [REPLAY_ARGS=--dry-run]
	@test -n "$${DLT:-}" || { echo "usage: make replay DLT=<topic>.dlt.<group> [REPLAY_ARGS='--from-offset N --dry-run']"; exit 2; }
	@$(ENV); .venv/bin/python -m overlap_shared.replay "$$DLT" $${REPLAY_ARGS:-}

asyncapi: install  ## write the AsyncAPI documents of the topics to docs/asyncapi/
	@.venv/bin/python scripts/asyncapi.py docs/asyncapi

lint: install  ## ruff check, ruff format --check, mypy
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@.venv/bin/mypy --no-incremental shared/src services/*/src tests scripts bench chaos audit launcher

audit: install  ## known vulnerabilities in the locks (PyPI, npm); waivers: audit-waivers.toml
	@.venv/bin/python -m audit

fmt: install  ## apply ruff's fixes and formatting
	@.venv/bin/ruff check --fix -q . || true
	@.venv/bin/ruff format -q .

bench: install  ## open-loop benchmark vs DESIGN §8 (starts the stack if needed) -> results/
	@.venv/bin/python -m bench.engine
	@$(ENV); .venv/bin/python -m bench

chaos: install  ## every fault (kill, pause; alone and in pairs) on a stack of its own -> table
	@.venv/bin/python -m chaos

soak: install  ## 10 minutes of mixed load on a stack of its own: errors, memory, convergence
	@.venv/bin/python -m chaos --soak $${SOAK_SECONDS:-600}
