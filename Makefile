# sharebus build.  `make` builds libsharebus.a and every program into build/;
# `make test` sets up the machine and runs lint, the unit suites under
# ASan/UBSan, then the integration and interop suites on a real broker.

PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
SYSTEMD_UNITDIR ?= $(PREFIX)/lib/systemd/system
CC ?= cc
PKGS := rdkafka avro-c libconfig jansson libcurl libmicrohttpd sqlite3 libpq gnutls libxcrypt
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
# Each folder compiles with common/ and its own folder only, so a program
# that includes another program's header does not build.
BASE_CFLAGS := -std=gnu11 $(WARN) $(PKG_CFLAGS) -DSB_VERSION=\"$(VERSION)\"
CFLAGS ?= -O2 -g
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

B := build
SAN := build/san

# folder -> its sources (without main_*.c), its subfolders' included (a
# folder grows subfolders by role: producers/sources/); the library is
# common/ alone.
FOLDERS := common producers consumers schemas/registry broker-config
src_of = $(filter-out $(1)/main_%.c,$(wildcard $(1)/*.c $(1)/*/*.c))
hdr_of = $(wildcard $(1)/*.h $(1)/*/*.h)
ARCHIVE_common := libsharebus.a
ARCHIVE_producers := libproducers.a
ARCHIVE_consumers := libconsumers.a
ARCHIVE_schemas/registry := libregistry.a
ARCHIVE_broker-config := libtopics.a
# The include path of a source file: common/ plus its program folder (the
# folder of FOLDERS it lies in); a subfolder's header is included by its
# path from there, as "sources/source.h".
folder_of = $(firstword $(foreach f,$(FOLDERS),$(if $(filter $(f)/%,$(1)),$(f))))
folder_inc = -Icommon -I$(call folder_of,$(1))
TEST_INC := -Icommon -Iproducers -Iconsumers -Ischemas/registry -Ibroker-config

