/*
 * scittd's option table and its parsers (server/options.c): every row parses its default and
 * refuses values outside its bounds, the command line and the configuration file fill the same
 * fields, the file's errors name file and line, the command line overrides the file, secrets are
 * redacted, and the generated text (--help, the deploy.md table, the example configuration)
 * matches the table. Also: which check-stage errors are a statement's fault (400).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "options.h"
#include "scittd.h"

static char reason[512];

static scitt_err args(scittd_config *c, scittd_cli *cli, const char *const *a)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)"scittd";
    for (size_t i = 0; a[i]; i++) {
        argv[argc++] = (char *)a[i];
    }
    argv[argc] = NULL;
    return scittd_options_parse_args(argc, argv, c, cli, reason, sizeof(reason));
}

static scitt_err file(scittd_config *c, const char *text)
{
    return scittd_options_parse_file("t.conf", scitt_span_str(text), c, reason, sizeof(reason));
}

static char *read_source(const char *rel)
{
    const char *src = getenv("SCITT_SOURCE_DIR");
    assert_non_null(src);
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", src, rel);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    return strdup(buf);
}

/* Every row's default parses; the HTTP limits' defaults are the HTTP layer's. */
static void test_defaults(void **state)
{
    (void)state;
    scittd_config c;
    assert_int_equal(scittd_config_init(&c), SCITT_OK);
    assert_string_equal(c.data_dir, "./data");
    assert_int_equal(c.nlisten, 1);
    assert_string_equal(c.listen[0], "127.0.0.1:8000");
    assert_int_equal(c.batch_max, 4096);
    assert_true(c.map_size == (1ull << 30) && c.map_size_max == (1ull << 40));
    assert_null(c.tls_cert);
    assert_false(c.insecure_virtual);
    scitt_http_config hc;
    scitt_http_config_defaults(&hc);
    assert_int_equal(c.http.max_header_bytes, hc.max_header_bytes);
    assert_int_equal(c.http.max_headers, hc.max_headers);
    assert_int_equal(c.http.max_url_bytes, hc.max_url_bytes);
    assert_int_equal(c.http.max_pipeline, hc.max_pipeline);
    assert_int_equal(c.http.conn_buffer_bytes, hc.conn_buffer_bytes);
    assert_int_equal(c.http.max_conns_per_ip, hc.max_conns_per_ip);
    assert_int_equal(c.http.header_timeout_ms, hc.header_timeout_ms);
    assert_int_equal(c.http.body_timeout_ms, hc.body_timeout_ms);
    assert_int_equal(c.http.send_timeout_ms, hc.send_timeout_ms);
    assert_int_equal(c.http.keepalive_timeout_ms, hc.keepalive_timeout_ms);
    assert_int_equal(c.http.linger_ms, hc.linger_ms);
    assert_int_equal(c.http.rate_table_entries, hc.rate_table_entries);
    assert_int_equal(c.http.rate_ipv6_prefix, hc.rate_ipv6_prefix);
    assert_int_equal(c.http.max_connections, 4096); /* the daemon's, below the layer's 10000 */
    scittd_config_free(&c);
    /* Rows are well formed: a name, help, an argument name unless a flag or action. */
    size_t n;
    const scittd_option *t = scittd_options(&n);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(t[i].name);
        assert_true(t[i].help && t[i].help[0]);
        bool takes = t[i].type != SCITTD_OPT_FLAG && t[i].type != SCITTD_OPT_ACTION;
        assert_true(takes == (t[i].arg != NULL));
        assert_true(!(t[i].flags & SCITTD_OPT_RESTART) || !(t[i].flags & SCITTD_OPT_RELOAD));
        assert_ptr_equal(scittd_option_find(t[i].name), &t[i]);
    }
}

/* Every numeric row: its bounds pass, one past each bound and junk fail with a reason naming
 * the option (command line) or the file and line (file). */
