/*
 * scittd: the transparency service daemon. Reads its configuration (options.c: the file, then
 * the command line), starts the HTTP listeners, opens the service and runs the event loop until
 * SIGTERM or SIGINT, then stops accepting, finishes what is in flight and closes the ledger
 * cleanly. SIGHUP reloads the TLS certificate and key, the bearer tokens, the rate limit and, on
 * TDX, the DCAP collateral (platform.c).
 */
#include "notify.h"
#include "options.h"
#include "receipt_key.h"
#include "scittd.h"
#include "witness.h"
#include "witness_role.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SCITTD_VERSION
#define SCITTD_VERSION "0.1.0"
#endif

/* Reads a whole (small) file into a buffer the caller frees (one byte more for a NUL). */
static scitt_err slurp(const char *path, size_t max, uint8_t **out, size_t *len, char *reason,
                       size_t cap)
{
    reason[0] = 0;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(reason, cap, "cannot open %.300s: %s", path, strerror(errno));
        return SCITT_ERR_IO;
    }
    uint8_t *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    fclose(f);
    if (!buf) {
        return SCITT_ERR_NOMEM;
    }
    if (n > max) {
        free(buf);
        snprintf(reason, cap, "%.300s is larger than %zu bytes", path, max);
        return SCITT_ERR_TOO_LARGE;
    }
    *out = buf;
    *len = n;
    return SCITT_OK;
}

/* The bearer tokens of @p path as SHA-256 digests. */
static scitt_err load_tokens(const char *path, uint8_t (*tokens)[32], size_t *ntokens, char *reason,
                             size_t cap)
{
    size_t len;
    uint8_t *raw;
    *ntokens = 0;
    scitt_err e = slurp(path, 1u << 20, &raw, &len, reason, cap);
    if (e != SCITT_OK) {
        return e;
    }
    char *text = (char *)raw;
    text[len] = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && e == SCITT_OK;
         line = strtok_r(NULL, "\n", &save)) {
        /* Blanks around a token (an indented line, a trailing CR) are not part of it. */
        while (*line == ' ' || *line == '\t') {
            line++;
        }
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t')) {
            line[--n] = 0;
        }
        if (n == 0 || line[0] == '#') {
            continue;
        }
        if (n < 16) {
            snprintf(reason, cap, "%.300s: tokens must be at least 16 characters", path);
            e = SCITT_ERR_INVALID_ARG;
        } else if (*ntokens == SCITTD_MAX_TOKENS) {
            snprintf(reason, cap, "%.300s: at most %d tokens", path, SCITTD_MAX_TOKENS);
            e = SCITT_ERR_TOO_LARGE;
        } else {
            scitt_sha256(line, n, tokens[(*ntokens)++]);
        }
    }
    scitt_wipe(text, len);
    free(text);
    if (e == SCITT_OK && *ntokens == 0) {
        snprintf(reason, cap, "%.300s holds no tokens", path);
        e = SCITT_ERR_INVALID_ARG;
    }
    return e;
}

/* The measurement of the virtual platform: SHA-384 of the running binary. */
static scitt_err hash_binary(scittd *d, char *reason, size_t cap)
{
    size_t len;
    uint8_t *bin;
    scitt_err e = slurp("/proc/self/exe", 1u << 30, &bin, &len, reason, cap);
    if (e == SCITT_OK) {
        scitt_sha384(bin, len, d->binary_sha384);
        free(bin);
    }
    return e;
}

/*
 * One daemon per data directory: a second one would run its own sequencer on the same log, and
 * its registrations would fail against the first one's appends (or, with another policy file,
 * register a policy the first one does not apply). The lock is held until the process exits.
 */
