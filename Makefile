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

# Debian packages the project needs: `make deps-base' for building, testing
# and the demo; `make deps' adds the fuzzing and formatting toolchain
# (clang, its runtime), which only `make fuzz' and `make format' use.
DEB_PACKAGES_BASE = build-essential pkg-config \
	libssl-dev libcjson-dev libsodium-dev libsqlite3-dev sqlite3 \
	libpaho-mqtt-dev mosquitto mosquitto-clients libcurl4-openssl-dev \
	libevent-dev libsystemd-dev libqrencode-dev libcmocka-dev
DEB_PACKAGES_DEV = clang clang-format libclang-rt-14-dev
DEB_PACKAGES = $(DEB_PACKAGES_BASE) $(DEB_PACKAGES_DEV)
# What `make deb' needs on top of debian/control's Build-Depends, for
# `make deps-deb' (kept apart: lintian alone pulls in ~100 MB that neither
# the demo nor CI needs).
DEB_PKG_PACKAGES = debhelper dpkg-dev fakeroot lintian

# Compile flags of every system library any part uses (all are in
# /usr/include on Debian; pkg-config adds what another system needs).
CFLAGS_PKGS = libcrypto libcjson sqlite3 libsodium libevent libcurl libsystemd
# Paho ships no .pc file: -lpaho-mqtt3as is the asynchronous client with TLS.
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
	    $(shell $(PKG_CONFIG) --cflags $(CFLAGS_PKGS))
LDFLAGS  += $(SAN)

# The layers (docs/ARCHITECTURE.md), one static library per folder, users
# before what they use: that is the link order. L.uses is every layer L may
# call, written out in full; L.pkgs (pkg-config names) and L.libs are the
# system libraries L calls itself.
LAYERS = gateway tangle mqtt ledger iota sdpp util

util.uses    =
util.pkgs    = libcrypto
sdpp.uses    = util
sdpp.pkgs    = libcrypto libcjson libsodium
iota.uses    = sdpp util
iota.pkgs    = libsodium libcjson
ledger.uses  = sdpp util
ledger.pkgs  = sqlite3 libcjson
mqtt.uses    = util
mqtt.pkgs    = libcrypto libssl libcjson
mqtt.libs    = $(PAHO_LIBS) -lpthread
tangle.uses  = iota sdpp util
tangle.pkgs  = libcurl libevent libcjson
gateway.uses = tangle ledger mqtt iota sdpp util
gateway.pkgs = libevent libevent_openssl libssl
gateway.libs = -lpthread

# What each program links: P.uses names the layers P calls itself (it links
# those and what they use, nothing more, so a call into a layer it does not
# list fails to link); P.pkgs and P.libs the system libraries it calls that
# those layers do not bring. Unlisted is empty: a new program starts with
# nothing. Tests also get cmocka and, like the tools and benchmarks, the
# helpers of tests/common they call (libtestcommon.a).
bin/sdpp.uses              = tangle ledger mqtt iota sdpp util
bin/sdpp.pkgs              = libqrencode libevent libssl
bin/sdpp.libs              = $(PAHO_LIBS)
bin/sdpp-gateway.uses      = gateway ledger mqtt sdpp util
bin/sdpp-gateway.pkgs      = libevent libevent_pthreads libsystemd

