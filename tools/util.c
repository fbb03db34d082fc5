/* Shared helpers of the scitt tool: messages, bounded file I/O, JSON output, key loading. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scitt/file.h"
#include "scitt/json.h"

const char *cli_cmd = "scitt";
bool cli_json_printed = false;
static char last_msg[1024];

static void vmsg(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static void vmsg(const char *fmt, va_list ap)
{
    char line[1024];
    vsnprintf(line, sizeof(line), fmt, ap);
    /* One line, always: a message never spans lines even when it quotes input. */
    for (char *p = line; *p; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    memcpy(last_msg, line, sizeof(line));
    if (strcmp(cli_cmd, "scitt") == 0) {
        fprintf(stderr, "scitt: %s\n", line);
    } else {
        fprintf(stderr, "scitt %s: %s\n", cli_cmd, line);
    }
}

void cli_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
}

int cli_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
    return code;
}

int cli_usage(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    cli_msg("%s (see scitt %s --help)", line, cli_cmd);
    return CLI_USAGE;
}

int cli_help(const char *help)
{
    fputs(help, stdout);
    return CLI_OK;
}

bool cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || !*s || strlen(s) > 20) {
        return false;
    }
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    if (v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* ---- files --------------------------------------------------------------------------------- */

scitt_err cli_read_file(const char *path, size_t max, scitt_dynbuf *out)
{
    scitt_dynbuf_init(out, max + 1);
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? SCITT_ERR_NOT_FOUND : SCITT_ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        errno = EISDIR;
        return SCITT_ERR_IO;
    }
    scitt_err e = SCITT_OK;
    for (;;) {
        /* Read up to one byte past the cap, so a file of exactly max bytes is not refused. */
        size_t chunk = max + 1 - out->len < 65536 ? max + 1 - out->len : 65536;
        uint8_t *at = chunk ? scitt_dynbuf_reserve(out, chunk) : NULL;
        if (!at) {
            e = chunk == 0 || out->err == SCITT_ERR_TOO_LARGE ? SCITT_ERR_TOO_LARGE : out->err;
            break;
        }
        ssize_t n = read(fd, at, chunk);
        if (n < 0 && errno == EINTR) {
            out->len -= chunk;
            continue;
        }
        if (n < 0) {
            int saved = errno;
            out->len -= chunk;
            errno = saved;
            e = SCITT_ERR_IO;
            break;
        }
        out->len -= chunk - (size_t)n;
        if (n == 0) {
            break;
        }
        if (out->len > max) {
            e = SCITT_ERR_TOO_LARGE;
            break;
        }
    }
    if (fd != STDIN_FILENO) {
        int saved = errno;
        close(fd);
        errno = saved;
    }
    if (e != SCITT_OK) {
        scitt_dynbuf_clear(out);
        scitt_dynbuf_init(out, max + 1);
    }
    return e;
}

int cli_slurp(const char *path, size_t max, scitt_dynbuf *out)
{
    errno = 0;
    scitt_err e = cli_read_file(path, max, out);
    if (e == SCITT_OK) {
        return CLI_OK;
    }
    if (e == SCITT_ERR_TOO_LARGE) {
        return cli_fail(CLI_USAGE, "cannot read %s: larger than %zu bytes", path, max);
    }
    return cli_fail(CLI_USAGE, "cannot read %s: %s", path,
                    errno ? strerror(errno) : scitt_err_str(e));
}

scitt_err cli_write_file(const char *path, scitt_span data, mode_t mode)
{
    if (strcmp(path, "-") == 0) {
        return fwrite(data.ptr, 1, data.len, stdout) == data.len && fflush(stdout) == 0
                   ? SCITT_OK
                   : SCITT_ERR_IO;
    }
    /* Durable before it is relied on: the auditor's state names what it has already checked. */
    return scitt_file_replace(path, data, mode, 0);
}

int cli_save(const char *path, scitt_span data, mode_t mode)
{
    errno = 0;
    scitt_err e = cli_write_file(path, data, mode);
    if (e == SCITT_OK) {
        return CLI_OK;
    }
    return cli_fail(CLI_USAGE, "cannot write %s: %s", path,
                    errno ? strerror(errno) : scitt_err_str(e));
}