static scitt_err lock_data_dir(const char *dir, char *reason, size_t cap)
{
    reason[0] = 0;
    char path[4200];
    snprintf(path, sizeof(path), "%s/scittd.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(reason, cap, "cannot open %.300s: %s", path, strerror(errno));
        return SCITT_ERR_IO;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(reason, cap, "%.200s is in use by another scittd (%.250s is locked)", dir,
                 errno == EWOULDBLOCK ? path : strerror(errno));
        close(fd);
        return SCITT_ERR_BUSY;
    }
    return SCITT_OK;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The command line, kept for reloads. */
static int g_argc;
static char **g_argv;
static uv_signal_t sig_term, sig_int, sig_hup;

static void on_http_closed(scitt_http_server *srv, void *ctx)
{
    (void)srv;
    (void)ctx;
    uv_close((uv_handle_t *)&sig_term, NULL);
    uv_close((uv_handle_t *)&sig_int, NULL);
    uv_close((uv_handle_t *)&sig_hup, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    scittd *d = h->data;
    SCITT_LOG(SCITT_LOG_INFO, "shutdown", "signal=%d", signum);
    scittd_notify("STOPPING=1");
    uv_signal_stop(&sig_term);
    uv_signal_stop(&sig_int);
    uv_signal_stop(&sig_hup);
    scittd_events_stop(d); /* event streams never finish by themselves */
    scittd_lease_stop(d);
    scitt_http_server_shutdown(d->http, 10000, on_http_closed, d);
}

/* Exchanges option @p o's field between two configurations. */
static void swap_field(scittd_config *a, scittd_config *b, const scittd_option *o)
{
    size_t n = o->type == SCITTD_OPT_RATE    ? sizeof(double)
               : o->type == SCITTD_OPT_COUNT ? sizeof(size_t)
                                             : sizeof(char *);
    uint8_t tmp[sizeof(double) > sizeof(char *) ? sizeof(double) : sizeof(char *)];
    uint8_t *pa = (uint8_t *)a + o->offset, *pb = (uint8_t *)b + o->offset;
    memcpy(tmp, pa, n);
    memcpy(pa, pb, n);
    memcpy(pb, tmp, n);
}

/*
 * SIGHUP: the configuration file and the command line are read again; the options a reload
 * applies (the TLS certificate and key, the bearer tokens, the rate limit) take effect for new
 * connections and requests; open connections and requests in flight are not touched. Anything
 * wrong keeps every old setting, and the log says why.
 */
static void on_hup(uv_signal_t *h, int signum)
{
    (void)signum;
    scittd *d = h->data;
    static uint8_t tokens[SCITTD_MAX_TOKENS][32];
    size_t ntokens = 0;
    char reason[512] = "";
    scittd_config nc;
    scittd_cli cli;
    const char *file;
    scittd_platform_reload(d); /* TDX: the DCAP collateral, on its own */
    scitt_err e = scittd_options_load(g_argc, g_argv, SCITTD_CONFIG_FILE, &nc, &cli, &file, reason,
                                      sizeof(reason));
    if (e == SCITT_OK && nc.auth_tokens_file) {
        e = load_tokens(nc.auth_tokens_file, tokens, &ntokens, reason, sizeof(reason));
    }
    if (e == SCITT_OK) {
        scitt_http_tls tls = {nc.tls_cert, nc.tls_key};
        e = scitt_http_server_reload(d->http, nc.tls_cert ? &tls : NULL, nc.http.rate_per_sec,
                                     (double)nc.rate_burst);
        if (e == SCITT_ERR_STATE) {
            snprintf(reason, sizeof(reason), "TLS is turned on or off by a restart only");
        } else if (e == SCITT_ERR_CRYPTO) {
            snprintf(reason, sizeof(reason), "the TLS certificate or key cannot be used");
        }
    }
    if (e != SCITT_OK) {
        SCITT_LOG(SCITT_LOG_ERROR, "reload", "ok=0 reason=\"%s\" action=\"old settings kept\"",
                  reason[0] ? reason : scitt_err_str(e));
        scitt_wipe(tokens, sizeof(tokens));
        scittd_config_free(&nc);
        return;
    }
    memcpy(d->tokens, tokens, sizeof(tokens));
    d->ntokens = ntokens;
    scitt_wipe(tokens, sizeof(tokens));
    size_t n;
    const scittd_option *opts = scittd_options(&n);
    for (size_t i = 0; i < n; i++) {
        const scittd_option *o = &opts[i];
        if (o->flags & SCITTD_OPT_RELOAD) {
            swap_field(&d->cfg, &nc, o);
        } else if (o->flags & SCITTD_OPT_RESTART) {
            char was[1024], now[1024];
            scittd_option_value(&d->cfg, o, was, sizeof(was));
            scittd_option_value(&nc, o, now, sizeof(now));
            if (strcmp(was, now) != 0) {
                SCITT_LOG(SCITT_LOG_WARN, "reload",
                          "option=%s action=\"applies at the next start\"", o->name);
            }
        }
    }
    scittd_config_free(&nc);
    SCITT_LOG(SCITT_LOG_INFO, "reload", "ok=1 tls=%d tokens=%zu rate=%g", d->cfg.tls_cert != NULL,
              d->ntokens, d->cfg.http.rate_per_sec);
}

static int64_t receipt_alg(const char *name)
{
    return name ? scitt_cose_alg_from_name(scitt_span_str(name)) : 0;
}

/* Every start-up failure: one line on stderr, and the exit status. */
static int fail(int status, scitt_err e, const char *reason)
{
    fprintf(stderr, "scittd: %s\n", reason && reason[0] ? reason : scitt_err_str(e));
    return status;
}

int main(int argc, char **argv)
{
    static scittd d;
    char reason[512] = "";
    scittd_cli cli;
    const char *file;
    g_argc = argc;
    g_argv = argv;
    scitt_err e = scittd_options_load(argc, argv, SCITTD_CONFIG_FILE, &d.cfg, &cli, &file, reason,
                                      sizeof(reason));
    if (e != SCITT_OK) {
        return fail(2, e, reason);
    }
    if (cli.help || cli.version) {
        scitt_dynbuf help;
        scitt_dynbuf_init(&help, 0);
        if (cli.help) {
            e = scittd_options_help(&help);
        } else {
            scitt_dynbuf_str(&help, "scittd " SCITTD_VERSION "\n");
        }
        fwrite(help.ptr, 1, help.len, stdout);
        scitt_dynbuf_clear(&help);
        scittd_config_free(&d.cfg);
        return e == SCITT_OK ? 0 : 1;
    }
    scitt_log_level lvl;
    if (!scitt_log_parse_level(d.cfg.log_level, &lvl)) {
        return fail(2, SCITT_ERR_INVALID_ARG, "log-level must be error, warn, info or debug");
    }
    scitt_log_set_level(lvl);
    if (d.cfg.public_url && !scittd_public_url_valid(d.cfg.public_url)) {
        return fail(2, SCITT_ERR_INVALID_ARG,
                    "--public-url must be an http:// or https:// URL without query or spaces");
    }
    if (d.cfg.storage && strncmp(d.cfg.storage, "postgresql://", 13) != 0 &&
        strncmp(d.cfg.storage, "postgres://", 11) != 0) {
        return fail(2, SCITT_ERR_INVALID_ARG, "--storage must be a postgresql:// URL");
    }
    signal(SIGPIPE, SIG_IGN);
    /* Everything that can be checked before the data directory is: files that must parse. */
    if (d.cfg.auth_tokens_file) {
        e = load_tokens(d.cfg.auth_tokens_file, d.tokens, &d.ntokens, reason, sizeof(reason));
        if (e != SCITT_OK) {
            return fail(2, e, reason);
        }
    }
    size_t policy_len = 0;
    uint8_t *policy = NULL;
    if (d.cfg.policy_file) {
        e = slurp(d.cfg.policy_file, 4u << 20, &policy, &policy_len, reason, sizeof(reason));
        scitt_policy *p = NULL;
        char why[400] = "";
        if (e == SCITT_OK) {
            e = scitt_policy_parse(scitt_span_make(policy, policy_len), &p, why, sizeof(why));
            snprintf(reason, sizeof(reason), "%.100s: %s", d.cfg.policy_file,
                     why[0] ? why : scitt_err_str(e));
            scitt_policy_free(p);
        }
        if (e != SCITT_OK) {
            free(policy);
            return fail(2, e, reason);
        }
    }
    if (cli.check_config) {
        scitt_dynbuf out;
        scitt_dynbuf_init(&out, 0);
        scitt_dynbuf_printf(&out, "# scittd %s: the effective configuration (file: %s)\n",
                            SCITTD_VERSION, file ? file : "none");
        e = scittd_options_dump(&d.cfg, &out);
        fwrite(out.ptr, 1, out.len, stdout);
        scitt_dynbuf_clear(&out);
        free(policy);
        scittd_config_free(&d.cfg);
        return e == SCITT_OK ? 0 : 1;
    }
    /* A token's key is refused with a TEE platform, named (checked before the platform is
     * probed) or found (receipt_key.h). */
    bool named = d.cfg.receipt_key && strcmp(d.cfg.platform, "auto") != 0;
    e = SCITT_OK;
    if (!named && scittd_platform_choose(&d, reason, sizeof(reason)) != SCITT_OK) {
        e = SCITT_ERR_NO_TEE;
    }
    scitt_cose_signer receipt_signer;
    if (e == SCITT_OK && d.cfg.receipt_key) {
        e = scittd_receipt_key_open(d.cfg.receipt_key, d.cfg.rotate_key,
                                    named ? d.cfg.platform : d.platform, &receipt_signer, reason,
                                    sizeof(reason));
    }
    if (e == SCITT_OK && named && scittd_platform_choose(&d, reason, sizeof(reason)) != SCITT_OK) {
        e = SCITT_ERR_NO_TEE;
    }
    if (e != SCITT_OK) {
        free(policy);
        return fail(2, e, reason);
    }
    if ((e = hash_binary(&d, reason, sizeof(reason))) != SCITT_OK) {
        free(policy);
        return fail(1, e, reason);
    }
    if ((e = scittd_keyrel_load(&d, reason, sizeof(reason))) != SCITT_OK) {
        free(policy);
        return fail(e == SCITT_ERR_NOMEM ? 1 : 2, e, reason);
    }
    /* The libuv pool runs the registrations' check stage only; reads have a pool of their own. */
    unsigned cores2 = (unsigned)(2 * sysconf(_SC_NPROCESSORS_ONLN));
    char workers[16];
    snprintf(workers, sizeof(workers), "%u", d.cfg.workers ? d.cfg.workers : cores2);
    setenv("UV_THREADPOOL_SIZE", workers, 1);

    /* Listen before the data directory is touched: an address in use changes nothing. The loop
     * does not run before every route is added, so nothing is accepted until then. */
    d.loop = uv_default_loop();
    scitt_http_config hc = d.cfg.http;
    hc.rate_burst = (double)d.cfg.rate_burst;
    hc.max_body_bytes = d.cfg.max_body ? d.cfg.max_body : hc.max_body_bytes;
    if (scitt_http_server_new(d.loop, &hc, &d.http) != SCITT_OK) {
        free(policy);
        return fail(1, SCITT_ERR_NOMEM, "cannot start the HTTP server");
    }
    scitt_http_tls tls = {d.cfg.tls_cert, d.cfg.tls_key};
    int ports[SCITTD_MAX_LISTEN];
    for (size_t i = 0; i < d.cfg.nlisten; i++) {
        e = scitt_http_server_listen(d.http, d.cfg.listen[i], d.cfg.tls_cert ? &tls : NULL,
                                     &ports[i]);
        if (e != SCITT_OK) {
            snprintf(reason, sizeof(reason), "cannot listen on %.300s: %s", d.cfg.listen[i],
                     e == SCITT_ERR_BUSY     ? "the address is already in use"
                     : e == SCITT_ERR_CRYPTO ? "the TLS certificate or key cannot be used"
                                             : scitt_err_str(e));
            free(policy);
            return fail(e == SCITT_ERR_INVALID_ARG ? 2 : 1, e, reason);
        }
    }

    bool created = mkdir(d.cfg.data_dir, 0700) == 0;
    if (!created && errno != EEXIST) {
        snprintf(reason, sizeof(reason), "cannot create %.300s: %s", d.cfg.data_dir,
                 strerror(errno));
        free(policy);
        return fail(2, SCITT_ERR_IO, reason);
    }
    e = lock_data_dir(d.cfg.data_dir, reason, sizeof(reason));
    if (e != SCITT_OK) {
        free(policy);
        return fail(2, e, reason);
    }
    /* --join: the keys of the running instance, after attestation, when we have none */
    if ((e = scittd_keyrel_join(&d, reason, sizeof(reason))) != SCITT_OK) {
        if (created) {
            nftw(d.cfg.data_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        }
        free(policy);
        return fail(e == SCITT_ERR_INVALID_ARG ? 2 : 1, e, reason);
    }
    scitt_service_config sc;
    memset(&sc, 0, sizeof(sc));
    sc.data_dir = d.cfg.data_dir;
    sc.issuer = d.cfg.issuer;
    sc.origin = d.cfg.origin;
    sc.policy_json = scitt_span_make(policy, policy_len);
    sc.receipt_alg = receipt_alg(d.cfg.receipt_alg);
    sc.rotate_receipt_key = d.cfg.rotate_key;
    sc.map_size = d.cfg.map_size;
    sc.map_size_max = d.cfg.map_size_max;
    sc.batch_max = d.cfg.batch_max;
    sc.batch_delay_ms = d.cfg.batch_delay_ms;
    sc.storage = d.cfg.storage;
    sc.lease_ms = d.cfg.lease_ms;
    scittd_lease_holder(&d);
    sc.holder = d.holder;
    sc.keystore = &d.keystore;
    sc.receipt_signer = d.cfg.receipt_key ? &receipt_signer : NULL;
    e = scitt_service_open(&sc, &d.svc, reason, sizeof(reason));
    free(policy);
    if (e != SCITT_OK) {
        if (created) {
            /* A data directory this start made and could not finish goes: nothing half-made. */
            nftw(d.cfg.data_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        }
        return fail(e == SCITT_ERR_POLICY || e == SCITT_ERR_STATE || e == SCITT_ERR_INVALID_ARG ? 2
                                                                                                : 1,
                    e, reason);
    }
    /* The evidence binding this service's keys, made once at start (nonces ask for fresh). */
    scitt_dynbuf_init(&d.bundle, 0);
    if (scittd_platform_bundle(&d, scitt_span_make(NULL, 0), &d.bundle) != SCITT_OK) {
        snprintf(reason, sizeof(reason), "cannot obtain evidence from the %s platform", d.platform);
        return fail(1, SCITT_ERR_NO_TEE, reason);
    }
    if (d.insecure) {
        SCITT_LOG(SCITT_LOG_WARN, "platform",
                  "platform=virtual INSECURE=1 warning=\"no TEE: keys %s, evidence unsigned\"",
                  d.cfg.keystore_key ? "encrypted under --keystore-key (no TEE protects that key)"
                                     : "in a plain file");
    }
    scittd_lease_watch(&d);
    scitt_err state = scitt_ledger_state(scitt_service_ledger(d.svc));
    if (state != SCITT_OK) {
        SCITT_LOG(SCITT_LOG_ERROR, "integrity", "err=%s action=\"registrations refused\"",
                  scitt_err_name(state));
    }
    if (scitt_policy_is_development(scitt_service_policy(d.svc))) {
        SCITT_LOG(SCITT_LOG_WARN, "policy",
                  "development=1 warning=\"any issuer with an x5chain leaf is accepted\"");
    }

    size_t max_body =
        d.cfg.max_body ? d.cfg.max_body : scitt_policy_max_bytes(scitt_service_policy(d.svc));
    scitt_http_server_set_max_body(d.http, max_body);
    if (scittd_register_init(&d) ||
        scittd_reads_start(&d, d.cfg.read_workers ? d.cfg.read_workers : cores2,
                           d.cfg.costly_read_workers) != SCITT_OK) {
        return fail(1, SCITT_ERR_NOMEM, "cannot start the worker threads");
    }
    scittd_metrics_init(&d);
    char wreason[512] = "";
    if (scittd_witness_start(&d, wreason, sizeof(wreason)) != SCITT_OK) {
        return fail(2, SCITT_ERR_INVALID_ARG, wreason);
    }
    if (scittd_witness_role_start(&d, wreason, sizeof(wreason)) != SCITT_OK) {
        return fail(2, SCITT_ERR_INVALID_ARG, wreason);
    }
    if (scittd_add_routes(&d, max_body) != SCITT_OK || scittd_keyrel_routes(&d) != SCITT_OK ||
        scittd_events_init(&d) != SCITT_OK) {
        return fail(1, SCITT_ERR_NOMEM, "cannot add the routes");
    }
    char ready[16 + 8 * SCITTD_MAX_LISTEN] = "READY port=";
    for (size_t i = 0; i < d.cfg.nlisten; i++) {
        SCITT_LOG(SCITT_LOG_INFO, "listening",
                  "addr=%s port=%d tls=%d platform=%s%s issuer=\"%s\" origin=\"%s\"",
                  d.cfg.listen[i], ports[i], d.cfg.tls_cert != NULL, d.platform,
                  d.insecure ? " INSECURE=1" : "", scitt_service_issuer(d.svc),
                  scitt_service_origin(d.svc));
        size_t at = strlen(ready);
        snprintf(ready + at, sizeof(ready) - at, "%s%d", i ? "," : "", ports[i]);
    }
    /* Signals are handled before anyone is told that scittd is ready (a reload or a stop sent
     * right after READY must not find the default action). */
    uv_signal_init(d.loop, &sig_term);
    uv_signal_init(d.loop, &sig_int);
    uv_signal_init(d.loop, &sig_hup);
    sig_term.data = sig_int.data = sig_hup.data = &d;
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_signal_start(&sig_hup, on_hup, SIGHUP);
    if (d.cfg.print_ports) {
        /* One line, flushed at once: whoever reads it may connect immediately. */
        printf("%s\n", ready);
        fflush(stdout);
    }
    scittd_notify("READY=1"); /* every listener accepts: Type=notify units start now */
    uv_run(d.loop, UV_RUN_DEFAULT);

    /* The loop has drained: commit the last batches, answer them, then close. */
    scitt_ledger_drain(scitt_service_ledger(d.svc));
    scittd_register_stop(&d);
    scittd_reads_stop(&d);
    scittd_witness_stop(&d); /* its threads read the ledger */
    scittd_witness_role_stop(&d);
    scitt_service_close(d.svc);
    scittd_receipt_key_close();
    scitt_http_server_free(d.http);
    scittd_register_free(&d);
    scittd_reads_free(&d);
    scitt_dynbuf_clear(&d.bundle);
    scitt_dynbuf_clear(&d.dcap_collateral);
    scittd_keyrel_free(&d);
    uv_loop_close(d.loop);
    scittd_config_free(&d.cfg);
    SCITT_LOG(SCITT_LOG_INFO, "stopped", "clean=1");
    return 0;
}