static void test_bounds(void **state)
{
    (void)state;
    size_t n;
    const scittd_option *t = scittd_options(&n);
    unsigned checked = 0;
    for (size_t i = 0; i < n; i++) {
        const scittd_option *o = &t[i];
        bool num = o->type == SCITTD_OPT_UNSIGNED || o->type == SCITTD_OPT_COUNT ||
                   o->type == SCITTD_OPT_U64 || o->type == SCITTD_OPT_BYTES ||
                   o->type == SCITTD_OPT_BYTES64;
        if (!num) {
            continue;
        }
        char opt[64], lo[32], hi[32], below[32], above[32], line[128];
        snprintf(opt, sizeof(opt), "--%s", o->name);
        snprintf(lo, sizeof(lo), "%llu", (unsigned long long)o->min);
        snprintf(hi, sizeof(hi), "%llu", (unsigned long long)o->max);
        snprintf(below, sizeof(below), "%llu", (unsigned long long)o->min - 1);
        snprintf(above, sizeof(above), "%llu", (unsigned long long)o->max + 1);
        scittd_config c;
        scittd_cli cli;
        assert_int_equal(scittd_config_init(&c), SCITT_OK);
        const char *ok_lo[] = {opt, lo, NULL}, *ok_hi[] = {opt, hi, NULL};
        assert_int_equal(args(&c, &cli, ok_lo), SCITT_OK);
        if (o->max != UINT64_MAX) {
            assert_int_equal(args(&c, &cli, ok_hi), SCITT_OK);
            const char *bad[] = {opt, above, NULL};
            assert_int_equal(args(&c, &cli, bad), SCITT_ERR_INVALID_ARG);
            assert_non_null(strstr(reason, opt));
            assert_non_null(strstr(reason, above));
        }
        if (o->min > 0) {
            const char *bad[] = {opt, below, NULL};
            assert_int_equal(args(&c, &cli, bad), SCITT_ERR_INVALID_ARG);
            assert_non_null(strstr(reason, opt));
            snprintf(line, sizeof(line), "# a comment\n%s = %s\n", o->name, below);
            assert_int_equal(file(&c, line), SCITT_ERR_INVALID_ARG);
            char where[96];
            snprintf(where, sizeof(where), "t.conf:2: %s must be", o->name);
            assert_non_null(strstr(reason, where));
        }
        const char *junk[] = {opt, "12x", NULL}, *neg[] = {opt, "-1", NULL},
                   *blank[] = {opt, " 1", NULL};
        assert_int_equal(args(&c, &cli, junk), SCITT_ERR_INVALID_ARG);
        assert_int_equal(args(&c, &cli, neg), SCITT_ERR_INVALID_ARG);
        assert_int_equal(args(&c, &cli, blank), SCITT_ERR_INVALID_ARG);
        scittd_config_free(&c);
        checked++;
    }
    assert_true(checked >= 23);
}

static void test_args(void **state)
{
    (void)state;
    scittd_config c;
    scittd_cli cli;
    assert_int_equal(scittd_config_init(&c), SCITT_OK);
    const char *a[] = {"--data",
                       "/srv/x",
                       "--listen",
                       "127.0.0.1:1",
                       "--listen",
                       "[::1]:2",
                       "--max-body",
                       "64K",
                       "--rate-limit",
                       "2.5/s",
                       "--insecure-virtual",
                       "--platform",
                       "virtual",
                       "--conn-buffer",
                       "1M",
                       NULL};
    assert_int_equal(args(&c, &cli, a), SCITT_OK);
    assert_string_equal(c.data_dir, "/srv/x");
    assert_int_equal(c.nlisten, 2); /* the first --listen replaced the default */
    assert_string_equal(c.listen[1], "[::1]:2");
    assert_int_equal(c.max_body, 64 << 10);
    assert_true(c.http.rate_per_sec == 2.5);
    assert_true(c.insecure_virtual);
    assert_string_equal(c.platform, "virtual");
    assert_int_equal(c.http.conn_buffer_bytes, 1 << 20);
    assert_false(cli.help || cli.check_config);
    const char *rows[][4] = {
        {"--platform", "sgx", NULL, "--platform must be auto, snp, tdx or virtual"},
        {"--receipt-alg", "RS256", NULL, "--receipt-alg must be ES256, ES384 or EdDSA"},
        {"--log-level", "loud", NULL, "--log-level must be"},
        {"--rate-limit", "fast", NULL, "--rate-limit must look like 100/s"},
        {"--rate-limit", "0/s", NULL, "--rate-limit must look like 100/s"},
        {"--data", "", NULL, "--data must not be empty"},
        {"--colour", NULL, NULL, "unknown option \"--colour\""},
        {"--data", NULL, NULL, "--data needs a value"},
        {"stray", NULL, NULL, "unexpected argument \"stray\""},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *r[] = {rows[i][0], rows[i][1], NULL};
        assert_int_equal(args(&c, &cli, r), SCITT_ERR_INVALID_ARG);
        if (!strstr(reason, rows[i][3])) {
            fail_msg("row %zu: \"%s\"", i, reason);
        }
    }
    const char *nine[] = {"--listen", "a:1",      "--listen", "a:2",      "--listen",
                          "a:3",      "--listen", "a:4",      "--listen", "a:5",
                          "--listen", "a:6",      "--listen", "a:7",      "--listen",
                          "a:8",      "--listen", "a:9",      NULL};
    assert_int_equal(args(&c, &cli, nine), SCITT_ERR_INVALID_ARG);
    assert_non_null(strstr(reason, "more than 8"));
    const char *acts[] = {"--check-config", "--config", "/x.conf", NULL};
    assert_int_equal(args(&c, &cli, acts), SCITT_OK);
    assert_true(cli.check_config);
    assert_string_equal(cli.config_file, "/x.conf");
    scittd_config_free(&c);
}

