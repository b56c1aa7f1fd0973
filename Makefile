# villageplan — see README.md. `make run` and `make test` are the two
# commands a newcomer needs; both install what is missing first.

SHELL    := /bin/bash
GO       ?= go
BIN      := bin/villageplan
DATA     ?= ./.villageplan
ADDR     ?= 127.0.0.1:8080
# The throwaway cluster of `make test` lives where the postgres user can
# reach it even when the checkout sits under a private home directory.
TESTDATA ?= /var/tmp/villageplan-make-test-$(shell id -u)

.PHONY: all deps test-deps build run test vet bench bench-slowclients bench-import bench-importvs bench-storage bench-vs bench-tiles bench-edit bench-asof bench-desk bench-indicators clean browser-test maplibre fuzz

all: build

deps:
	@internal/devtools/install-deps.sh

test-deps:
	@internal/devtools/install-deps.sh --with-test-tools

build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/villageplan

run: deps build
	$(BIN) serve --addr $(ADDR) --data $(DATA)

vet:
	$(GO) vet ./...

# Starts a throwaway PostGIS with the same code as the embedded default,
# runs every test against it, stops it and removes it. testsummary prints
# what go test prints, then every skipped test with its reason and the
# closing line "N passed, N failed, N skipped".
test: test-deps build
	@rm -rf $(TESTDATA)
	@$(BIN) db start --data $(TESTDATA) --log-level warn
	@url=$$($(BIN) db url --data $(TESTDATA) --database postgres); \
	$(GO) build -o bin/testsummary ./internal/devtools/testsummary; \
	set -o pipefail; VILLAGEPLAN_TEST_DATABASE_URL="$$url" $(GO) test -count=1 -json ./... 2>&1 | bin/testsummary; rc=$$?; \
	$(BIN) db stop --data $(TESTDATA) --log-level warn; rm -rf $(TESTDATA); exit $$rc

clean:
	rm -rf bin

# Runs every Go fuzz target of the repository (each `func FuzzXxx` in a
# _test.go file) for FUZZTIME each, one after the other, against a
# throwaway PostGIS like `make test` (targets that execute SQL use it).
# FUZZFLAGS adds go test flags, e.g. FUZZFLAGS=-parallel=1 on a small
# machine. Their seed corpora already run in `make test`.
FUZZTIME  ?= 30s
FUZZFLAGS ?=
FUZZDATA  ?= /var/tmp/villageplan-make-fuzz-$(shell id -u)
fuzz: test-deps build
	@rm -rf $(FUZZDATA)
	@$(BIN) db start --data $(FUZZDATA) --log-level warn
	@url=$$($(BIN) db url --data $(FUZZDATA) --database postgres); rc=0; \
	for t in $$(grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' . | sed -E 's#^(.*)/[^/]+:func (Fuzz[A-Za-z0-9_]+)$$#\1:\2#' | sort -u); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name in $$pkg for $(FUZZTIME)"; \
		VILLAGEPLAN_TEST_DATABASE_URL="$$url" $(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) $$pkg || rc=1; \
	done; \
	$(BIN) db stop --data $(FUZZDATA) --log-level warn; rm -rf $(FUZZDATA); exit $$rc

# Performance figures of the issues on the county-scale sample (needs wrk
# and ogr2ogr); every figure goes to internal/devtools/bench/results.tsv.
bench: build
	internal/devtools/bench.sh
	BENCH_DATA=$${BENCH_DATA:-/var/tmp/villageplan-bench} BENCH_SCALE=county internal/devtools/bench-slowclients.sh

# Interactive p95 (items by id, bbox pages, tiles) alone and while 16 slow
# download clients hang on, and their ratio (target ≤ 2), on the township
# sample (make bench runs it on its county database, where a download
# outgrows the socket buffers and holds its slot); about 2 minutes.
bench-slowclients: build
	internal/devtools/bench-slowclients.sh

# Database size and edit-history share of the county sample built from
# empty by each of COMMITS (default: this session's start and HEAD).
bench-storage:
	internal/devtools/bench-storage.sh $(COMMITS)

# The features routes of this checkout against BASE on make bench's county
# database, alternating (tells a regression from the machine's drift).
bench-vs: build
	internal/devtools/bench-vs.sh $(BASE)

# The 500k-polygon import benchmark of this checkout against BASE (a commit).
bench-import:
	internal/devtools/bench-import.sh $(BASE)

# villageplan import vs ogr2ogr (PG_USE_COPY=YES), 200k and 500k polygons, interleaved
bench-importvs:
	internal/devtools/bench-importvs.sh

# The headless-Chromium tests of the web map and desk page alone
# (screenshots in internal/web/browsertest/artifacts/).
browser-test:
	$(GO) test -count=1 -v ./internal/web/browsertest/

# Refresh the vendored MapLibre GL JS from npm (VERSION=x.y.z to pin).
maplibre:
	internal/web/update-maplibre.sh $(VERSION)

# One-feature edits over HTTP (validation, topology, history, audit) on the
# sample of SCALE (township or county); see internal/devtools/bench-edit.sh.
bench-edit:
	internal/devtools/bench-edit.sh $(SCALE)

# Time travel on the county sample (issue 13): as-of items page and as-of
# tile vs current (p95 ratio, bound 2), /changes over a month and a year of
# 10,000 changesets (bound 1 s); see internal/devtools/bench-asof.sh.
bench-asof:
	internal/devtools/bench-asof.sh

# The desk with 20,000 applications (list p95, update with re-check and
# transition p95, ledger of a year); see internal/devtools/bench-desk.sh.
bench-desk:
	internal/devtools/bench-desk.sh

# Issue 14's indicators on the county sample (all cold ≤ 10 s, cached,
# network reach ≤ 60 s); see internal/devtools/bench-indicators.sh.
bench-indicators:
	internal/devtools/bench-indicators.sh

# Vector-tile figures (raw SQL ceiling via pgbench, uncached, cached) on
# their own county-scale cluster; see tiles/tilebench/run.sh.
bench-tiles:
	tiles/tilebench/run.sh
