# vmdq: the README's two commands.
#   make demo   installs what is missing, builds, runs the bundled example
#   make check  installs what is missing, builds, runs every test
# Other targets: build, deps, unit, asan, fuzz, bench, bench-switch, bench-vhost, bench-vhost-tso,
# bench-tcp, bench-migrate, check-migrate, clean.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
FUZZ_RUNS ?= 0
FUZZ_TARGETS ?=

# Debian packages the build and the tests need (see README "Dependencies").
PKGS = meson ninja-build gcc clang libclang-rt-14-dev pkg-config \
       libpcap-dev liburcu-dev libcmocka-dev libjansson-dev zlib1g-dev \
       libxdp-dev libbpf-dev liburing-dev libsodium-dev \
       jq tcpdump util-linux man-db iproute2 iputils-ping ethtool python3 iperf3 \
       netsniff-ng dpdk-dev librte-net-virtio23 librte-net-vhost23 \
       librte-mempool-ring23 librte-net-pcap23 qemu-system-x86 linux-image-amd64 busybox-static cpio

.PHONY: all deps build demo check unit asan fuzz bench bench-switch bench-vhost bench-vhost-tso bench-tcp bench-migrate check-migrate clean

all: build

deps:
	@./scripts/install-deps.sh $(PKGS)

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	@./scripts/demo.sh $(BUILD)

unit: build
	meson test -C $(BUILD) --print-errorlogs --no-suite migrate

$(ASAN_BUILD)/build.ninja:
	CC=clang meson setup $(ASAN_BUILD) --buildtype=debug \
	  -Db_sanitize=address,undefined -Db_lundef=false

asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  meson test -C $(ASAN_BUILD) --print-errorlogs --timeout-multiplier 4 --no-suite migrate

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) --buildtype=debugoptimized -Dfuzz=true \
	  -Db_lundef=false

fuzz: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	./scripts/run-fuzzers.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_RUNS) $(FUZZ_TARGETS)

check: build
	meson test -C $(BUILD) --print-errorlogs --no-suite migrate
	$(MAKE) asan
	$(MAKE) fuzz
	@echo "make check: all tests passed"

bench: build
	./$(BUILD)/vmdq bench sort
	./$(BUILD)/vmdq bench hol

bench-switch: build
	./scripts/bench-switch.sh $(BUILD) 5

bench-vhost: build
	./scripts/bench-vhost.sh $(BUILD) 5

bench-vhost-tso: build
	./scripts/bench-vhost-tso.sh $(BUILD) 5

bench-tcp: build
	./scripts/bench-tcp.sh $(BUILD) 5 3

# live migration's switch-over, 3 rounds of each case (root; QEMU, TCG)
# the migration test, out of `check` (QEMU TCG's own migration misses pages under load: BENCHMARKS.md)
check-migrate: build
	meson test -C $(BUILD) --print-errorlogs --suite migrate

bench-migrate: build
	VMDQ=$(BUILD)/vmdq MIGRATE_ROUNDS=3 tests/system/migrate.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
