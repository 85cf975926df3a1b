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
 *    "rep_iters_kernel":..,"rep_iters_user":..,"syscalls_user":..}
 *
 * kernel/user: bit 63 of the executing instruction's virtual address (x86-64
 * Linux puts the kernel in the upper half).  *_bytes: 1 << size_shift per
 * access.  kernel_{load,store}_user_bytes: accesses by a kernel instruction to
 * an address with bit 63 clear (copy_{from,to}_user, clear_user, ...).
 * rep_iters_*: executions of rep-prefixed string instructions (rep movsb,
 * stosq, ...).  TCG runs one iteration per execution, and each counts in
 * insns_* too: insns - rep_iters is the instruction count with the string
 * instructions' iterations left out (a kernel memcpy is `rep movsb`: one
 * "instruction" per byte otherwise).  syscalls_user: executions of the `syscall`
 * instruction (0f 05) at a user address: the system calls the guest's user space
 * makes (x86-64 Linux; `int $0x80` and `sysenter`, the 32-bit entries, count too).
 * Counted by an inline add on the instruction itself, so exact and deterministic as
 * the instruction counts are (vDSO calls such as clock_gettime make none).
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
 *
 * Cost by symbol: with `syms=System.map` (the guest kernel's; text symbols t/T/w/W)
 * and `symout=FILE`, every count is also added to the code it belongs to: a kernel
 * instruction to the symbol whose address is the largest at or below its own
 * ("[kernel ?]" past the last symbol), a user instruction to its 4 KiB code page
 * ("u:0x..."; the host names pages from /proc/PID/maps: user address spaces
 * overlap, so a page is a page in any process).  A memory access counts for the
 * instruction that made it.  Each closed window writes one JSON line per code
 * entry whose counts changed:
 *
 *   {"window":1,"label":"..","sym":"copy_page_to_iter","insns":..,"rep":..,
 *    "load":..,"store":..,"kload_user":..,"kstore_user":..}
 *
 * (kernel or user follows from the name).  By construction the entries of a
 * window add up exactly to its totals in out=FILE.
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
	uint64_t syscalls_user; /* user-mode executions of syscall, int $0x80, sysenter */
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

/* Cost by code entry (syms=): a kernel symbol, or a user code page. */
enum { F_INSNS, F_REP, F_LOAD, F_STORE, F_KLOAD_USER, F_KSTORE_USER, NF };
struct ent {
	uint64_t c[NF];
	uint64_t snap[NF];
	uint64_t key;     /* user page address; kernel: the symbol's address */
	const char *name; /* kernel symbol, NULL for a user page */
	struct ent *next; /* user hash chain */
};
static struct ent *ksyms; /* sorted by address; ksyms[nksyms] is "[kernel ?]" */
static size_t nksyms;
static uint64_t ktext_end; /* past this no symbol claims an address */
#define UHASH 4096
static struct ent *uhash[UHASH];
#define CHUNK 1024
static struct ent **uchunks; /* user entries: fixed chunks, so pointers stay valid */
static size_t nuchunks, nuents;
static FILE *symout;
static const char *syms_path, *symout_path;

static void put_label(FILE *f, const char *s);

static inline int is_kernel(uint64_t vaddr)
{
	return (int)(vaddr >> 63);
}

static void mem_user(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *ud)
{
	uint64_t n = 1ull << qemu_plugin_mem_size_shift(info);

	struct ent *e = ud;

	(void)vcpu, (void)vaddr;
	if (qemu_plugin_mem_is_store(info)) {
		cur.store_bytes[USER] += n;
		if (e)
			e->c[F_STORE] += n;
	} else {
		cur.load_bytes[USER] += n;
		if (e)
			e->c[F_LOAD] += n;
	}
}

static void mem_kernel(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *ud)
{
	uint64_t n = 1ull << qemu_plugin_mem_size_shift(info);
	int to_user = !is_kernel(vaddr);
	struct ent *e = ud;

	(void)vcpu;
	if (qemu_plugin_mem_is_store(info)) {
		cur.store_bytes[KERNEL] += n;
		if (to_user)
			cur.kernel_store_user_bytes += n;
		if (e) {
			e->c[F_STORE] += n;
			if (to_user)
				e->c[F_KSTORE_USER] += n;
		}
	} else {
		cur.load_bytes[KERNEL] += n;
		if (to_user)
			cur.kernel_load_user_bytes += n;
		if (e) {
			e->c[F_LOAD] += n;
			if (to_user)
				e->c[F_KLOAD_USER] += n;
		}
	}
}

/* The code entry of an instruction: NULL without syms=. */
static struct ent *ent_of(uint64_t va)
{
	if (!ksyms)
		return NULL;
	if (is_kernel(va)) {
		size_t lo = 0, hi = nksyms;

		if (nksyms == 0 || va < ksyms[0].key || va >= ktext_end)
			return &ksyms[nksyms];
		while (hi - lo > 1) { /* the last symbol at or below va */
			size_t mid = lo + (hi - lo) / 2;

			if (ksyms[mid].key <= va)
				lo = mid;
			else
				hi = mid;
		}
		return &ksyms[lo];
	}
	uint64_t page = va & ~0xfffull;
	size_t h = (size_t)((page >> 12) * 0x9e3779b97f4a7c15ull >> 52) % UHASH;
	struct ent *e;

	for (e = uhash[h]; e; e = e->next)
		if (e->key == page)
			return e;
	if (nuents == nuchunks * CHUNK) {
		struct ent **nc = realloc(uchunks, (nuchunks + 1) * sizeof(*nc));

		if (!nc || !(nc[nuchunks] = calloc(CHUNK, sizeof(struct ent)))) {
			fprintf(stderr, "sbcost: out of memory for user code pages\n");
			abort();
		}
		uchunks = nc;
		nuchunks++;
	}
	e = &uchunks[nuents / CHUNK][nuents % CHUNK];
	nuents++;
	e->key = page;
	e->next = uhash[h];
	uhash[h] = e;
	return e;
}

static int cmp_ent(const void *a, const void *b)
{
	uint64_t x = ((const struct ent *)a)->key, y = ((const struct ent *)b)->key;

	return x < y ? -1 : x > y;
}

/* System.map: "ADDRESS TYPE NAME"; text symbols (t T w W) of the kernel half. */
static int load_syms(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512], name[256], type;
	unsigned long long a;
	size_t cap = 0, n = 0, i, k;

	if (!f) {
		fprintf(stderr, "sbcost: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &a, &type, name) != 3)
			continue;
		if (strcmp(name, "_etext") == 0)
			ktext_end = a;
		if (!strchr("tTwW", type) || !is_kernel(a))
			continue;
		if (n + 1 >= cap) {
			struct ent *ns = realloc(ksyms, (cap = cap ? 2 * cap : 8192) * sizeof(*ns));

			if (!ns) {
				fclose(f);
				return -1;
			}
			ksyms = ns;
		}
		memset(&ksyms[n], 0, sizeof(ksyms[n]));
		ksyms[n].key = a;
		ksyms[n].name = strdup(name);
		n++;
	}
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "sbcost: no kernel text symbols in %s\n", path);
		return -1;
	}
	qsort(ksyms, n, sizeof(*ksyms), cmp_ent);
	for (i = k = 0; i < n; i++) /* aliases: the first name at an address */
		if (k == 0 || ksyms[i].key != ksyms[k - 1].key)
			ksyms[k++] = ksyms[i];
	nksyms = k;
	memset(&ksyms[nksyms], 0, sizeof(ksyms[nksyms]));
	ksyms[nksyms].name = "[kernel ?]";
	if (!ktext_end || ktext_end <= ksyms[nksyms - 1].key)
		ktext_end = ksyms[nksyms - 1].key + (1u << 20);
	return 0;
}

