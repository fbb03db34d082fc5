/*
 * scittd: the transparency service daemon. Parses the command line, opens the service, starts
 * the HTTP listeners and runs the event loop until SIGTERM or SIGINT, then stops accepting,
 * finishes what is in flight and closes the ledger cleanly.
 */
#include "scittd.h"
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SCITTD_VERSION
#define SCITTD_VERSION "0.1.0"
#endif

static const char usage[] =
    "usage: scittd [options]\n"
    "\n"
    "The scittd transparency service: registers COSE Signed Statements (SCRAPI), appends them\n"
    "to an RFC 9162 Merkle tree in LMDB and returns RFC 9942 receipts.\n"
    "\n"
    "  --data DIR              data directory (default ./data)\n"
    "  --listen HOST:PORT      listen address, repeatable (default 127.0.0.1:8000)\n"
    "  --tls-cert FILE         TLS certificate chain (PEM) for every listener\n"
    "  --tls-key FILE          TLS private key (PEM)\n"
    "  --policy FILE           registration policy (JSON, docs/policy.md); default: the\n"
    "                          development policy (any issuer with an x5chain leaf) on a\n"
    "                          new log; a log with another policy in force needs --policy\n"
    "  --issuer NAME           iss of receipts (default scittd.local; fixed at first start)\n"
    "  --origin NAME           checkpoint origin and receipt sub (default: the issuer)\n"
    "  --batch-max N           entries per batch (default 4096)\n"
    "  --batch-delay-ms T      let a batch fill for T ms after its first registration (default 0:\n"
    "                          adaptive, no wait while sparse, 1 ms above 2,000/s)\n"
    "  --max-body BYTES        largest request body (default: the policy's statement limit)\n"
    "  --rate-limit N/s        per-IP request rate (token bucket, burst 2N; default off)\n"
    "  --auth-tokens FILE      bearer tokens required to register, one per line\n"
    "  --platform P            auto, snp or virtual (default auto)\n"
    "  --insecure-virtual      allow the INSECURE virtual platform (no TEE)\n"
    "  --snp-endorsements F    PEM of the VCEK, ASK and ARK for SEV-SNP evidence (default: the\n"
    "                          firmware's certificate table, then $UVM_SECURITY_CONTEXT_DIR)\n"
    "  --tee-configfs DIR      configfs-tsm report directory (default "
    "/sys/kernel/config/tsm/report)\n"
    "  --sev-guest PATH        SEV guest device (default /dev/sev-guest)\n"
    "  --receipt-alg ALG       receipt key algorithm at first start: ES256, ES384 or EdDSA\n"
    "  --rotate-receipt-key    add a new receipt key; old keys stay published\n"
    "  --map-size BYTES        initial LMDB map size (default 1G; suffixes K, M, G, T)\n"
    "  --map-size-max BYTES    grow the map on demand up to this (default 1T)\n"
    "  --workers N             threads checking statements (default: 2 x cores)\n"
    "  --header-timeout-ms T   time to receive a request's headers (default 10000)\n"
    "  --body-timeout-ms T     time to receive a request's body (default 30000)\n"
    "  --log-level L           error, warn, info or debug (default info)\n"
    "  --print-ports           once listening, print \"READY port=P[,P...]\" on stdout, one\n"
    "                          port per --listen in order (for supervisors and tests that\n"
    "                          listen on port 0)\n"
    "  --no-ui                 do not serve the explorer (/ui/)\n"
    "  --help, --version\n"
    "\n"
    "Example (no TEE on this machine):\n"
    "  scittd --data ./data --listen 127.0.0.1:8000 --platform virtual --insecure-virtual\n";

static bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) {
        return false;
    }
    uint64_t mul = 1;
    if (*end == 'K' || *end == 'k') {
        mul = 1ull << 10, end++;
    } else if (*end == 'M' || *end == 'm') {
        mul = 1ull << 20, end++;
    } else if (*end == 'G' || *end == 'g') {
        mul = 1ull << 30, end++;
    } else if (*end == 'T' || *end == 't') {
        mul = 1ull << 40, end++;
    }
    if (*end || v > UINT64_MAX / mul) {
        return false;
    }
    *out = v * mul;
    return true;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max) {
        return false;
    }
    *out = v;
    return true;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("scittd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void parse_args(int argc, char **argv, scittd_config *c)
{
    enum {
        O_DATA = 1,
        O_LISTEN,
        O_CERT,
        O_KEY,
        O_POLICY,
        O_ISSUER,
        O_ORIGIN,
        O_BMAX,
        O_BDELAY,
        O_MAXBODY,
        O_RATE,
        O_TOKENS,
        O_PLATFORM,
        O_INSECURE,
        O_ALG,
        O_ROTATE,
        O_MAP,
        O_MAPMAX,
        O_WORKERS,
        O_LOG,
        O_HTIMEOUT,
        O_BTIMEOUT,
        O_PORTS,
        O_HELP,
        O_VERSION,
        O_SNPCERTS,
        O_CONFIGFS,
        O_SEVGUEST,
        O_NOUI
    };
    static const struct option opts[] = {{"data", 1, 0, O_DATA},
                                         {"listen", 1, 0, O_LISTEN},
                                         {"tls-cert", 1, 0, O_CERT},
                                         {"tls-key", 1, 0, O_KEY},
                                         {"policy", 1, 0, O_POLICY},
                                         {"issuer", 1, 0, O_ISSUER},
                                         {"origin", 1, 0, O_ORIGIN},
                                         {"batch-max", 1, 0, O_BMAX},
                                         {"batch-delay-ms", 1, 0, O_BDELAY},
                                         {"max-body", 1, 0, O_MAXBODY},
                                         {"rate-limit", 1, 0, O_RATE},
                                         {"auth-tokens", 1, 0, O_TOKENS},
                                         {"platform", 1, 0, O_PLATFORM},
                                         {"insecure-virtual", 0, 0, O_INSECURE},
                                         {"receipt-alg", 1, 0, O_ALG},
                                         {"rotate-receipt-key", 0, 0, O_ROTATE},
                                         {"map-size", 1, 0, O_MAP},
                                         {"map-size-max", 1, 0, O_MAPMAX},
                                         {"workers", 1, 0, O_WORKERS},
                                         {"log-level", 1, 0, O_LOG},
                                         {"header-timeout-ms", 1, 0, O_HTIMEOUT},
                                         {"body-timeout-ms", 1, 0, O_BTIMEOUT},
                                         {"print-ports", 0, 0, O_PORTS},
                                         {"snp-endorsements", 1, 0, O_SNPCERTS},
                                         {"tee-configfs", 1, 0, O_CONFIGFS},
                                         {"sev-guest", 1, 0, O_SEVGUEST},
                                         {"no-ui", 0, 0, O_NOUI},
                                         {"help", 0, 0, O_HELP},
                                         {"version", 0, 0, O_VERSION},
                                         {0, 0, 0, 0}};
    memset(c, 0, sizeof(*c));
    c->data_dir = "./data";
    c->platform = "auto";
    c->log_level = "info";
    c->map_size = 1ull << 30;
    c->map_size_max = 1ull << 40;
    int o;
    unsigned long v;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case O_DATA:
            c->data_dir = optarg;
            break;
        case O_LISTEN:
            if (c->nlisten == SCITTD_MAX_LISTEN) {
                die("at most %s --listen addresses", "8");
            }
            c->listen[c->nlisten++] = optarg;
            break;
        case O_CERT:
            c->tls_cert = optarg;
            break;
        case O_KEY:
            c->tls_key = optarg;
            break;
        case O_POLICY:
            c->policy_file = optarg;
            break;
        case O_ISSUER:
            c->issuer = optarg;
            break;
        case O_ORIGIN:
            c->origin = optarg;
            break;
        case O_BMAX:
            if (!parse_uint(optarg, 1u << 20, &v) || v == 0) {
                die("--batch-max must be 1..1048576, not \"%s\"", optarg);
            }
            c->batch_max = (unsigned)v;
            break;
        case O_BDELAY:
            if (!parse_uint(optarg, 10000, &v)) {
                die("--batch-delay-ms must be 0..10000, not \"%s\"", optarg);
            }
            c->batch_delay_ms = (unsigned)v;
            break;
        case O_MAXBODY: {
            uint64_t b;
            if (!parse_size(optarg, &b) || b == 0 || b > (16u << 20)) {
                die("--max-body must be 1..16M, not \"%s\"", optarg);
            }
            c->max_body = (size_t)b;
            break;
        }
        case O_RATE: {
            char *end;
            double r = strtod(optarg, &end);
            if (end == optarg || r <= 0 || (*end && strcmp(end, "/s") != 0)) {
                die("--rate-limit must look like 100/s, not \"%s\"", optarg);
            }
            c->rate_limit = r;
            break;
        }
        case O_TOKENS:
            c->auth_tokens_file = optarg;
            break;
        case O_PLATFORM:
            if (strcmp(optarg, "auto") && strcmp(optarg, "snp") && strcmp(optarg, "virtual")) {
                die("--platform must be auto, snp or virtual, not \"%s\"", optarg);
            }
            c->platform = optarg;
            break;
        case O_INSECURE:
            c->insecure_virtual = true;
            break;
        case O_SNPCERTS:
            c->snp_endorsements = optarg;
            break;
        case O_CONFIGFS:
            c->tee_configfs = optarg;
            break;
        case O_SEVGUEST:
            c->sev_guest = optarg;
            break;
        case O_ALG:
            c->receipt_alg = optarg;
            break;
        case O_ROTATE:
            c->rotate_key = true;
            break;
        case O_MAP:
            if (!parse_size(optarg, &c->map_size) || c->map_size < (1u << 20)) {
                die("--map-size must be at least 1M, not \"%s\"", optarg);
            }
            break;
        case O_MAPMAX:
            if (!parse_size(optarg, &c->map_size_max)) {
                die("--map-size-max is not a size: \"%s\"", optarg);
            }
            break;
        case O_WORKERS:
            if (!parse_uint(optarg, 128, &v) || v == 0) {
                die("--workers must be 1..128, not \"%s\"", optarg);
            }
            c->workers = (unsigned)v;
            break;
        case O_LOG:
            c->log_level = optarg;
            break;
        case O_HTIMEOUT:
        case O_BTIMEOUT:
            if (!parse_uint(optarg, 3600000, &v) || v < 100) {
                die("--%s-timeout-ms must be 100..3600000, not \"%s\"",
                    o == O_HTIMEOUT ? "header" : "body", optarg);
            }
            *(o == O_HTIMEOUT ? &c->header_timeout_ms : &c->body_timeout_ms) = (unsigned)v;
            break;
        case O_PORTS:
            c->print_ports = true;
            break;
        case O_NOUI:
            c->no_ui = true;
            break;
        case O_HELP:
            fputs(usage, stdout);
            exit(0);
        case O_VERSION:
            printf("scittd %s\n", SCITTD_VERSION);
            exit(0);
        default:
            fputs("scittd: unknown option (see scittd --help)\n", stderr);
            exit(2);
        }
    }
    if (optind < argc) {
        die("unexpected argument \"%s\" (see scittd --help)", argv[optind]);
    }
    if (c->nlisten == 0) {
        c->listen[c->nlisten++] = "127.0.0.1:8000";
    }
    if (!c->tls_cert != !c->tls_key) {
        die("%s", "--tls-cert and --tls-key go together");
    }
}