static void test_file(void **state)
{
    (void)state;
    scittd_config c;
    assert_int_equal(scittd_config_init(&c), SCITT_OK);
    assert_int_equal(file(&c, "# comment\n\n  data = /var/lib/s  \r\nlisten=127.0.0.1:1\n"
                              "listen = 127.0.0.1:2\ninsecure-virtual = true\nmap-size = 2G\n"
                              "\tbatch-max = 7"),
                     SCITT_OK);
    assert_string_equal(c.data_dir, "/var/lib/s");
    assert_int_equal(c.nlisten, 2);
    assert_string_equal(c.listen[0], "127.0.0.1:1");
    assert_true(c.insecure_virtual);
    assert_true(c.map_size == (2ull << 30));
    assert_int_equal(c.batch_max, 7);
    static const struct {
        const char *text, *says;
    } rows[] = {
        {"data = a\ncolour = blue\n", "t.conf:2: unknown key \"colour\""},
        {"data = a\n\ndata = b\n", "t.conf:3: \"data\" is set again (first on line 1)"},
        {"batch-max\n", "t.conf:1: not a \"key = value\" line"},
        {"batch-max = \n", "t.conf:1: batch-max must be 1..1048576, not \"\""},
        {"insecure-virtual = yes\n", "t.conf:1: insecure-virtual must be true or false"},
        {"config = /etc/x\n", "t.conf:1: \"config\" can only be given on the command line"},
        {"help = true\n", "t.conf:1: \"help\" can only be given on the command line"},
        {"# x\nplatform = sgx\n", "t.conf:2: platform must be auto, snp, tdx or virtual"},
        {"--data = x\n", "t.conf:1: unknown key \"--data\""},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_int_equal(file(&c, rows[i].text), SCITT_ERR_INVALID_ARG);
        if (!strstr(reason, rows[i].says)) {
            fail_msg("row %zu: \"%s\"", i, reason);
        }
    }
    static const char nul[] = "data = a\0b\n";
    assert_int_equal(scittd_options_parse_file("t.conf", scitt_span_make(nul, sizeof(nul) - 1), &c,
                                               reason, sizeof(reason)),
                     SCITT_ERR_INVALID_ARG);
    assert_non_null(strstr(reason, "t.conf:1: a NUL byte"));
    scittd_config_free(&c);
}

/* The file, then the command line over it; --config names a file that must exist. */
static void test_load(void **state)
{
    (void)state;
    char path[] = "/tmp/scittd-options-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "batch-max = 10\nlisten = 127.0.0.1:9\nrate-limit = 4/s\n";
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
    close(fd);
    scittd_config c;
    scittd_cli cli;
    const char *used;
    char *argv[] = {
        (char *)"scittd", (char *)"--batch-max", (char *)"20", (char *)"--config", path, NULL};
    assert_int_equal(scittd_options_load(5, argv, NULL, &c, &cli, &used, reason, sizeof(reason)),
                     SCITT_OK);
    assert_string_equal(used, path);
    assert_int_equal(c.batch_max, 20);               /* the flag wins */
    assert_string_equal(c.listen[0], "127.0.0.1:9"); /* the file's */
    assert_true(c.http.rate_per_sec == 4);
    scittd_config_free(&c);
    /* The default file is read when it exists, and only then. */
    char *argv2[] = {(char *)"scittd", NULL};
    assert_int_equal(scittd_options_load(1, argv2, path, &c, &cli, &used, reason, sizeof(reason)),
                     SCITT_OK);
    assert_int_equal(c.batch_max, 10);
    scittd_config_free(&c);
    assert_int_equal(scittd_options_load(1, argv2, "/nonexistent/scittd.conf", &c, &cli, &used,
                                         reason, sizeof(reason)),
                     SCITT_OK);
    assert_null(used);
    assert_int_equal(c.batch_max, 4096);
    scittd_config_free(&c);
    unlink(path);
    char *argv3[] = {(char *)"scittd", (char *)"--config", path, NULL};
    assert_int_equal(scittd_options_load(3, argv3, NULL, &c, &cli, &used, reason, sizeof(reason)),
                     SCITT_ERR_IO);
    assert_non_null(strstr(reason, "cannot open"));
    scittd_config_free(&c);
    char *argv4[] = {(char *)"scittd", (char *)"--tls-cert", (char *)"/c.pem", NULL};
    assert_int_equal(scittd_options_load(3, argv4, NULL, &c, &cli, &used, reason, sizeof(reason)),
                     SCITT_ERR_INVALID_ARG);
    assert_non_null(strstr(reason, "go together"));
    scittd_config_free(&c);
}

