/*
 * scitt witness: a C2SP tlog-witness. `keygen` makes a witness key, `vkey` prints its verifier
 * key, `serve` runs the witness: POST /add-checkpoint (tlog-witness), GET /witness/vkey and
 * GET /metrics, on a small threaded HTTP/1.1 server (one request per connection).
 *
 * The witness's decisions and its durable state are libscitt's cosigner (scitt/cosigner.h), the
 * same state machine scittd --witness-key serves: this file is its HTTP front and its options.
 */
#include "cli.h"
#include "http.h" /* libscitt-client's transport: a POST with its own headers */
#include "net.h"
#include "witness.h"
#include "witness_submit.h" /* the add-checkpoint exchange, shared with scittd */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "scitt/attest.h"
#include "scitt/cosigner.h"
#include "scitt/file.h"
#include "scitt/problem.h"
#include "scitt/witness.h"

static const char help[] =
    "usage: scitt witness keygen --name NAME --out FILE [--force]\n"
    "       scitt witness vkey --key FILE\n"
    "       scitt witness serve --key FILE --state DIR --log [ORIGIN=]VKEY [options]\n"
    "       scitt witness collect --url LOG --policy FILE --state DIR [options]\n"
    "\n"
    "A C2SP tlog-witness: cosigns a log's checkpoint only when it is consistent with every\n"
    "checkpoint of that log it cosigned before; and the log's side that gathers cosignatures.\n"
    "  keygen   write a witness key and print its verifier key (vkey)\n"
    "  vkey     print the verifier key of a witness key file\n"
    "  serve    run the witness: POST /add-checkpoint, GET /witness/vkey, GET /metrics\n"
    "  collect  submit a log's newest checkpoint to the witnesses of a policy, write it cosigned\n"
    "Each subcommand's --help lists its options.\n"
    "\n"
    "Example:\n"
    "  scitt witness keygen --name witness.example/w1 --out w1.key\n";

static const char help_keygen[] =
    "usage: scitt witness keygen --name NAME --out FILE [--force]\n"
    "\n"
    "Writes a witness key (mode 0600) and prints its verifier key (vkey, cosignature type 4).\n"
    "  --name NAME        the witness's key name (e.g. witness.example/w1)\n"
    "  --out FILE         the key file\n"
    "  --force            replace an existing FILE\n";

static const char help_vkey[] = "usage: scitt witness vkey --key FILE\n"
                                "\n"
                                "Prints the verifier key (vkey) of a witness key file.\n"
                                "  --key FILE         the witness key file\n";

static const char help_serve[] =
    "usage: scitt witness serve --key FILE --state DIR --log [ORIGIN=]VKEY [--log ...]\n"
    "                           [--listen ADDR:PORT] [--max-connections N] [--timeout-ms N]\n"
    "                           [--rate-limit N] [--rate-burst N]\n"
    "\n"
    "Runs the witness: POST /add-checkpoint (C2SP tlog-witness), GET /witness/vkey, GET /metrics.\n"
    "  --key FILE         the witness key file\n"
    "  --state DIR        where the latest cosigned checkpoint of each log is kept (locked)\n"
    "  --log [ORIGIN=]VKEY  a log to witness: its checkpoint verifier key (Ed25519 vkey); the\n"
    "                     origin defaults to the key's name\n"
    "  --listen ADDR:PORT default 127.0.0.1:8480 (port 0: any free port, printed on stderr)\n"
    "  --max-connections N  concurrent connections (default 32; more get 503)\n"
    "  --timeout-ms N     per request, to read it whole (default 5000)\n"
    "  --rate-limit N     requests per second from one client address (default 100; more get\n"
    "                     429 with Retry-After)\n"
    "  --rate-burst N     requests a client address may send at once (default 2 x the rate)\n"
    "\n"
    "Example:\n"
    "  scitt witness serve --key w1.key --state w1-state --log \"$(cat log.vkey)\"\n";

static const char help_collect[] =
    "usage: scitt witness collect --url LOG --policy FILE --state DIR [--out FILE]\n"
    "                             [--timeout-ms N]\n"
    "\n"
    "Submits LOG's newest checkpoint to every witness of the policy that has a URL, with\n"
    "consistency proofs from the log, and gathers their cosignatures. With the quorum met the\n"
    "cosigned checkpoint is written (exit 0), else the missing witnesses are named (exit 1).\n"
    "  --url LOG          the log (scittd) base URL: GET /checkpoint, GET /proofs/consistency\n"
    "  --policy FILE      C2SP tlog-policy: log and witness vkeys, witness URLs, the quorum\n"
    "  --state DIR        the size each witness last cosigned\n"
    "  --out FILE         where the cosigned checkpoint goes (default: stdout)\n"
    "  --timeout-ms N     per request (default 10000)\n";

#define MAX_LOGS SCITT_COSIGNER_MAX_LOGS

