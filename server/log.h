/*
 * server/log.h — the daemon's event log: one line per event, `key=value` fields, written with a
 * single write() so lines from different threads never interleave. The level is checked before
 * the arguments are evaluated, so a disabled debug line costs one relaxed load.
 *
 * Never log raw request bytes or key material: log lengths, our own names, and at most a short
 * hex prefix (scitt_log_hex).
 */
#ifndef SCITT_SERVER_LOG_H
#define SCITT_SERVER_LOG_H

#include <stdatomic.h>
#include <stddef.h>

#include "scitt/base.h"

typedef enum scitt_log_level {
    SCITT_LOG_ERROR = 0,
    SCITT_LOG_WARN = 1,
    SCITT_LOG_INFO = 2,
    SCITT_LOG_DEBUG = 3,
} scitt_log_level;

/** The most verbose level written; read by SCITT_LOG before evaluating anything else. */
extern _Atomic int scitt__log_threshold;

/**
 * Writes one line `ts=<UTC> level=<lvl> event=<event> <fields>` when @p lvl is enabled.
 * @p ... is a printf format for the fields followed by its arguments, e.g.
 * SCITT_LOG(SCITT_LOG_INFO, "listen", "addr=%s port=%d", addr, port).
 */
#define SCITT_LOG(lvl, event, ...)                                                                 \
    do {                                                                                           \
        if ((int)(lvl) <= atomic_load_explicit(&scitt__log_threshold, memory_order_relaxed)) {     \
            scitt__log_emit((lvl), (event), __VA_ARGS__);                                          \
        }                                                                                          \
    } while (0)

/** True when @p lvl would be written (for work done only to build a log line). */
#define SCITT_LOG_ON(lvl)                                                                          \
    ((int)(lvl) <= atomic_load_explicit(&scitt__log_threshold, memory_order_relaxed))

void scitt__log_emit(scitt_log_level lvl, const char *event, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/** Sets the most verbose level written (default SCITT_LOG_INFO). Any thread. */
void scitt_log_set_level(scitt_log_level lvl);

/** Parses "error", "warn", "info" or "debug"; false for anything else. */
bool scitt_log_parse_level(const char *s, scitt_log_level *out);

/**
 * Where lines go: @p sink receives each complete line (with its newline) and must be
 * thread-safe. NULL restores the default (stderr). Call before starting threads.
 */
typedef void (*scitt_log_sink)(void *ctx, scitt_log_level lvl, const char *line, size_t len);
void scitt_log_set_sink(scitt_log_sink sink, void *ctx);

/** Size of the buffer scitt_log_hex needs. */
#define SCITT_LOG_HEX_MAX 48

/**
 * Formats untrusted bytes for a log line as `<len>:<hex of at most 8 bytes>` into @p out and
 * returns @p out, e.g. "1520:d28458a0a1012603".
 */
const char *scitt_log_hex(scitt_span s, char out[SCITT_LOG_HEX_MAX]);

#endif /* SCITT_SERVER_LOG_H */
