#ifndef TANDEM_CLINUX_H
#define TANDEM_CLINUX_H

// Kernel UAPI headers are imported here only so tests can cross-check the constants
// the Swift code defines by hand; production code never reads these enums directly.
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

#include <linux/filter.h>
#include <poll.h>
#include "event_ring.h"

// Glibc is built without _GNU_SOURCE, so these live in the .c file.
int clinux_setns(int fd, int nstype);
extern const int CLINUX_CLONE_NEWNET;

// Attaches a classic BPF program (SO_ATTACH_FILTER); the sock_fprog wrapper is built in C
// so its layout is the kernel's.
int clinux_attach_filter(int fd, const struct sock_filter *code, unsigned short count);

// recvmmsg(2) into `count` (at most 64) equal slots of `slot` bytes, non-blocking.
// Datagram i's length goes to lengths[i]; *truncated is set when one did not fit.
// Returns recvmmsg's result, errno as it left it.
int clinux_recv_batch(int fd, void *buffer, unsigned long slot, unsigned count, unsigned *lengths, int *truncated);

// Sends up to 64 datagrams to `to` in one call: datagram i is buffer[ends[i-1] ..< ends[i]]
// (from `start` for the first). Returns sendmmsg's result (how many went), errno as it left it.
int clinux_send_batch(int fd, const void *buffer, unsigned long start, const unsigned long *ends, unsigned count,
                      const void *to, unsigned tolen);

// poll with a timeout in nanoseconds (ppoll, which glibc declares only for _GNU_SOURCE).
int clinux_poll_ns(struct pollfd *fds, unsigned long count, long long timeout_ns);
// How many CPUs this process may run on (sched_getaffinity; CPU_COUNT is a macro Swift
// cannot call). 1 when the call fails.
int clinux_usable_cpus(void);
// Pins the calling thread to the `count` CPUs listed (sched_setaffinity); 0 or -1 with errno.
int clinux_pin_thread(const int *cpus, int count);
/* Hands the heap's free pages back to the kernel (glibc's malloc_trim). */
int clinux_return_free_memory(void);

/// Starts loading the cache line at `p` (a hash table slot about to be probed), so that
/// a batch of look-ups waits for memory once instead of once per look-up.
static inline void clinux_prefetch(const void *p) { __builtin_prefetch(p, 1, 3); }

// Starts `file` (searched along PATH when `search` is set) with argv/envp in a child of its
// own process group with an empty signal mask; when `drop` is set the child takes gid,
// the single supplementary group gid, then uid before exec, as keepalived does for a
// script's user. Returns the child's pid, or -errno when the change of user or the exec
// failed (the child is then already reaped).
int clinux_spawn_as(const char *file, char *const argv[], char *const envp[], int search,
                    int drop, unsigned uid, unsigned gid);

#endif
