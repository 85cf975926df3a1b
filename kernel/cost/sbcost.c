/* SPDX-License-Identifier: MIT */
/*
 * sbcost: a QEMU TCG plugin that counts what a guest workload costs, in
 * instructions and bytes of memory traffic, between two marker instructions.
 *
 *   qemu-system-x86_64 ... -plugin build/kernel/sbcost.so,out=FILE
 *
 * The guest runs `xchg %bx,%bx` (66 87 db, a no-op on real hardware) to open a
 * window and again to close it (build/sbmark does this).  For each window one
 * JSON line goes to FILE:
 *
 *   {"window":1,"label":"dd-8M","complete":true,
 *    "insns_kernel":..,"insns_user":..,
 *    "load_bytes_kernel":..,"load_bytes_user":..,
 *    "store_bytes_kernel":..,"store_bytes_user":..,
 *    "kernel_load_user_bytes":..,"kernel_store_user_bytes":..,
 *    "rep_iters_kernel":..,"rep_iters_user":..}
 *
 * kernel/user: bit 63 of the executing instruction's virtual address (x86-64
 * Linux puts the kernel in the upper half).  *_bytes: 1 << size_shift per
 * access.  kernel_{load,store}_user_bytes: accesses by a kernel instruction to
 * an address with bit 63 clear (copy_{from,to}_user, clear_user, ...).
 * rep_iters_*: executions of rep-prefixed string instructions (rep movsb,
 * stosq, ...).  TCG runs one iteration per execution, and each counts in
 * insns_* too: insns - rep_iters is the instruction count with the string
 * instructions' iterations left out (a kernel memcpy is `rep movsb`: one
 * "instruction" per byte otherwise).
 *
 * The label: before a window opens the guest may send a string bit by bit:
 * `xchg %si,%si` (66 87 f6) clears it, `xchg %cx,%cx` (66 87 c9) appends a 0
 * bit and `xchg %dx,%dx` (66 87 d2) a 1 bit, eight bits a character, most
 * significant first.  (API version 1 cannot read guest registers or memory, so
 * the label travels through which instruction runs.)
 *
 * Counters run all the time (inline adds, no branch); a marker takes a
 * snapshot, and a window is the difference of two snapshots.  Instructions
 * are added per translated block on entry, except in a block holding a marker
 * or a label instruction, where they are added per instruction so that the
 * snapshot falls at the marker itself.  Exactly one vCPU is supported: the
 * inline adds are not atomic, so the plugin refuses to load with more.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu-plugin-api.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

enum { USER = 0, KERNEL = 1 };

struct counts {
	uint64_t insns[2];
	uint64_t rep_iters[2]; /* executions of rep-prefixed string instructions */
	uint64_t load_bytes[2];
	uint64_t store_bytes[2];
	uint64_t kernel_load_user_bytes;
	uint64_t kernel_store_user_bytes;
};

enum special { SP_NONE, SP_MARKER, SP_BIT0, SP_BIT1, SP_RESET };

#define LABEL_MAX 63

static struct counts cur;   /* running totals since boot */
static struct counts start; /* snapshot at the open marker */
static int window_open;
static unsigned long windows;
static char label[LABEL_MAX + 1], window_label[LABEL_MAX + 1];
static unsigned label_len, label_bits, label_byte;
static FILE *out;
static const char *out_path;

static inline int is_kernel(uint64_t vaddr)
{
	return (int)(vaddr >> 63);
}

static void mem_user(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *ud)
{
	uint64_t n = 1ull << qemu_plugin_mem_size_shift(info);

	(void)vcpu, (void)vaddr, (void)ud;
	if (qemu_plugin_mem_is_store(info))
		cur.store_bytes[USER] += n;
	else
		cur.load_bytes[USER] += n;
}

