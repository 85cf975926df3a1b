# sbserver: the splicebench data server, and sbclient, its test and load client.
PROGS += $(B)/sbserver $(B)/sbclient

$(B)/sbserver: $(B)/daemons/sbserver/sbserver.o $(COMMON_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/sbclient: $(B)/daemons/sbserver/sbclient.o $(COMMON_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
