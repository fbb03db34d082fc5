/* What the benchmarks that drive a real scittd share (bench/scittd_run.h). */
#include "scittd_run.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "bench.h"
#include "scitt/receipt.h"
#include "stmt_util.h"

/* One thread's P-256 verifies per second: *arg is the seconds to run in, the rate out. */
static void *ecdsa_thread(void *arg)
{
    double *rate = arg;
    EVP_PKEY *k = EVP_EC_gen("P-256");
    uint8_t dgst[32] = {1}, sig[80];
    size_t siglen = sizeof(sig);
    EVP_PKEY_CTX *s = EVP_PKEY_CTX_new(k, NULL);
    EVP_PKEY_sign_init(s);
    EVP_PKEY_sign(s, sig, &siglen, dgst, sizeof(dgst));
    EVP_PKEY_CTX *v = EVP_PKEY_CTX_new(k, NULL);
    EVP_PKEY_verify_init(v);
    uint64_t n = 0;
    double t0 = bench_now(), t;
    do {
        for (int i = 0; i < 200; i++) {
            if (EVP_PKEY_verify(v, sig, siglen, dgst, sizeof(dgst)) != 1) {
                abort();
            }
        }
        n += 200;
        t = bench_now();
    } while (t - t0 < *rate);
    EVP_PKEY_CTX_free(s);
    EVP_PKEY_CTX_free(v);
    EVP_PKEY_free(k);
    *rate = (double)n / (t - t0);
    return NULL;
}

double sr_ecdsa_ceiling(long threads)
{
    pthread_t th[64];
    double rate[64];
    long n = threads < 1 ? 1 : threads < 64 ? threads : 64;
    double sum = 0;
    for (long i = 0; i < n; i++) {
        rate[i] = 1.0;
        if (pthread_create(&th[i], NULL, ecdsa_thread, &rate[i]) != 0) {
            abort();
        }
    }
    for (long i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        sum += rate[i];
    }
    return sum;
}

pid_t sr_start(const char *bin, const char *dir, int *port, double *ready_s)
{
    return sr_start_policy(bin, dir, NULL, port, ready_s);
}

pid_t sr_start_policy(const char *bin, const char *dir, const char *policy_file, int *port,
                      double *ready_s)
{
    return sr_start_args(bin, dir, policy_file, NULL, port, ready_s);
}

pid_t sr_start_args(const char *bin, const char *dir, const char *policy_file,
                    const char *const *extra, int *port, double *ready_s)
{
    const char *av[48] = {bin,           "--data",      dir,
                          "--listen",    "127.0.0.1:0", "--print-ports",
                          "--platform",  "virtual",     "--insecure-virtual",
                          "--log-level", "warn"};
    size_t na = 11;
    if (policy_file) {
        av[na++] = "--policy";
        av[na++] = policy_file;
    }
    for (size_t i = 0; extra && extra[i] && na + 1 < sizeof(av) / sizeof(av[0]); i++) {
        av[na++] = extra[i];
    }
    av[na] = NULL;
    int out[2];
    if (pipe(out) != 0) {
        return -1;
    }
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        execv(bin, (char *const *)av);
        _exit(127);
    }
    close(out[1]);
    char line[256];
    size_t n = 0;
    while (n < sizeof(line) - 1) {
        ssize_t r = read(out[0], line + n, 1);
        if (r <= 0 || line[n] == '\n') {
            break;
        }
        n++;
    }
    line[n] = 0;
    close(out[0]);
    if (ready_s) {
        *ready_s = bench_now() - t0;
    }
    if (sscanf(line, "READY port=%d", port) != 1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

void sr_stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

const hc_request *sr_pool_next(void *ctx, uint64_t n)
{
    sr_pool *p = ctx;
    (void)n;
    if (p->next == p->count) {
        p->exhausted = true;
        return &p->reqs[p->count - 1];
    }
    return &p->reqs[p->next++];
}

double sr_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) {
        return -1;
    }
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    /* fields 14 and 15 (utime, stime) count after the command name, which ends at the last ')' */
    const char *p = strrchr(buf, ')');
    unsigned long long ut, st;
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) {
        return -1;
    }
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

