# libfuse-ref: the stock-libfuse reference daemon (daemons/libfuse-ref/README.md).
LIBFUSE_REF_SRC := $(wildcard daemons/libfuse-ref/*.c)
LIBFUSE_REF_OBJ := $(LIBFUSE_REF_SRC:%.c=$(B)/%.o)
PROGS += $(B)/libfuse-ref

$(B)/libfuse-ref: $(LIBFUSE_REF_OBJ) $(COMMON_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(FUSE_LIBS) $(LDLIBS)
