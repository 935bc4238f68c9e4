#define _GNU_SOURCE
#include "csystem.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int dlp_syncfs(int fd) { return syncfs(fd); }

int dlp_rename_noreplace(const char *from, const char *to) {
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
    if (errno != EINVAL && errno != ENOSYS) return -1;
    // NFS and some older file systems: link fails with EEXIST just as atomically.
    if (link(from, to) != 0) return -1;
    return unlink(from);
}