typedef struct witness {
    scitt_cosigner *cosigner;
    size_t n_logs;
    scitt_cosigner_log logs[MAX_LOGS];
    int timeout_ms;
    unsigned max_conns;
    atomic_uint active;
    atomic_ulong count[6]; /* 200 400 403 404 409 422 */
    atomic_ulong other_errors;
    /* per client address token buckets, used by the accept loop only */
    struct rl_bucket {
        uint32_t addr;
        double tokens;
        struct timespec last;
    } * rl;
    double rate, burst;
    atomic_ulong rate_limited;
} witness;

/* Token buckets per client IPv4 address, hashed into RL_BUCKETS (addresses that share a bucket
 * share its rate: never more than the rate per bucket, whoever sends). */
#define RL_BUCKETS 4096u

static bool rl_admit(witness *w, uint32_t addr)
{
    uint32_t h = (addr * 2654435761u) >> 20; /* 12 bits */
    struct rl_bucket *b = &w->rl[h % RL_BUCKETS];
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (b->last.tv_sec == 0 && b->last.tv_nsec == 0) {
        b->tokens = w->burst;
    } else {
        double dt =
            (double)(now.tv_sec - b->last.tv_sec) + (double)(now.tv_nsec - b->last.tv_nsec) / 1e9;
        b->tokens = b->tokens + dt * w->rate > w->burst ? w->burst : b->tokens + dt * w->rate;
    }
    b->last = now;
    b->addr = addr;
    if (b->tokens < 1) {
        return false;
    }
    b->tokens -= 1;
    return true;
}

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

/* ---- keys ---------------------------------------------------------------------------------- */

static int load_key(const char *path, char name[SCITT_NOTE_NAME_MAX + 1], uint8_t seed[32])
{
    scitt_dynbuf b;
    int rc = cli_slurp(path, SCITT_COSIGNER_KEY_FILE_MAX, &b);
    if (rc != CLI_OK) {
        return rc;
    }
    bool sealed = scitt_is_sealed(scitt_span_make(b.ptr, b.len));
    scitt_err e = scitt_cosigner_key_parse(scitt_span_make(b.ptr, b.len), name, seed);
    scitt_wipe(b.ptr, b.len);
    scitt_dynbuf_clear(&b);
    if (e != SCITT_OK && sealed) {
        return cli_fail(CLI_USAGE,
                        "%s: a key sealed by scittd --witness-key (on SEV-SNP or with "
                        "--keystore-key); only that scittd opens it: give the plain key file",
                        path);
    }
    if (e != SCITT_OK) {
        return cli_fail(CLI_USAGE, "%s: not a witness key file: %s", path, scitt_err_str(e));
    }
    return CLI_OK;
}

static int print_vkey(const char *name, const uint8_t seed[32])
{
    uint8_t pub[32];
    char vk[SCITT_NOTE_VKEY_MAX];
    if (scitt_note_ed25519_public(seed, pub) != SCITT_OK ||
        scitt_cosig_vkey_format(scitt_span_str(name), pub, vk, sizeof(vk)) != SCITT_OK) {
        return cli_fail(CLI_USAGE, "cannot derive the verifier key");
    }
    printf("%s\n", vk);
    return CLI_OK;
}

static int cmd_keygen_witness(int argc, char **argv)
{
    const char *name = NULL, *out = NULL;
    bool force = false;
    static const struct option lo[] = {
        {"name", 1, 0, 'n'}, {"out", 1, 0, 'o'}, {"force", 0, 0, 'f'}, {"help", 0, 0, 'h'}, {0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'n':
            name = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'f':
            force = true;
            break;
        case 'h':
            return cli_help(help_keygen);
        default:
            return cli_usage("bad option");
        }
    }
    if (name == NULL || out == NULL || optind != argc) {
        return cli_usage("keygen needs --name and --out");
    }
    if (!scitt_note_name_valid(scitt_span_str(name))) {
        return cli_fail(CLI_USAGE, "%s: not a valid key name (no spaces or '+')", name);
    }
    struct stat st;
    if (!force && stat(out, &st) == 0) {
        return cli_fail(CLI_USAGE, "%s exists (use --force to replace it)", out);
    }
    uint8_t seed[32];
    FILE *r = fopen("/dev/urandom", "rb");
    if (r == NULL || fread(seed, 1, sizeof(seed), r) != sizeof(seed)) {
        if (r) {
            fclose(r);
        }
        return cli_fail(CLI_USAGE, "cannot read /dev/urandom");
    }
    fclose(r);
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, SCITT_COSIGNER_KEY_FILE_MAX);
    int rc = scitt_cosigner_key_format(name, seed, &b) == SCITT_OK
                 ? cli_save(out, scitt_span_make(b.ptr, b.len), 0600)
                 : cli_fail(CLI_USAGE, "cannot format the key");
    if (rc == CLI_OK) {
        rc = print_vkey(name, seed);
    }
    scitt_wipe(b.ptr, b.len);
    scitt_dynbuf_clear(&b);
    scitt_wipe(seed, sizeof(seed));
    return rc;
}

