/* The event log: format one line on the stack, hand it to the sink in one piece. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

_Atomic int scitt__log_threshold = SCITT_LOG_INFO;

static scitt_log_sink g_sink;
static void *g_sink_ctx;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void scitt_log_set_level(scitt_log_level lvl)
{
    atomic_store_explicit(&scitt__log_threshold, (int)lvl, memory_order_relaxed);
}

bool scitt_log_parse_level(const char *s, scitt_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (scitt_log_level)i;
            return true;
        }
    }
    return false;
}

void scitt_log_set_sink(scitt_log_sink sink, void *ctx)
{
    g_sink = sink;
    g_sink_ctx = ctx;
}

void scitt__log_emit(scitt_log_level lvl, const char *event, const char *fmt, ...)
{
    /* Lines are short by construction (no untrusted text); a long one is cut, not split. */
    char line[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n =
        snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 ts.tv_nsec / 1000000, level_names[(unsigned)lvl & 3u], event);
    if (n < 0) {
        return;
    }
    size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
    va_end(ap);
    if (m > 0) {
        len += (size_t)m < sizeof(line) - len ? (size_t)m : sizeof(line) - len - 1;
    }
    /* Drop a trailing space left by an empty field list, then end the line. */
    while (len > 0 && line[len - 1] == ' ') {
        len--;
    }
    if (len >= sizeof(line) - 1) {
        len = sizeof(line) - 2;
    }
    line[len++] = '\n';
    if (g_sink) {
        g_sink(g_sink_ctx, lvl, line, len);
        return;
    }
    /* One write per line keeps concurrent lines whole (they are below PIPE_BUF). */
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

const char *scitt_log_hex(scitt_span s, char out[SCITT_LOG_HEX_MAX])
{
    static const char digits[] = "0123456789abcdef";
    int n = snprintf(out, SCITT_LOG_HEX_MAX, "%zu:", s.len);
    size_t pos = n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < s.len && i < 8 && pos + 2 < SCITT_LOG_HEX_MAX; i++) {
        out[pos++] = digits[s.ptr[i] >> 4];
        out[pos++] = digits[s.ptr[i] & 15];
    }
    out[pos] = 0;
    return out;
}
