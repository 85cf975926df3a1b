# splicebench: build the daemons, tools and tests; run the tests and the benchmark.
#   make          build everything into build/
#   make test     install what is missing (scripts/deps), build, run tests/run
#   make bench    install what is missing, build, run the quick matrix, plots, report
#   make clean    remove build/
CC      ?= gcc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-missing-field-initializers -Werror=implicit-function-declaration -pthread \
	   -D_GNU_SOURCE -MMD -MP -Idaemons/common -Idaemons/splicefs
LDLIBS  += -pthread
FUSE_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE_LIBS   := $(shell pkg-config --libs fuse3 2>/dev/null || echo -lfuse3) -luring
B := build
.DEFAULT_GOAL := all

COMMON_SRC   := $(wildcard daemons/common/*.c)
SPLICEFS_SRC := $(wildcard daemons/splicefs/*.c)
UNIT_SRC     := $(wildcard tests/unit/*.c)

COMMON_OBJ   := $(COMMON_SRC:%.c=$(B)/%.o)
SPLICEFS_OBJ := $(SPLICEFS_SRC:%.c=$(B)/%.o)
UNIT_OBJ     := $(UNIT_SRC:%.c=$(B)/%.o)

PROGS := $(B)/splicefs $(B)/sbcheck $(B)/sbmemcpy $(B)/unit-tests

# Fragments of the other parts of the suite (kernel/kernel.mk, ...) add to PROGS.
-include $(wildcard */*.mk */*/*.mk)

all: $(PROGS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(FUSE_CFLAGS) -c -o $@ $<

$(B)/splicefs: $(SPLICEFS_OBJ) $(COMMON_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(FUSE_LIBS) $(LDLIBS)

$(B)/sbcheck: $(B)/daemons/tools/sbcheck.o $(COMMON_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/sbmemcpy: $(B)/daemons/tools/sbmemcpy.o $(COMMON_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# The unit tests link the daemon's modules (all but main.c) to test them as they ship.
$(B)/unit-tests: $(UNIT_OBJ) $(filter-out $(B)/daemons/splicefs/main.o,$(SPLICEFS_OBJ)) $(COMMON_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(FUSE_LIBS) $(LDLIBS)

deps:
	scripts/deps build

test:
	scripts/deps test
	$(MAKE) all
	tests/run

bench:
	scripts/deps bench
	$(MAKE) all
	bench/quick

format:
	clang-format -i $(shell git ls-files '*.c' '*.h' | grep -v '^kernel/')

clean:
	rm -rf $(B)

.PHONY: all deps test bench format clean
-include $(shell find $(B) -name '*.d' 2>/dev/null)
