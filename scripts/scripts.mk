# scripts/: the pipe-slot probe's helper (scripts/pipe-slots runs it).
PROGS += $(B)/sbslots

$(B)/sbslots: $(B)/daemons/tools/sbslots.o $(COMMON_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
