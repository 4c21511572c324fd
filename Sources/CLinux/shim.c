#define _GNU_SOURCE
#include <sched.h>
#include <sys/socket.h>
#include <poll.h>
#include <time.h>
#include <malloc.h>
#include "CLinux.h"

int clinux_setns(int fd, int nstype) { return setns(fd, nstype); }
const int CLINUX_CLONE_NEWNET = CLONE_NEWNET;

int clinux_attach_filter(int fd, const struct sock_filter *code, unsigned short count) {
    struct sock_fprog program = { .len = count, .filter = (struct sock_filter *)code };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program);
}

int clinux_recv_batch(int fd, void *buffer, unsigned long slot, unsigned count, unsigned *lengths, int *truncated) {
    struct mmsghdr headers[64];
    struct iovec vectors[64];
    if (count > 64) count = 64;
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = (char *)buffer + i * slot;
        vectors[i].iov_len = slot;
        headers[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &vectors[i], .msg_iovlen = 1 } };
    }
    int n = recvmmsg(fd, headers, count, MSG_DONTWAIT, 0);
    *truncated = 0;
    for (int i = 0; i < n; i++) {
        lengths[i] = headers[i].msg_len;
        if (headers[i].msg_hdr.msg_flags & MSG_TRUNC) *truncated = 1;
    }
    return n;
}

int clinux_send_batch(int fd, const void *buffer, unsigned long start, const unsigned long *ends, unsigned count,
                      const void *to, unsigned tolen) {
    struct mmsghdr headers[64];
    struct iovec vectors[64];
    if (count > 64) count = 64;
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = (char *)buffer + start;
        vectors[i].iov_len = ends[i] - start;
        headers[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = (void *)to, .msg_namelen = tolen, .msg_iov = &vectors[i], .msg_iovlen = 1 } };
        start = ends[i];
    }
    return sendmmsg(fd, headers, count, MSG_DONTWAIT);
}

int clinux_poll_ns(struct pollfd *fds, unsigned long count, long long timeout_ns) {
    struct timespec t = { .tv_sec = timeout_ns / 1000000000LL, .tv_nsec = timeout_ns % 1000000000LL };
    return ppoll(fds, count, &t, 0);
}

int clinux_return_free_memory(void) { return malloc_trim(0); }