scitt_err cli_mkdirs(const char *dir, mode_t mode)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof(path)) {
        return SCITT_ERR_INVALID_ARG;
    }
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] == '/' || path[i] == 0) {
            char c = path[i];
            path[i] = 0;
            if (mkdir(path, mode) != 0 && errno != EEXIST) {
                return SCITT_ERR_IO;
            }
            path[i] = c;
        }
    }
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? SCITT_OK : SCITT_ERR_IO;
}

/* ---- JSON ---------------------------------------------------------------------------------- */

void cli_json_print(scitt_json_writer *w)
{
    scitt_err e = scitt_json_writer_finish(w);
    if (e == SCITT_OK) {
        fwrite(w->out->ptr, 1, w->out->len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        cli_json_printed = true;
    } else {
        cli_msg("JSON output: %s", scitt_err_str(e));
    }
    scitt_dynbuf_clear(w->out);
}

void cli_json_error(int code)
{
    if (cli_json_printed) {
        return; /* the command printed its own result (verify's checks, query's partial list) */
    }
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_json_writer j;
    scitt_json_writer_init(&j, &b);
    scitt_json_begin_object(&j);
    scitt_json_put_key(&j, "error");
    scitt_json_put_cstr(&j, last_msg[0] ? last_msg : "failed");
    scitt_json_put_key(&j, "command");
    scitt_json_put_cstr(&j, cli_cmd);
    scitt_json_put_key(&j, "exit_status");
    scitt_json_put_uint(&j, (uint64_t)code);
    scitt_json_end_object(&j);
    cli_json_print(&j);
}

/* ---- keys and text ------------------------------------------------------------------------- */

scitt_err cli_load_key(const char *path, bool need_private, scitt_cose_key **out, char *why,
                       size_t cap)
{
    *out = NULL;
    scitt_dynbuf b;
    errno = 0;
    scitt_err e = cli_read_file(path, SCITT_LIMIT_KEY_TEXT, &b);
    if (e != SCITT_OK) {
        snprintf(why, cap, "cannot read %s: %s", path,
                 e == SCITT_ERR_TOO_LARGE ? "too large for a key"
                                          : (errno ? strerror(errno) : scitt_err_str(e)));
        scitt_dynbuf_clear(&b);
        return e;
    }
    scitt_span s = scitt_span_make(b.ptr, b.len);
    scitt_cose_key *k = NULL;
    if (s.len > 5 && memmem(s.ptr, s.len, "-----BEGIN", 10)) {
        e = scitt_cose_key_from_pem(s, &k);
    } else if (s.len && (s.ptr[0] == '{' || s.ptr[0] == ' ' || s.ptr[0] == '\n')) {
        e = scitt_cose_key_from_jwk(s, &k);
    } else if (s.len && (s.ptr[0] & 0xe0) == 0xa0) {
        e = scitt_cose_key_from_cose(s, &k); /* a CBOR map: COSE_Key */
    } else {
        e = scitt_cose_key_from_der(s, &k);
    }
    scitt_wipe(b.ptr, b.len);
    scitt_dynbuf_clear(&b);
    if (e != SCITT_OK) {
        snprintf(why, cap, "%s is not a usable key (PEM, DER, COSE_Key or JWK): %s", path,
                 scitt_err_str(e));
        return e;
    }
    if (need_private && !scitt_cose_key_has_private(k)) {
        snprintf(why, cap, "%s holds a public key; signing needs the private key", path);
        scitt_cose_key_free(k);
        return SCITT_ERR_KEY_MISMATCH;
    }
    *out = k;
    return SCITT_OK;
}

char *cli_hex(scitt_span s)
{
    char *h = scitt_malloc(2 * s.len + 1);
    if (h && scitt_hex_encode(s, h, 2 * s.len + 1) != SCITT_OK) {
        h[0] = 0;
    }
    return h;
}

void cli_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, 32, "%lld", (long long)t);
    }
}
