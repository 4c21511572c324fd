// The event ring: conntrack events diverted by a socket filter program into a BPF ring
// buffer the daemon reads in place. See event_ring.h for why.
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include "event_ring.h"

static long bpf_call(int cmd, union bpf_attr *attr) { return syscall(__NR_bpf, cmd, attr, sizeof *attr); }

#define I(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV_K(d, k) I(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, k)
#define MOV_X(d, s) I(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define JUMP(op, d, k, to) I(BPF_JMP | (op) | BPF_K, d, 0, (to), k)
#define CALL(f) I(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

// Jump targets are patched by label once the program is laid out.
enum label { L_NONE, L_PASS, L_DROP, L_RESERVE, L_C512, L_C1024, L_C2048, L_FULL, L_DISCARD, L_COUNT };

static int build(struct bpf_insn *p, int *jumps, int ring, int control, unsigned echo_port, int *labels) {
    int n = 0;
#define EMIT(x) (p[n] = (x), jumps[n] = L_NONE, n++)
#define EMIT_TO(x, l) (p[n] = (x), jumps[n] = (l), n++)
#define HERE(l) (labels[l] = n)
    // A map's address: a two-slot load the kernel fills in from the descriptor.
#define EMIT_MAP(d, fd) (EMIT(I(BPF_LD | BPF_DW | BPF_IMM, d, BPF_PSEUDO_MAP_FD, 0, fd)), EMIT(I(0, 0, 0, 0, 0)))
    EMIT(MOV_X(6, 1));
    EMIT(I(BPF_LDX | BPF_MEM | BPF_W, 7, 6, 0, offsetof(struct __sk_buff, len)));
    if (echo_port) {
        // nlmsg_pid, read in network order as LD_ABS does: our own writes' echoes.
        EMIT(I(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 12));
        // A 32-bit compare: a 64-bit one would sign-extend the port's top bit and never match.
        EMIT_TO(I(BPF_JMP32 | BPF_JEQ | BPF_K, 0, 0, 0, (int)__builtin_bswap32(echo_port)), L_DROP);
    }
    // While the daemon catches up from the socket after a spill, everything goes there
    // too, so no event overtakes one that was spilled before it.
    EMIT(I(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, 0));
    EMIT_MAP(1, control);
    EMIT(MOV_X(2, 10));
    EMIT(I(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4));
    EMIT(CALL(BPF_FUNC_map_lookup_elem));
    EMIT_TO(JUMP(BPF_JEQ, 0, 0, 0), L_PASS);
    EMIT(MOV_X(9, 0));
    EMIT(I(BPF_LDX | BPF_MEM | BPF_DW, 1, 9, 0, 0));
    EMIT_TO(JUMP(BPF_JNE, 1, 0, 0), L_PASS);
    // Records come in four sizes, so a short event does not take 2 KiB of the ring. A
    // longer message (none of conntrack's is) goes to the socket.
    EMIT_TO(JUMP(BPF_JEQ, 7, 0, 0), L_PASS);
    EMIT_TO(JUMP(BPF_JGT, 7, EVENT_RING_LARGEST - 8, 0), L_PASS);
    EMIT_MAP(1, ring);
    EMIT(MOV_K(3, 0));
    EMIT_TO(JUMP(BPF_JGT, 7, 1024 - 8, 0), L_C2048);
    EMIT_TO(JUMP(BPF_JGT, 7, 512 - 8, 0), L_C1024);
    EMIT_TO(JUMP(BPF_JGT, 7, 256 - 8, 0), L_C512);
    EMIT(MOV_K(2, 256));
    EMIT_TO(JUMP(BPF_JA, 0, 0, 0), L_RESERVE);
    HERE(L_C512); EMIT(MOV_K(2, 512));
    EMIT_TO(JUMP(BPF_JA, 0, 0, 0), L_RESERVE);
    HERE(L_C1024); EMIT(MOV_K(2, 1024));
    EMIT_TO(JUMP(BPF_JA, 0, 0, 0), L_RESERVE);
    HERE(L_C2048); EMIT(MOV_K(2, 2048));
    HERE(L_RESERVE); EMIT(CALL(BPF_FUNC_ringbuf_reserve));
    EMIT_TO(JUMP(BPF_JEQ, 0, 0, 0), L_FULL);
    EMIT(MOV_X(8, 0));
    EMIT(I(BPF_STX | BPF_MEM | BPF_W, 8, 7, 0, 0));
    EMIT(MOV_X(1, 6));
    EMIT(MOV_K(2, 0));
    EMIT(MOV_X(3, 8));
    EMIT(I(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, 8));
    EMIT(MOV_X(4, 7));
    EMIT(CALL(BPF_FUNC_skb_load_bytes));
    EMIT_TO(JUMP(BPF_JNE, 0, 0, 0), L_DISCARD);
    EMIT(MOV_X(1, 8));
    // The default wake-up: only when the reader has caught up, so a poller sleeping on
    // the ring wakes for the first event after a quiet spell and never during a burst.
    EMIT(MOV_K(2, 0));
    EMIT(CALL(BPF_FUNC_ringbuf_submit));
    HERE(L_DROP); EMIT(MOV_K(0, 0));
    EMIT(EXIT);
    HERE(L_DISCARD); EMIT(MOV_X(1, 8));
    EMIT(MOV_K(2, 0));
    EMIT(CALL(BPF_FUNC_ringbuf_discard));
    EMIT_TO(JUMP(BPF_JA, 0, 0, 0), L_PASS);
    // The ring is full: this event and every later one until the daemon has caught up go
    // to the socket, whose buffer takes the overflow; the spill is counted.
    HERE(L_FULL); EMIT(MOV_K(1, 1));
    EMIT(I(BPF_STX | BPF_MEM | BPF_DW, 9, 1, 0, 0));
    EMIT(I(BPF_STX | BPF_ATOMIC | BPF_DW, 9, 1, 8, BPF_ADD));
    HERE(L_PASS); EMIT(MOV_K(0, -1));
    EMIT(EXIT);
#undef EMIT
#undef EMIT_TO
#undef HERE
#undef EMIT_MAP
    return n;
}

