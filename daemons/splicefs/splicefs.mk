# splicefs-testmode: splicefs plus the invented mode of daemons/splicefs/testmode/ (an
# option and counters of its own), for tests; build/splicefs never contains it.
SPLICEFS_TESTMODE_OBJ := $(B)/daemons/splicefs/testmode/mode_testmode.o
PROGS += $(B)/splicefs-testmode

$(B)/splicefs-testmode: $(SPLICEFS_OBJ) $(SPLICEFS_TESTMODE_OBJ) $(COMMON_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(FUSE_LIBS) $(LDLIBS)
