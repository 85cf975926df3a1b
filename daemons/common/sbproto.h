/* SPDX-License-Identifier: MIT */
/*
 * sbproto: the wire format between splicefs's TCP data source (the client,
 * daemons/splicefs/source_tcp.c) and the data server (daemons/sbserver).
 *
 * One TCP connection carries one request at a time (each splicefs worker holds
 * its own connection).  Every integer is little-endian; every frame has a
 * fixed size.
 *
 * 1. HELLO, once at connect.  The client sends its HELLO (what it expects),
 *    the server answers with its own HELLO (what it serves) whose status says
 *    whether they agree.  Both sides compare magic, version, files, file_size,
 *    granule and seed; a mismatch is reported by both (one log line naming the
 *    field and both values) and the server closes the connection, so a client
 *    and server started with different options fail loudly at connect instead
 *    of serving data the reader would reject later.
 *
 *      off size field
 *        0    4 magic      SBP_HELLO_MAGIC ("SBH1")
 *        4    2 version    SBP_VERSION
 *        6    2 status     client: 0; server: an SBP_ST_* code (0 = accepted)
 *        8    4 files      number of files
 *       12    4 max_len    client: 0; server: the largest length it serves per request
 *       16    8 file_size  bytes per file
 *       24    8 granule    pattern granule (pattern.h)
 *       32    8 seed       pattern seed (pattern.h)
 *                          = 40 bytes
 *
 * 2. Then any number of REQUEST -> RESPONSE exchanges, strictly in turn.
 *
 *    REQUEST (32 bytes)
 *        0    4 magic      SBP_REQ_MAGIC ("SBRQ")
 *        4    4 file       file index, < files
 *        8    4 length     bytes wanted, <= max_len
 *       12    4 reserved   must be 0
 *       16    8 offset     byte offset in the file, <= file_size
 *       24    8 tag        any value, echoed in the response
 *
 *    RESPONSE header (24 bytes), then exactly `length` raw data bytes,
 *    contiguous in the stream (so the client can splice them straight from the
 *    socket into pipes):
 *        0    4 magic      SBP_RESP_MAGIC ("SBRS")
 *        4    4 status     SBP_ST_*
 *        8    4 length     data bytes that follow (0 unless status is SBP_ST_OK)
 *       12    4 reserved   0
 *       16    8 tag        the request's tag
 *
 * End of file: like read(2), a request reaching past the end of the file is
 * clamped: status OK, length = file_size - offset (0 at offset == file_size).
 * An offset beyond file_size, a file index >= files, a length > max_len, a bad
 * magic or a non-zero reserved field is a malformed request: the server
 * answers with an error status and length 0, logs one line and closes the
 * connection (the stream can no longer be trusted).  A frame cut short by the
 * peer closing is logged and closes the connection too.
 */
#ifndef SPLICEBENCH_SBPROTO_H
#define SPLICEBENCH_SBPROTO_H

#include <stddef.h>
#include <stdint.h>

#define SBP_HELLO_MAGIC 0x31484253u /* "SBH1" in memory order */
#define SBP_REQ_MAGIC   0x51524253u /* "SBRQ" */
#define SBP_RESP_MAGIC  0x53524253u /* "SBRS" */
#define SBP_VERSION     1

#define SBP_HELLO_LEN 40
#define SBP_REQ_LEN   32
#define SBP_RESP_LEN  24

#define SBP_MAX_LEN_DEFAULT (16u << 20) /* server's default max_len */
#define SBP_MAX_LEN_LIMIT   (1u << 30)  /* no server serves more per request */

enum sbp_status {
	SBP_ST_OK = 0,
	SBP_ST_PROTO = 1,    /* bad magic, reserved field not zero, bad framing */
	SBP_ST_RANGE = 2,    /* file or offset out of range */
	SBP_ST_TOOBIG = 3,   /* length > max_len */
	SBP_ST_VERSION = 4,  /* HELLO: protocol version differs */
	SBP_ST_MISMATCH = 5, /* HELLO: files, file_size, granule or seed differ */
	SBP_ST_IO = 6,       /* the server failed */
	SBP_ST_BUSY = 7,     /* HELLO: the server is at its connection cap (--max-conns) */
};

