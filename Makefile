# calfs - mailbox calendars as directories of .ics files
#
#   make            build build/calfs
#   make run        install what is missing, build, make a demo store, mount it at ./mnt
#   make check      unit tests (GTest) and mount tests (pytest); names what is
#                   missing, which make deps installs
#   make deps       install the Debian packages calfs needs (apt-get, only what is missing)
#   make install    PREFIX=/usr/local DESTDIR=: calfs, mount.calfs, calfs(1),
#                   the scripts, calfs@.service
#   make SANITIZE=address,undefined check
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (default 600)
#   make clean      what make, make run and make bench made
#   make V=1        show the commands

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
PYTEST ?= /usr/bin/python3 -m pytest

BACKEND_PKGS := libical glib-2.0 gmime-3.0 sqlite3 libpq
FS_PKGS := fuse3 $(BACKEND_PKGS)

DEBIAN_PKGS := build-essential pkg-config fuse3 libfuse3-dev libical-dev \
	libgmime-3.0-dev libglib2.0-dev libsqlite3-dev sqlite3 libpq-dev tzdata \
	postgresql-15 python3-psycopg2 \
	python3 python3-pytest python3-pytest-timeout python3-vobject khal radicale \
	vdirsyncer vim attr inotify-tools libglib2.0-bin libjemalloc-dev

WARN := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	-Wold-style-definition -Wformat=2 -Wno-format-nonliteral -Wshadow \
	-Wpointer-arith -Wundef
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE -Ibackend -Itzrules -MMD -MP
ALL_LDFLAGS = $(LDFLAGS)

ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
BUILD ?= build/$(subst $(comma),-,$(SANITIZE))
else
BUILD ?= build
endif
comma := ,

# build/calfs allocates with jemalloc (MALLOC=libc: glibc's malloc).  An
# item's parse by libical or GMime makes and frees thousands of small
# blocks, and glibc's malloc spent about 15% of a fix and a third of a
# Maildir import on them (BENCHMARKS.md, seventh pass).  Sanitizers bring
# their own allocator, so SANITIZE means MALLOC=libc.
MALLOC ?= jemalloc
ifneq ($(SANITIZE),)
override MALLOC := libc
endif
ifeq ($(MALLOC),jemalloc)
MALLOC_PKGS := jemalloc
# Nothing calls jemalloc by name: keep it linked where --as-needed is the default.
MALLOC_LIBS = -Wl,--push-state,--no-as-needed $(call pkg_libs,jemalloc) -Wl,--pop-state
else ifneq ($(MALLOC),libc)
$(error MALLOC=$(MALLOC): use jemalloc or libc)
endif

ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

pkg_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pkg_libs = $(shell pkg-config --libs $(1) 2>/dev/null)

# Changed flags rebuild everything (as Redis does): the flags of this
# build are kept in $(BUILD)/.flags, rewritten only when they change.
FLAGS_NOW := $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(SANITIZE) $(MALLOC)
FLAGS_FILE := $(BUILD)/.flags
$(shell mkdir -p $(BUILD) && { [ "$$(cat $(FLAGS_FILE) 2>/dev/null)" = '$(FLAGS_NOW)' ] || \
	echo '$(FLAGS_NOW)' > $(FLAGS_FILE); })