struct sr_fleet {
    size_t n;
    scitt_cose_key **keys;
    scitt_span *certs;
    char *root_pem; /* CA fleets: the root, PEM */
};

static sr_fleet *fleet_new(size_t keys, bool ca)
{
    sr_fleet *f = calloc(1, sizeof(*f));
    f->n = keys;
    f->keys = calloc(keys, sizeof(*f->keys));
    f->certs = calloc(keys, sizeof(*f->certs));
    int64_t now = (int64_t)time(NULL);
    EVP_PKEY *root_key = NULL;
    X509 *root = NULL;
    if (ca) {
        root_key = EVP_EC_gen("P-256");
        root = su_cert(root_key, "Example Release CA", NULL, NULL, true, now - 86400,
                       now + 365 * 86400, NULL);
        f->root_pem = su_pem(root);
    }
    for (size_t k = 0; k < keys; k++) {
        if (scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &f->keys[k]) != SCITT_OK) {
            abort();
        }
        EVP_PKEY *evp = su_evp(f->keys[k]);
        char cn[32];
        snprintf(cn, sizeof(cn), "builder-%zu", k);
        X509 *c = su_cert(evp, cn, root_key, root, false, now - 3600, now + 30 * 86400,
                          ca ? "codeSigning" : NULL);
        f->certs[k] = su_der(c);
        X509_free(c);
        EVP_PKEY_free(evp);
    }
    X509_free(root);
    EVP_PKEY_free(root_key);
    return f;
}

sr_fleet *sr_fleet_new(size_t keys)
{
    return fleet_new(keys, false);
}

sr_fleet *sr_fleet_new_ca(size_t keys)
{
    return fleet_new(keys, true);
}

