# Lienthong - one GNU Makefile, pkg-config for every dependency.
#   make            build bin/lienthong
#   make demo       install missing packages, build, run the demo
#   make test       install missing packages, build, run every test
#   make test SANITIZE=1   the same under ASan + UBSan
#   make lint       clang-format (check only) and cppcheck
#   make bench      benchmarks (see BENCHMARKS.md)
#   make fuzz       libFuzzer on every parser, FUZZ_SECONDS each (docs/FUZZING.md)
#   V=1             verbose commands

CC ?= cc
PKGS := libxml-2.0 jansson yaml-0.1 libpcre2-8 libutf8proc openssl zlib xmlsec1-openssl sqlite3 libcurl libevent libevent_openssl libical
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CSTD := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
OPT ?= -O2 -g

ifeq ($(SANITIZE),1)
B := build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT := -O1 -g
LIENTHONG := $(B)/lienthong
else
B := build/rel
SANFLAGS :=
LIENTHONG := bin/lienthong
endif

PREFIX ?= /usr/local
DESTDIR ?=
CFLAGS := $(CSTD) $(WARN) $(OPT) $(SANFLAGS) $(PKG_CFLAGS) -Igateway -Iadapters \
	-DGW_DATADIR='"$(PREFIX)/share/lienthong"' 
LDFLAGS := $(SANFLAGS)
LIBS := $(PKG_LIBS) -lm -ldl -lpthread

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Built-in adapters (adapters/NAME/*.c, except the out-of-tree example)
# are linked into the core library and register themselves statically.
ADAPTER_SRC := $(filter-out adapters/example/%,$(wildcard adapters/*/*.c))
# gateway/LAYER/*.c (docs/ARCHITECTURE.md); cli/main.c is the executable's.
CORE_SRC := $(filter-out gateway/cli/main.c,$(wildcard gateway/*/*.c)) $(ADAPTER_SRC)
CORE_OBJ := $(CORE_SRC:%.c=$(B)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(B)/tools/%)
# fuzz harnesses (tests/fuzz/fuzz_NAME.c), replayed by `make test`
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
REPLAY_BIN := $(FUZZ_NAMES:%=$(B)/fuzz/replay_%)

.PHONY: all deps deps-test demo test check lint bench fuzz clean install
all: $(LIENTHONG)

deps:
	@scripts/deps.sh build
deps-test:
	@scripts/deps.sh test

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# Adapters include their public header by its installed name, "adapter.h".
$(B)/adapters/%.o: CFLAGS += -Igateway/adapt

$(B)/libgw.a: $(CORE_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIENTHONG): $(B)/gateway/cli/main.o $(B)/libgw.a
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libgw.a
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(B)/libgw.a $(LDFLAGS) $(LIBS) $(shell pkg-config --libs cmocka)

$(B)/tools/%: tests/tools/%.c $(B)/libgw.a
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(B)/libgw.a $(LDFLAGS) $(LIBS)

build-tests: $(LIENTHONG) $(UNIT_BIN) $(TOOL_BIN) $(REPLAY_BIN)

demo: deps-test
	@$(MAKE) --no-print-directory $(LIENTHONG)
	@LIENTHONG=$(LIENTHONG) scripts/demo.sh

test: deps-test
	@$(MAKE) --no-print-directory build-tests
	@B=$(B) LIENTHONG=$(LIENTHONG) SANITIZE=$(SANITIZE) tests/run.sh

check: test

LINT_SRC = $(wildcard gateway/*/*.c gateway/*/*.h adapters/*/*.c adapters/*/*.h \
	tests/unit/*.c tests/tools/*.c tests/fuzz/*.c)
lint:
	@scripts/deps.sh lint
	clang-format --dry-run --Werror $(LINT_SRC)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr -Igateway -Iadapters $(LINT_SRC)

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory build-tests
	@B=$(B) LIENTHONG=$(LIENTHONG) bench/run.sh

# Installs the executable, the schemas, and for out-of-tree adapters the
# public header gateway/adapt/adapter.h with a pkg-config file.
install: $(LIENTHONG)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/lienthong/schemas \
		$(DESTDIR)$(PREFIX)/include/lienthong $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(LIENTHONG) $(DESTDIR)$(PREFIX)/bin/lienthong
	install -m 644 schemas/*.json schemas/*.xsd $(wildcard schemas/*.yaml) \
		$(DESTDIR)$(PREFIX)/share/lienthong/schemas/
	$(if $(wildcard gateway/adapt/adapter.h),install -m 644 gateway/adapt/adapter.h $(DESTDIR)$(PREFIX)/include/lienthong/)
	printf 'prefix=%s\nincludedir=$${prefix}/include\n\nName: lienthong-adapter\nDescription: build adapters for the Lienthong gateway\nVersion: %s\nRequires: jansson\nCflags: -I$${includedir}/lienthong\n' \
		'$(PREFIX)' "$$(sed -n 's/^#define GW_VERSION "\(.*\)"/\1/p' gateway/cli/cli.h)" \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/lienthong-adapter.pc
	install -d $(DESTDIR)$(PREFIX)/share/lienthong/conf
	install -m 644 conf/indicators.json $(DESTDIR)$(PREFIX)/share/lienthong/conf/

# libFuzzer over every parser of outside input (docs/FUZZING.md): one
# harness tests/fuzz/fuzz_NAME.c each, its kept corpus in
# tests/fuzz/corpus/NAME/, crash regressions in tests/fuzz/regress/NAME/,
# its dictionary in tests/fuzz/NAME.dict. `make fuzz` runs each for
# FUZZ_SECONDS (one at a time, niced) and merges what grew into the kept
# corpus; FUZZ=NAME runs one. `make test` replays every corpus file
# through $(B)/fuzz/replay_NAME, built without libFuzzer.
FUZZ_SECONDS ?= 60
FUZZ_CPU_SECONDS ?= 0 # > 0: that much CPU time per harness, measured
FUZZ ?= $(FUZZ_NAMES)
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJ := $(CORE_SRC:%.c=build/fuzz/obj/%.o)
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	$(Q)clang $(CSTD) -g -O1 $(FUZZ_FLAGS) $(PKG_CFLAGS) -Igateway -Igateway/adapt -Iadapters \
		-DGW_DATADIR='"$(PREFIX)/share/lienthong"' -c -o $@ $<

build/fuzz/libgw.a: $(FUZZ_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c build/fuzz/libgw.a
	@echo "  FUZZER  $@"
	$(Q)clang $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) -Igateway -Iadapters \
		-o $@ $< build/fuzz/libgw.a $(LIBS)

$(B)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(B)/libgw.a
	@mkdir -p $(dir $@)
	@echo "  REPLAY  $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $< tests/fuzz/replay.c $(B)/libgw.a $(LDFLAGS) $(LIBS)

fuzz: deps-test $(LIENTHONG)
	@scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory $(FUZZ:%=build/fuzz/fuzz_%)
	@LIENTHONG=$(LIENTHONG) FUZZ_SECONDS=$(FUZZ_SECONDS) \
		FUZZ_CPU_SECONDS=$(FUZZ_CPU_SECONDS) tests/fuzz/run.sh $(FUZZ)

clean:
	rm -rf build bin

-include $(CORE_OBJ:.o=.d) $(B)/gateway/cli/main.d