static int cmd_vkey(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        return cli_help(help_vkey);
    }
    if (argc != 3 || strcmp(argv[1], "--key") != 0) {
        return cli_usage("vkey needs --key FILE");
    }
    char name[SCITT_NOTE_NAME_MAX + 1];
    uint8_t seed[32];
    int rc = load_key(argv[2], name, seed);
    if (rc == CLI_OK) {
        rc = print_vkey(name, seed);
    }
    scitt_wipe(seed, sizeof(seed));
    return rc;
}

/* ---- state --------------------------------------------------------------------------------- */

/* ---- HTTP ---------------------------------------------------------------------------------- */

static void send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            return;
        }
        b += k;
        n -= (size_t)k;
    }
}

static void respond(int fd, int status, const char *reason, const char *ctype, scitt_span body)
{
    char head[320];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\nCache-Control: no-store\r\n%s\r\n",
                     status, reason, ctype, body.len,
                     status == 429 || status == 503 ? "Retry-After: 1\r\n" : "");
    send_all(fd, head, (size_t)n);
    send_all(fd, body.ptr, body.len);
}

static void problem(int fd, int status, const char *reason, const char *detail)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 4096);
    if (scitt_problem_encode(reason, detail, &b) == SCITT_OK) {
        respond(fd, status, reason, "application/concise-problem-details+cbor",
                scitt_span_make(b.ptr, b.len));
    } else {
        respond(fd, status, reason, "text/plain", scitt_span_str(""));
    }
    scitt_dynbuf_clear(&b);
}

/* Room for @p n more bytes at the end of @p b, its length unchanged (NULL past its bound). */
static uint8_t *room(scitt_dynbuf *b, size_t n)
{
    uint8_t *p = scitt_dynbuf_reserve(b, n);
    if (p != NULL) {
        b->len -= n;
    }
    return p;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Reads into @p b until @p want bytes are there; false on error, EOF or the deadline. */
static bool read_more(int fd, scitt_dynbuf *b, size_t want, const struct timespec *t0, int limit)
{
    while (b->len < want) {
        long left = limit - ms_since(t0);
        if (left <= 0) {
            return false;
        }
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return false;
        }
        uint8_t *dst = room(b, want - b->len);
        if (dst == NULL) {
            return false;
        }
        ssize_t k = recv(fd, dst, want - b->len, 0);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            return false;
        }
        b->len += (size_t)k;
    }
    return true;
}

static const int verdicts[6] = {200, 400, 403, 404, 409, 422};

static void count(witness *w, int status)
{
    for (int i = 0; i < 6; i++) {
        if (verdicts[i] == status) {
            atomic_fetch_add(&w->count[i], 1);
            return;
        }
    }
    atomic_fetch_add(&w->other_errors, 1);
}

static const char *status_reason(int s)
{
    switch (s) {
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 409:
        return "Conflict";
    case 422:
        return "Unprocessable Entity";
    default:
        return "Error";
    }
}

static void add_checkpoint(witness *w, int fd, scitt_span body)
{
    scitt_dynbuf out;
    scitt_dynbuf_init(&out, 1024);
    scitt_cosigner_answer a;
    scitt_cosigner_add(w->cosigner, body, &out, &a);
    count(w, a.status == 503 ? 500 : a.status);
    if (a.status == 200) {
        fprintf(stderr, "scitt witness: event=cosigned origin=%s old=%llu size=%llu\n", a.origin,
                (unsigned long long)a.prev_size, (unsigned long long)a.size);
        respond(fd, 200, "OK", a.content_type, scitt_span_make(out.ptr, out.len));
    } else if (a.status == 409) {
        fprintf(stderr,
                "scitt witness: event=refused status=409 origin=%s old=%llu latest=%llu "
                "reason=\"%s\"\n",
                a.origin, (unsigned long long)a.old_size, (unsigned long long)a.prev_size, a.why);
        respond(fd, 409, "Conflict", a.content_type, scitt_span_make(out.ptr, out.len));
    } else if (a.status == 503) {
        if (a.write_errno) {
            fprintf(stderr, "scitt witness: event=state-write-failed origin=%s error=%s\n",
                    a.origin, strerror(a.write_errno));
        }
        problem(fd, 503, "Service Unavailable", a.why);
    } else {
        fprintf(stderr, "scitt witness: event=refused status=%d old=%llu reason=\"%s\"\n", a.status,
                (unsigned long long)a.old_size, a.why);
        problem(fd, a.status, status_reason(a.status), a.why);
    }
    scitt_dynbuf_clear(&out);
}