struct sbp_hello {
	uint32_t magic;
	uint16_t version;
	uint16_t status;
	uint32_t files;
	uint32_t max_len;
	uint64_t file_size;
	uint64_t granule;
	uint64_t seed;
};

struct sbp_req {
	uint32_t magic;
	uint32_t file;
	uint32_t length;
	uint32_t reserved;
	uint64_t offset;
	uint64_t tag;
};

struct sbp_resp {
	uint32_t magic;
	uint32_t status;
	uint32_t length;
	uint32_t reserved;
	uint64_t tag;
};

const char *sbp_status_str(uint32_t status);

/* Fill h with this side's parameters (magic, version, status 0). */
void sbp_hello_init(struct sbp_hello *h, uint32_t files, uint64_t file_size, uint64_t granule,
                    uint64_t seed);

void sbp_hello_encode(const struct sbp_hello *h, uint8_t out[SBP_HELLO_LEN]);
void sbp_req_encode(const struct sbp_req *r, uint8_t out[SBP_REQ_LEN]);
void sbp_resp_encode(const struct sbp_resp *r, uint8_t out[SBP_RESP_LEN]);
/* Decoding never fails: validation is separate (the fields are kept as received). */
void sbp_hello_decode(const uint8_t in[SBP_HELLO_LEN], struct sbp_hello *h);
void sbp_req_decode(const uint8_t in[SBP_REQ_LEN], struct sbp_req *r);
void sbp_resp_decode(const uint8_t in[SBP_RESP_LEN], struct sbp_resp *r);

/*
 * Compare the peer's HELLO with ours.  Returns SBP_ST_OK, or SBP_ST_PROTO (bad
 * magic), SBP_ST_VERSION or SBP_ST_MISMATCH with a one-line description of the
 * first difference in msg ("file_size: ours 1073741824, peer's 4096").
 */
int sbp_hello_check(const struct sbp_hello *ours, const struct sbp_hello *peer, char *msg,
                    size_t msglen);

/*
 * Validate a request against the server's parameters.  Returns SBP_ST_OK and
 * the number of bytes to send in *len (clamped at end of file), or an error
 * status with a one-line reason in why.
 */
int sbp_req_check(const struct sbp_req *r, const struct sbp_hello *server, uint32_t *len, char *why,
                  size_t whylen);

/*
 * Validate a response to the request `req` that expected `want` bytes.
 * Returns 0, or -1 with a reason in why.
 */
int sbp_resp_check(const struct sbp_resp *r, uint64_t tag, uint32_t want, char *why, size_t whylen);

/* "tcp://HOST:PORT[?opts]", "HOST:PORT" or "[V6ADDR]:PORT".  Returns 0 or -EINVAL. */
int sbp_parse_addr(const char *spec, char *host, size_t hostlen, char *port, size_t portlen,
                   const char **opts);

/* Blocking I/O of exactly n bytes.  0, -ECONNRESET at EOF (with *got bytes read), or -errno. */
int sbp_read_full(int fd, void *buf, size_t n, size_t *got);
int sbp_write_full(int fd, const void *buf, size_t n);

/*
 * Connect to host:port within timeout_ms, set TCP_NODELAY and SO_RCVTIMEO /
 * SO_SNDTIMEO to io_timeout_ms (0 = none).  Returns the fd or -errno.
 */
int sbp_connect(const char *host, const char *port, int timeout_ms, int io_timeout_ms);

/*
 * A name that does not resolve is not an errno: sbp_connect returns
 * -EHOSTUNREACH for it and keeps getaddrinfo's error (per thread), so that
 * sbp_strerror(-ret), called next in the same thread, says what went wrong
 * ("Name or service not known"); for anything else it is strerror().
 */
const char *sbp_strerror(int err);

/*
 * Client side of HELLO on a connected fd: send ours, read and check the
 * server's.  Returns 0 (server's HELLO in *server when not NULL), or -EPROTO
 * with the reason in msg, or -errno of the I/O.
 */
int sbp_client_hello(int fd, const struct sbp_hello *ours, struct sbp_hello *server, char *msg,
                     size_t msglen);

#endif
