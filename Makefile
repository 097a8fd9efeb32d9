# Thin wrapper over meson/ninja: the whole loop is `make demo`, `make test`, `make bench`.
# Every target installs missing Debian packages first, builds into build/ and prepares hugepages.
BUILD ?= build
SHELL := /bin/bash

.PHONY: all deps build hugepages test unit-test integration-test fuzz demo bench soak clean

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release

# flock: several shells (people, tests, benches) may ask for a build at once.
build: deps $(BUILD)/build.ninja
	@flock $(BUILD)/.build.lock ninja -C $(BUILD)

hugepages:
	@bash scripts/hugepages.sh 512

# Every suite; meson prints one line per test and the Ok/Fail totals at the end. Then each fuzz
# target (tests/fuzz/, built in build-fuzz/ with clang and sanitizers) for FUZZ_SMOKE seconds.
FUZZ_SMOKE ?= 30
test: build hugepages
	meson test -C $(BUILD) --print-errorlogs --num-processes 1
	@bash scripts/fuzz.sh $(FUZZ_SMOKE)

unit-test: build
	meson test -C $(BUILD) --print-errorlogs --suite unit

integration-test: build hugepages
	meson test -C $(BUILD) --print-errorlogs --num-processes 1 --suite integration

# Each fuzz target for FUZZ_SECONDS (10 minutes unless given), after replaying its regressions.
FUZZ_SECONDS ?= 600
fuzz: deps
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

demo: build hugepages
	@bash scripts/demo.sh

# The million-route rows need about 700 MB of hugepages for l3fwd's FIB (and as much for
# vrouterd's), more than the 1 GB the tests use can spare beside the pool: 1,024 pages free.
bench: build
	@bash scripts/hugepages.sh 1024
	@BUILD=$(BUILD) bash tests/bench/all.sh

# Load and soak (not in make test, not in CI): SOAK_SECONDS of mixed traffic (600 unless given)
# while the config reloads, groups change and a link flaps; then the accounting table.
soak: build hugepages
	@BUILD=$(BUILD) bash tests/soak/soak.sh

clean:
	rm -rf $(BUILD)
