# Two commands for a fresh Debian machine:
#   make run     build and run siphond on its embedded default (127.0.0.1:5060 UDP+TCP)
#   make check   build and pass every test (optimized + ASan/UBSan, fuzz smoke, bench smoke)
# Both install missing Debian packages first (scripts/install-deps).

BUILD ?= build
ARGS ?=

.PHONY: run check build deps test-deps bench clean

run: deps build
	./$(BUILD)/siphond $(ARGS)

build:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIPHON_TESTS=OFF
	cmake --build $(BUILD)

check: test-deps
	scripts/check

bench: test-deps
	cmake -S . -B $(BUILD)/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIPHON_BENCH=ON -DSIPHON_TESTS=OFF
	cmake --build $(BUILD)/bench
	./$(BUILD)/bench/bench_parse

deps:
	scripts/install-deps

test-deps:
	scripts/install-deps --test

clean:
	rm -rf $(BUILD)
