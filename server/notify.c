/*
 * The sd_notify protocol (systemd's Type=notify services): the service manager passes the path
 * of a datagram socket in $NOTIFY_SOCKET, and the service writes "KEY=value" lines to it. A few
 * lines here instead of a libsystemd dependency: scittd only says READY=1 and STOPPING=1.
 */
#include "notify.h"

#include "log.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int send_state(const char *path, const char *state)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    size_t n = strlen(path);
    /* A path (absolute) or an abstract name ('@' standing for the leading NUL byte). */
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa.sun_path)) {
        errno = EINVAL;
        return -1;
    }
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@') {
        sa.sun_path[0] = 0;
    }
    /* An abstract address is exactly as long as its name; a path also counts its NUL. */
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    size_t slen = strlen(state);
    ssize_t sent = sendto(fd, state, slen, MSG_NOSIGNAL, (const struct sockaddr *)&sa, len);
    int saved = errno;
    close(fd);
    if (sent < 0 || (size_t)sent != slen) {
        errno = sent < 0 ? saved : EMSGSIZE;
        return -1;
    }
    return 0;
}

void scittd_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path) {
        return;
    }
    if (send_state(path, state) != 0) {
        SCITT_LOG(SCITT_LOG_WARN, "notify", "socket=\"%s\" err=\"%s\"", path, strerror(errno));
    }
}
