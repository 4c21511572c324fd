#define _GNU_SOURCE
#include <sched.h>
#include "CLinux.h"

int clinux_setns(int fd, int nstype) { return setns(fd, nstype); }
const int CLINUX_CLONE_NEWNET = CLONE_NEWNET;
