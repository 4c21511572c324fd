#define _GNU_SOURCE
#include <sched.h>
#include <sys/socket.h>
#include <poll.h>
#include <time.h>
#include <malloc.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>
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

int clinux_usable_cpus(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  int n = CPU_COUNT(&set);
  return n > 0 ? n : 1;
}

int clinux_pin_thread(const int *cpus, int count) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int i = 0; i < count; i++) {
    if (cpus[i] >= 0 && cpus[i] < CPU_SETSIZE) CPU_SET(cpus[i], &set);
  }
  return sched_setaffinity(0, sizeof set, &set);
}

int clinux_return_free_memory(void) { return malloc_trim(0); }

int clinux_spawn_as(const char *file, char *const argv[], char *const envp[], int search,
                    int drop, unsigned uid, unsigned gid) {
    // The child reports a failed exec (or change of user) through this pipe, closed on
    // exec, so the caller can tell "could not run" from "ran and failed".
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(report[0]);
        close(report[1]);
        return -e;
    }
    if (pid == 0) {
        // Only async-signal-safe calls from here: the parent has other threads.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, 0);
        signal(SIGPIPE, SIG_DFL);
        setpgid(0, 0);
        int e = 0;
        if (drop) {
            gid_t g = (gid_t)gid;
            // Group first: once the uid is dropped the right to change groups is gone.
            if (getgid() != g && setgid(g) != 0) e = errno;
            else if (setgroups(1, &g) != 0 && (geteuid() == 0 || errno != EPERM)) e = errno;
            else if (getuid() != (uid_t)uid && setuid((uid_t)uid) != 0) e = errno;
        }
        if (e == 0) {
            if (search) execvpe(file, argv, envp); else execve(file, argv, envp);
            e = errno;
        }
        ssize_t w = write(report[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    close(report[1]);
    int e = 0;
    ssize_t n;
    do { n = read(report[0], &e, sizeof e); } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof e) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        return -(e ? e : EPERM);
    }
    return pid;
}
