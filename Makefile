# sharebus build.  `make` builds libsharebus.a and every program into build/;
# `make test` sets up the machine and runs lint, the unit suites under
# ASan/UBSan, then the integration and interop suites on a real broker.

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PKGS := rdkafka avro-c libconfig jansson libcurl libmicrohttpd sqlite3 libpq gnutls libxcrypt
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
BASE_CFLAGS := -std=gnu11 $(WARN) -Icommon -Iproducers -Iconsumers -Ischemas \
	$(PKG_CFLAGS) -DSB_VERSION=\"$(VERSION)\"
CFLAGS ?= -O2 -g
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

B := build
SAN := build/san

COMMON_SRC := $(wildcard common/*.c)
PRODUCER_SRC := $(filter-out producers/main_%.c,$(wildcard producers/*.c))
CONSUMER_SRC := $(filter-out consumers/main_%.c,$(wildcard consumers/*.c))
REGISTRY_SRC := $(filter-out schemas/main_%.c,$(wildcard schemas/*.c))
LIB_SRC := $(COMMON_SRC) $(PRODUCER_SRC) $(CONSUMER_SRC) $(REGISTRY_SRC)

PROGRAMS := sharebus-producer sharebus-subscriber sharebus-registry sharebus-sample sharebus-passwd
BINS := $(addprefix $(B)/bin/,$(PROGRAMS))
UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(filter-out tests/unit/testutil.c,$(wildcard tests/unit/test_*.c)))
INTEG_TESTS := $(patsubst tests/integration/%.c,%,$(filter-out tests/integration/harness.c,$(wildcard tests/integration/test_*.c)))

.PHONY: check-docs all test unit unit-san integration interop lint format demo bench install clean setup docs check-docs
all: $(B)/libsharebus.a $(BINS)

# ---- normal build ----
$(B)/obj/%.o: %.c $(wildcard common/*.h producers/*.h consumers/*.h schemas/*.h) VERSION
	@mkdir -p $(dir $@)
	@echo "CC $<"; $(CC) $(BASE_CFLAGS) $(CFLAGS) -c $< -o $@

$(B)/libsharebus.a: $(patsubst %.c,$(B)/obj/%.o,$(LIB_SRC))
	@rm -f $@
	@echo "AR $@"; ar rcs $@ $^

$(B)/bin/sharebus-producer: $(B)/obj/producers/main_producer.o $(B)/libsharebus.a
$(B)/bin/sharebus-sample: $(B)/obj/producers/main_sample.o $(B)/libsharebus.a
$(B)/bin/sharebus-subscriber: $(B)/obj/consumers/main_subscriber.o $(B)/libsharebus.a
$(B)/bin/sharebus-registry: $(B)/obj/schemas/main_registry.o $(B)/libsharebus.a
$(B)/bin/sharebus-passwd: $(B)/obj/schemas/main_passwd.o $(B)/libsharebus.a
$(BINS):
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# ---- sanitizer build of the library, for the unit tests ----
$(SAN)/obj/%.o: %.c $(wildcard common/*.h producers/*.h consumers/*.h schemas/*.h tests/unit/*.h) VERSION
	@mkdir -p $(dir $@)
	@echo "CC [san] $<"; $(CC) $(BASE_CFLAGS) -Itests/unit $(SAN_FLAGS) -c $< -o $@

$(SAN)/libsharebus.a: $(patsubst %.c,$(SAN)/obj/%.o,$(LIB_SRC))
	@rm -f $@
	@echo "AR $@"; ar rcs $@ $^

$(SAN)/tests/%: $(SAN)/obj/tests/unit/%.o $(SAN)/obj/tests/unit/testutil.o $(SAN)/libsharebus.a
	@mkdir -p $(dir $@)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS)

# ---- integration tests (normal build; they run the real programs) ----
$(B)/tests/%: $(B)/obj/tests/integration/%.o $(B)/obj/tests/integration/harness.o $(B)/libsharebus.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS)
$(B)/obj/tests/integration/%.o: tests/integration/%.c tests/integration/harness.h
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Itests/integration $(CFLAGS) -c $< -o $@

# ---- interop tests (normal build; Python confluent-kafka and kcat against the real programs) ----
$(B)/tests/test_interop: $(B)/obj/tests/interop/test_interop.o $(B)/obj/tests/integration/harness.o $(B)/libsharebus.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LIBS) $(PKG_LIBS)
$(B)/obj/tests/interop/%.o: tests/interop/%.c tests/integration/harness.h
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Itests/integration $(CFLAGS) -c $< -o $@

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

lint:
	tests/lint.sh

test: setup
	$(MAKE) all
	$(MAKE) lint
	$(MAKE) unit
	tests/docs.sh
	$(MAKE) integration
	$(MAKE) interop

demo: setup
	$(MAKE) all
	./demo.sh

$(B)/bench/bench_tool: bench/bench_tool.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $< $(PKG_LIBS)

bench: setup
	$(MAKE) all $(B)/bench/bench_tool
	bench/run.sh

docs: all
	tests/docs.sh --write

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/sharebus \
	  $(DESTDIR)$(PREFIX)/share/sharebus/schemas
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(B)/libsharebus.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 common/*.h $(DESTDIR)$(PREFIX)/include/sharebus/
	install -m 644 schemas/datasets/*.avsc $(DESTDIR)$(PREFIX)/share/sharebus/schemas/

format:
	clang-format -i $(wildcard */*.c */*.h tests/*/*.c tests/*/*.h)

clean:
	rm -rf $(B)