tests/test_access.uses     = gateway sdpp util
tests/test_book.uses       = gateway ledger sdpp
tests/test_config.uses     = gateway
tests/test_crypto.uses     = sdpp
tests/test_cut.uses        = gateway mqtt
tests/test_discover.uses   = gateway mqtt util
tests/test_discovery.uses  = mqtt util
tests/test_enc.uses        = sdpp
tests/test_field.uses      = mqtt util
tests/test_framer.uses     = sdpp
tests/test_iota.uses       = iota sdpp
tests/test_iota_rpc.uses   = iota
tests/test_jcs.uses        = sdpp
tests/test_json.uses       = sdpp
tests/test_keys.uses       = sdpp util
tests/test_link.uses       = mqtt util
tests/test_ledger.uses     = gateway ledger sdpp
tests/test_audit.uses      = gateway ledger sdpp
tests/test_held.uses       = gateway ledger sdpp
tests/test_archive.uses    = gateway ledger sdpp
tests/test_merkle.uses     = ledger
tests/test_mqtt.uses       = mqtt
tests/test_msg.uses        = sdpp
tests/test_records.uses    = gateway ledger sdpp
tests/test_resume.uses     = sdpp
tests/test_session.uses    = sdpp
tests/test_topic.uses      = mqtt
tests/test_util.uses       = util
tests/test_vectors.uses    = iota sdpp
tests/test_wycheproof.uses = sdpp

tests/tool_building.uses   = mqtt
tests/tool_building.libs   = $(PAHO_LIBS)
tests/tool_cutproxy.uses   =
tests/tool_flood.uses      = sdpp util
tests/tool_freeport.uses   =
tests/tool_hostile.uses    = iota sdpp util
tests/tool_iotanode.uses   = iota sdpp util
tests/tool_iotanode.pkgs   = libevent
tests/tool_iotarpc.pkgs    = libevent libcjson
tests/tool_mkledger.uses   = gateway ledger sdpp util
tests/tool_mkledger.pkgs   = cmocka
tests/tool_publish.libs    = $(PAHO_LIBS)

fuzz/fuzz_access.uses      = gateway sdpp util
fuzz/fuzz_buyer.uses       = sdpp
fuzz/fuzz_discover.uses    = gateway mqtt util
fuzz/fuzz_discovery.uses   = mqtt util
fuzz/fuzz_field.uses       = mqtt util
fuzz/fuzz_framer.uses      = sdpp
fuzz/fuzz_hatemplate.uses  = mqtt util
fuzz/fuzz_iota_rpc.uses    = iota
fuzz/fuzz_json.uses        = sdpp
fuzz/fuzz_msg.uses         = sdpp
fuzz/fuzz_proof.uses       = ledger sdpp util
fuzz/fuzz_receipt.uses     = sdpp
fuzz/fuzz_seller.uses      = sdpp
fuzz/fuzz_util.uses        = util

bench/bench_gateway.uses   = sdpp util
bench/bench_gateway.libs   = $(PAHO_LIBS)
bench/bench_ledger.uses    = ledger sdpp util
bench/bench_crypto.uses    = sdpp
bench/bench_crypto.pkgs    = libsodium

# The layers program P links, in link order, and its system libraries.
layers_of  = $(filter $(sort $($(1).uses) $(foreach l,$($(1).uses),$($(l).uses))),$(LAYERS))
pkgs_of    = $(sort $($(1).pkgs) $(foreach l,$(call layers_of,$(1)),$($(l).pkgs)))
syslibs_of = $(if $(call pkgs_of,$(1)),$(shell $(PKG_CONFIG) --libs $(call pkgs_of,$(1)))) \
	     $(foreach l,$(call layers_of,$(1)),$($(l).libs)) $($(1).libs)

