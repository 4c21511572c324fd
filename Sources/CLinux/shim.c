#define _GNU_SOURCE
#include <sched.h>
#include <sys/socket.h>
#include "CLinux.h"

int clinux_setns(int fd, int nstype) { return setns(fd, nstype); }
const int CLINUX_CLONE_NEWNET = CLONE_NEWNET;

int clinux_attach_filter(int fd, const struct sock_filter *code, unsigned short count) {
    struct sock_fprog program = { .len = count, .filter = (struct sock_filter *)code };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program);
}
