// Linux calls Swift's Glibc module does not export (they need _GNU_SOURCE): the spool's group commit
// and its never-overwriting renames.
#pragma once

/// syncfs(2) on the file system holding `fd`: one flush for a whole batch of written files and renames.
int dlp_syncfs(int fd);

/// renameat2(RENAME_NOREPLACE): moves `from` to `to` only if `to` does not exist (EEXIST otherwise);
/// where the file system lacks it (EINVAL), link + unlink gives the same guarantee.
int dlp_rename_noreplace(const char *from, const char *to);