PROGRAMS := sharebus-producer sharebus-subscriber sharebus-lag sharebus-registry sharebus-sample sharebus-passwd sharebus-topics
BINS := $(addprefix $(B)/bin/,$(PROGRAMS))
# A man page per program, from its --help-man; a systemd unit template per
# daemon and the example configurations, beside the programs.
MAN_PAGES := $(patsubst %,$(B)/share/man/man1/%.1,$(PROGRAMS))
UNITS := $(sort $(wildcard $(addsuffix /systemd/*.service.in,$(FOLDERS))))
EXAMPLES := $(sort $(wildcard $(addsuffix /examples/*.conf,$(FOLDERS)) broker-config/topics.conf))
UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(filter-out tests/unit/testutil.c tests/unit/testhttp.c tests/unit/testauth.c tests/unit/testcerts.c,$(wildcard tests/unit/test_*.c)))
INTEG_TESTS := $(patsubst tests/integration/%.c,%,$(wildcard tests/integration/test_*.c))
ALL_HDRS := $(foreach f,$(FOLDERS),$(call hdr_of,$(f)))
FOLDER_LIBS = $(B)/libproducers.a $(B)/libconsumers.a $(B)/libregistry.a $(B)/libtopics.a $(B)/libsharebus.a
SAN_FOLDER_LIBS = $(SAN)/libproducers.a $(SAN)/libconsumers.a $(SAN)/libregistry.a $(SAN)/libtopics.a $(SAN)/libsharebus.a

.PHONY: all test unit integration interop lint format demo bench install clean setup docs man \
	fuzz fuzz-smoke fuzz-build
# sharebus-lag's dashboard: its own page and uPlot (from npm, pinned by
# package-lock.json), together where the daemon looks by default.
CACHE := $(or $(SHAREBUS_CACHE),.cache)
UPLOT_STAMP := $(CACHE)/npm-dashboard/fetched.stamp
DASHBOARD := $(B)/share/sharebus/dashboard
DASHBOARD_FILES := $(addprefix $(DASHBOARD)/,index.html dashboard.js dashboard.css uPlot.iife.min.js uPlot.min.css)

all: $(B)/libsharebus.a $(BINS) $(DASHBOARD_FILES)

$(UPLOT_STAMP): consumers/lag/dashboard/package-lock.json consumers/lag/dashboard/fetch-uplot.sh
	consumers/lag/dashboard/fetch-uplot.sh $(CACHE) && touch $@
$(DASHBOARD)/uPlot.%: $(UPLOT_STAMP)
	@mkdir -p $(dir $@)
	cp $(CACHE)/npm-dashboard/node_modules/uplot/dist/uPlot.$* $@
$(DASHBOARD)/%: consumers/lag/dashboard/%
	@mkdir -p $(dir $@)
	cp $< $@


# ---- normal build ----
$(B)/obj/%.o: %.c $(ALL_HDRS) VERSION
	@mkdir -p $(dir $@)
	@echo "CC $<"; $(CC) $(BASE_CFLAGS) $(call folder_inc,$<) $(CFLAGS) -c $< -o $@

define folder_archive
$(B)/$(ARCHIVE_$(1)): $(patsubst %.c,$(B)/obj/%.o,$(call src_of,$(1)))
	@rm -f $$@
	@echo "AR $$@"; ar rcs $$@ $$^
$(SAN)/$(ARCHIVE_$(1)): $(patsubst %.c,$(SAN)/obj/%.o,$(call src_of,$(1)))
	@rm -f $$@
	@echo "AR $$@"; ar rcs $$@ $$^
endef
$(foreach f,$(FOLDERS),$(eval $(call folder_archive,$(f))))

# A program links its own folder's objects and the library, nothing else.
$(B)/bin/sharebus-producer: $(B)/obj/producers/main_producer.o $(B)/libproducers.a $(B)/libsharebus.a
$(B)/bin/sharebus-sample: $(B)/obj/producers/main_sample.o $(B)/libproducers.a $(B)/libsharebus.a
$(B)/bin/sharebus-subscriber: $(B)/obj/consumers/main_subscriber.o $(B)/libconsumers.a $(B)/libsharebus.a
$(B)/bin/sharebus-lag: $(B)/obj/consumers/main_lag.o $(B)/libconsumers.a $(B)/libsharebus.a
$(B)/bin/sharebus-registry: $(B)/obj/schemas/registry/main_registry.o $(B)/libregistry.a $(B)/libsharebus.a
$(B)/bin/sharebus-passwd: $(B)/obj/schemas/registry/main_passwd.o $(B)/libregistry.a $(B)/libsharebus.a
$(B)/bin/sharebus-topics: $(B)/obj/broker-config/main_topics.o $(B)/libtopics.a $(B)/libsharebus.a
$(BINS):
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# ---- sanitizer build, for the unit tests (which may test any folder) ----
$(SAN)/obj/tests/%.o: tests/%.c $(ALL_HDRS) $(wildcard tests/unit/*.h) VERSION
	@mkdir -p $(dir $@)
	@echo "CC [san] $<"; $(CC) $(BASE_CFLAGS) $(TEST_INC) -Itests/unit $(SAN_FLAGS) -c $< -o $@
$(SAN)/obj/%.o: %.c $(ALL_HDRS) VERSION
	@mkdir -p $(dir $@)
	@echo "CC [san] $<"; $(CC) $(BASE_CFLAGS) $(call folder_inc,$<) $(SAN_FLAGS) -c $< -o $@

$(SAN)/tests/%: $(SAN)/obj/tests/unit/%.o $(SAN)/obj/tests/unit/testutil.o $(SAN)/obj/tests/unit/testhttp.o $(SAN)/obj/tests/unit/testauth.o \
		$(SAN_FOLDER_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS)

# ---- integration tests (normal build; they run the real programs) ----
$(B)/tests/%: $(B)/obj/tests/integration/%.o $(B)/obj/tests/integration/harness.o $(B)/obj/tests/integration/pgserver.o \
		$(B)/obj/tests/integration/pgtable.o $(B)/obj/tests/integration/scrape.o $(FOLDER_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS)
$(B)/obj/tests/integration/%.o: tests/integration/%.c tests/integration/harness.h tests/integration/pgserver.h tests/integration/pgtable.h tests/integration/scrape.h $(ALL_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(TEST_INC) -Itests/integration $(CFLAGS) -c $< -o $@

# ---- interop tests (normal build; Python confluent-kafka and kcat against the real programs) ----
$(B)/tests/test_interop: $(B)/obj/tests/interop/test_interop.o $(B)/obj/tests/integration/harness.o $(FOLDER_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS)
$(B)/obj/tests/interop/%.o: tests/interop/%.c tests/integration/harness.h $(ALL_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(TEST_INC) -Itests/integration $(CFLAGS) -c $< -o $@

# ---- cluster fault tests (normal build; the suite starts its own 3-broker cluster) ----
CLUSTER_OBJS := $(B)/obj/tests/cluster/test_cluster.o $(B)/obj/tests/cluster/cluster.o \
	$(B)/obj/tests/integration/harness.o $(B)/obj/tests/integration/scrape.o
$(B)/tests/test_cluster: $(CLUSTER_OBJS) $(FOLDER_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS)
$(B)/obj/tests/cluster/%.o: tests/cluster/%.c tests/cluster/cluster.h tests/integration/harness.h tests/integration/scrape.h $(ALL_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(TEST_INC) -Itests/integration -Itests/cluster $(CFLAGS) -c $< -o $@

# ---- libFuzzer targets (tests/fuzz/fuzz_*.c; clang, ASan + UBSan) ----
# The library and every folder are compiled again by clang with coverage
# into build/fuzz/ (the gcc builds stay as they are); tests/fuzz/run.sh
# seeds the corpora, runs each target and reports executions and crashes.
FUZZ := $(B)/fuzz
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(addprefix $(FUZZ)/bin/fuzz_,$(FUZZ_TARGETS))
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_JOBS ?= 2
$(FUZZ)/obj/tests/fuzz/%.o: tests/fuzz/%.c tests/fuzz/fuzzutil.h $(ALL_HDRS) VERSION
	@mkdir -p $(dir $@)
	@echo "CC [fuzz] $<"; $(FUZZ_CC) $(BASE_CFLAGS) $(TEST_INC) -Itests/fuzz $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ)/obj/%.o: %.c $(ALL_HDRS) VERSION
	@mkdir -p $(dir $@)
	@echo "CC [fuzz] $<"; $(FUZZ_CC) $(BASE_CFLAGS) $(call folder_inc,$<) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ)/libfuzzed.a: $(patsubst %.c,$(FUZZ)/obj/%.o,$(foreach f,$(FOLDERS),$(call src_of,$(f))))
	@rm -f $@
	@echo "AR $@"; ar rcs $@ $^
$(FUZZ)/bin/fuzz_%: $(FUZZ)/obj/tests/fuzz/fuzz_%.o $(FUZZ)/obj/tests/fuzz/fuzzutil.o $(FUZZ)/libfuzzed.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

# Kept: make would delete them as intermediates of the pattern rule above.
.PRECIOUS: $(FUZZ)/obj/tests/fuzz/%.o

fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_TARGETS)
fuzz-smoke: fuzz-build
	tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_JOBS) $(FUZZ_TARGETS)

setup:
	./setup.sh

unit: $(addprefix $(SAN)/tests/,$(UNIT_TESTS))
	@set -e; for t in $^; do echo "== $$t"; \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  SHAREBUS_SRC=$(CURDIR) CK_FORK=yes $$t; done

integration: all $(addprefix $(B)/tests/,$(INTEG_TESTS))
	@set -e; for t in $(addprefix $(B)/tests/,$(INTEG_TESTS)); do echo "== $$t"; \
	  SHAREBUS_SRC=$(CURDIR) $$t; done

interop: all $(B)/tests/test_interop
	tests/interop/run.sh

# Not part of `make test`: three brokers under faults take minutes (README: Tests).
.PHONY: test-cluster
test-cluster: all $(B)/tests/test_cluster
	SHAREBUS_SRC=$(CURDIR) $(B)/tests/test_cluster

lint:
	tests/lint.sh

test: setup
	$(MAKE) all
	$(MAKE) lint
	$(MAKE) unit
	$(MAKE) fuzz-smoke
	tests/docs.sh
	tests/bad_inputs.sh
	tests/install.sh
	$(MAKE) integration
	$(MAKE) interop
	tests/demo_secure.sh

# make demo SECURE=1: the same exchange over TLS with a certificate per principal and ACLs.
demo: setup
	$(MAKE) all
	SECURE=$(SECURE) ./demo.sh

# bench_tool measures the producer's encoder too: it links that folder's archive.
BENCH_SRCS := bench/bench_tool.c bench/raw_changes.c bench/upsert_raw.c bench/upsert_raw_pg.c
$(B)/bench/bench_tool: $(BENCH_SRCS) $(filter-out bench/bench_tool.h,$(BENCH_SRCS:.c=.h)) $(ALL_HDRS) $(B)/libproducers.a $(B)/libsharebus.a
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Icommon -Iproducers -Ibench $(CFLAGS) -o $@ $(BENCH_SRCS) \
	  $(B)/libproducers.a $(B)/libsharebus.a $(PKG_LIBS)

bench: setup
	$(MAKE) all $(B)/bench/bench_tool
	bench/run.sh

# Not part of `make test`: the pipeline under a steady stream for SOAK_SECONDS
# (default 1800), every program's RSS sampled into build/soak/rss.csv (README: Benchmarks).
.PHONY: soak
soak: all
	bench/soak.sh

docs: all
	tests/docs.sh --write

man: $(MAN_PAGES)
$(B)/share/man/man1/%.1: $(B)/bin/%
	@mkdir -p $(dir $@)
	@echo "MAN $@"; $< --help-man >$@.tmp && mv $@.tmp $@

install: all man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/sharebus \
	  $(DESTDIR)$(PREFIX)/share/sharebus/schemas
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(B)/libsharebus.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 common/*.h $(DESTDIR)$(PREFIX)/include/sharebus/
	install -m 644 schemas/datasets/*.avsc $(DESTDIR)$(PREFIX)/share/sharebus/schemas/
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/sharebus/examples \
	  $(DESTDIR)$(SYSTEMD_UNITDIR)
	install -m 644 $(MAN_PAGES) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(EXAMPLES) $(DESTDIR)$(PREFIX)/share/sharebus/examples/
	@set -e; for u in $(UNITS); do to=$(DESTDIR)$(SYSTEMD_UNITDIR)/$$(basename $$u .in); echo "UNIT $$to"; \
	  sed -e 's|@bindir@|$(PREFIX)/bin|g' -e 's|@sysconfdir@|$(SYSCONFDIR)|g' -e 's|@datadir@|$(PREFIX)/share|g' \
	    $$u >$$to; chmod 644 $$to; done
	@# What `make all` puts under build/share/sharebus/ (the dashboard's files), if anything.
	@set -e; if [ -d $(B)/share/sharebus ]; then find $(B)/share/sharebus -type f | while read -r f; do \
	  install -D -m 644 $$f $(DESTDIR)$(PREFIX)/share/sharebus/$${f#$(B)/share/sharebus/}; done; fi

format:
	clang-format -i $(shell git ls-files "*.c" "*.h")

clean:
	rm -rf $(B)