# Sources. A layer is its folder (gateway/main.c is the daemon's own); a
# test, tool or benchmark is one file (tests/test_NAME.c, tests/tool_NAME.c,
# bench/bench_NAME.c) or a folder with a main.c (tests/NAME/ is tool_NAME,
# bench/NAME/ is bench_NAME).
$(foreach l,$(LAYERS),$(eval $(l).src := $(wildcard $(l)/*.c)))
gateway.src := $(filter-out gateway/main.c,$(gateway.src))
testcommon.src := $(wildcard tests/common/*.c)
GW_MAIN  = $(wildcard gateway/main.c)
CLI_SRC  = $(wildcard cli/*.c)
TEST_SRC = $(wildcard tests/test_*.c)
FUZZ_SRC = $(wildcard fuzz/fuzz_*.c)
# Programs as NAME=folder-or-file pairs, mapped to their objects below.
TESTS    = $(TEST_SRC:%.c=%)
TOOLS    = $(patsubst %.c,%,$(wildcard tests/tool_*.c)) \
	   $(patsubst tests/%/main.c,tests/tool_%,$(wildcard tests/*/main.c))
BENCHES  = $(patsubst %.c,%,$(wildcard bench/bench_*.c)) \
	   $(patsubst bench/%/main.c,bench/bench_%,$(wildcard bench/*/main.c))
FUZZERS  = $(FUZZ_SRC:%.c=%)

# The object files of program P (a test, tool or benchmark): its file's, or
# its folder's.
objs_of = $(patsubst %.c,$(BUILD)/%.o,$(or $(wildcard $(1).c),\
	$(wildcard $(dir $(1))$(patsubst tool_%,%,$(patsubst bench_%,%,$(notdir $(1))))/*.c)))

PROGRAMS  = $(BUILD)/bin/sdpp $(if $(GW_MAIN),$(BUILD)/bin/sdpp-gateway)
TEST_BIN  = $(addprefix $(BUILD)/,$(TESTS) $(TOOLS))
BENCH_BIN = $(addprefix $(BUILD)/,$(BENCHES))
FUZZ_BIN  = $(addprefix $(BUILD)/,$(FUZZERS))
ARCHIVES  = $(LAYERS:%=$(BUILD)/lib%.a)
LIBTESTCOMMON = $(BUILD)/libtestcommon.a

.SECONDARY:

.PHONY: all deps deps-base deps-deb deb test-deb test check check-asan fuzz fuzz-build fuzz-smoke bench demo \
	install uninstall clean format format-check help iota-oracle test-iota-testnet \
	deps-systemd test-systemd

all: $(ARCHIVES) $(PROGRAMS) $(TEST_BIN) $(BENCH_BIN)

help:
	@echo 'make              build the libraries, programs, tests and benchmarks'
	@echo 'make deps         install the Debian packages we need (as root)'
	@echo 'make deps-base    the same without clang (fuzzing, formatting): enough for make, make test, make demo'
	@echo 'make test         run unit and integration tests (prints "N passed, N failed")'
	@echo 'make check-asan   run the tests under AddressSanitizer + UBSan in BUILD/asan'
	@echo 'make fuzz         build libFuzzer targets and run each FUZZ_SECONDS (60)'
	@echo 'make fuzz-smoke   build the fuzz targets and run each corpus once plus 10 s'
	@echo 'make bench        benchmarks against raw MQTT'
	@echo 'make demo         a complete purchase on loopback'
	@echo 'make install      install under DESTDIR/PREFIX'
	@echo 'make deb          Debian packages in BUILD/deb (debian/, lintian); make deps-deb first'
	@echo 'make test-deb     build the packages and check their contents (tests/check_deb.sh)'
	@echo 'make test-systemd the .deb and make install under systemd in a booted Debian 12 (root, network)'
	@echo 'make format       clang-format every C file in place'
	@echo 'make format-check list the C files clang-format would change (fails if any)'
	@echo 'make iota-oracle  install the pinned IOTA SDK for the conformance check (npm)'
	@echo 'make test-iota-testnet  a live purchase on IOTA testnet (internet, faucet)'
	@echo 'make clean        remove BUILD'
	@echo 'BUILD=DIR         build in DIR (default build; fuzz in DIR/fuzz, bench in DIR/bench)'
	@echo 'V=1               show full command lines'

# Installing mosquitto enables Debian's own broker service; the tests and
# the demo run private brokers on free ports, so a broker this installed
# is disabled again (one the machine already had is left as it was).
define install_deps
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make $(1) must run as root; run this instead:"; \
		echo "  sudo apt-get update && sudo apt-get install -y $(2)"; \
		exit 1; \
	fi
	apt-get update -qq
	@had=0; dpkg -s mosquitto >/dev/null 2>&1 && had=1; \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) || exit 1; \
	if [ $$had = 0 ] && command -v systemctl >/dev/null && \
	    systemctl is-enabled mosquitto >/dev/null 2>&1; then \
		systemctl disable --now mosquitto >/dev/null 2>&1 && \
		    echo "deps: disabled the system mosquitto service it installed (tests run their own)"; \
	fi; true
endef

deps:
	$(call install_deps,deps,$(DEB_PACKAGES))

deps-base:
	$(call install_deps,deps-base,$(DEB_PACKAGES_BASE))

deps-deb:
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make deps-deb must run as root; run this instead:"; \
		echo "  sudo apt-get install -y $(DEB_PKG_PACKAGES) && sudo apt-get build-dep -y ./"; \
		exit 1; \
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEB_PKG_PACKAGES)
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq ./

$(BUILD)/%.o: %.c
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# $(call archive,DIR,NAME): DIR/libNAME.a from the objects in DIR of NAME.src.
define archive
$(1)/lib$(2).a: $$(patsubst %.c,$(1)/%.o,$$($(2).src))
	$$(call msg,AR,$$@)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach l,$(LAYERS) testcommon,$(eval $(call archive,$(BUILD),$(l))))

# $(call program,P,OBJECTS,LIBDIR): BUILD/P from OBJECTS, then the archives
# in LIBDIR of the layers P links (layers_of), then its system libraries.
define program
$(BUILD)/$(1): $(2) $$(patsubst %,$(3)/lib%.a,$$(call layers_of,$(1)))
	$$(call msg,LD,$$@)
	@mkdir -p $$(dir $$@)
	$$(Q)$$(LINK) -o $$@ $$^ $$(strip $$(call syslibs_of,$(1)))
endef
LINK = $(CC) $(LDFLAGS)
$(foreach t,$(TESTS),$(eval $(t).pkgs += cmocka))
$(eval $(call program,bin/sdpp,$(CLI_SRC:%.c=$(BUILD)/%.o),$(BUILD)))
$(if $(GW_MAIN),$(eval $(call program,bin/sdpp-gateway,$(BUILD)/gateway/main.o,$(BUILD))))
$(foreach p,$(TESTS) $(TOOLS) $(BENCHES),\
	$(eval $(call program,$(p),$(call objs_of,$(p)) $(LIBTESTCOMMON),$(BUILD))))

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
# its own build directory BUILD/asan (build/asan by default), so it never
# mixes objects with the normal build.
check-asan:
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/asan OPT='-O1 -g -fno-omit-frame-pointer' \
		SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' test

# libFuzzer targets in BUILD/fuzz: each layer compiled again with the
# fuzzer's instrumentation (objects and archives under BUILD/fuzz, with
# their header dependencies), each target linked with the layers it lists.
FUZZ_FLAGS = -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all $(CPPFLAGS) $(shell $(PKG_CONFIG) --cflags $(CFLAGS_PKGS))

$(BUILD)/fuzz/%.o: %.c
	$(call msg,FUZZCC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -MMD -MP -c -o $@ $<

$(foreach l,$(LAYERS),$(eval $(call archive,$(BUILD)/fuzz,$(l))))
$(foreach f,$(FUZZERS),$(eval $(call program,$(f),$(BUILD)/fuzz/$(f).o,$(BUILD)/fuzz)))
$(FUZZ_BIN): LINK = $(FUZZ_CC) $(FUZZ_FLAGS)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	$(Q)./fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

fuzz-smoke: fuzz-build
	$(Q)./fuzz/run.sh 10 $(FUZZ_BIN)

# Benchmarks print figures, never pass/fail. Each takes BUILD/bench as its
# scratch directory and finds the daemon in BUILD/bin.
bench: $(BENCH_BIN) $(PROGRAMS) $(BUILD)/tests/tool_building
	$(Q)for b in $(BENCH_BIN); do $$b $(BUILD)/bench || exit 1; done

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

# Debian packages sdpp-gateway and sdpp (debian/) in BUILD/deb, built by
# dpkg-buildpackage from a copy of the tree (the files git tracks or would
# track) in BUILD/deb/src: dpkg-buildpackage writes its results beside the
# source directory, and the parent of the repository is not ours. lintian
# then checks them, and fails the target on an error.
DEBDIR = $(abspath $(BUILD))/deb

deb:
	$(Q)command -v dpkg-buildpackage >/dev/null || { echo "dpkg-buildpackage not found (make deps-deb)"; exit 2; }
	$(Q)rm -rf $(DEBDIR) && mkdir -p $(DEBDIR)/src
	$(Q)if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z --cached --others --exclude-standard | \
			tar -c --null -T - --ignore-failed-read -f - 2>/dev/null; \
	else \
		tar -c --exclude=./build --exclude=./.git -f - .; \
	fi | tar -x -C $(DEBDIR)/src
	$(Q)cd $(DEBDIR)/src && dpkg-buildpackage -us -uc -b -jauto >$(DEBDIR)/build.log 2>&1 || \
		{ tail -40 $(DEBDIR)/build.log; echo "dpkg-buildpackage failed: $(DEBDIR)/build.log"; exit 1; }
	$(Q)rm -rf $(DEBDIR)/src
	$(Q)if command -v lintian >/dev/null; then \
		lintian --fail-on error $(DEBDIR)/*.changes; \
	else echo "lintian not found (make deps-deb): packages not checked"; fi
	$(Q)ls $(DEBDIR)/*.deb

test-deb:
	$(Q)SDPP_TEST_DEB=1 BUILD=$(BUILD) ./tests/check_deb.sh

# What make test-systemd needs: debootstrap, systemd-nspawn, and make deb's
# tools and Build-Depends (not lintian). No Recommends: libnss-mymachines
# would add itself to the host's /etc/nsswitch.conf.
deps-systemd:
	@if [ "$$(id -u)" -ne 0 ]; then echo "make deps-systemd must run as root"; exit 1; fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		debootstrap systemd-container debhelper dpkg-dev fakeroot
	DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq --no-install-recommends ./

# Not part of make test (root, the network, minutes): Debian 12 booted with
# systemd-nspawn in BUILD/systemd-test, where the .deb, then make install,
# are started, used, reloaded and stopped through systemctl (tests/systemd/).
test-systemd: $(PROGRAMS)
	$(Q)BUILD=$(BUILD) ./tests/systemd/run.sh

# The official SDK (pinned in tests/iota-oracle/package-lock.json) that
# produced tests/iota/expected.json; check_iota_oracle.sh reruns it when
# installed, and is skipped otherwise.
iota-oracle:
	cd tests/iota-oracle && npm ci

# Every C file of every folder, formatted by .clang-format (clang-format 14,
# Debian's clang-format package).
CLANG_FORMAT ?= clang-format
FORMAT_SRC = $(sort $(wildcard $(addsuffix /*.[ch],$(LAYERS) cli tests fuzz bench)) \
	$(wildcard $(addsuffix /*/*.[ch],tests bench)))

format:
	$(Q)$(CLANG_FORMAT) -i $(FORMAT_SRC)

# Lists each file clang-format would change and fails if there is one.
format-check:
	$(Q)command -v $(CLANG_FORMAT) >/dev/null || { echo "$(CLANG_FORMAT) not found (make deps)"; exit 2; }; \
	bad=0; for f in $(FORMAT_SRC); do \
		$(CLANG_FORMAT) --dry-run --Werror "$$f" >/dev/null 2>&1 || { echo "$$f"; bad=$$((bad + 1)); }; \
	done; \
	if [ $$bad -ne 0 ]; then echo "format-check: $$bad files to format (make format)"; exit 1; fi

clean:
	rm -rf $(BUILD)

# Dependency files only: make test-systemd keeps booted Debian roots in
# BUILD/systemd-test, whose /etc/*.d directories are not ours (nor worth
# walking on every make).
-include $(shell find $(BUILD) -name systemd-test -prune -o -name '*.d' -type f -print 2>/dev/null)