static void metrics(witness *w, int fd)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 8192);
    scitt_dynbuf_str(&b, "# TYPE scitt_witness_add_checkpoint_total counter\n");
    for (int i = 0; i < 6; i++) {
        scitt_dynbuf_printf(&b, "scitt_witness_add_checkpoint_total{status=\"%d\"} %lu\n",
                            verdicts[i], atomic_load(&w->count[i]));
    }
    scitt_dynbuf_printf(&b, "scitt_witness_errors_total %lu\n", atomic_load(&w->other_errors));
    scitt_dynbuf_printf(&b,
                        "# TYPE scitt_witness_rate_limited_total counter\n"
                        "scitt_witness_rate_limited_total %lu\n",
                        atomic_load(&w->rate_limited));
    scitt_dynbuf_str(&b, "# TYPE scitt_witness_cosigned_size gauge\n");
    const char *origin;
    uint64_t size;
    for (size_t i = 0; scitt_cosigner_size(w->cosigner, i, &origin, &size); i++) {
        scitt_dynbuf_printf(&b, "scitt_witness_cosigned_size{origin=\"%s\"} %llu\n", origin,
                            (unsigned long long)size);
    }
    respond(fd, 200, "OK", "text/plain; version=0.0.4", scitt_span_make(b.ptr, b.len));
    scitt_dynbuf_clear(&b);
}

typedef struct conn {
    witness *w;
    int fd;
} conn;

static void serve_conn(witness *w, int fd)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, WITNESS_HEAD_MAX + SCITT_WITNESS_BODY_MAX);
    wh_request rq;
    scitt_err e = SCITT_ERR_TRUNCATED;
    while (e == SCITT_ERR_TRUNCATED) {
        size_t want = b.len + 1;
        if (!read_more(fd, &b, want, &t0, w->timeout_ms)) {
            break;
        }
        /* take what is already there without blocking */
        uint8_t *dst = b.len < WITNESS_HEAD_MAX ? room(&b, WITNESS_HEAD_MAX - b.len) : NULL;
        if (dst != NULL) {
            ssize_t k = recv(fd, dst, WITNESS_HEAD_MAX - b.len, MSG_DONTWAIT);
            if (k > 0) {
                b.len += (size_t)k;
            }
        }
        e = wh_parse_head(scitt_span_make(b.ptr, b.len), &rq);
    }
    if (e == SCITT_ERR_TRUNCATED) {
        if (b.len > 0) {
            problem(fd, 408, "Request Timeout", "the request did not arrive in time");
        }
        goto out;
    }
    if (e == SCITT_ERR_TOO_LARGE) {
        problem(fd, 431, "Request Header Fields Too Large", "the request head is over 8 KiB");
        goto out;
    }
    if (e != SCITT_OK) {
        problem(fd, 400, "Bad Request", "malformed HTTP request head");
        goto out;
    }
    bool add = scitt_span_eq_str(rq.path, "/add-checkpoint");
    if (add && rq.method == WH_POST) {
        if (!rq.has_length) {
            problem(fd, 411, "Length Required", "Content-Length is required");
            goto out;
        }
        if (rq.length > SCITT_WITNESS_BODY_MAX) {
            problem(fd, 413, "Content Too Large", "the body is over the add-checkpoint bound");
            goto out;
        }
        if (!read_more(fd, &b, rq.head_len + (size_t)rq.length, &t0, w->timeout_ms)) {
            problem(fd, 408, "Request Timeout", "the body did not arrive in time");
            goto out;
        }
        add_checkpoint(w, fd, scitt_span_make(b.ptr + rq.head_len, (size_t)rq.length));
    } else if (rq.method == WH_GET && scitt_span_eq_str(rq.path, "/witness/vkey")) {
        char line[SCITT_NOTE_VKEY_MAX + 1];
        int n = snprintf(line, sizeof(line), "%s\n", scitt_cosigner_vkey(w->cosigner));
        respond(fd, 200, "OK", "text/plain; charset=utf-8", scitt_span_make(line, (size_t)n));
    } else if (rq.method == WH_GET && scitt_span_eq_str(rq.path, "/metrics")) {
        metrics(w, fd);
    } else if (add || scitt_span_eq_str(rq.path, "/witness/vkey") ||
               scitt_span_eq_str(rq.path, "/metrics")) {
        problem(fd, 405, "Method Not Allowed", "wrong method for this path");
    } else {
        problem(fd, 404, "Not Found", "no such path");
    }
out:
    scitt_dynbuf_clear(&b);
}

static void *conn_thread(void *arg)
{
    conn c = *(conn *)arg;
    scitt_free(arg);
    serve_conn(c.w, c.fd);
    shutdown(c.fd, SHUT_WR);
    close(c.fd);
    atomic_fetch_sub(&c.w->active, 1);
    return NULL;
}

static int listen_on(const char *addr, int *port_out)
{
    char host[64];
    const char *colon = strrchr(addr, ':');
    uint64_t port;
    if (colon == NULL || (size_t)(colon - addr) >= sizeof(host) ||
        !cli_parse_u64(colon + 1, 0, 65535, &port)) {
        return -1;
    }
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 64) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    socklen_t sl = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    *port_out = ntohs(sa.sin_port);
    return fd;
}

