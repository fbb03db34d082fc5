/* Clients from the command line, and log sources, for the scitt tool. */
#include "net.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "scitt/file.h"

int cli_client_open(const char *url, const char *cacert, uint32_t timeout_ms, const char *token,
                    scitt_client **out)
{
    *out = NULL;
    if (!url) {
        return cli_usage("--url is required");
    }
    scitt_client_options o = {url, cacert, token, timeout_ms, NULL};
    char why[600];
    scitt_err e = scitt_client_new(&o, out, why, sizeof(why));
    if (e == SCITT_ERR_INVALID_ARG) {
        return cli_usage("--url %s", why);
    }
    if (e != SCITT_OK) {
        return cli_fail(CLI_USAGE, "%s", why);
    }
    return CLI_OK;
}

void net_opts_init(net_opts *o, const net_spec *s)
{
    memset(o, 0, sizeof(*o));
    o->timeout = s->timeout_default;
    optind = 1;
    opterr = 0;
}

int net_option(net_opts *o, const net_spec *s, int code, char **argv)
{
    const char *arg = optarg;
    uint64_t v;
    switch (code) {
    case NET_O_URL:
        o->url = arg;
        return CLI_OK;
    case NET_O_CACERT:
        o->cacert = arg;
        return CLI_OK;
    case NET_O_TIMEOUT:
        if (!cli_parse_u64(arg, s->timeout_min, s->timeout_max, &v)) {
            return cli_usage("--timeout must be %u..%u seconds", s->timeout_min, s->timeout_max);
        }
        o->timeout = (uint32_t)v;
        return CLI_OK;
    case NET_O_JSON:
        o->json = true;
        return CLI_OK;
    case NET_O_HELP:
        net_help(s->help, s);
        return NET_HELP_SHOWN;
    default:
        return cli_usage("unknown option or missing value: %s", argv[optind - 1]);
    }
}

int net_help(const char *help, const net_spec *s)
{
    const char *mark = strstr(help, NET_OPTIONS_HELP);
    if (!mark) {
        return cli_help(help);
    }
    printf("%.*s", (int)(mark - help), help);
    printf("  --url URL          %s\n"
           "  --cacert FILE      trust these CA certificates (PEM) for https instead of the "
           "system's\n"
           "  --timeout S        %s (default %u; %u..%u)\n"
           "  --json             %s\n",
           s->url, s->timeout, s->timeout_default, s->timeout_min, s->timeout_max, s->json);
    fputs(mark + strlen(NET_OPTIONS_HELP), stdout);
    return CLI_OK;
}

int net_client_open(const net_opts *o, const char *token, scitt_client **out)
{
    return cli_client_open(o->url, o->cacert, o->timeout * 1000u, token, out);
}

int source_open(source *s, const char *where, const char *cacert, uint32_t timeout_ms)
{
    memset(s, 0, sizeof(*s));
    if (!where) {
        return cli_usage("--url is required");
    }
    snprintf(s->label, sizeof(s->label), "%s", where);
    if (!strncmp(where, "http://", 7) || !strncmp(where, "https://", 8)) {
        s->is_http = true;
        return cli_client_open(where, cacert, timeout_ms, NULL, &s->http);
    }
    const char *path = where;
    if (!strncmp(where, "file://", 7)) {
        path = where + 7;
        if (path[0] != '/') {
            return cli_usage("\"%s\": file URLs must be file:///absolute/path", where);
        }
    }
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') {
        n--;
    }
    if (n == 0 || n >= sizeof(s->dir)) {
        return cli_usage("\"%s\" is not a usable directory", where);
    }
    memcpy(s->dir, path, n);
    struct stat st;
    if (stat(s->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return cli_fail(CLI_USAGE, "%s is not a directory of log files", s->dir);
    }
    return CLI_OK;
}

void source_close(source *s)
{
    scitt_client_free(s->http);
    s->http = NULL;
}

static scitt_err source_get_once(source *s, const char *rel, size_t max, scitt_dynbuf *out,
                                 char *why, size_t cap);

/* scitt mirror: the bytes just read, also written (synced) under s->stage at the same path. */
static scitt_err stage_file(const source *s, const char *rel, const scitt_dynbuf *b, char *why,
                            size_t cap)
{
    char path[4608];
    if (strstr(rel, "..") != NULL || rel[0] == '/' ||
        (size_t)snprintf(path, sizeof(path), "%s/%s", s->stage, rel) >= sizeof(path)) {
        snprintf(why, cap, "%.300s: not a path to copy", rel);
        return SCITT_ERR_INVALID_ARG;
    }
    char *slash = strrchr(path, '/');
    *slash = 0;
    scitt_err e = cli_mkdirs(path, 0755);
    *slash = '/';
    e = e ? e : scitt_file_replace(path, scitt_span_make(b->ptr, b->len), 0644, 0);
    if (e != SCITT_OK) {
        snprintf(why, cap, "cannot write %.400s: %s", path, strerror(errno));
    }
    return e;
}

scitt_err source_get(source *s, const char *rel, size_t max, scitt_dynbuf *out, char *why,
                     size_t cap)
{
    scitt_err e = source_get_once(s, rel, max, out, why, cap);
    if (e == SCITT_OK && s->stage != NULL) {
        e = stage_file(s, rel, out, why, cap);
    }
    return e;
}

static scitt_err source_get_once(source *s, const char *rel, size_t max, scitt_dynbuf *out,
                                 char *why, size_t cap)
{
    if (!s->is_http) {
        char path[4608];
        snprintf(path, sizeof(path), "%s/%s", s->dir, rel);
        errno = 0;
        scitt_err e = cli_read_file(path, max, out);
        if (e != SCITT_OK && e != SCITT_ERR_NOT_FOUND) {
            snprintf(why, cap, "cannot read %.400s: %s", path,
                     e == SCITT_ERR_TOO_LARGE ? "larger than allowed"
                                              : (errno ? strerror(errno) : scitt_err_str(e)));
        } else if (e == SCITT_ERR_NOT_FOUND) {
            snprintf(why, cap, "%s does not exist", path);
        }
        return e;
    }
    char path[1200];
    snprintf(path, sizeof(path), "/%s", rel);
    scitt_dynbuf_init(out, max);
    return scitt_client_get(s->http, path, "*/*", out, why, cap);
}

scitt_err cli_get_waiting(scitt_client *cl, const char *path, unsigned timeout_s,
                          scitt_dynbuf *body, char *why, size_t cap)
{
    time_t end = time(NULL) + (time_t)timeout_s;
    for (;;) {
        scitt_dynbuf_clear(body);
        scitt_dynbuf_init(body, 0);
        scitt_err e = scitt_client_get(cl, path, "application/cose", body, why, cap);
        const scitt_client_reply *rep = scitt_client_last(cl);
        unsigned wait = rep->has_retry_after && rep->retry_after > 0 ? rep->retry_after : 1;
        if (e != SCITT_ERR_BUSY || time(NULL) + (time_t)wait > end) {
            return e;
        }
        sleep(wait);
    }
}
