# Process Dashboard API — the front door. `make help` lists the targets; each one calls an npm script
# (package.json holds the commands), so nothing here duplicates logic.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Node 24 LTS. Where the machine's node is older, a pinned node from the npm registry goes into the
# git-ignored .tools/ folder and onto PATH for every target.
NODE_VERSION := 24.21.0
TOOLS_DIR := $(CURDIR)/.tools
NODE_DIR := $(TOOLS_DIR)/node
NODE_ARCH := $(shell uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')
SYSTEM_NODE_OK := $(shell node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 24 ? 0 : 1)' >/dev/null 2>&1 && echo yes)
ifeq ($(SYSTEM_NODE_OK),yes)
NODE_BIN :=
else
export PATH := $(NODE_DIR)/bin:$(PATH)
NODE_BIN := $(NODE_DIR)/bin/node
endif

STAMP := node_modules/.install-stamp
SQLGLOT_VERSION := 30.30.0
SCHEMATHESIS_VERSION := 4.32.5
# The robots' own client (PyPI) for `make robot`, installed with --no-deps: the library declares pandas,
# pyodbc, office365, ... that its dashboard modules never import; these are all it needs, pinned exactly.
ROBOT_CLIENT_VERSION := 1.5.0
ROBOT_CORE_VERSION := 0.2.5
ROBOT_PIP_PINS := mbu-process-dashboard-shared-components==$(ROBOT_CLIENT_VERSION) mbu-rpa-core==$(ROBOT_CORE_VERSION) \
	requests==2.34.2 urllib3==2.8.0 idna==3.20 certifi==2026.10.19.post1 charset-normalizer==3.5.3 \
	pydantic==2.14.3 pydantic-core==2.50.4 typing-extensions==4.16.0 typing-inspection==0.4.5 annotated-types==0.8.0

.PHONY: help node deps run worker admin-key recount-runs adopt test test-sqlite test-postgres typecheck lint format lint-spec \
	generate check-generated migration check-migrations check-tsql mock bench sdk-pack sdk-smoke audit fuzz robot ci clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(NODE_DIR)/bin/node:
	@echo "Installing Node $(NODE_VERSION) from the npm registry into $(NODE_DIR) (machine node is older than 24)"
	@mkdir -p $(NODE_DIR) $(TOOLS_DIR)/tmp
	@cd $(TOOLS_DIR)/tmp && npm pack --silent node-linux-$(NODE_ARCH)@$(NODE_VERSION) >/dev/null
	@tar -xzf $(TOOLS_DIR)/tmp/node-linux-$(NODE_ARCH)-$(NODE_VERSION).tgz -C $(NODE_DIR) --strip-components=1
	@rm -rf $(TOOLS_DIR)/tmp
	@$(NODE_DIR)/bin/node --version

node: $(NODE_BIN) ## make sure Node >= 24 is on PATH (installs a local one when needed)
	@node --version

$(STAMP): package.json package-lock.json | $(NODE_BIN)
	npm ci --no-audit --no-fund
	@touch $(STAMP)

deps: $(STAMP) ## install npm dependencies exactly as locked

run: deps ## start the API on the embedded SQLite database (an admin key is printed on first start)
	npm start

worker: deps ## run a rerun worker on its own (no HTTP API), on DATABASE_URL as `make run` does
	npm run --silent worker

admin-key: deps ## create an admin API key and print it once (ARGS="--name ... --role user" to change)
	npm run admin-key -- $(ARGS)

recount-runs: deps ## count the runs of every process and index their declared meta values again (after another program changed runs in the tables)
	npm run recount-runs

adopt: deps ## take over the original service's database at DATABASE_URL: prints the plan; ARGS=--apply converts it
	npm run --silent db:adopt -- $(ARGS)

test: deps ## run the test suite on SQLite, and again on TEST_DATABASE_URL's server when set (postgresql:// or mssql://)
	TEST_DATABASE_URL= npm test
	@if [ -n "$$TEST_DATABASE_URL" ]; then echo "== again on $${TEST_DATABASE_URL%%:*}"; npm test; fi

test-sqlite: deps ## run the test suite on SQLite only
	TEST_DATABASE_URL= npm test

test-postgres: deps ## run the test suite on PostgreSQL (starts a local server; installs it when missing)
	TEST_DATABASE_URL=$$(bash .ci/postgres.sh) npm test

typecheck: deps ## type-check src/ and tests/ (tsc --noEmit)
	npm run typecheck

lint: deps ## eslint (typescript-eslint, no-floating-promises) and prettier check
	npm run lint

format: deps ## format the code with prettier
	npm run format

lint-spec: deps ## lint the OpenAPI contract with Redocly (strict config in openapi/redocly.yaml)
	npm run lint:spec

generate: deps ## bundle the spec and regenerate types and the TypeScript SDK into generated/
	npm run generate

check-generated: deps ## regenerate and fail when generated/ differs from what is committed
	npm run check:generated

migration: deps ## create migrations for SQLite, PostgreSQL and SQL Server from entity changes (offline)
	npm run migration:create -- $(NAME)

check-migrations: deps ## fail when entities and migrations disagree, for every dialect
	npm run migration:check

check-tsql: deps ## parse the SQL Server migrations and the T-SQL the ORM emits for our queries (sqlglot)
	@test -x $(TOOLS_DIR)/venv/bin/python || python3 -m venv $(TOOLS_DIR)/venv
	@$(TOOLS_DIR)/venv/bin/pip install --quiet --disable-pip-version-check sqlglot==$(SQLGLOT_VERSION)
	npm run --silent tsql:render -- $(TOOLS_DIR)/mssql-queries.sql
	$(TOOLS_DIR)/venv/bin/python src/db/tsql-check.py migrations/mssql $(TOOLS_DIR)/mssql-queries.sql

mock: deps ## serve the bundled spec as a mock with Prism on 127.0.0.1:4010
	npm run mock

bench: deps ## measure throughput and latency of the hot paths with autocannon
	npm run bench

sdk-pack: deps ## build the generated SDK into an installable tarball under .tools/sdk/
	npm run sdk:pack

sdk-smoke: deps ## install the SDK tarball into an empty folder and call a running server with it
	npm run sdk:smoke

fuzz: deps ## Schemathesis (all checks) against a fresh server on SQLite; FUZZ_ARGS passes options
	@test -x $(TOOLS_DIR)/venv/bin/python || python3 -m venv $(TOOLS_DIR)/venv
	@$(TOOLS_DIR)/venv/bin/pip install --quiet --disable-pip-version-check schemathesis==$(SCHEMATHESIS_VERSION)
	bash tests/fuzz/fuzz.sh

robot: deps ## the robots' own Python client drives a day against a fresh server
	@# A venv of its own: its pins must not fight Schemathesis' dependencies in .tools/venv.
	@test -x $(TOOLS_DIR)/robot-venv/bin/python || python3 -m venv $(TOOLS_DIR)/robot-venv
	@$(TOOLS_DIR)/robot-venv/bin/pip install --quiet --disable-pip-version-check --no-deps $(ROBOT_PIP_PINS)
	bash tests/robot/robot.sh

audit: deps ## npm audit of the production dependencies; findings fail unless allow-listed with a reason
	npm run --silent audit:deps

ci: ## what CI runs (.ci/run): install everything, check everything, test on SQLite and PostgreSQL
	bash .ci/run

clean: ## remove installed dependencies, local tools and the local database
	rm -rf node_modules .tools data
