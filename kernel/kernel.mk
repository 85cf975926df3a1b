# kernel/: the FUSE_OUT_SPLICES selftest and probe (included by the top Makefile).
# Declared first so that the default goal stays `all` although this fragment is
# read before the top Makefile's `all: $(PROGS)` line.
all:

KERNEL_TEST_OBJ := $(B)/kernel/selftest/fuse_splices_test.o $(B)/kernel/selftest/probe.o
KERNEL_PROBE_OBJ := $(B)/kernel/selftest/fuse_probe.o $(B)/kernel/selftest/probe.o \
		    $(B)/daemons/common/fuse_splices.o

PROGS += $(B)/kernel/fuse_splices_test $(B)/kernel/fuse_probe $(B)/kernel/libfuse_hello

# uring_fixed_reader (io_uring READ_FIXED) where liburing-dev is installed; SKIP without.
KERNEL_URING := $(shell test -f /usr/include/liburing.h && echo 1)
$(B)/kernel/selftest/fuse_splices_test.o: CFLAGS += $(if $(KERNEL_URING),-DHAVE_LIBURING)

$(B)/kernel/fuse_splices_test: $(KERNEL_TEST_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(if $(KERNEL_URING),-luring)

$(B)/kernel/fuse_probe: $(KERNEL_PROBE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# A minimal libfuse3 file system: tests/20-kernel.t mounts it inside the guest.
$(B)/kernel/libfuse_hello: $(B)/kernel/selftest/libfuse_hello.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(FUSE_LIBS) $(LDLIBS)

kernel-test: $(B)/kernel/fuse_splices_test $(B)/kernel/fuse_probe
	tests/run 20-kernel

.PHONY: kernel-test
