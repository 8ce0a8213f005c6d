# Thin wrapper over CMake. `make demo` and `make test` install what is missing
# (scripts/install-deps.sh), build, then run the main job or the test suite.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test demo asan test-asan bench clean install

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

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) build-asan
