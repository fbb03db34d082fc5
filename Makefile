# The README's commands. Each one installs missing system packages first
# (scripts/install-deps.sh is the only place they come from), then configures and builds.

BUILD       ?= build
BUILD_ASAN  ?= build-asan
BUILD_FUZZ  ?= build-fuzz
BUILD_VALGRIND ?= build-valgrind
CRASH_ROUNDS ?= 500
SOAK_SECONDS ?= 600
PG_KILLS ?= 200
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 60
CTEST_FLAGS ?= --output-on-failure -j $(JOBS)
# make install / uninstall: under PREFIX, staged under DESTDIR when set.
PREFIX      ?= /usr/local
DESTDIR     ?=
# make deb / test-package: where the packages and the cached fresh root go.
DEB_DIR     ?= $(BUILD)/deb
# make image: where the OCI layout goes and its tag.
IMAGE_DIR   ?= $(BUILD)/image
IMAGE_TAG   ?= latest
# make run ARGS="--policy p.json ...": more scittd flags.
ARGS        ?=

.PHONY: all deps build run test test-sanitize test-valgrind crash-soak crash-soak-pg soak bench fuzz mutate format clean \
        install uninstall deb test-package test-fresh-clone image

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Starts scittd on ./data (virtual platform, INSECURE: no TEE) and prints how to use it;
# ARGS="..." adds scittd flags (make run ARGS="--policy p.json --rate-limit 100/s").
run: build
	@scripts/run.sh $(BUILD) $(ARGS)

# scittd, scitt, libscitt (.so with its SONAME, .a, headers, scitt.pc), man pages, bash
# completion, the systemd unit and an example configuration under PREFIX (DESTDIR honoured);
# what was put where is recorded in PREFIX/share/scittd/install-manifest for make uninstall.
install: deps $(BUILD)/CMakeCache.txt
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	DESTDIR="$(DESTDIR)" scripts/install.sh $(BUILD) $(PREFIX)

# An OCI image of scittd (an OCI image layout in IMAGE_DIR, tag IMAGE_TAG) from the installed
# tree, without a container daemon; reproducible (docs/oci.md). Push it with
# skopeo copy oci:$(IMAGE_DIR):$(IMAGE_TAG) docker://REGISTRY/scittd:$(IMAGE_TAG).
image: build
	scripts/build-image.sh $(BUILD) $(IMAGE_DIR) $(IMAGE_TAG)

# Removes exactly what make install put under PREFIX (DESTDIR honoured).
uninstall:
	DESTDIR="$(DESTDIR)" scripts/uninstall.sh $(PREFIX)

# Debian packages scittd, scitt, libscitt0, libscitt-dev (debian/, docs/deploy.md) in DEB_DIR.
deb:
	@scripts/install-deps.sh --package
	scripts/build-deb.sh $(DEB_DIR)

# The packages in a fresh Debian 12 root: install, run, register, verify, lintian, purge.
test-package: deb
	scripts/test-package.sh $(DEB_DIR)

# A clone of HEAD in a fresh Debian 12 root with only a compiler, make, cmake and git: make test
# and make test-sanitize there (root; about an hour on two cores, so not part of .ci/run).
test-fresh-clone:
	scripts/test-fresh-clone.sh $(BUILD)/fresh-clone

# Every run ends with the list of skipped tests and why (scripts/test-skips.sh).
test: build
	@rc=0; ctest --test-dir $(BUILD) $(CTEST_FLAGS) --output-junit junit.xml || rc=$$?; \
	    scripts/test-skips.sh $(BUILD)/junit.xml; exit $$rc

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer (no recovery).
test-sanitize: deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	@rc=0; ctest --test-dir $(BUILD_ASAN) $(CTEST_FLAGS) --output-junit junit.xml || rc=$$?; \
	    scripts/test-skips.sh $(BUILD_ASAN)/junit.xml; exit $$rc

# The unit tests under valgrind memcheck: fails on any memory error or definite/indirect leak.
test-valgrind: deps
	cmake -S . -B $(BUILD_VALGRIND) -DCMAKE_BUILD_TYPE=Debug -DVALGRIND=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_VALGRIND) -j $(JOBS)
	ctest --test-dir $(BUILD_VALGRIND) -L unit $(CTEST_FLAGS)

# SIGKILL rounds against scittd under load for a long run (make test runs 24): CRASH_ROUNDS=N.
crash-soak: build
	SCITT_BINARY_DIR=$(abspath $(BUILD)) SCITT_CRASH_ROUNDS=$(CRASH_ROUNDS) \
	    $(BUILD)/tests/integration/test_scittd_crash

# The multi-instance PostgreSQL crash test (scittd.pg_failover, 10 kills in make test) with
# PG_KILLS (200) leader kills: three instances, a client through each (docs/testing.md).
crash-soak-pg: build
	SCITT_BINARY_DIR=$(abspath $(BUILD)) SCITT_PG_KILLS=$(PG_KILLS) \
	    $(BUILD)/tests/integration/test_scittd_pg test_pg_failover

# scittd at 70% of its measured capacity for SOAK_SECONDS (600); fails if its heap grows >10%.
soak: build
	SOAK_SECONDS=$(SOAK_SECONDS) $(BUILD)/bench/scittd_soak $(BUILD)/server/scittd

bench: build
	@scripts/bench.sh $(BUILD)

# Plants each bug of every list (scripts/mutations*.txt, tests/unit/tee/*_mutations.txt) in a
# scratch copy, runs the tests that must catch it, prints the kill table (docs/testing.md); fails
# unless every planted bug is caught.
mutate: deps
	@scripts/mutate.py --jobs $(JOBS)

# libFuzzer targets (clang); each runs FUZZ_SECONDS on its corpus in tests/fuzz/corpus/.
fuzz: deps
	CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFUZZ=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_FUZZ) -j $(JOBS)
	@scripts/fuzz.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

format:
	find common merkle cose tee ledger server tools tests bench include -name '*.[ch]' 2>/dev/null \
	    | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) $(BUILD_VALGRIND)