static void ent_snap(struct ent *e)
{
	memcpy(e->snap, e->c, sizeof(e->c));
}

static void ent_write(const struct ent *e)
{
	static const char *const fn[NF] = {"insns", "rep",        "load",
	                                   "store", "kload_user", "kstore_user"};
	int i, any = 0;

	for (i = 0; i < NF; i++)
		any |= e->c[i] != e->snap[i];
	if (!any)
		return;
	fprintf(symout, "{\"window\":%lu,\"label\":\"", windows);
	put_label(symout, window_label);
	if (e->name)
		fprintf(symout, "\",\"sym\":\"%s\"", e->name);
	else
		fprintf(symout, "\",\"sym\":\"u:0x%" PRIx64 "\"", e->key);
	for (i = 0; i < NF; i++)
		fprintf(symout, ",\"%s\":%" PRIu64, fn[i], e->c[i] - e->snap[i]);
	fputs("}\n", symout);
}

static void ents_each(void (*fn)(struct ent *))
{
	size_t i;

	if (!ksyms)
		return;
	for (i = 0; i <= nksyms; i++)
		fn(&ksyms[i]);
	for (i = 0; i < nuents; i++)
		fn(&uchunks[i / CHUNK][i % CHUNK]);
}

static void ent_write_cb(struct ent *e)
{
	ent_write(e);
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
	        ",\"rep_iters_kernel\":%" PRIu64 ",\"rep_iters_user\":%" PRIu64
	        ",\"syscalls_user\":%" PRIu64 "}\n",
	        complete ? "true" : "false", b->insns[KERNEL] - a->insns[KERNEL],
	        b->insns[USER] - a->insns[USER], b->load_bytes[KERNEL] - a->load_bytes[KERNEL],
	        b->load_bytes[USER] - a->load_bytes[USER],
	        b->store_bytes[KERNEL] - a->store_bytes[KERNEL],
	        b->store_bytes[USER] - a->store_bytes[USER],
	        b->kernel_load_user_bytes - a->kernel_load_user_bytes,
	        b->kernel_store_user_bytes - a->kernel_store_user_bytes,
	        b->rep_iters[KERNEL] - a->rep_iters[KERNEL],
	        b->rep_iters[USER] - a->rep_iters[USER], b->syscalls_user - a->syscalls_user);
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
		ents_each(ent_snap);
		window_open = 1;
	} else {
		struct counts end = cur;

		write_window(&start, &end, 1);
		if (symout) {
			ents_each(ent_write_cb);
			fflush(symout);
		}
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
	case 0xdb:
		return SP_MARKER; /* xchg %bx,%bx */
	case 0xc9:
		return SP_BIT0; /* xchg %cx,%cx */
	case 0xd2:
		return SP_BIT1; /* xchg %dx,%dx */
	case 0xf6:
		return SP_RESET; /* xchg %si,%si */
	default:
		return SP_NONE;
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
		else if (c == 0x66 || c == 0x67 || c == 0xf0 || c == 0x2e || c == 0x36 ||
		         c == 0x3e || c == 0x26 || c == 0x64 || c == 0x65 ||
		         (c >= 0x40 && c <= 0x4f))
			continue;
		else
			return rep && ((c >= 0x6c && c <= 0x6f) || (c >= 0xa4 && c <= 0xa7) ||
			               (c >= 0xaa && c <= 0xaf));
	}
	return 0;
}