LIB_SRC := $(wildcard backend/*.c tzrules/*.c)
GEN_SRC := $(BUILD)/tzrules/names.c
FS_SRC := $(wildcard fs/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(GEN_SRC:.c=.o)
FS_OBJ := $(FS_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
REGRESS_BIN := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/tests/regress_%)

LIB := $(BUILD)/libcalfs.a
BIN := $(BUILD)/calfs

.PHONY: all check unit mount-tests deps deps-present libs-present run stop install uninstall \
	clean bench fuzz fuzz-targets
.DELETE_ON_ERROR:

all: $(BIN)

# A library that pkg-config does not know fails the build with its name
# (else its flags would silently be empty, and the compiler say less).
libs-present:
	@missing=; for p in $(FS_PKGS) $(MALLOC_PKGS); do pkg-config --exists $$p || missing="$$missing $$p"; done; \
	[ -z "$$missing" ] || { echo "make: pkg-config does not know:$$missing (make deps" \
		"installs their -dev packages)" >&2; exit 1; }

# backend/ and tzrules/ are compiled without libfuse's include path: they
# must never include a FUSE header.
$(BUILD)/backend/%.o $(BUILD)/tzrules/%.o: CFLAGS_EXTRA = $(call pkg_cflags,$(BACKEND_PKGS))
$(BUILD)/fs/%.o: CFLAGS_EXTRA = $(call pkg_cflags,$(FS_PKGS)) -DFUSE_USE_VERSION=312
$(BUILD)/tests/%.o: CFLAGS_EXTRA = $(call pkg_cflags,$(BACKEND_PKGS))

# the zone-name tables, embedded so that no data file is looked up at run time
$(BUILD)/tzrules/names.c: tzrules/names.tsv tzrules/embed.awk
	$(call say,GEN,$@)
	@mkdir -p $(@D)
	$(Q)awk -F'\t' -f tzrules/embed.awk tzrules/names.tsv > $@

$(BUILD)/tzrules/names.o: $(BUILD)/tzrules/names.c $(FLAGS_FILE)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(BUILD)/%.o: %.c $(FLAGS_FILE) | libs-present
	$(call say,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(CFLAGS_EXTRA) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# Under any sanitizer GSlice is told to use malloc: it hands freed memory
# out again out of the sanitizers' sight (a use after free of a GPtrArray
# went unseen).  SANITIZE=thread: the daemon tells ThreadSanitizer about
# GLib's locks, and what the uninstrumented libraries do inside is theirs.
ifneq ($(SANITIZE),)
TEST_ENV += G_SLICE=always-malloc CALFS_TEST_TIME_SCALE=5
endif
ifneq ($(filter thread,$(subst $(comma), ,$(SANITIZE))),)
FS_OBJ += $(BUILD)/tests/tsan/glib_sync.o
TEST_ENV += TSAN_OPTIONS=suppressions=$(CURDIR)/tests/tsan/suppressions
endif

$(BIN): $(FS_OBJ) $(LIB)
	$(call say,LINK,$@)
	$(Q)$(CC) -o $@ $(FS_OBJ) $(LIB) $(ALL_LDFLAGS) $(call pkg_libs,$(FS_PKGS)) $(MALLOC_LIBS) -lpthread

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB)
	$(call say,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) -o $@ $< $(LIB) $(ALL_LDFLAGS) $(call pkg_libs,$(BACKEND_PKGS))

# The fuzz targets, replayed over tests/fuzz/regress by make check.
$(BUILD)/tests/regress_%: tests/fuzz/fuzz_%.c tests/fuzz/driver.c tests/fuzz/fuzz.h $(LIB)
	$(call say,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(call pkg_cflags,$(BACKEND_PKGS)) -o $@ $< tests/fuzz/driver.c \
		$(LIB) $(ALL_LDFLAGS) $(call pkg_libs,$(BACKEND_PKGS))

-include $(LIB_OBJ:.o=.d) $(FS_OBJ:.o=.d) $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.d)

# The conformance harness's readers (tests/conformance): libical alone,
# and Mozilla's ical.js from npm, in the build tree.
ICALJS_VERSION := 2.2.1
ICALJS := build/node/node_modules/ical.js/package.json
$(BUILD)/tests/libical_instants: tests/conformance/libical_instants.c
	$(call say,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(call pkg_cflags,libical glib-2.0) -o $@ $< \
		$(ALL_LDFLAGS) $(call pkg_libs,libical glib-2.0)

# The Debian packages of $(DEBIAN_PKGS) that are not installed.
MISSING_DEBS = for p in $(DEBIAN_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done

# Install the Debian packages that are missing (as root, or through sudo),
# and ical.js.
deps:
	@missing=$$($(MISSING_DEBS)); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing" $$missing; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@[ -f $(ICALJS) ] || { echo "make deps: installing ical.js $(ICALJS_VERSION) into build/node"; \
		npm install --silent --no-audit --no-fund --no-save --prefix build/node \
			ical.js@$(ICALJS_VERSION); }

# make check installs nothing: it names what is missing.
deps-present:
	@missing=$$($(MISSING_DEBS)); [ -f $(ICALJS) ] || missing="$$missing ical.js(npm)"; \
	[ -z "$$missing" ] || { echo "make check: missing:" $$missing "(make deps installs them)" >&2; \
		exit 1; }

check: deps-present
	@$(MAKE) --no-print-directory all-tests
	CALFS_BUILD=$(BUILD) $(TEST_ENV) $(PYTEST) -q -ra tests

.PHONY: all-tests
all-tests: $(BIN) $(UNIT_BIN) $(REGRESS_BIN) $(BUILD)/tests/libical_instants \
	$(BUILD)/tests/parsecount.so

# the LD_PRELOAD shim that counts libical parses (tests/test_parses.py);
# not instrumented: the tests that use it skip sanitized builds
$(BUILD)/tests/parsecount.so: tests/parsecount.c
	$(call say,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(WARN) -O2 -shared -fPIC $(call pkg_cflags,libical) -o $@ $< -ldl

unit: $(UNIT_BIN)
	@for t in $(UNIT_BIN); do $$t || exit 1; done

# make bench: calfs against native files, the FUSE floor and davfs2 with
# Radicale, on a generated organisation (BENCH_ARGS="--mailboxes 53000").
BENCH_PKGS := davfs2 radicale curl
BENCH_ARGS ?=
$(BUILD)/floorfs: tests/bench/floorfs.c
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(call pkg_cflags,fuse3 glib-2.0) -o $@ $< $(ALL_LDFLAGS) $(call pkg_libs,fuse3 glib-2.0)

bench: deps
	@$(MAKE) --no-print-directory deps DEBIAN_PKGS="$(BENCH_PKGS)"
	@$(MAKE) --no-print-directory -s all $(BUILD)/floorfs $(BUILD)/tests/libical_instants
	/usr/bin/python3 tests/bench/run.py --build $(BUILD) --out bench-results.json $(BENCH_ARGS)

# make fuzz: the libFuzzer targets of tests/fuzz, built with clang and
# AddressSanitizer+UndefinedBehaviorSanitizer in build/fuzz, each run for
# FUZZ_SECONDS (or FUZZ_RUNS inputs; FUZZ_SEED=N repeats a run exactly, 0
# picks one) on seeds made by tests/fuzz/seeds.py; the corpora grow in
# build/fuzz/corpus, findings land in build/fuzz/findings.
FUZZ_PKGS := clang-14 libclang-rt-14-dev
FUZZ_SECONDS ?= 600
FUZZ_RUNS ?=
FUZZ_SEED ?= 0
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_SAN := address,undefined
# clang for libFuzzer, unless CC was given
FUZZ_CC := $(if $(filter command line environment,$(origin CC)),$(CC),clang-14)

$(FUZZ_TARGETS:%=$(FUZZ_DIR)/%): $(FUZZ_DIR)/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(LIB)
	$(call say,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(call pkg_cflags,$(BACKEND_PKGS)) -fsanitize=fuzzer -o $@ $< \
		$(LIB) $(ALL_LDFLAGS) -fsanitize=fuzzer $(call pkg_libs,$(BACKEND_PKGS))

fuzz-targets: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)

fuzz: deps
	@$(MAKE) --no-print-directory deps DEBIAN_PKGS="$(FUZZ_PKGS)"
	@$(MAKE) --no-print-directory -s BUILD=$(FUZZ_DIR) FUZZ_DIR=$(FUZZ_DIR) CC=$(FUZZ_CC) \
		SANITIZE=fuzzer-no-link,$(FUZZ_SAN) fuzz-targets
	@/usr/bin/python3 tests/fuzz/seeds.py $(FUZZ_DIR)/seeds
	@mkdir -p $(FUZZ_DIR)/findings
	@set -e; for t in $(FUZZ_TARGETS); do \
		k=$${t#fuzz_}; mkdir -p $(FUZZ_DIR)/corpus/$$k; \
		echo "make fuzz: $$t for $(if $(FUZZ_RUNS),$(FUZZ_RUNS) runs,$(FUZZ_SECONDS) s)"; \
		$(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) -seed=$(FUZZ_SEED) \
			$(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS)) -timeout=10 -rss_limit_mb=2048 \
			-max_len=65536 -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/findings/$$k- \
			$(FUZZ_DIR)/corpus/$$k $(FUZZ_DIR)/seeds/$$k tests/fuzz/regress/$$k \
			2> $(FUZZ_DIR)/$$k.log || { tail -40 $(FUZZ_DIR)/$$k.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' $(FUZZ_DIR)/$$k.log | \
			sed "s/^/  $$k /"; \
	done

# The demo: a store made from generated mailboxes, mounted at ./mnt.
DEMO := demo
run: deps
	@$(MAKE) --no-print-directory -s all
	@scripts/demo $(BIN) $(DEMO) mnt

stop:
	@fusermount3 -u mnt 2>/dev/null || true

SCRIPTS := scripts/calfs-batches scripts/calfs-find-broken scripts/calfs-fix-through-mount \
	scripts/calfs-tz-report scripts/calfs-gen-org
MANDIR ?= $(PREFIX)/share/man
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/calfs/scripts \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSTEMDDIR)
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/calfs
	ln -sf calfs $(DESTDIR)$(PREFIX)/bin/mount.calfs
	install -m 755 $(SCRIPTS) $(DESTDIR)$(PREFIX)/share/calfs/scripts/
	install -m 644 mount.conf scripts/fstab.example $(DESTDIR)$(PREFIX)/share/calfs/
	install -m 644 doc/calfs.1 $(DESTDIR)$(MANDIR)/man1/calfs.1
	sed 's|/usr/local/bin/calfs|$(PREFIX)/bin/calfs|' scripts/calfs@.service \
		> $(DESTDIR)$(SYSTEMDDIR)/calfs@.service

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/calfs $(DESTDIR)$(PREFIX)/bin/mount.calfs \
		$(DESTDIR)$(MANDIR)/man1/calfs.1 $(DESTDIR)$(SYSTEMDDIR)/calfs@.service
	rm -rf $(DESTDIR)$(PREFIX)/share/calfs

# what make, make run and make bench made (the demo is unmounted first)
clean:
	-@fusermount3 -u mnt 2>/dev/null; [ ! -d mnt ] || rmdir mnt
	rm -rf build $(DEMO) bench-results.json
