# kernel/cost: the sbcost QEMU plugin (build/kernel/sbcost.so) and the guest marker
# tool (build/sbmark).  Included by the top Makefile; on its own:
#   make -f kernel/cost/cost.mk
ifndef PROGS
B      ?= build
CFLAGS ?= -O2 -g -std=gnu11 -Wall -Wextra
sbcost-all: $(B)/kernel/sbcost.so $(B)/sbmark
.PHONY: sbcost-all
$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<
endif

PROGS += $(B)/kernel/sbcost.so $(B)/sbmark

# A plugin is a shared object whose qemu_plugin_* calls resolve against the
# QEMU binary that loads it: no library to link, no -z defs.
$(B)/kernel/sbcost.so: kernel/cost/sbcost.c kernel/cost/qemu-plugin-api.h kernel/cost/cost.mk
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) -fPIC -shared -fvisibility=hidden -o $@ kernel/cost/sbcost.c

$(B)/sbmark: $(B)/kernel/cost/sbmark.o
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
