# kpi: `make run` starts everything on the embedded default; `make test` runs
# every test (it fetches libchdb and starts a ClickHouse server for the
# clickhouse-go adapter tests on the way).
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
CH_DIR ?= /tmp/kpi-ci-clickhouse
# Fuzz by iteration count, not time: a time limit can end the run while a
# new input is being minimised, which go test reports as a failure.
FUZZTIME ?= 500000x

.PHONY: run build test unit libchdb clickhouse-start clickhouse-stop fuzz bench vet lint compose-check

run: libchdb
	$(GO) run ./cmd/kpi serve

build:
	$(GO) build -o bin/kpi ./cmd/kpi

libchdb:
	@./.ci/install-libchdb.sh >/dev/null

test: libchdb
	@./.ci/clickhouse-server.sh start $(CH_DIR) > $(CH_DIR).dsn || { echo "clickhouse-server did not start" >&2; exit 1; }
	@set -o pipefail; status=0; \
	KPI_TEST_CLICKHOUSE_DSN=$$(tail -n1 $(CH_DIR).dsn) $(GO) test -race -count=1 ./... || status=$$?; \
	./.ci/clickhouse-server.sh stop $(CH_DIR) || true; exit $$status

unit:
	$(GO) test -count=1 ./...

vet:
	$(GO) vet ./...

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) -fuzzminimizetime=10x ./events/
	$(GO) test -run='^$$' -fuzz=FuzzSplitBatch -fuzztime=$(FUZZTIME) -fuzzminimizetime=10x ./events/
	$(GO) test -run='^$$' -fuzz=FuzzDecodeMessage -fuzztime=$(FUZZTIME) -fuzzminimizetime=10x ./projections/
	$(GO) test -run='^$$' -fuzz=FuzzReadCSV -fuzztime=$(FUZZTIME) -fuzzminimizetime=10x ./cmd/kpi/

bench: libchdb
	$(GO) run ./cmd/kpi bench

compose-check:
	docker-compose -f docker-compose.yml config -q