char *sr_fleet_policy(const sr_fleet *f)
{
    if (!f->root_pem) {
        return NULL;
    }
    char *out = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&out, &len);
    if (!o) {
        return NULL;
    }
    fprintf(o,
            "{\"version\": 1, \"algorithms\": [\"ES256\"], \"x509_time\": \"registration\",\n"
            " \"content_types\": [\"application/json\"],\n"
            " \"issuers\": [{\"iss\": \"%s\", \"x509_roots\": [\"",
            SR_ISSUER);
    for (const char *c = f->root_pem; *c; c++) {
        if (*c == '\n') {
            fputs("\\n", o);
        } else {
            fputc(*c, o);
        }
    }
    fputs("\"]}]}\n", o);
    if (fclose(o) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

int sr_fleet_write_policy(const sr_fleet *f, const char *path)
{
    char *json = sr_fleet_policy(f);
    FILE *o = json ? fopen(path, "w") : NULL;
    int rc = o && fputs(json, o) >= 0 ? 0 : -1;
    if (o && fclose(o) != 0) {
        rc = -1;
    }
    free(json);
    return rc;
}

void sr_fleet_free(sr_fleet *f)
{
    if (!f) {
        return;
    }
    for (size_t k = 0; k < f->n; k++) {
        scitt_cose_key_free(f->keys[k]);
        OPENSSL_free((void *)f->certs[k].ptr);
    }
    free(f->root_pem);
    free(f->keys);
    free(f->certs);
    free(f);
}

int sr_statement(const sr_fleet *f, uint64_t series, uint64_t i, scitt_dynbuf *out)
{
    char payload[640];
    int pl = snprintf(payload, sizeof(payload), "{\"series\":%llu,\"build\":%llu,\"artifact\":\"",
                      (unsigned long long)series, (unsigned long long)i);
    while (pl < (int)sizeof(payload) - 3) {
        payload[pl] = (char)('a' + (i + (uint64_t)pl) % 26);
        pl++;
    }
    payload[pl++] = '"';
    payload[pl++] = '}';
    char sub[64];
    snprintf(sub, sizeof(sub), "pkg:oci/app-%llu", (unsigned long long)(i % 5000));
    su_opts o = {0};
    o.iss = SR_ISSUER;
    o.sub = sub;
    o.x5chain = &f->certs[i % f->n];
    o.nx5chain = 1;
    o.content_type = "application/json";
    return su_statement(f->keys[i % f->n], &o, scitt_span_make(payload, (size_t)pl), out) ==
                   SCITT_OK
               ? 0
               : -1;
}

typedef struct post_job {
    const sr_fleet *f;
    uint64_t series, first;
    size_t from, to; /* this thread's share of [0, count) */
    hc_request *reqs;
    uint8_t (*leaves)[32];
} post_job;

static void *post_thread(void *arg)
{
    post_job *j = arg;
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    scitt_dynbuf st;
    scitt_dynbuf_init(&st, 0);
    for (size_t i = j->from; i < j->to; i++) {
        st.len = 0;
        if (!m || sr_statement(j->f, j->series, j->first + i, &st) != 0) {
            abort();
        }
        if (j->leaves) {
            if (scitt_cose_sign1_decode(scitt_span_make(st.ptr, st.len), 0, m) != SCITT_OK) {
                abort();
            }
            scitt_receipt_leaf_hash(m, j->leaves[i]);
        }
        char head[256];
        int hl = snprintf(head, sizeof(head),
                          "POST /entries HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Type: application/cose\r\nContent-Length: %zu\r\n\r\n",
                          st.len);
        char *req = malloc((size_t)hl + st.len);
        if (!req) {
            abort();
        }
        memcpy(req, head, (size_t)hl);
        memcpy(req + hl, st.ptr, st.len);
        j->reqs[i].bytes = req;
        j->reqs[i].len = (size_t)hl + st.len;
    }
    scitt_dynbuf_clear(&st);
    free(m);
    return NULL;
}

hc_request *sr_post_requests(const sr_fleet *f, uint64_t series, uint64_t first, size_t count,
                             uint8_t (*leaves)[32])
{
    hc_request *reqs = calloc(count, sizeof(*reqs));
    if (!reqs) {
        abort();
    }
    /* signed on every core: this is set-up, before anything is measured */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nth = cores < 1 ? 1 : cores > 64 ? 64 : (size_t)cores;
    pthread_t th[64];
    post_job jobs[64];
    for (size_t t = 0; t < nth; t++) {
        jobs[t] =
            (post_job){f, series, first, count * t / nth, count * (t + 1) / nth, reqs, leaves};
        if (pthread_create(&th[t], NULL, post_thread, &jobs[t]) != 0) {
            abort();
        }
    }
    for (size_t t = 0; t < nth; t++) {
        pthread_join(th[t], NULL);
    }
    return reqs;
}

hc_request *sr_get_requests(const char *prefix, const uint8_t (*ids)[32], size_t count)
{
    hc_request *reqs = calloc(count, sizeof(*reqs));
    for (size_t i = 0; i < count; i++) {
        char hex[65];
        for (size_t k = 0; k < 32; k++) {
            snprintf(hex + 2 * k, 3, "%02x", ids[i][k]);
        }
        char *req = malloc(256 + strlen(prefix));
        int n = sprintf(req, "GET %s%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", prefix, hex);
        reqs[i].bytes = req;
        reqs[i].len = (size_t)n;
    }
    return reqs;
}

void sr_requests_free(hc_request *reqs, size_t count)
{
    for (size_t i = 0; reqs && i < count; i++) {
        free((void *)reqs[i].bytes);
    }
    free(reqs);
}

/* Walks @p dir: removes (rm) or adds up allocated bytes into *bytes. */
static int walk(const char *dir, bool rm, uint64_t *bytes)
{
    DIR *d = opendir(dir);
    if (!d) {
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            continue;
        }
        char p[4200];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0) {
            rc = -1;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            rc |= walk(p, rm, bytes);
        } else if (rm) {
            rc |= unlink(p);
        } else {
            *bytes += (uint64_t)st.st_blocks * 512;
        }
    }
    closedir(d);
    return rm ? rc | rmdir(dir) : rc;
}

int sr_rm_tree(const char *dir)
{
    return walk(dir, true, NULL);
}

uint64_t sr_disk_bytes(const char *dir)
{
    uint64_t b = 0;
    walk(dir, false, &b);
    return b;
}