/* Reads a whole (small) file; exits with a one-line message when it cannot. */
static uint8_t *slurp(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "scittd: cannot open %s: %s\n", path, strerror(errno));
        exit(2);
    }
    uint8_t *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    fclose(f);
    if (!buf || n > max) {
        fprintf(stderr, "scittd: %s is larger than %zu bytes\n", path, max);
        exit(2);
    }
    *len = n;
    return buf;
}

static void load_tokens(scittd *d)
{
    size_t len;
    char *text = (char *)slurp(d->cfg.auth_tokens_file, 1u << 20, &len);
    text[len] = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t')) {
            line[--n] = 0;
        }
        if (n == 0 || line[0] == '#') {
            continue;
        }
        if (n < 16) {
            fprintf(stderr, "scittd: %s: tokens must be at least 16 characters\n",
                    d->cfg.auth_tokens_file);
            exit(2);
        }
        if (d->ntokens == SCITTD_MAX_TOKENS) {
            fprintf(stderr, "scittd: %s: at most %d tokens\n", d->cfg.auth_tokens_file,
                    SCITTD_MAX_TOKENS);
            exit(2);
        }
        scitt_sha256(line, n, d->tokens[d->ntokens++]);
    }
    scitt_wipe(text, len);
    free(text);
    if (d->ntokens == 0) {
        fprintf(stderr, "scittd: %s holds no tokens\n", d->cfg.auth_tokens_file);
        exit(2);
    }
}

