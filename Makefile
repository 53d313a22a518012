# Two commands for a fresh Debian machine:
#   make run     build and run siphond on its embedded default (127.0.0.1:5060 UDP+TCP)
#   make check   build and pass every test (optimized + ASan/UBSan, fuzz smoke, bench smoke)
#   make install PREFIX=/usr DESTDIR=/tmp/pkg   Debian layout (docs/operations.md)
#   make bench   every benchmark, one table beside Kamailio (bench/run; QUICK=1: smoke)
# Both install missing Debian packages first (scripts/install-deps).

BUILD ?= build
ARGS ?=
PREFIX ?= /usr
DESTDIR ?=
DATADIR ?= /var/lib/siphon
QUICK ?=

.PHONY: run check build deps test-deps bench-deps bench install clean

run: deps build
	./$(BUILD)/siphond $(ARGS)

build:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIPHON_TESTS=OFF
	cmake --build $(BUILD)

check: test-deps
	scripts/check

bench: bench-deps
	bench/run $(if $(QUICK),--quick)

# an optimized tree of its own, configured for PREFIX, whose siphond
# defaults to DATADIR; DESTDIR stages the install (packaging)
install:
	cmake -S . -B $(BUILD)/install -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIPHON_TESTS=OFF \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX) -DSIPHON_DATA_DIR=$(DATADIR)
	cmake --build $(BUILD)/install
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)/install

deps:
	scripts/install-deps

test-deps:
	scripts/install-deps --test

bench-deps:
	scripts/install-deps --bench

clean:
	rm -rf $(BUILD)
