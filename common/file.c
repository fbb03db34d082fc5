/* Durable file replacement: temporary file, fsync, rename, fsync of the directory. */
#include "scitt/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static scitt_err io_err(int err)
{
    return err == ENOSPC || err == EDQUOT ? SCITT_ERR_NO_SPACE : SCITT_ERR_IO;
}

scitt_err scitt_dir_sync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return SCITT_ERR_IO;
    }
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    if (rc != 0 && saved != EINVAL) {
        errno = saved;
        return io_err(saved);
    }
    return SCITT_OK;
}

scitt_err scitt_dir_sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        return scitt_dir_sync(".");
    }
    if (slash == path) {
        return scitt_dir_sync("/");
    }
    size_t n = (size_t)(slash - path);
    char *dir = scitt_malloc(n + 1);
    if (!dir) {
        errno = ENOMEM;
        return SCITT_ERR_NOMEM;
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
    scitt_err e = scitt_dir_sync(dir);
    int saved = errno;
    scitt_free(dir);
    errno = saved;
    return e;
}

scitt_err scitt_file_replace(const char *path, scitt_span data, mode_t mode, unsigned flags)
{
    bool sync = (flags & SCITT_FILE_NO_SYNC) == 0;
    size_t n = strlen(path);
    char *tmp = scitt_malloc(n + 32);
    if (!tmp) {
        errno = ENOMEM;
        return SCITT_ERR_NOMEM;
    }
    snprintf(tmp, n + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        int saved = errno;
        scitt_free(tmp);
        errno = saved;
        return io_err(saved);
    }
    scitt_err e = SCITT_OK;
    int saved = 0;
    for (size_t off = 0; off < data.len;) {
        ssize_t w = write(fd, data.ptr + off, data.len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            saved = w < 0 ? errno : EIO;
            e = io_err(saved);
            break;
        }
        off += (size_t)w;
    }
    if (e == SCITT_OK && sync && fsync(fd) != 0) {
        saved = errno;
        e = io_err(saved);
    }
    if (close(fd) != 0 && e == SCITT_OK) {
        saved = errno;
        e = io_err(saved);
    }
    if (e == SCITT_OK && rename(tmp, path) != 0) {
        saved = errno;
        e = io_err(saved);
    }
    if (e != SCITT_OK) {
        unlink(tmp);
        scitt_free(tmp);
        errno = saved;
        return e;
    }
    scitt_free(tmp);
    /* The rename is a change to the directory: durable only once the directory is synced. */
    return sync ? scitt_dir_sync_parent(path) : SCITT_OK;
}
