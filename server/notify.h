/*
 * server/notify.h — the service manager's readiness protocol (sd_notify), spoken without
 * libsystemd: one datagram to the socket named by $NOTIFY_SOCKET.
 */
#ifndef SCITT_SCITTD_NOTIFY_H
#define SCITT_SCITTD_NOTIFY_H

/*
 * Sends state (e.g. "READY=1", "STOPPING=1"; several assignments separated by newlines) to the
 * socket named by $NOTIFY_SOCKET: a path, or an abstract socket when it starts with '@'. Does
 * nothing when the variable is unset or empty. A failure is logged (event=notify) and otherwise
 * ignored: the manager then sees a start-up time-out, which names the problem better than an
 * exit would.
 */
void scittd_notify(const char *state);

#endif