/* --check-config's listing: every file key, secrets redacted, and it reads back to the same
 * configuration (so every option can be set in the file). */
static void test_dump(void **state)
{
    (void)state;
    scittd_config c, back;
    scittd_cli cli;
    assert_int_equal(scittd_config_init(&c), SCITT_OK);
    const char *a[] = {"--tls-cert",
                       "/etc/scittd/cert.pem",
                       "--tls-key",
                       "/etc/scittd/key.pem",
                       "--listen",
                       "127.0.0.1:1",
                       "--listen",
                       "127.0.0.1:2",
                       "--rate-limit",
                       "3/s",
                       "--workers",
                       "3",
                       "--issuer",
                       "log.example",
                       NULL};
    assert_int_equal(args(&c, &cli, a), SCITT_OK);
    scitt_dynbuf out;
    scitt_dynbuf_init(&out, 0);
    assert_int_equal(scittd_options_dump(&c, &out), SCITT_OK);
    scitt_dynbuf_u8(&out, 0);
    const char *text = (const char *)out.ptr;
    assert_non_null(strstr(text, "tls-key = <redacted>\n"));
    assert_null(strstr(text, "key.pem"));
    assert_non_null(strstr(text, "tls-cert = /etc/scittd/cert.pem\n"));
    assert_non_null(strstr(text, "listen = 127.0.0.1:2\n"));
    size_t n;
    const scittd_option *t = scittd_options(&n);
    for (size_t i = 0; i < n; i++) {
        char set[80], unset[80];
        snprintf(set, sizeof(set), "\n%s = ", t[i].name);
        snprintf(unset, sizeof(unset), "\n# %s: not set", t[i].name);
        bool listed = strstr(text, set) || strstr(text, unset) ||
                      strncmp(text, set + 1, strlen(set + 1)) == 0;
        assert_true(listed == !(t[i].flags & SCITTD_OPT_CLI));
    }
    /* Read it back (the secret aside) and list again: the same text. */
    assert_int_equal(scittd_config_init(&back), SCITT_OK);
    char *copy = strdup(text);
    char *red = strstr(copy, "tls-key = <redacted>");
    memcpy(red, "#", 1);
    assert_int_equal(file(&back, copy), SCITT_OK);
    const char *k[] = {"--tls-key", "/etc/scittd/key.pem", NULL};
    assert_int_equal(args(&back, &cli, k), SCITT_OK);
    scitt_dynbuf again;
    scitt_dynbuf_init(&again, 0);
    assert_int_equal(scittd_options_dump(&back, &again), SCITT_OK);
    assert_int_equal(again.len + 1, out.len);
    assert_memory_equal(again.ptr, out.ptr, again.len);
    free(copy);
    scitt_dynbuf_clear(&again);
    scitt_dynbuf_clear(&out);
    scittd_config_free(&back);
    scittd_config_free(&c);
}

/* --help has every option, its default and whether SIGHUP reloads it. */
static void test_help(void **state)
{
    (void)state;
    scitt_dynbuf out;
    scitt_dynbuf_init(&out, 0);
    assert_int_equal(scittd_options_help(&out), SCITT_OK);
    scitt_dynbuf_u8(&out, 0);
    const char *text = (const char *)out.ptr;
    size_t n;
    const scittd_option *t = scittd_options(&n);
    for (size_t i = 0; i < n; i++) {
        char head[80];
        snprintf(head, sizeof(head), "\n  --%s%s%s", t[i].name, t[i].arg ? " " : "",
                 t[i].arg ? t[i].arg : "");
        const char *at = strstr(text, head);
        if (!at) {
            fail_msg("--help lacks %s", head + 1);
        }
        /* The text starts two blanks after the option or on the next line, as help2roff.awk
         * (the man page) reads an option item. */
        const char *after = at + strlen(head);
        assert_true(after[0] == '\n' || (after[0] == ' ' && after[1] == ' '));
        const char *next = strstr(at + 1, "\n  --");
        size_t len = next ? (size_t)(next - at) : strlen(at);
        char entry[2048];
        snprintf(entry, sizeof(entry), "%.*s", (int)len, at);
        const char *d = t[i].def_shown ? t[i].def_shown : t[i].def;
        if (d && !strstr(entry, "(default:")) {
            fail_msg("--help: %s has no default", t[i].name);
        }
        assert_true(((t[i].flags & SCITTD_OPT_RELOAD) != 0) == (strstr(entry, "SIGHUP") != NULL));
    }
    for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
        const char *e = strchr(p, '\n');
        assert_non_null(e);
        assert_true(e - p <= 100);
    }
    scitt_dynbuf_clear(&out);
}