/* A system call entry: syscall (0f 05), int $0x80 (cd 80), sysenter (0f 34). */
static int is_syscall(const struct qemu_plugin_insn *insn)
{
	const unsigned char *d = qemu_plugin_insn_data(insn);
	size_t n = qemu_plugin_insn_size(insn);

	return n == 2 && ((d[0] == 0x0f && (d[1] == 0x05 || d[1] == 0x34)) ||
	                  (d[0] == 0xcd && d[1] == 0x80));
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb), i;
	int special = 0, one_ent = 1;
	struct ent *e0;

	(void)id;
	if (n == 0)
		return;
	e0 = ent_of(qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, 0)));
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);

		if (classify(insn) != SP_NONE)
			special = 1;
		if (ksyms && i > 0 && ent_of(qemu_plugin_insn_vaddr(insn)) != e0)
			one_ent = 0; /* a block running on into the next symbol or page */
	}
	if (!special) {
		/* A block never changes privilege in its middle (syscall, sysret, iret end it). */
		uint64_t va = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, 0));

		qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
		                                         &cur.insns[is_kernel(va)], n);
		if (e0 && one_ent)
			qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
			                                         &e0->c[F_INSNS], n);
	}
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		int k = is_kernel(qemu_plugin_insn_vaddr(insn));
		struct ent *e = ksyms ? ent_of(qemu_plugin_insn_vaddr(insn)) : NULL;

		qemu_plugin_register_vcpu_mem_cb(insn, k ? mem_kernel : mem_user,
		                                 QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW, e);
		if (is_rep_string(insn)) {
			qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
			                                           &cur.rep_iters[k], 1);
			if (e)
				qemu_plugin_register_vcpu_insn_exec_inline(
				    insn, QEMU_PLUGIN_INLINE_ADD_U64, &e->c[F_REP], 1);
		}
		if (!k && is_syscall(insn))
			qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
			                                           &cur.syscalls_user, 1);
		/* Per-instruction entry counts where the block spans entries or holds a marker. */
		if (e && (special || !one_ent))
			qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
			                                           &e->c[F_INSNS], 1);
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
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_bit, QEMU_PLUGIN_CB_NO_REGS,
			                                       classify(insn) == SP_BIT1 ? (void *)1
			                                                                 : NULL);
			break;
		case SP_RESET:
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_reset,
			                                       QEMU_PLUGIN_CB_NO_REGS, NULL);
			break;
		case SP_NONE:
			break;
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
		if (symout)
			ents_each(ent_write_cb);
	}
	snprintf(msg, sizeof(msg), "sbcost: %lu window(s)%s written to %s\n", windows,
	         window_open ? " (the last one never closed)" : "", out_path ? out_path : "-");
	qemu_plugin_outs(msg);
	if (out && out != stderr)
		fclose(out);
	out = NULL;
	if (symout)
		fclose(symout);
	symout = NULL;
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
		} else if (strncmp(a, "syms=", 5) == 0 && a[5]) {
			syms_path = a + 5;
		} else if (strncmp(a, "symout=", 7) == 0 && a[7]) {
			symout_path = a + 7;
		} else {
			fprintf(stderr,
			        "sbcost: unknown argument '%s' (usage: -plugin "
			        "sbcost.so,out=FILE[,syms=System.map,symout=FILE])\n",
			        argv[i]);
			return -1;
		}
	}
	if (!info->system_emulation) {
		fprintf(stderr, "sbcost: needs full system emulation (qemu-system-*)\n");
		return -1;
	}
	if (strcmp(info->target_name, "x86_64") != 0) {
		fprintf(stderr, "sbcost: guest is %s, only x86_64 is supported\n",
		        info->target_name);
		return -1;
	}
	if (info->system.smp_vcpus != 1 || info->system.max_vcpus != 1) {
		fprintf(
		    stderr,
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
	if (!syms_path != !symout_path) {
		fprintf(stderr, "sbcost: syms=System.map and symout=FILE go together\n");
		return -1;
	}
	if (syms_path) {
		if (load_syms(syms_path) < 0)
			return -1;
		symout = fopen(symout_path, "w");
		if (!symout) {
			fprintf(stderr, "sbcost: cannot open %s: %s\n", symout_path,
			        strerror(errno));
			return -1;
		}
	}
	label_reset();
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
