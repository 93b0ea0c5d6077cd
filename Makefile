# Every target runs inside the Debian 13 build environment (scripts/devroot creates it on
# first use), so `make run` and `make test` work on a fresh Debian or Ubuntu machine.
DEVROOT := scripts/devroot
BUILD_DIR := build
JOBS ?= $(shell nproc)

.PHONY: build test bench run format tidy clean

build:
	$(DEVROOT) bash -c 'cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build $(BUILD_DIR) -j $(JOBS)'

test: build
	$(DEVROOT) ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

bench: build
	$(DEVROOT) bench/run

run: build
	$(DEVROOT) ./$(BUILD_DIR)/argus serve

format:
	$(DEVROOT) bash -c 'clang-format -i $$(git ls-files "*.cc" "*.h")'

tidy: build
	$(DEVROOT) bash -c 'run-clang-tidy -p $(BUILD_DIR) -quiet src/ 2>/dev/null || clang-tidy -p $(BUILD_DIR) $$(git ls-files "src/*.cc")'

clean:
	rm -rf $(BUILD_DIR)