struct sr_receipts {
    const hc_request *reqs;
    const uint8_t (*leaves)[32];
    size_t count;
    unsigned every;
    int status; /* what a good response answers */
    scitt_cose_keyset *keys;
    uint64_t seen, verified;
    double check_s; /* CPU time spent verifying */
};

sr_receipts *sr_receipts_new_keys(scitt_cose_keyset *keys, const hc_request *reqs,
                                  const uint8_t (*leaves)[32], size_t count, unsigned every)
{
    sr_receipts *v = calloc(1, sizeof(*v));
    if (!v || scitt_cose_keyset_memo(keys, 4096) != SCITT_OK) {
        free(v);
        scitt_cose_keyset_free(keys);
        return NULL;
    }
    v->keys = keys;
    v->reqs = reqs;
    v->leaves = leaves;
    v->count = count;
    v->every = every ? every : 1;
    v->status = 201;
    return v;
}

sr_receipts *sr_receipts_new(int port, const hc_request *reqs, const uint8_t (*leaves)[32],
                             size_t count, unsigned every)
{
    static uint8_t body[65536];
    size_t len = 0;
    scitt_cose_keyset *keys = NULL;
    if (hc_fetch_bin("127.0.0.1", port, "/.well-known/scitt-keys", body, sizeof(body), &len) !=
            200 ||
        scitt_cose_keyset_from_cose(scitt_span_make(body, len), &keys) != SCITT_OK) {
        return NULL;
    }
    return sr_receipts_new_keys(keys, reqs, leaves, count, every);
}

void sr_receipts_expect(sr_receipts *v, int status)
{
    v->status = status;
}

void sr_receipts_free(sr_receipts *v)
{
    if (v) {
        scitt_cose_keyset_free(v->keys);
        free(v);
    }
}

/* The printable bytes of @p body (a problem details document is CBOR with text in it). */
static void printable(const uint8_t *body, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        if (body[i] >= 0x20 && body[i] < 0x7f) {
            out[o++] = (char)body[i];
        } else if (o > 0 && out[o - 1] != ' ') {
            out[o++] = ' ';
        }
    }
    out[o] = 0;
}

bool sr_receipt_check(void *ctx, const hc_request *req, uint64_t n, int status, const uint8_t *body,
                      size_t len, char *why, size_t why_cap)
{
    sr_receipts *v = ctx;
    (void)n;
    if (status != v->status) {
        char text[128];
        printable(body, len, text, sizeof(text));
        snprintf(why, why_cap, "not the %d due: %s", v->status, text);
        return false;
    }
    if (req < v->reqs || req >= v->reqs + v->count) {
        snprintf(why, why_cap, "a response to a request this check does not know");
        return false;
    }
    if (v->seen++ % v->every != 0) {
        return true;
    }
    scitt_receipt_info info;
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    scitt_err e =
        scitt_receipt_verify_inclusion_leaf(scitt_span_make(body, len), v->leaves[req - v->reqs],
                                            v->keys, SCITT_RECEIPT_REQUIRE_SIZE, &info);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    v->check_s += (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
    if (e != SCITT_OK) {
        snprintf(why, why_cap, "the receipt does not verify: %s", scitt_err_str(e));
        return false;
    }
    v->verified++;
    return true;
}

void sr_receipts_counts(const sr_receipts *v, uint64_t *seen, uint64_t *verified, double *check_s)
{
    *seen = v->seen;
    *verified = v->verified;
    if (check_s) {
        *check_s = v->check_s;
    }
}

bool sr_report_errors(const char *name, const hc_result *r)
{
    uint64_t bad = r->non2xx + r->rejected + r->errors;
    printf("%s_errors: %llu (not 2xx %llu, refused %llu, connection %llu)\n", name,
           (unsigned long long)bad, (unsigned long long)r->non2xx, (unsigned long long)r->rejected,
           (unsigned long long)r->errors);
    if (bad) {
        printf("error: %s: %s\n", name, r->first_error);
    }
    fflush(stdout);
    return bad == 0;
}