int clinux_event_ring_open(struct clinux_event_ring *r, unsigned long bytes, unsigned echo_port, char *log, unsigned log_size) {
    memset(r, 0, sizeof *r);
    r->ring_fd = r->control_fd = r->program_fd = -1;
    long page = sysconf(_SC_PAGESIZE);
    if (bytes < (unsigned long)page || (bytes & (bytes - 1))) return -EINVAL;
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_RINGBUF;
    a.max_entries = bytes;
    r->ring_fd = bpf_call(BPF_MAP_CREATE, &a);
    if (r->ring_fd < 0) { int e = errno; clinux_event_ring_close(r); return -e; }
    memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_ARRAY;
    a.key_size = 4;
    a.value_size = 16;
    a.max_entries = 1;
    a.map_flags = BPF_F_MMAPABLE;
    r->control_fd = bpf_call(BPF_MAP_CREATE, &a);
    if (r->control_fd < 0) { int e = errno; clinux_event_ring_close(r); return -e; }
    struct bpf_insn program[64];
    int jumps[64], labels[L_COUNT];
    int n = build(program, jumps, r->ring_fd, r->control_fd, echo_port, labels);
    for (int i = 0; i < n; i++) if (jumps[i] != L_NONE) program[i].off = (short)(labels[jumps[i]] - i - 1);
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    a.insns = (unsigned long)program;
    a.insn_cnt = n;
    a.license = (unsigned long)"GPL";
    if (log && log_size) { log[0] = 0; a.log_buf = (unsigned long)log; a.log_size = log_size; a.log_level = 1; }
    r->program_fd = bpf_call(BPF_PROG_LOAD, &a);
    if (r->program_fd < 0) { int e = errno; clinux_event_ring_close(r); return -e; }
    // The data is mapped once, not twice as the kernel offers: each mapped page counts
    // in the daemon's resident size, and a record that wraps is rare enough to copy in two.
    r->consumer = mmap(0, page, PROT_READ | PROT_WRITE, MAP_SHARED, r->ring_fd, 0);
    r->producer = mmap(0, page + bytes, PROT_READ, MAP_SHARED, r->ring_fd, page);
    r->control = mmap(0, page, PROT_READ | PROT_WRITE, MAP_SHARED, r->control_fd, 0);
    if (r->consumer == MAP_FAILED || r->producer == MAP_FAILED || r->control == MAP_FAILED) {
        int e = errno;
        if (r->consumer == MAP_FAILED) r->consumer = 0;
        if (r->producer == MAP_FAILED) r->producer = 0;
        if (r->control == MAP_FAILED) r->control = 0;
        clinux_event_ring_close(r);
        return -e;
    }
    r->data = (unsigned char *)r->producer + page;
    r->size = bytes;
    return 0;
}

