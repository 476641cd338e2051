# sdpp-gateway: build, test, fuzz and install. `make help` lists the targets.

PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin

CC        ?= cc
FUZZ_CC   ?= clang
PKG_CONFIG ?= pkg-config
BUILD     ?= build
# Seconds each fuzz target runs in `make fuzz` (CI uses `make fuzz-smoke`).
FUZZ_SECONDS ?= 60
# Published test vectors (Wycheproof, RFC 8785, RFC 6962) live outside the
# repository: VECTORS=DIR names them; without it those tests skip.
VECTORS   ?=

# Debian packages the project needs, for `make deps` (build, test, fuzz, demo).
DEB_PACKAGES = build-essential pkg-config clang libclang-rt-14-dev \
	libssl-dev libcjson-dev libsodium-dev libsqlite3-dev sqlite3 \
	libpaho-mqtt-dev mosquitto mosquitto-clients libcurl4-openssl-dev \
	libevent-dev libsystemd-dev libqrencode-dev libcmocka-dev

PKGS      = libcrypto libcjson sqlite3 libsodium
TEST_PKGS = cmocka
CLI_PKGS  = libqrencode libevent libcurl
# The daemon's own dependencies (Paho ships no .pc file: -lpaho-mqtt3as is
# the asynchronous client with TLS).
GW_PKGS   = libevent libevent_pthreads libsystemd libcurl
PAHO_LIBS = -lpaho-mqtt3as

ifeq ($(V),1)
Q =
msg = @true
else
Q = @
msg = @printf '  %-6s %s\n' $(1) $(2)
endif

WARN   = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	 -Wpointer-arith -Wformat=2 -Wcast-qual -Wvla -Wundef
ifeq ($(WERROR),1)
WARN  += -Werror
endif
OPT    ?= -O2 -g
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -I.
CFLAGS   += -std=c11 $(OPT) $(WARN) -fno-strict-aliasing $(SAN) \
	    $(shell $(PKG_CONFIG) --cflags $(PKGS) $(GW_PKGS))
LDFLAGS  += $(SAN)
LIBS      = $(shell $(PKG_CONFIG) --libs $(PKGS))
TEST_LIBS = $(shell $(PKG_CONFIG) --libs $(TEST_PKGS))
CLI_LIBS  = $(shell $(PKG_CONFIG) --libs $(CLI_PKGS)) $(PAHO_LIBS)
GW_LIBS   = $(shell $(PKG_CONFIG) --libs $(GW_PKGS)) $(PAHO_LIBS) -lpthread