/* The measurement of the virtual platform: SHA-384 of the running binary. */
static void hash_binary(scittd *d)
{
    size_t len;
    uint8_t *bin = slurp("/proc/self/exe", 1u << 30, &len);
    scitt_sha384(bin, len, d->binary_sha384);
    free(bin);
}

/*
 * One daemon per data directory: a second one would run its own sequencer on the same log, and
 * its registrations would fail against the first one's appends (or, with another policy file,
 * register a policy the first one does not apply). The lock is held until the process exits.
 */
static void lock_data_dir(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/scittd.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "scittd: cannot open %s: %s\n", path, strerror(errno));
        exit(2);
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "scittd: %s is in use by another scittd (%s is locked)\n", dir,
                errno == EWOULDBLOCK ? path : strerror(errno));
        exit(2);
    }
}

static uv_signal_t sig_term, sig_int;

static void on_http_closed(scitt_http_server *srv, void *ctx)
{
    (void)srv;
    (void)ctx;
    uv_close((uv_handle_t *)&sig_term, NULL);
    uv_close((uv_handle_t *)&sig_int, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    scittd *d = h->data;
    SCITT_LOG(SCITT_LOG_INFO, "shutdown", "signal=%d", signum);
    scittd_notify("STOPPING=1");
    uv_signal_stop(&sig_term);
    uv_signal_stop(&sig_int);
    scittd_events_stop(d); /* event streams never finish by themselves */
    scitt_http_server_shutdown(d->http, 10000, on_http_closed, d);
}

static int64_t receipt_alg(const char *name)
{
    if (!name) {
        return 0;
    }
    int64_t alg = scitt_cose_alg_from_name(scitt_span_str(name));
    if (alg != SCITT_COSE_ALG_ES256 && alg != SCITT_COSE_ALG_ES384 && alg != SCITT_COSE_ALG_EDDSA) {
        die("--receipt-alg must be ES256, ES384 or EdDSA, not \"%s\"", name);
    }
    return alg;
}

int main(int argc, char **argv)
{
    static scittd d;
    parse_args(argc, argv, &d.cfg);
    scitt_log_level lvl;
    if (!scitt_log_parse_level(d.cfg.log_level, &lvl)) {
        die("--log-level must be error, warn, info or debug, not \"%s\"", d.cfg.log_level);
    }
    scitt_log_set_level(lvl);
    signal(SIGPIPE, SIG_IGN);
    char why[512];
    if (scittd_platform_choose(&d, why, sizeof(why)) != SCITT_OK) {
        fprintf(stderr, "scittd: %s\n", why);
        return 2;
    }
    if (d.cfg.auth_tokens_file) {
        load_tokens(&d);
    }
    hash_binary(&d);
    char workers[16];
    snprintf(workers, sizeof(workers), "%u",
             d.cfg.workers ? d.cfg.workers : (unsigned)(2 * sysconf(_SC_NPROCESSORS_ONLN)));
    setenv("UV_THREADPOOL_SIZE", workers, 1);

    size_t policy_len = 0;
    uint8_t *policy = d.cfg.policy_file ? slurp(d.cfg.policy_file, 4u << 20, &policy_len) : NULL;
    if (mkdir(d.cfg.data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "scittd: cannot create %s: %s\n", d.cfg.data_dir, strerror(errno));
        return 2;
    }
    lock_data_dir(d.cfg.data_dir);
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
    sc.keystore = &d.keystore;
    char reason[512];
    scitt_err e = scitt_service_open(&sc, &d.svc, reason, sizeof(reason));
    free(policy);
    if (e != SCITT_OK) {
        fprintf(stderr, "scittd: %s\n", reason);
        return e == SCITT_ERR_POLICY || e == SCITT_ERR_STATE || e == SCITT_ERR_INVALID_ARG ? 2 : 1;
    }
    /* The evidence binding this service's keys, made once at start (nonces ask for fresh). */
    scitt_dynbuf_init(&d.bundle, 0);
    if (scittd_platform_bundle(&d, scitt_span_make(NULL, 0), &d.bundle) != SCITT_OK) {
        fprintf(stderr, "scittd: cannot obtain evidence from the %s platform\n", d.platform);
        return 1;
    }
    if (d.insecure) {
        SCITT_LOG(SCITT_LOG_WARN, "platform",
                  "platform=virtual INSECURE=1 warning=\"no TEE: keys in a plain file, evidence "
                  "unsigned\"");
    }
    scitt_err state = scitt_ledger_state(scitt_service_ledger(d.svc));
    if (state != SCITT_OK) {
        SCITT_LOG(SCITT_LOG_ERROR, "integrity", "err=%s action=\"registrations refused\"",
                  scitt_err_name(state));
    }
    if (scitt_policy_is_development(scitt_service_policy(d.svc))) {
        SCITT_LOG(SCITT_LOG_WARN, "policy",
                  "development=1 warning=\"any issuer with an x5chain leaf is accepted\"");
    }

    d.loop = uv_default_loop();
    scitt_http_config hc;
    scitt_http_config_defaults(&hc);
    size_t max_body =
        d.cfg.max_body ? d.cfg.max_body : scitt_policy_max_bytes(scitt_service_policy(d.svc));
    hc.max_body_bytes = max_body;
    if (d.cfg.header_timeout_ms) {
        hc.header_timeout_ms = d.cfg.header_timeout_ms;
    }
    if (d.cfg.body_timeout_ms) {
        hc.body_timeout_ms = d.cfg.body_timeout_ms;
    }
    if (d.cfg.rate_limit > 0) {
        hc.rate_per_sec = d.cfg.rate_limit;
        hc.rate_burst = d.cfg.rate_limit * 2;
    }
    if (scitt_http_server_new(d.loop, &hc, &d.http) != SCITT_OK || scittd_register_init(&d)) {
        fputs("scittd: cannot start the HTTP server\n", stderr);
        return 1;
    }
    scittd_metrics_init(&d);
    if (scittd_add_routes(&d, max_body) != SCITT_OK || scittd_events_init(&d) != SCITT_OK) {
        fputs("scittd: cannot add the routes\n", stderr);
        return 1;
    }
    scitt_http_tls tls = {d.cfg.tls_cert, d.cfg.tls_key};
    char ready[16 + 8 * SCITTD_MAX_LISTEN] = "READY port=";
    for (size_t i = 0; i < d.cfg.nlisten; i++) {
        int port;
        e = scitt_http_server_listen(d.http, d.cfg.listen[i], d.cfg.tls_cert ? &tls : NULL, &port);
        if (e != SCITT_OK) {
            fprintf(stderr, "scittd: cannot listen on %s: %s\n", d.cfg.listen[i],
                    e == SCITT_ERR_CRYPTO ? "the TLS certificate or key cannot be used"
                                          : scitt_err_str(e));
            return 1;
        }
        SCITT_LOG(SCITT_LOG_INFO, "listening",
                  "addr=%s port=%d tls=%d platform=%s%s issuer=\"%s\" origin=\"%s\"",
                  d.cfg.listen[i], port, d.cfg.tls_cert != NULL, d.platform,
                  d.insecure ? " INSECURE=1" : "", scitt_service_issuer(d.svc),
                  scitt_service_origin(d.svc));
        size_t at = strlen(ready);
        snprintf(ready + at, sizeof(ready) - at, "%s%d", i ? "," : "", port);
    }
    if (d.cfg.print_ports) {
        /* One line, flushed at once: whoever reads it may connect immediately. */
        printf("%s\n", ready);
        fflush(stdout);
    }
    scittd_notify("READY=1"); /* every listener accepts: Type=notify units start now */
    uv_signal_init(d.loop, &sig_term);
    uv_signal_init(d.loop, &sig_int);
    sig_term.data = sig_int.data = &d;
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_run(d.loop, UV_RUN_DEFAULT);

    /* The loop has drained: commit the last batches, answer them, then close. */
    scitt_ledger_drain(scitt_service_ledger(d.svc));
    scittd_register_stop(&d);
    scitt_service_close(d.svc);
    scitt_http_server_free(d.http);
    scittd_register_free(&d);
    scitt_dynbuf_clear(&d.bundle);
    uv_loop_close(d.loop);
    SCITT_LOG(SCITT_LOG_INFO, "stopped", "clean=1");
    return 0;
}