int clinux_event_ring_attach(const struct clinux_event_ring *r, int socket_fd) {
    return setsockopt(socket_fd, SOL_SOCKET, SO_ATTACH_BPF, &r->program_fd, sizeof r->program_fd);
}

void clinux_event_ring_close(struct clinux_event_ring *r) {
    long page = sysconf(_SC_PAGESIZE);
    if (r->consumer) munmap(r->consumer, page);
    if (r->producer) munmap(r->producer, page + r->size);
    if (r->control) munmap((void *)r->control, page);
    if (r->program_fd >= 0) close(r->program_fd);
    if (r->control_fd >= 0) close(r->control_fd);
    if (r->ring_fd >= 0) close(r->ring_fd);
    r->consumer = r->producer = 0;
    r->control = 0;
    r->program_fd = r->control_fd = r->ring_fd = -1;
}

int clinux_event_ring_drain(struct clinux_event_ring *r, void *buffer, unsigned long slot, unsigned count, unsigned *lengths) {
    unsigned long *consumer = r->consumer, *producer = r->producer;
    unsigned long mask = r->size - 1;
    unsigned long at = __atomic_load_n(consumer, __ATOMIC_ACQUIRE);
    unsigned long end = __atomic_load_n(producer, __ATOMIC_ACQUIRE);
    unsigned taken = 0;
    while (taken < count && at < end) {
        unsigned *header = (unsigned *)(r->data + (at & mask));
        unsigned word = __atomic_load_n(header, __ATOMIC_ACQUIRE);
        if (word & BPF_RINGBUF_BUSY_BIT) break;
        unsigned reserved = word & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
        if (!(word & BPF_RINGBUF_DISCARD_BIT) && reserved >= 8) {
            // The record: the message's length, 4 bytes of padding, then the message.
            unsigned char staged[8];
            unsigned long from = (at + BPF_RINGBUF_HDR_SZ) & mask;
            unsigned long first = r->size - from;
            unsigned char *out = (unsigned char *)buffer + taken * slot;
            if (first >= 8) memcpy(staged, r->data + from, 8);
            else { memcpy(staged, r->data + from, first); memcpy(staged + first, r->data, 8 - first); }
            unsigned length;
            memcpy(&length, staged, 4);
            if (length > reserved - 8) length = reserved - 8;
            if (length > slot) length = slot;
            unsigned long body = (from + 8) & mask;
            unsigned long tail = r->size - body;
            if (tail >= length) memcpy(out, r->data + body, length);
            else { memcpy(out, r->data + body, tail); memcpy(out + tail, r->data, length - tail); }
            lengths[taken++] = length;
        }
        at += (reserved + BPF_RINGBUF_HDR_SZ + 7) & ~7UL;
    }
    __atomic_store_n(consumer, at, __ATOMIC_RELEASE);
    return (int)taken;
}

int clinux_event_ring_spilling(const struct clinux_event_ring *r) {
    return __atomic_load_n(&r->control[0], __ATOMIC_ACQUIRE) != 0;
}

void clinux_event_ring_end_spill(struct clinux_event_ring *r) { __atomic_store_n(&r->control[0], 0, __ATOMIC_RELEASE); }

unsigned long long clinux_event_ring_spills(const struct clinux_event_ring *r) {
    return __atomic_load_n(&r->control[1], __ATOMIC_ACQUIRE);
}

int clinux_event_ring_pending(const struct clinux_event_ring *r) {
    return __atomic_load_n((unsigned long *)r->producer, __ATOMIC_ACQUIRE) != __atomic_load_n((unsigned long *)r->consumer, __ATOMIC_ACQUIRE);
}
