# carerecord: the commands a person runs. CMake does the building underneath.
#
#   make          release build: build/carerecord
#   make test     sanitizer build (ASan+UBSan, -Werror), unit + integration +
#                 browser tests (the web UI in headless Chromium)
#   make demo     synthetic London on five federated nodes, with tokens to try
#   make tsan     ThreadSanitizer build: unit tests and every kind of request
#                 at once (tests/integration/stress.mjs); CI runs it too
#   make bench    release build under load (wrk), compared with nginx
#   make generate regenerate src/fhir tables from HL7's official definitions
#
# Each target installs the Debian packages it needs when they are missing.

JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
# CR_BENCH_NO_ACCESS=OFF every time: CMake caches options, and a binary
# without access control or audit must never come out of these targets.
CMAKE_GEN := -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCR_BENCH_NO_ACCESS=OFF

.PHONY: all build deps test unit integration browser demo bench generate clean npm fuzz tsan

all: build

deps:
	@sh scripts/deps.sh build

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCR_TESTS=OFF $(CMAKE_GEN) >/dev/null
	@cmake --build build -j $(JOBS)

build-test/.configured: CMakeLists.txt
	@cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DCR_SANITIZE=ON $(CMAKE_GEN) >/dev/null
	@touch $@

npm: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	@sh scripts/deps.sh test
	@echo "Installing test tools from npm (package-lock.json)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

test: deps npm build-test/.configured
	@sh scripts/deps.sh test
	@cmake --build build-test -j $(JOBS)
	@$(MAKE) --no-print-directory unit integration browser

unit:
	@cd build-test && ctest --output-on-failure -j $(JOBS)

integration:
	@CARERECORD_BIN=$(CURDIR)/build-test/carerecord node --test --test-concurrency=1 tests/integration/ tests/conformance/

# The web UI in Debian's headless Chromium (playwright-core); screenshots
# land in tests/browser/artifacts/.
browser:
	@CARERECORD_BIN=$(CURDIR)/build-test/carerecord node --test --test-concurrency=1 tests/browser/

# ThreadSanitizer (no ASan: the two cannot share a build): the unit tests,
# then STRESS_SECONDS (default 30) of reads, searches, $everything, writes,
# transactions, imports and audit reads at once against three federated
# nodes. Any race
# report fails it. setarch -R (no address randomisation) where it is
# allowed, as TSan cannot map its shadow memory under some kernels' ASLR.
STRESS_SECONDS ?= 30
TSAN_RUN := $(shell setarch $$(uname -m) -R true >/dev/null 2>&1 && echo setarch $$(uname -m) -R)
tsan: deps npm
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DCR_TSAN=ON $(CMAKE_GEN) >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	@cd build-tsan && TSAN_OPTIONS=halt_on_error=1 $(TSAN_RUN) ctest --output-on-failure -j $(JOBS)
	@echo "stress: $(STRESS_SECONDS) s of every kind of request at once, under ThreadSanitizer"
	@CARERECORD_BIN=$(CURDIR)/build-tsan/carerecord $(TSAN_RUN) node tests/integration/stress.mjs $(STRESS_SECONDS) 24

# DEMO_ARGS: e.g. "--patients 5000 --base-port 9080" (carerecord demo --help)
DEMO_ARGS ?=
demo: build
	@./build/carerecord demo --data ./carerecord-demo $(DEMO_ARGS)

bench: build
	@sh scripts/deps.sh bench
	@sh bench/run.sh

# Fuzz each target for FUZZ_SECONDS (default 60) with libFuzzer; new
# findings land in tests/fuzz/corpus/<target>/ after minimising.
FUZZ_SECONDS ?= 60
fuzz:
	@sh scripts/deps.sh build fuzz
	@cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCR_SANITIZE=ON -DCR_FUZZ=ON -DCR_TESTS=OFF -DCMAKE_C_COMPILER=clang >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@for t in build-fuzz/fuzz_*; do n=$${t##*/fuzz_}; mkdir -p build-fuzz/corpus-$$n; \
	  echo "== $$n ($(FUZZ_SECONDS) s)"; \
	  $$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 build-fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

generate: npm
	@node tools/gen_fhir.mjs
	@node tools/gen_search.mjs
	@echo "Regenerated src/fhir/defs_gen.c and search_gen.c; review with git diff."

clean:
	rm -rf build build-test