static void mem_kernel(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *ud)
{
	uint64_t n = 1ull << qemu_plugin_mem_size_shift(info);
	int to_user = !is_kernel(vaddr);

	(void)vcpu, (void)ud;
	if (qemu_plugin_mem_is_store(info)) {
		cur.store_bytes[KERNEL] += n;
		if (to_user)
			cur.kernel_store_user_bytes += n;
	} else {
		cur.load_bytes[KERNEL] += n;
		if (to_user)
			cur.kernel_load_user_bytes += n;
	}
}

/* The label as a JSON string body: printable ASCII, with " and \ escaped. */
static void put_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s >= 0x20 && *s < 0x7f ? *s : '?', f);
	}
}

static void write_window(const struct counts *a, const struct counts *b, int complete)
{
	if (!out)
		return;
	fprintf(out, "{\"window\":%lu,\"label\":\"", windows);
	put_label(out, window_label);
	fprintf(out,
		"\",\"complete\":%s,\"insns_kernel\":%" PRIu64 ",\"insns_user\":%" PRIu64
		",\"load_bytes_kernel\":%" PRIu64 ",\"load_bytes_user\":%" PRIu64
		",\"store_bytes_kernel\":%" PRIu64 ",\"store_bytes_user\":%" PRIu64
		",\"kernel_load_user_bytes\":%" PRIu64 ",\"kernel_store_user_bytes\":%" PRIu64
		",\"rep_iters_kernel\":%" PRIu64 ",\"rep_iters_user\":%" PRIu64 "}\n",
		complete ? "true" : "false", b->insns[KERNEL] - a->insns[KERNEL],
		b->insns[USER] - a->insns[USER], b->load_bytes[KERNEL] - a->load_bytes[KERNEL],
		b->load_bytes[USER] - a->load_bytes[USER],
		b->store_bytes[KERNEL] - a->store_bytes[KERNEL],
		b->store_bytes[USER] - a->store_bytes[USER],
		b->kernel_load_user_bytes - a->kernel_load_user_bytes,
		b->kernel_store_user_bytes - a->kernel_store_user_bytes,
		b->rep_iters[KERNEL] - a->rep_iters[KERNEL], b->rep_iters[USER] - a->rep_iters[USER]);
	fflush(out);
}

static void label_reset(void)
{
	label_len = label_bits = label_byte = 0;
	label[0] = 0;
}

static void on_marker(unsigned int vcpu, void *ud)
{
	(void)vcpu, (void)ud;
	if (!window_open) {
		windows++;
		memcpy(window_label, label, sizeof(label));
		start = cur;
		window_open = 1;
	} else {
		struct counts end = cur;

		write_window(&start, &end, 1);
		window_open = 0;
	}
	label_reset();
}

static void on_bit(unsigned int vcpu, void *ud)
{
	(void)vcpu;
	label_byte = (label_byte << 1) | (ud != NULL);
	if (++label_bits == 8) {
		if (label_len < LABEL_MAX) {
			label[label_len++] = (char)label_byte;
			label[label_len] = 0;
		}
		label_bits = label_byte = 0;
	}
}

static void on_reset(unsigned int vcpu, void *ud)
{
	(void)vcpu, (void)ud;
	label_reset();
}

static enum special classify(const struct qemu_plugin_insn *insn)
{
	const unsigned char *d = qemu_plugin_insn_data(insn);

	if (qemu_plugin_insn_size(insn) != 3 || d[0] != 0x66 || d[1] != 0x87)
		return SP_NONE;
	switch (d[2]) {
	case 0xdb: return SP_MARKER; /* xchg %bx,%bx */
	case 0xc9: return SP_BIT0;   /* xchg %cx,%cx */
	case 0xd2: return SP_BIT1;   /* xchg %dx,%dx */
	case 0xf6: return SP_RESET;  /* xchg %si,%si */
	default: return SP_NONE;
	}
}