static int cmd_serve(int argc, char **argv)
{
    const char *key_path = NULL, *state_dir = NULL, *listen_addr = "127.0.0.1:8480";
    uint64_t max_conns = 32, timeout_ms = 5000, rate = 100, burst = 0;
    witness *w = scitt_calloc(1, sizeof(*w));
    if (w == NULL) {
        return cli_fail(CLI_USAGE, "out of memory");
    }
    int rc = CLI_USAGE, lfd = -1;
    static const struct option lo[] = {{"key", 1, 0, 'k'},
                                       {"state", 1, 0, 's'},
                                       {"log", 1, 0, 'l'},
                                       {"listen", 1, 0, 'L'},
                                       {"max-connections", 1, 0, 'm'},
                                       {"timeout-ms", 1, 0, 't'},
                                       {"rate-limit", 1, 0, 'r'},
                                       {"rate-burst", 1, 0, 'b'},
                                       {"help", 0, 0, 'h'},
                                       {0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (!cli_parse_u64(optarg, 1, 100000, &rate)) {
                rc = cli_usage("--rate-limit: 1..100000");
                goto out;
            }
            break;
        case 'b':
            if (!cli_parse_u64(optarg, 1, 1000000, &burst)) {
                rc = cli_usage("--rate-burst: 1..1000000");
                goto out;
            }
            break;
        case 'k':
            key_path = optarg;
            break;
        case 's':
            state_dir = optarg;
            break;
        case 'L':
            listen_addr = optarg;
            break;
        case 'l':
            if (w->n_logs == MAX_LOGS) {
                rc = cli_usage("at most %d --log", MAX_LOGS);
                goto out;
            }
            if (scitt_cosigner_log_parse(optarg, &w->logs[w->n_logs]) != SCITT_OK) {
                rc = cli_usage("--log %s: not [ORIGIN=]VKEY with an Ed25519 vkey", optarg);
                goto out;
            }
            for (size_t i = 0; i < w->n_logs; i++) {
                if (!strcmp(w->logs[i].origin, w->logs[w->n_logs].origin)) {
                    rc = cli_usage("--log %s: origin given twice", optarg);
                    goto out;
                }
            }
            w->n_logs++;
            break;
        case 'm':
            if (!cli_parse_u64(optarg, 1, 1024, &max_conns)) {
                rc = cli_usage("--max-connections: 1..1024");
                goto out;
            }
            break;
        case 't':
            if (!cli_parse_u64(optarg, 100, 600000, &timeout_ms)) {
                rc = cli_usage("--timeout-ms: 100..600000");
                goto out;
            }
            break;
        case 'h':
            rc = cli_help(help_serve);
            goto out;
        default:
            rc = cli_usage("bad option");
            goto out;
        }
    }
    if (key_path == NULL || state_dir == NULL || w->n_logs == 0 || optind != argc) {
        rc = cli_usage("serve needs --key, --state and at least one --log");
        goto out;
    }
    w->timeout_ms = (int)timeout_ms;
    w->max_conns = (unsigned)max_conns;
    w->rate = (double)rate;
    w->burst = burst ? (double)burst : 2.0 * (double)rate;
    w->rl = scitt_calloc(RL_BUCKETS, sizeof(*w->rl));
    if (w->rl == NULL) {
        rc = cli_fail(CLI_USAGE, "out of memory");
        goto out;
    }
    uint8_t seed[32];
    char name[SCITT_NOTE_NAME_MAX + 1];
    if ((rc = load_key(key_path, name, seed)) != CLI_OK) {
        goto out;
    }
    if (cli_mkdirs(state_dir, 0700) != SCITT_OK) {
        scitt_wipe(seed, sizeof(seed));
        rc = cli_fail(CLI_USAGE, "%s: cannot create the state folder: %s", state_dir,
                      strerror(errno));
        goto out;
    }
    char why[4200];
    scitt_cosigner_config cc = {state_dir, name, seed, w->logs, w->n_logs};
    scitt_err e = scitt_cosigner_open(&cc, &w->cosigner, why, sizeof(why));
    scitt_wipe(seed, sizeof(seed));
    if (e != SCITT_OK) {
        rc = cli_fail(CLI_USAGE, "%s", why);
        goto out;
    }
    int port = 0;
    if ((lfd = listen_on(listen_addr, &port)) < 0) {
        rc = cli_fail(CLI_USAGE, "cannot listen on %s: %s", listen_addr, strerror(errno));
        goto out;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    fprintf(stderr, "scitt witness: event=listening port=%d name=%s logs=%zu\n", port, name,
            w->n_logs);
    while (!stopping) {
        struct pollfd p = {lfd, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0) {
            continue;
        }
        struct sockaddr_in peer;
        socklen_t pl = sizeof(peer);
        int fd = accept4(lfd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        if (!rl_admit(w, ntohl(peer.sin_addr.s_addr))) {
            atomic_fetch_add(&w->rate_limited, 1);
            problem(fd, 429, "Too Many Requests", "this client address is over the rate limit");
            shutdown(fd, SHUT_WR);
            /* what the client has sent already is read, so closing does not reset the
             * connection before it reads the answer (never waiting: this is the accept loop) */
            uint8_t sink[4096];
            for (int k = 0; k < 4 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; k++) {
            }
            close(fd);
            continue;
        }
        if (atomic_fetch_add(&w->active, 1) >= w->max_conns) {
            atomic_fetch_sub(&w->active, 1);
            problem(fd, 503, "Service Unavailable", "too many connections");
            close(fd);
            continue;
        }
        conn *cn = scitt_malloc(sizeof(*cn));
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (cn == NULL) {
            atomic_fetch_sub(&w->active, 1);
            close(fd);
        } else {
            *cn = (conn){w, fd};
            if (pthread_create(&t, &at, conn_thread, cn) != 0) {
                scitt_free(cn);
                atomic_fetch_sub(&w->active, 1);
                close(fd);
            }
        }
        pthread_attr_destroy(&at);
    }
    /* let running requests finish (each is bounded by the timeout) */
    for (int i = 0; i < w->timeout_ms / 10 + 10 && atomic_load(&w->active) > 0; i++) {
        usleep(10000);
    }
    fprintf(stderr, "scitt witness: event=stopped\n");
    rc = atomic_load(&w->active) == 0 ? CLI_OK : CLI_USAGE;
    if (rc != CLI_OK) {
        w = NULL; /* threads still hold it */
    }
out:
    if (lfd >= 0) {
        close(lfd);
    }
    if (w != NULL) {
        scitt_cosigner_close(w->cosigner);
        scitt_free(w->rl);
        scitt_free(w);
    }
    return rc;
}

/* ---- collect ------------------------------------------------------------------------------- */

/* The last size witness @p i is known to have cosigned (0: unknown). */
static uint64_t known_size(const char *dir, const char *name)
{
    char path[4096];
    uint8_t h[32];
    char hex[65];
    scitt_sha256(name, strlen(name), h);
    if (scitt_hex_encode(scitt_span_make(h, 32), hex, sizeof(hex)) != SCITT_OK) {
        return 0;
    }
    snprintf(path, sizeof(path), "%s/%s.size", dir, hex);
    scitt_dynbuf b;
    uint64_t v = 0;
    char txt[24] = {0};
    if (cli_read_file(path, 21, &b) == SCITT_OK && b.len > 1 && b.len < sizeof(txt)) {
        memcpy(txt, b.ptr, b.len - 1);
        if (!cli_parse_u64(txt, 0, UINT64_MAX, &v)) {
            v = 0;
        }
    }
    scitt_dynbuf_clear(&b);
    return v;
}

static void remember_size(const char *dir, const char *name, uint64_t size)
{
    char path[4096], txt[24];
    uint8_t h[32];
    char hex[65];
    scitt_sha256(name, strlen(name), h);
    if (scitt_hex_encode(scitt_span_make(h, 32), hex, sizeof(hex)) != SCITT_OK) {
        return;
    }
    snprintf(path, sizeof(path), "%s/%s.size", dir, hex);
    int n = snprintf(txt, sizeof(txt), "%llu\n", (unsigned long long)size);
    (void)cli_write_file(path, scitt_span_make(txt, (size_t)n), 0644);
}

/* The log's consistency proof, read out of its consistency receipt over HTTP. */
static scitt_err log_proof(void *ctx, uint64_t old, uint64_t size, uint8_t path[][SCITT_HASH_LEN],
                           size_t *n, char *why, size_t cap)
{
    scitt_client *log = ctx;
    char q[96];
    snprintf(q, sizeof(q), "/proofs/consistency?from=%llu&to=%llu", (unsigned long long)old,
             (unsigned long long)size);
    scitt_dynbuf rb;
    scitt_dynbuf_init(&rb, 0);
    scitt_err e = scitt_client_get(log, q, "application/cose", &rb, why, cap);
    if (e == SCITT_OK) {
        e = witness_receipt_proof(scitt_span_make(rb.ptr, rb.len), old, size, path, n);
        if (e != SCITT_OK) {
            snprintf(why, cap, "the log's consistency receipt: %s", scitt_err_str(e));
        }
    }
    scitt_dynbuf_clear(&rb);
    return e;
}

/* One witness: submit (learning its size from a 409 once), check and append its cosignature. */
static bool ask_witness(scitt_client *log, const char *state, const scitt_tlog_policy *p, size_t wi,
                        const char *url, scitt_span note, uint64_t size, int timeout_ms,
                        scitt_dynbuf *lines, char *why, size_t cap, long *ms)
{
    const char *name = p->witness_names[wi];
    uint64_t known = known_size(state, name);
    scitt__witness_outcome o;
    scitt_err e = scitt__witness_submit(url, &p->witnesses[wi], note, size, &known, log_proof, log,
                                        timeout_ms, lines, &o, why, cap);
    if (e == SCITT_OK || o.learnt) {
        remember_size(state, name, e == SCITT_OK ? size : o.latest);
    }
    *ms = o.ms;
    return e == SCITT_OK;
}

static int cmd_collect(int argc, char **argv)
{
    const char *url = NULL, *policy_path = NULL, *state = NULL, *out_path = NULL;
    uint64_t timeout_ms = 10000;
    static const struct option lo[] = {{"url", 1, 0, 'u'},
                                       {"policy", 1, 0, 'p'},
                                       {"state", 1, 0, 's'},
                                       {"out", 1, 0, 'o'},
                                       {"timeout-ms", 1, 0, 't'},
                                       {"help", 0, 0, 'h'},
                                       {0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'u':
            url = optarg;
            break;
        case 'p':
            policy_path = optarg;
            break;
        case 's':
            state = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 't':
            if (!cli_parse_u64(optarg, 100, 600000, &timeout_ms)) {
                return cli_usage("--timeout-ms: 100..600000");
            }
            break;
        case 'h':
            return cli_help(help_collect);
        default:
            return cli_usage("bad option");
        }
    }
    if (url == NULL || policy_path == NULL || state == NULL || optind != argc) {
        return cli_usage("collect needs --url, --policy and --state");
    }
    scitt_client *log = NULL;
    int rc = cli_client_open(url, NULL, (uint32_t)timeout_ms, NULL, &log);
    if (rc != CLI_OK) {
        return rc;
    }
    scitt_dynbuf pt, cp, lines;
    scitt_dynbuf_init(&cp, 0);
    scitt_dynbuf_init(&lines, SCITT_LIMIT_NOTE_BYTES);
    if ((rc = cli_slurp(policy_path, SCITT_POLICY_MAX_BYTES, &pt)) != CLI_OK) {
        scitt_client_free(log);
        return rc;
    }
    scitt_tlog_policy *p = scitt_malloc(sizeof(*p));
    const char *why = "";
    size_t line = 0;
    scitt_err e = p ? scitt_tlog_policy_parse(scitt_span_make(pt.ptr, pt.len), p, &why, &line)
                    : SCITT_ERR_NOMEM;
    scitt_dynbuf_clear(&pt);
    if (e != SCITT_OK) {
        rc = cli_fail(CLI_USAGE, "%s:%zu: %s", policy_path, line,
                      e == SCITT_ERR_POLICY ? why : scitt_err_str(e));
        goto out;
    }
    if (p->n_logs == 0) {
        rc = cli_fail(CLI_USAGE, "%s: the policy names no log key", policy_path);
        goto out;
    }
    if (cli_mkdirs(state, 0755) != SCITT_OK) {
        rc = cli_fail(CLI_USAGE, "%s: cannot create: %s", state, strerror(errno));
        goto out;
    }
    /* the policy's URLs are not kept by the parser: read them again, line by line */
    scitt_dynbuf_init(&pt, 0);
    (void)cli_read_file(policy_path, SCITT_POLICY_MAX_BYTES, &pt);
    char wurl[SCITT_POLICY_MAX_WITNESSES][1024];
    memset(wurl, 0, sizeof(wurl));
    for (size_t pos = 0; pos < pt.len;) {
        const uint8_t *nl = memchr(pt.ptr + pos, '\n', pt.len - pos);
        size_t end = nl ? (size_t)(nl - pt.ptr) : pt.len;
        char l[2048];
        size_t ll = end - pos < sizeof(l) - 1 ? end - pos : sizeof(l) - 1;
        memcpy(l, pt.ptr + pos, ll);
        l[ll] = 0;
        pos = nl ? end + 1 : end;
        char kw[16], nm[SCITT_POLICY_NAME_MAX + 1], vk[SCITT_NOTE_VKEY_MAX], u[1024];
        if (sscanf(l, " %15s %64s %300s %1023s", kw, nm, vk, u) == 4 && !strcmp(kw, "witness")) {
            for (size_t i = 0; i < p->n_witnesses; i++) {
                if (!strcmp(p->witness_names[i], nm)) {
                    snprintf(wurl[i], sizeof(wurl[i]), "%s", u);
                }
            }
        }
    }
    scitt_dynbuf_clear(&pt);

    /* the log's newest signed checkpoint, checked before anyone is asked to cosign it */
    scitt__http_result r; /* only its body is used */
    memset(&r, 0, sizeof(r));
    scitt_dynbuf_init(&r.raw, 0);
    scitt_dynbuf_init(&r.body, 0);
    char msg[512] = "";
    e = scitt_client_get(log, "/checkpoint/latest", "text/plain", &r.body, msg, sizeof(msg));
    if (e == SCITT_ERR_NOT_FOUND) {
        scitt_dynbuf_clear(&r.body);
        scitt_dynbuf_init(&r.body, 0);
        e = scitt_client_get(log, "/checkpoint", "text/plain", &r.body, msg, sizeof(msg));
    }
    if (e != SCITT_OK) {
        scitt__http_result_clear(&r);
        rc = cli_fail(CLI_USAGE, "cannot read the log's checkpoint: %s", msg);
        goto out;
    }
    /* drop any cosignature lines the log served: only what witnesses give us now counts */
    scitt_checkpoint ck;
    scitt_note_result nr;
    e = scitt_checkpoint_open(scitt_span_make(r.body.ptr, r.body.len), p->logs, p->n_logs,
                              scitt_span_make(NULL, 0), &ck, &nr);
    if (e == SCITT_OK) {
        scitt_dynbuf_put(&cp, nr.text.ptr, nr.text.len);
        scitt_dynbuf_u8(&cp, '\n');
        scitt_note_parsed *np = scitt_malloc(sizeof(*np));
        if (np && scitt_note_parse(scitt_span_make(r.body.ptr, r.body.len), np) == SCITT_OK) {
            for (size_t i = 0; i < np->n_sigs; i++) {
                for (size_t k = 0; k < p->n_logs; k++) {
                    if (np->sigs[i].key_id == p->logs[k].key_id &&
                        scitt_span_eq(np->sigs[i].name,
                                      scitt_span_make(p->logs[k].name, p->logs[k].name_len))) {
                        const scitt_note_sig *l = &np->sigs[i];
                        scitt_dynbuf_put(&cp, "\xe2\x80\x94 ", 4);
                        scitt_dynbuf_put(&cp, l->name.ptr, l->name.len);
                        scitt_dynbuf_u8(&cp, ' ');
                        scitt_dynbuf_put(&cp, l->blob_b64.ptr, l->blob_b64.len);
                        scitt_dynbuf_u8(&cp, '\n');
                    }
                }
            }
        }
        scitt_free(np);
    }
    scitt__http_result_clear(&r);
    if (e != SCITT_OK) {
        rc = cli_fail(CLI_FAIL,
                      "the log's checkpoint does not verify with the policy's log keys: %s",
                      scitt_err_str(e));
        goto out;
    }
    uint64_t size = ck.size;
    scitt_span note = scitt_span_make(cp.ptr, cp.len);
    for (size_t i = 0; i < p->n_witnesses; i++) {
        char wwhy[512] = "";
        long ms = 0;
        if (wurl[i][0] == 0) {
            continue;
        }
        bool ok = ask_witness(log, state, p, i, wurl[i], note, size, (int)timeout_ms, &lines, wwhy,
                              sizeof(wwhy), &ms);
        fprintf(stderr, "scitt witness collect: witness=%s size=%llu result=%s ms=%ld%s%s\n",
                p->witness_names[i], (unsigned long long)size, ok ? "cosigned" : "failed", ms,
                ok ? "" : " why=", ok ? "" : wwhy);
    }
    scitt_dynbuf_put(&cp, lines.ptr, lines.len);
    if (cp.err != SCITT_OK) {
        rc = cli_fail(CLI_USAGE, "the cosigned checkpoint is too large");
        goto out;
    }
    char missing[1024];
    e = scitt_tlog_policy_check(p, scitt_span_make(cp.ptr, cp.len), NULL, 0, NULL, missing,
                                sizeof(missing));
    if (e == SCITT_ERR_POLICY) {
        rc = cli_fail(CLI_FAIL, "checkpoint %llu: witness quorum not met; missing: %s",
                      (unsigned long long)size, missing);
        goto out;
    }
    if (e != SCITT_OK) {
        rc = cli_fail(CLI_FAIL, "checkpoint %llu: %s", (unsigned long long)size, scitt_err_str(e));
        goto out;
    }
    rc = out_path ? cli_save(out_path, scitt_span_make(cp.ptr, cp.len), 0644) : CLI_OK;
    if (rc == CLI_OK && out_path == NULL) {
        fwrite(cp.ptr, 1, cp.len, stdout);
    }
out:
    scitt_client_free(log);
    scitt_free(p);
    scitt_dynbuf_clear(&cp);
    scitt_dynbuf_clear(&lines);
    return rc;
}

int cmd_witness(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        return argc < 2 ? cli_usage("a subcommand is needed: keygen, vkey or serve")
                        : cli_help(help);
    }
    if (!strcmp(argv[1], "keygen")) {
        return cmd_keygen_witness(argc - 1, argv + 1);
    }
    if (!strcmp(argv[1], "vkey")) {
        return cmd_vkey(argc - 1, argv + 1);
    }
    if (!strcmp(argv[1], "serve")) {
        return cmd_serve(argc - 1, argv + 1);
    }
    if (!strcmp(argv[1], "collect")) {
        return cmd_collect(argc - 1, argv + 1);
    }
    return cli_usage("unknown witness subcommand \"%s\"", argv[1]);
}
