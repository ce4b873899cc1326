# SPDX-License-Identifier: Apache-2.0
# The two commands: `make run` and `make test`. Everything else is a helper for developers.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja
# Release with assertions kept on (NDEBUG is not defined): protocol invariants stay checked in tests.
RELEASE_FLAGS := -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -g1"
# Unity builds compile sources in batches: a third of the compiler runs, as much of the time goes to parsing the
# same Boost headers.
UNITY_FLAGS := -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=6

.PHONY: all deps build build-cli build-asan build-tsan test-tsan test-asan test test-unit test-integration run fuzz bench lint \
  clean guest package package-test image image-test

all: build

deps:
	@bash scripts/install-deps.sh

# A fresh build directory is a unity build too (libraries and unit tests; `make test` on a fresh clone has a
# time budget); configure with UNITY= for one compiler run per source (faster incremental rebuilds).
UNITY ?= $(UNITY_FLAGS)
$(BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) $(CMAKE_GEN) $(RELEASE_FLAGS) $(UNITY)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# Only the vncgate binary (what `make run` needs).
build-cli: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target vncgate

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
	  -DVNCGATE_SANITIZE=ON -DVNCGATE_INTEGRATION=OFF -DVNCGATE_BENCH=OFF $(UNITY_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target vncgate_unit_tests

# ThreadSanitizer: the unit tests and the service and gateway integration tests (which run a TSan
# vncgate).
# It reuses the Release build's guest.
TSAN_TESTS := vncgate_service_api_test vncgate_service_io_test vncgate_gateway_proxy_test vncgate_service_text_test \
  vncgate_cluster_sessions_test
build-tsan: deps
	cmake -S . -B $(TSAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
	  -DVNCGATE_TSAN=ON -DVNCGATE_BENCH=OFF $(UNITY_FLAGS) \
	  -DVNCGATE_GUEST_DIR=$(abspath $(BUILD))/guest
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target vncgate_unit_tests vncgate $(TSAN_TESTS)

test-tsan: build-tsan guest
	@bash scripts/run-tsan-tests.sh $(TSAN_BUILD) $(TSAN_TESTS)

guest: deps
	@bash scripts/make-guest.sh $(BUILD)/guest

# Unit + integration tests (Release with assertions), then the unit, service and gateway tests under
# ThreadSanitizer. The ASan+UBSan build (another 25+ minutes of compiling on 2 cores) is `make test-asan`;
# the fuzz targets run under ASan+UBSan in `make fuzz`.
test: build build-tsan guest
	cd $(BUILD) && ctest --output-on-failure -j 2 --timeout 300
	@bash scripts/run-tsan-tests.sh $(TSAN_BUILD) $(TSAN_TESTS)

# The unit tests under AddressSanitizer + UBSan.
test-asan: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -L unit -j 2

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit -j 2

test-integration: build guest
	cd $(BUILD) && ctest --output-on-failure -L integration

run: build-cli guest
	@bash scripts/run-demo.sh $(BUILD)

# The Debian package: $(DEB_BUILD)/vncgate_VERSION_ARCH.deb (dpkg-buildpackage, then lintian; packaging/).
DEB_BUILD ?= build-deb
package: deps
	JOBS=$(JOBS) bash packaging/build-deb.sh $(DEB_BUILD)

# Builds the package, installs it with dpkg, runs the unit's ExecStart as the vncgate user, records a job,
# purges it (tests/packaging/package_test.sh; minutes: not part of `make test`). Needs root.
package-test: package
	bash tests/packaging/package_test.sh $(DEB_BUILD)

# The container image localhost/vncgate from the .deb on a local mmdebstrap bookworm base (packaging/container),
# and its test: run with a published loopback port, /healthz, HEALTHCHECK, a recorded job (root; minutes).
image: package
	bash packaging/container/build-image.sh $(DEB_BUILD)

image-test: image
	bash tests/packaging/image_test.sh $(DEB_BUILD)

# libFuzzer targets (clang); each runs for FUZZ_SECONDS on its seed corpus.
FUZZ_SECONDS ?= 30
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g" \
	  -DVNCGATE_FUZZ=ON -DVNCGATE_INTEGRATION=OFF -DVNCGATE_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@bash scripts/run-fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: build guest
	@bash bench/run.sh $(BUILD)
	@bash bench/record.sh $(BUILD)
	@bash bench/service.sh $(BUILD)
	@bash bench/recordings.sh $(BUILD)
	@bash bench/gateway.sh $(BUILD)
	@bash bench/soak.sh $(BUILD)
	@bash bench/fleet.sh $(BUILD)
	$(BUILD)/bench/vncgate_chroma_bench --out $(BUILD)/bench/chroma.md

lint:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror
	@git ls-files 'src/*.cpp' | xargs clang-tidy -p $(BUILD) --quiet

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(DEB_BUILD)