/* The example configuration lists every key, and every example value parses. */
static void test_example_conf(void **state)
{
    (void)state;
    char *text = read_source("dist/scittd.conf");
    scittd_config c;
    assert_int_equal(scittd_config_init(&c), SCITT_OK);
    assert_int_equal(file(&c, text), SCITT_OK); /* as installed: every line commented out */
    scittd_config_free(&c);
    /* Uncommented: "#key = value" lines become settings. */
    char *on = strdup(text);
    size_t w = 0;
    for (char *p = text; *p;) {
        char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p + 1) : strlen(p);
        bool setting = p[0] == '#' && p[1] >= 'a' && p[1] <= 'z' && memchr(p, '=', l);
        memcpy(on + w, p + setting, l - setting);
        w += l - setting;
        p += l;
    }
    on[w] = 0;
    assert_int_equal(scittd_config_init(&c), SCITT_OK);
    if (file(&c, on) != SCITT_OK) {
        fail_msg("dist/scittd.conf uncommented: %s", reason);
    }
    scittd_config_free(&c);
    size_t n;
    const scittd_option *t = scittd_options(&n);
    for (size_t i = 0; i < n; i++) {
        char key[80];
        snprintf(key, sizeof(key), "\n#%s = ", t[i].name);
        if (!(t[i].flags & SCITTD_OPT_CLI) && !strstr(text, key)) {
            fail_msg("dist/scittd.conf does not show \"%s\"", t[i].name);
        }
    }
    free(on);
    free(text);
}

/* docs/deploy.md holds the table made from the rows, between its markers. */
static void test_deploy_md(void **state)
{
    (void)state;
    char *doc = read_source("docs/deploy.md");
    scitt_dynbuf md;
    scitt_dynbuf_init(&md, 0);
    assert_int_equal(scittd_options_markdown(&md), SCITT_OK);
    scitt_dynbuf_u8(&md, 0);
    const char *b = strstr(doc, "<!-- options: begin -->\n");
    const char *e = strstr(doc, "<!-- options: end -->");
    assert_non_null(b);
    assert_non_null(e);
    b += strlen("<!-- options: begin -->\n");
    if ((size_t)(e - b) != md.len - 1 || memcmp(b, md.ptr, md.len - 1) != 0) {
        FILE *f = fopen("deploy-options.md", "w");
        if (f) {
            fputs((const char *)md.ptr, f);
            fclose(f);
        }
        fail_msg("docs/deploy.md's options table differs from the option table; the table it "
                 "should hold is in deploy-options.md (in the test's working directory)");
    }
    scitt_dynbuf_clear(&md);
    free(doc);
}

/* A check-stage error is the statement's fault (400, a rejection) only when its class says so:
 * memory, crypto library, I/O and state failures are the server's (5xx). */
static void test_check_class(void **state)
{
    (void)state;
#define ROW(name, number, cls, text)                                                               \
    assert_true(scittd_check_refuses(name) == (SCITT_ERRCLASS_##cls == SCITT_ERRCLASS_INPUT));
    SCITT_ERROR_LIST(ROW)
#undef ROW
    assert_false(scittd_check_refuses(SCITT_ERR_NOMEM));
    assert_false(scittd_check_refuses(SCITT_ERR_CRYPTO));
    assert_false(scittd_check_refuses(SCITT_ERR_IO));
    assert_true(scittd_check_refuses(SCITT_ERR_SIGNATURE));
    assert_true(scittd_check_refuses(SCITT_ERR_MALFORMED));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),  cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_args),      cmocka_unit_test(test_file),
        cmocka_unit_test(test_load),      cmocka_unit_test(test_dump),
        cmocka_unit_test(test_help),      cmocka_unit_test(test_example_conf),
        cmocka_unit_test(test_deploy_md), cmocka_unit_test(test_check_class),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