/* A string instruction (ins, outs, movs, cmps, stos, lods, scas) with a rep prefix. */
static int is_rep_string(const struct qemu_plugin_insn *insn)
{
	const unsigned char *d = qemu_plugin_insn_data(insn);
	size_t n = qemu_plugin_insn_size(insn), i;
	int rep = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = d[i];

		if (c == 0xf2 || c == 0xf3)
			rep = 1;
		else if (c == 0x66 || c == 0x67 || c == 0xf0 || c == 0x2e || c == 0x36 || c == 0x3e ||
			 c == 0x26 || c == 0x64 || c == 0x65 || (c >= 0x40 && c <= 0x4f))
			continue;
		else
			return rep && ((c >= 0x6c && c <= 0x6f) || (c >= 0xa4 && c <= 0xa7) ||
				       (c >= 0xaa && c <= 0xaf));
	}
	return 0;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb), i;
	int special = 0;

	(void)id;
	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		if (classify(qemu_plugin_tb_get_insn(tb, i)) != SP_NONE)
			special = 1;
	if (!special) {
		/* A block never changes privilege in its middle (syscall, sysret, iret end it). */
		uint64_t va = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, 0));

		qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
							 &cur.insns[is_kernel(va)], n);
	}
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		int k = is_kernel(qemu_plugin_insn_vaddr(insn));

		qemu_plugin_register_vcpu_mem_cb(insn, k ? mem_kernel : mem_user,
						 QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW, NULL);
		if (is_rep_string(insn))
			qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
								   &cur.rep_iters[k], 1);
		if (!special)
			continue;
		/* Per-instruction counts here: a snapshot is exact to one instruction. */
		switch (classify(insn)) {
		case SP_MARKER:
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker,
							       QEMU_PLUGIN_CB_NO_REGS, NULL);
			break;
		case SP_BIT0:
		case SP_BIT1:
			qemu_plugin_register_vcpu_insn_exec_cb(
				insn, on_bit, QEMU_PLUGIN_CB_NO_REGS,
				classify(insn) == SP_BIT1 ? (void *)1 : NULL);
			break;
		case SP_RESET:
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_reset,
							       QEMU_PLUGIN_CB_NO_REGS, NULL);
			break;
		case SP_NONE: break;
		}
		qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
							   &cur.insns[k], 1);
	}
}

static void at_exit(qemu_plugin_id_t id, void *ud)
{
	char msg[256];

	(void)id, (void)ud;
	if (window_open) {
		struct counts end = cur;

		write_window(&start, &end, 0);
	}
	snprintf(msg, sizeof(msg), "sbcost: %lu window(s)%s written to %s\n", windows,
		 window_open ? " (the last one never closed)" : "", out_path ? out_path : "-");
	qemu_plugin_outs(msg);
	if (out && out != stderr)
		fclose(out);
	out = NULL;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
					   char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "arg=", 4) == 0) /* the pre-6.1 spelling: arg=out=FILE */
			a += 4;
		if (strncmp(a, "out=", 4) == 0 && a[4]) {
			out_path = a + 4;
		} else {
			fprintf(stderr, "sbcost: unknown argument '%s' (usage: -plugin sbcost.so,out=FILE)\n",
				argv[i]);
			return -1;
		}
	}
	if (!info->system_emulation) {
		fprintf(stderr, "sbcost: needs full system emulation (qemu-system-*)\n");
		return -1;
	}
	if (strcmp(info->target_name, "x86_64") != 0) {
		fprintf(stderr, "sbcost: guest is %s, only x86_64 is supported\n", info->target_name);
		return -1;
	}
	if (info->system.smp_vcpus != 1 || info->system.max_vcpus != 1) {
		fprintf(stderr,
			"sbcost: %d vCPUs (max %d): the counters are exact only with one; use -smp 1\n",
			info->system.smp_vcpus, info->system.max_vcpus);
		return -1;
	}
	if (out_path) {
		out = fopen(out_path, "w");
		if (!out) {
			fprintf(stderr, "sbcost: cannot open %s: %s\n", out_path, strerror(errno));
			return -1;
		}
	} else {
		out = stderr;
	}
	label_reset();
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