SDPP_SRC = $(wildcard sdpp/*.c)
UTIL_SRC = $(wildcard util/*.c)
LEDGER_SRC = $(wildcard ledger/*.c)
MQTT_SRC = $(wildcard mqtt/*.c)
IOTA_SRC = $(wildcard iota/*.c)
TANGLE_SRC = $(wildcard tangle/*.c)
GW_SRC   = $(filter-out gateway/main.c,$(wildcard gateway/*.c))
GW_MAIN  = $(wildcard gateway/main.c)
TEST_SRC = $(wildcard tests/test_*.c)
# Programs the script tests drive (not suites themselves).
TOOL_SRC = $(wildcard tests/tool_*.c)
TEST_COMMON_SRC = $(wildcard tests/common/*.c)
CLI_SRC  = $(wildcard cli/*.c)
FUZZ_SRC = $(wildcard fuzz/fuzz_*.c)

SDPP_OBJ = $(SDPP_SRC:%.c=$(BUILD)/%.o)
UTIL_OBJ = $(UTIL_SRC:%.c=$(BUILD)/%.o)
LEDGER_OBJ = $(LEDGER_SRC:%.c=$(BUILD)/%.o)
MQTT_OBJ = $(MQTT_SRC:%.c=$(BUILD)/%.o)
IOTA_OBJ = $(IOTA_SRC:%.c=$(BUILD)/%.o)
TANGLE_OBJ = $(TANGLE_SRC:%.c=$(BUILD)/%.o)
GW_OBJ   = $(GW_SRC:%.c=$(BUILD)/%.o)
TEST_COMMON_OBJ = $(TEST_COMMON_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  = $(CLI_SRC:%.c=$(BUILD)/%.o)
PROGRAMS = $(BUILD)/bin/sdpp $(if $(GW_MAIN),$(BUILD)/bin/sdpp-gateway)
TEST_BIN = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%) $(TOOL_SRC:tests/%.c=$(BUILD)/tests/%)
LIBSDPP  = $(BUILD)/libsdpp.a
LIBUTIL  = $(BUILD)/libutil.a
LIBLEDGER = $(BUILD)/libledger.a
LIBMQTT  = $(BUILD)/libmqtt.a
LIBIOTA  = $(BUILD)/libiota.a
LIBTANGLE = $(BUILD)/libtangle.a
LIBGW    = $(BUILD)/libgateway.a
# Link order: users before what they use.
ALL_LIBS = $(LIBGW) $(LIBTANGLE) $(LIBIOTA) $(LIBMQTT) $(LIBLEDGER) $(LIBSDPP) $(LIBUTIL)

.SECONDARY:

.PHONY: all deps test check check-asan fuzz fuzz-build fuzz-smoke bench demo \
	install uninstall clean format help iota-oracle test-iota-testnet

all: $(ALL_LIBS) $(PROGRAMS) $(TEST_BIN)

help:
	@echo 'make            build the library, tools and tests'
	@echo 'make deps       install the Debian packages we need (as root)'
	@echo 'make test       run unit and integration tests (prints "N passed, N failed")'
	@echo 'make check-asan run the tests under AddressSanitizer + UBSan'
	@echo 'make fuzz       build libFuzzer targets and run each FUZZ_SECONDS (60)'
	@echo 'make fuzz-smoke build the fuzz targets and run each corpus once plus 10 s'
	@echo 'make bench      benchmarks against raw MQTT'
	@echo 'make demo       a complete purchase on loopback'
	@echo 'make install    install under DESTDIR/PREFIX'
	@echo 'make iota-oracle install the pinned IOTA SDK for the conformance check (npm)'
	@echo 'make test-iota-testnet  a live purchase on IOTA testnet (internet, faucet)'
	@echo 'V=1             show full command lines'

deps:
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make deps must run as root; run this instead:"; \
		echo "  sudo apt-get update && sudo apt-get install -y $(DEB_PACKAGES)"; \
		exit 1; \
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PACKAGES)

$(BUILD)/%.o: %.c
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIBSDPP): $(SDPP_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBUTIL): $(UTIL_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBLEDGER): $(LEDGER_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBMQTT): $(MQTT_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBIOTA): $(IOTA_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBTANGLE): $(TANGLE_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBGW): $(GW_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/sdpp-gateway: $(GW_MAIN:%.c=$(BUILD)/%.o) $(ALL_LIBS)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(GW_LIBS)

$(BUILD)/bin/sdpp: $(CLI_OBJ) $(ALL_LIBS)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(CLI_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_COMMON_OBJ) $(ALL_LIBS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(GW_LIBS) $(TEST_LIBS)

test: all
	$(Q)VECTORS=$(VECTORS) SDPP_BIN=$(abspath $(BUILD)/bin) SDPP_TOOLS=$(abspath $(BUILD)/tests) \
		./tests/run.sh $(BUILD)/tests

check: test

# Opt-in, needs the internet and the testnet faucet: a real purchase paid and
# recorded on IOTA testnet (IOTA_NETWORK=devnet, IOTA_URL=... to change).
test-iota-testnet: all
	$(Q)SDPP_BIN=$(abspath $(BUILD)/bin) SDPP_TOOLS=$(abspath $(BUILD)/tests) \
		./tests/iota_testnet.sh

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer, in
# its own build directory so it never mixes objects with the normal build.
check-asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan OPT='-O1 -g -fno-omit-frame-pointer' \
		SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' test

FUZZ_FLAGS = -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all $(CPPFLAGS) $(shell $(PKG_CONFIG) --cflags $(PKGS))
FUZZ_BIN = $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)

build/fuzz/%: fuzz/%.c $(SDPP_SRC) $(IOTA_SRC) $(UTIL_SRC) $(wildcard sdpp/*.h iota/*.h util/*.h)
	$(call msg,FUZZ,$@)
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(SDPP_SRC) $(IOTA_SRC) $(UTIL_SRC) $(LIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	$(Q)./fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

fuzz-smoke: fuzz-build
	$(Q)./fuzz/run.sh 10 $(FUZZ_BIN)

# Benchmarks print figures, never pass/fail; the MQTT and buyer scenarios
# arrive with the gateway (issue 6).
BENCH_SRC = $(wildcard bench/bench_*.c)
BENCH_BIN = $(BENCH_SRC:bench/%.c=build/bench/%)

# The bench starts its broker as the tests do (tests/common/broker.c).
build/bench/%: bench/%.c $(BUILD)/tests/common/broker.o $(ALL_LIBS)
	$(call msg,BENCH,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $^ $(LIBS) $(GW_LIBS)

bench: $(BENCH_BIN) $(PROGRAMS)
	$(Q)for b in $(BENCH_BIN); do $$b build/bench || exit 1; done

# A complete purchase on loopback: installs what is missing (as root),
# builds, runs broker, building, gateway and buyer, then cleans up.
demo:
	$(Q)./demo/run.sh

SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
MANDIR     ?= $(PREFIX)/share/man

# Binaries, the systemd unit (with this PREFIX's paths), the sample config
# (never over an existing one), an empty credential file for the MQTT
# password, and the man pages.
install: $(PROGRAMS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/sdpp-gateway $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BUILD)/bin/sdpp $(DESTDIR)$(BINDIR)/sdpp
	install -m 0755 $(BUILD)/bin/sdpp-gateway $(DESTDIR)$(SBINDIR)/sdpp-gateway
	sed 's|@SBINDIR@|$(SBINDIR)|g' systemd/sdpp-gateway.service.in \
		> $(DESTDIR)$(UNITDIR)/sdpp-gateway.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/sdpp-gateway.service
	[ -e $(DESTDIR)$(SYSCONFDIR)/sdpp-gateway/sdpp-gateway.ini ] || \
		install -m 0644 etc/sdpp-gateway.ini $(DESTDIR)$(SYSCONFDIR)/sdpp-gateway/sdpp-gateway.ini
	[ -e $(DESTDIR)$(SYSCONFDIR)/sdpp-gateway/mqtt-password ] || \
		install -m 0600 /dev/null $(DESTDIR)$(SYSCONFDIR)/sdpp-gateway/mqtt-password
	for m in $(wildcard man/*.[158]); do \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/; done

# Keeps /etc/sdpp-gateway and /var/lib/sdpp-gateway: configuration, keys
# and the ledger are the operator's.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sdpp $(DESTDIR)$(SBINDIR)/sdpp-gateway \
		$(DESTDIR)$(UNITDIR)/sdpp-gateway.service
	for m in $(notdir $(wildcard man/*.[158])); do \
		rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m; done

# The official SDK (pinned in tests/iota-oracle/package-lock.json) that
# produced tests/iota/expected.json; check_iota_oracle.sh reruns it when
# installed, and is skipped otherwise.
iota-oracle:
	cd tests/iota-oracle && npm ci

format:
	clang-format -i $(SDPP_SRC) $(UTIL_SRC) $(LEDGER_SRC) $(MQTT_SRC) $(IOTA_SRC) $(GW_SRC) \
		$(GW_MAIN) $(CLI_SRC) \
		$(wildcard sdpp/*.h util/*.h ledger/*.h mqtt/*.h iota/*.h gateway/*.h cli/*.h) \
		$(TEST_SRC) $(FUZZ_SRC)

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
