# Every target runs inside the Debian 13 build environment (scripts/devroot creates it on
# first use), so `make run` and `make test` work on a fresh Debian or Ubuntu machine.
DEVROOT := scripts/devroot
BUILD_DIR := build
JOBS ?= $(shell nproc)

.PHONY: build web test bench run format tidy clean

build: web
	$(DEVROOT) bash -c 'cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build $(BUILD_DIR) -j $(JOBS)'

# The React front end (web/dist, served by argus) and the npm test tools (s3rver).
web:
	$(DEVROOT) bash -c 'cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build'
	$(DEVROOT) bash -c 'cd tests/tools && npm ci --no-audit --no-fund --loglevel=error'

test: build
	$(DEVROOT) bash -c 'cd web && npm test'
	$(DEVROOT) scripts/with-postgres ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)
	$(DEVROOT) web/e2e/with-argus.sh

bench: build
	$(DEVROOT) bench/run

run: build
	$(DEVROOT) ./$(BUILD_DIR)/argus serve $(ARGS)

format:
	$(DEVROOT) bash -c 'clang-format -i $$(git ls-files "*.cc" "*.h")'

tidy: build
	$(DEVROOT) run-clang-tidy -p $(BUILD_DIR) -j $(JOBS) -quiet src/ tests/ bench/

clean:
	rm -rf $(BUILD_DIR)
