# Thin wrapper over CMake. `make demo` and `make test` install what is missing
# (scripts/install-deps.sh), build, then run the main job or the test suite.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test demo asan test-asan test-portable bench clean install

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j 2

demo: build
	GDL=$(BUILD)/gdl bash scripts/demo.sh

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGDL_SANITIZE=ON >/dev/null
	cmake --build build-asan -j $(JOBS)

test-asan: asan
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure -j 2

# The suite built for any x86-64 (GDL_NATIVE=OFF: no -march=native, as a distribution
# would build it): the vector code must compile and agree without AVX too.
test-portable: deps
	cmake -S . -B build-portable -DCMAKE_BUILD_TYPE=Release -DGDL_NATIVE=OFF >/dev/null
	cmake --build build-portable -j $(JOBS)
	ctest --test-dir build-portable --output-on-failure -j 2

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-portable
