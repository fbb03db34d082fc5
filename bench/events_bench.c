/*
 * bench/events_bench: what GET /events subscribers cost registration, and how fast they hear of
 * new entries. One scittd (development policy, durable commits), registrations offered at a fixed
 * rate (5,000/s by default) in phases alternating between no subscriber and 1,000 subscribers
 * connected to /events, in the same run:
 *   - subscribers: all but --unfiltered of them each watch one subject (`?sub=pkg:oci/app-K`, the
 *     subjects the statements cycle through: a monitor per package; the subjects of the phase's
 *     first statements, so each gets events however short the phase), the others every entry;
 *   - registrations_none / registrations_subscribers: n /s   verified 201s per second in the
 *     measured phases (every --verify-every'th receipt checked, any bad response fails the run);
 *   - latency_none_p50/p99, latency_subscribers_p50/p99: ms  of those registrations (from when
 *     each was due: no coordinated omission; unanswered ones count at their age);
 *   - events_delivered: n, events_per_s: n/s  entry events the subscribers received in the
 *     subscribed phases; each subscriber's events must be in index order without a gap
 *     (unfiltered) and must number at least the 201s for its subject and at most the statements
 *     sent for it (filtered), else the run fails;
 *   - event_lag_p50 / p99: ms  from the load client receiving a registration's 201 to a subscriber
 *     receiving its event (an event that arrives before the 201 counts 0, and is counted in
 *     events_before_201);
 *   - server_rss_max_none / _subscribers: MiB  scittd's resident memory, the largest sample
 *     (every 100 ms) of each kind of phase; server_cpu_per_registration_none/_subscribers: us.
 * Subscribers, load client and scittd share the machine's cores.
 * Usage: events_bench [--scittd PATH] [--seconds S] [--rate R] [--subscribers N]
 *                     [--unfiltered U] [--connections C] [--verify-every N]
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "bench.h"
#include "scitt/cose.h"
#include "scitt/receipt.h"
#include "scittd_run.h"

#define KEYS     100
#define ROUNDS   2
#define WARMUP   1.0
#define SUBJECTS 5000 /* sr_statement's subjects: pkg:oci/app-(i mod 5000) */
#define SUB_BUF  (32u << 10)

/* ---- which statement an entry ID is ---- */

typedef struct idmap {
    uint8_t (*ids)[32];
    uint32_t *slot; /* open addressing: request index + 1, 0 empty */
    size_t cap;
} idmap;

static uint64_t id_hash(const uint8_t *id)
{
    uint64_t h;
    memcpy(&h, id, sizeof(h));
    return h;
}

static void idmap_put(idmap *m, size_t i)
{
    size_t at = id_hash(m->ids[i]) & (m->cap - 1);
    while (m->slot[at]) {
        at = (at + 1) & (m->cap - 1);
    }
    m->slot[at] = (uint32_t)i + 1;
}

static long idmap_get(const idmap *m, const uint8_t *id)
{
    size_t at = id_hash(id) & (m->cap - 1);
    while (m->slot[at]) {
        uint32_t i = m->slot[at] - 1;
        if (memcmp(m->ids[i], id, 32) == 0) {
            return (long)i;
        }
        at = (at + 1) & (m->cap - 1);
    }
    return -1;
}

/* ---- shared state ---- */

typedef struct sub {
    int fd;
    int k; /* subject index, or -1: every entry */
    char buf[SUB_BUF];
    size_t len;
    bool head; /* the response head was read */
    bool closed;
    bool bad; /* out of order or a gap */
    uint64_t events;
    long long last_id;
} sub;

static const hc_request *g_reqs;
static size_t g_count;
static idmap g_map;
static _Atomic int64_t *g_t201; /* ns of each request's 201 (0: none yet) */
static _Atomic uint8_t *g_good; /* request i got a verified 201 */
static sr_receipts *g_check;

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static bool check_and_time(void *ctx, const hc_request *req, uint64_t n, int status,
                           const uint8_t *body, size_t len, char *why, size_t why_cap)
{
    bool ok = sr_receipt_check(ctx, req, n, status, body, len, why, why_cap);
    size_t i = (size_t)(req - g_reqs);
    if (ok && i < g_count) {
        atomic_store(&g_t201[i], now_ns());
        atomic_store(&g_good[i], 1);
    }
    return ok;
}

/* ---- subscribers: one epoll thread ---- */

typedef struct subs {
    sub *s;
    size_t n;
    int ep;
    int port;
    atomic_bool stop;
    pthread_t thread;
    /* lags (ms) recorded by the thread */
    float *lag;
    size_t nlag, caplag;
    uint64_t before_201, unknown;
} subs;

static int connect_sub(int port, int k)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    char req[256];
    int n = k >= 0 ? snprintf(req, sizeof(req),
                              "GET /events?sub=pkg:oci/app-%d HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Accept: text/event-stream\r\n\r\n",
                              k)
                   : snprintf(req, sizeof(req),
                              "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Accept: text/event-stream\r\n\r\n");
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void on_line(subs *S, sub *s, const char *line, size_t len)
{
    if (len > 4 && memcmp(line, "id: ", 4) == 0) {
        long long id = strtoll(line + 4, NULL, 10);
        if (id <= s->last_id || (s->k < 0 && s->last_id >= 0 && id != s->last_id + 1)) {
            s->bad = true;
        }
        s->last_id = id;
        s->events++;
        return;
    }
    static const char key[] = "\"entry_id\":\"";
    if (len < 6 || memcmp(line, "data: ", 6) != 0) {
        return;
    }
    const char *at = memmem(line, len, key, sizeof(key) - 1);
    if (!at || (size_t)(line + len - at) < sizeof(key) - 1 + 64) {
        return;
    }
    at += sizeof(key) - 1;
    uint8_t id[32];
    for (int i = 0; i < 32; i++) {
        int h = hexval(at[2 * i]), l = hexval(at[2 * i + 1]);
        if (h < 0 || l < 0) {
            return;
        }
        id[i] = (uint8_t)(h << 4 | l);
    }
    long r = idmap_get(&g_map, id);
    if (r < 0) {
        S->unknown++; /* the policy entry, or a statement of another run */
        return;
    }
    int64_t t = atomic_load(&g_t201[r]);
    double ms = 0;
    if (t == 0) {
        S->before_201++;
    } else {
        ms = (double)(now_ns() - t) / 1e6;
    }
    if (S->nlag == S->caplag) {
        size_t c = S->caplag ? 2 * S->caplag : 1u << 16;
        float *p = realloc(S->lag, c * sizeof(float));
        if (!p) {
            return;
        }
        S->lag = p;
        S->caplag = c;
    }
    S->lag[S->nlag++] = (float)ms;
}

static void on_readable(subs *S, sub *s)
{
    for (;;) {
        ssize_t n = read(s->fd, s->buf + s->len, SUB_BUF - s->len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        if (n <= 0) {
            s->closed = true;
            epoll_ctl(S->ep, EPOLL_CTL_DEL, s->fd, NULL);
            return;
        }
        s->len += (size_t)n;
        size_t start = 0;
        if (!s->head) {
            char *end = memmem(s->buf, s->len, "\r\n\r\n", 4);
            if (!end) {
                if (s->len == SUB_BUF) {
                    s->closed = true;
                }
                continue;
            }
            if (s->len < 12 || memcmp(s->buf + 9, "200", 3) != 0) {
                s->closed = true; /* refused: counted as not connected */
                epoll_ctl(S->ep, EPOLL_CTL_DEL, s->fd, NULL);
                return;
            }
            s->head = true;
            start = (size_t)(end - s->buf) + 4;
        }
        for (;;) {
            char *nl = memchr(s->buf + start, '\n', s->len - start);
            if (!nl) {
                break;
            }
            on_line(S, s, s->buf + start, (size_t)(nl - (s->buf + start)));
            start = (size_t)(nl - s->buf) + 1;
        }
        memmove(s->buf, s->buf + start, s->len - start);
        s->len -= start;
    }
}

static void *subs_main(void *arg)
{
    subs *S = arg;
    struct epoll_event evs[256];
    while (!atomic_load(&S->stop)) {
        int n = epoll_wait(S->ep, evs, 256, 50);
        for (int i = 0; i < n; i++) {
            on_readable(S, &S->s[evs[i].data.u64]);
        }
    }
    return NULL;
}

/* Connects @p n subscribers (the last @p unfiltered take every entry, the others each the subject
 * of one of the next statements from @p first on); 0 when all got their 200. */
static int subs_start(subs *S, int port, size_t n, size_t unfiltered, size_t first)
{
    memset(S, 0, sizeof(*S));
    S->s = calloc(n, sizeof(sub));
    S->n = n;
    S->port = port;
    S->ep = epoll_create1(EPOLL_CLOEXEC);
    if (!S->s || S->ep < 0) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        sub *s = &S->s[i];
        s->k = i + unfiltered < n ? (int)((first + i) % SUBJECTS) : -1;
        s->last_id = -1;
        s->fd = connect_sub(port, s->k);
        if (s->fd < 0) {
            return -1;
        }
        struct epoll_event e = {.events = EPOLLIN, .data.u64 = i};
        epoll_ctl(S->ep, EPOLL_CTL_ADD, s->fd, &e);
    }
    if (pthread_create(&S->thread, NULL, subs_main, S) != 0) {
        return -1;
    }
    /* every stream answered 200 before the load starts (the thread reads the heads) */
    double t0 = bench_now();
    for (;;) {
        size_t heads = 0, closed = 0;
        for (size_t i = 0; i < n; i++) {
            heads += S->s[i].head;
            closed += S->s[i].closed;
        }
        if (closed) {
            return -1;
        }
        if (heads == n) {
            return 0;
        }
        if (bench_now() - t0 > 30) {
            return -1;
        }
        usleep(10000);
    }
}

static void subs_stop(subs *S)
{
    atomic_store(&S->stop, true);
    if (S->thread) {
        pthread_join(S->thread, NULL);
    }
    for (size_t i = 0; i < S->n; i++) {
        if (S->s[i].fd >= 0) {
            close(S->s[i].fd);
        }
    }
    if (S->ep >= 0) {
        close(S->ep);
    }
    free(S->s);
    free(S->lag);
    memset(S, 0, sizeof(*S));
}

/* ---- server memory ---- */

typedef struct rss_watch {
    pid_t pid;
    atomic_bool stop;
    _Atomic long max_kb;
    pthread_t thread;
} rss_watch;

static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = atol(line + 6);
        }
    }
    if (f) {
        fclose(f);
    }
    return kb;
}

static void *rss_main(void *arg)
{
    rss_watch *w = arg;
    while (!atomic_load(&w->stop)) {
        long kb = rss_kb(w->pid);
        if (kb > atomic_load(&w->max_kb)) {
            atomic_store(&w->max_kb, kb);
        }
        usleep(100000);
    }
    return NULL;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static uint64_t latest_size(int port)
{
    char body[4096];
    if (hc_fetch("127.0.0.1", port, "/checkpoint/latest", body, sizeof(body)) != 200) {
        return 0;
    }
    const char *nl = strchr(body, '\n');
    return nl ? strtoull(nl + 1, NULL, 10) : 0;
}

/* Waits until the tree stops growing (late answers of the phase before are in): its size. */
static uint64_t settle(int port)
{
    uint64_t size = latest_size(port);
    double t0 = bench_now();
    for (;;) {
        usleep(300000);
        uint64_t now = latest_size(port);
        if (now == size || bench_now() - t0 > 30) {
            return now;
        }
        size = now;
    }
}

int main(int argc, char **argv)
{
    bench_help(argc, argv,
               "usage: events_bench [--scittd PATH] [--seconds S] [--rate R] [--subscribers N]\n"
               "                    [--unfiltered U] [--connections C] [--verify-every N]\n"
               "  registrations at a fixed rate with and without N /events subscribers (same "
               "run,\n  alternating phases), events delivered, their lag, scittd's memory\n"
               "  (defaults: build/server/scittd, 10 s per kind, 5000/s, 1000 subscribers of "
               "which\n  10 unfiltered, 64 connections, every 4th receipt verified)\n");
    const char *bin = "build/server/scittd";
    double seconds = 10, rate = 5000;
    size_t nsubs = 1000, unfiltered = 10;
    unsigned conns = 64, every = 4;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--scittd")) {
            bin = argv[i + 1];
        } else if (!strcmp(argv[i], "--seconds")) {
            seconds = atof(argv[i + 1]);
        } else if (!strcmp(argv[i], "--rate")) {
            rate = atof(argv[i + 1]);
        } else if (!strcmp(argv[i], "--subscribers")) {
            nsubs = strtoull(argv[i + 1], NULL, 10);
        } else if (!strcmp(argv[i], "--unfiltered")) {
            unfiltered = strtoull(argv[i + 1], NULL, 10);
        } else if (!strcmp(argv[i], "--connections")) {
            conns = (unsigned)atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--verify-every")) {
            every = (unsigned)atoi(argv[i + 1]);
        } else {
            fprintf(stderr, "events_bench: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!(seconds > 0) || !(rate > 0) || nsubs == 0 || nsubs > 1024 || unfiltered > nsubs ||
        nsubs - unfiltered > SUBJECTS || conns == 0 || every == 0) {
        fprintf(stderr, "events_bench: bad arguments (1..1024 subscribers, rate and seconds > "
                        "0)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/scitt-events-bench-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "events_bench: cannot create a directory\n");
        return 2;
    }
    if (bench_fs_record("events_bench", dir, true) != 0) {
        sr_rm_tree(dir);
        return 1;
    }
    double phase_s = seconds / ROUNDS;
    size_t count = (size_t)(rate * 2 * ROUNDS * (WARMUP + phase_s) * 1.3) + 1000;
    sr_fleet *fleet = sr_fleet_new(KEYS);
    uint8_t(*leaves)[32] = malloc(count * 32);
    uint64_t series = (uint64_t)time(NULL);
    hc_request *reqs = sr_post_requests(fleet, series, 0, count, leaves);
    g_reqs = reqs;
    g_count = count;
    g_t201 = calloc(count, sizeof(*g_t201));
    g_good = calloc(count, sizeof(*g_good));
    g_map.ids = malloc(count * 32);
    g_map.cap = 1;
    while (g_map.cap < 2 * count) {
        g_map.cap <<= 1;
    }
    g_map.slot = calloc(g_map.cap, sizeof(uint32_t));
    int rc = 0;
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    if (!reqs || !leaves || !g_t201 || !g_good || !g_map.ids || !g_map.slot || !m) {
        fprintf(stderr, "events_bench: out of memory\n");
        return 2;
    }
    /* each statement's entry ID (SHA-256 of its registered form), to know an event's 201 */
    for (size_t i = 0; i < count; i++) {
        const char *body = (const char *)memmem(reqs[i].bytes, reqs[i].len, "\r\n\r\n", 4) + 4;
        size_t blen = reqs[i].len - (size_t)(body - reqs[i].bytes);
        if (scitt_cose_sign1_decode(scitt_span_make(body, blen), 0, m) != SCITT_OK) {
            abort();
        }
        scitt_receipt_entry_digest(m, g_map.ids[i]);
        idmap_put(&g_map, i);
    }
    free(m);

    char data[4200], maxconn[32];
    snprintf(data, sizeof(data), "%s/data", dir);
    snprintf(maxconn, sizeof(maxconn), "%zu", nsubs + conns + 64);
    const char *extra[] = {"--max-conns-per-ip", maxconn, NULL};
    int port = 0;
    pid_t pid = sr_start_args(bin, data, NULL, extra, &port, NULL);
    g_check =
        pid > 0 ? sr_receipts_new(port, reqs, (const uint8_t(*)[32])leaves, count, every) : NULL;
    if (!g_check) {
        printf("error: cannot start %s or read its receipt key\n", bin);
        rc = 1;
        goto out;
    }
    printf("subscribers: %zu (%zu watching one subject each, %zu every entry)\n", nsubs,
           nsubs - unfiltered, unfiltered);
    printf("offered_rate: %.0f /s, verify_every: %u\n", rate, every);
    fflush(stdout);

    enum { NONE = 0, SUBS = 1 };
    static const char *const kind[2] = {"none", "subscribers"};
    hc_config cfg = {0};
    cfg.host = "127.0.0.1";
    cfg.port = port;
    cfg.connections = conns;
    cfg.depth = 1;
    cfg.rate = rate;
    cfg.next = sr_pool_next;
    cfg.check = check_and_time;
    cfg.check_ctx = g_check;
    cfg.warmup_s = WARMUP;
    cfg.duration_s = phase_s;
    sr_pool p = {reqs, count, 0, false};
    cfg.next_ctx = &p;
    uint64_t good[2] = {0, 0};
    double secs[2] = {0, 0}, cpu[2] = {0, 0}, p50[2] = {0, 0}, p99[2] = {0, 0};
    long rss[2] = {0, 0};
    uint64_t delivered = 0, before = 0, unfilt_events = 0;
    double sub_secs = 0;
    float *lags = NULL;
    size_t nlags = 0;
    size_t dropped = 0, bad = 0, miscount = 0;
    for (int r = 0; r < ROUNDS && rc == 0; r++) {
        for (int j = 0; j < 2 && rc == 0; j++) {
            int k = (r % 2) ? 1 - j : j;
            settle(port);
            subs S;
            memset(&S, 0, sizeof(S));
            S.ep = -1;
            if (k == SUBS && subs_start(&S, port, nsubs, unfiltered, p.next) != 0) {
                printf("error: could not connect %zu subscribers to /events\n", nsubs);
                subs_stop(&S);
                rc = 1;
                break;
            }
            size_t first = p.next;
            uint64_t size0 = latest_size(port);
            rss_watch w = {.pid = pid};
            atomic_store(&w.max_kb, 0);
            pthread_create(&w.thread, NULL, rss_main, &w);
            double c0 = sr_cpu_s(pid), t0 = bench_now();
            char run[64];
            snprintf(run, sizeof(run), "%s_round%d", kind[k], r + 1);
            hc_result res;
            if (hc_run(&cfg, &res) != 0 || !sr_report_errors(run, &res) || p.exhausted) {
                printf("error: %s failed%s\n", run, p.exhausted ? " (statements ran out)" : "");
                rc = 1;
            }
            cpu[k] += sr_cpu_s(pid) - c0;
            size_t last = p.next;
            if (k == SUBS && rc == 0) {
                /* the last events: every unfiltered subscriber up to the newest size */
                uint64_t size1 = latest_size(port);
                double td = bench_now();
                for (;;) {
                    size_t behind = 0;
                    for (size_t i = 0; i < S.n; i++) {
                        sub *s = &S.s[i];
                        behind += s->k < 0 && !s->closed && s->last_id + 1 < (long long)size1;
                    }
                    if (behind == 0 || bench_now() - td > 10) {
                        break;
                    }
                    usleep(20000);
                }
                usleep(200000); /* the filtered ones' last tick */
                sub_secs += bench_now() - t0;
                atomic_store(&S.stop, true);
                pthread_join(S.thread, NULL);
                S.thread = 0;
                uint64_t *want_min = calloc(SUBJECTS, sizeof(uint64_t));
                uint64_t *want_max = calloc(SUBJECTS, sizeof(uint64_t));
                for (size_t i = first; i < last && want_min; i++) {
                    want_max[i % SUBJECTS]++;
                    want_min[i % SUBJECTS] += atomic_load(&g_good[i]);
                }
                for (size_t i = 0; i < S.n; i++) {
                    sub *s = &S.s[i];
                    dropped += s->closed;
                    bad += s->bad;
                    delivered += s->events;
                    if (s->k < 0) {
                        unfilt_events += s->events;
                        miscount += s->last_id + 1 < (long long)size1 || s->events < size1 - size0;
                    } else if (want_min) {
                        miscount += s->events < want_min[s->k] || s->events > want_max[s->k];
                    }
                }
                free(want_min);
                free(want_max);
                before += S.before_201;
                float *nl = realloc(lags, (nlags + S.nlag) * sizeof(float) + 1);
                if (nl) {
                    lags = nl;
                    memcpy(lags + nlags, S.lag, S.nlag * sizeof(float));
                    nlags += S.nlag;
                }
            }
            atomic_store(&w.stop, true);
            pthread_join(w.thread, NULL);
            if (atomic_load(&w.max_kb) > rss[k]) {
                rss[k] = atomic_load(&w.max_kb);
            }
            subs_stop(&S);
            if (rc != 0) {
                break;
            }
            good[k] += res.good;
            secs[k] += res.elapsed_s;
            /* the phases' percentiles: the worse of the rounds */
            p50[k] = res.p50_us / 1000 > p50[k] ? res.p50_us / 1000 : p50[k];
            p99[k] = res.p99_us / 1000 > p99[k] ? res.p99_us / 1000 : p99[k];
            fprintf(stderr, "events_bench: %s: %.0f /s, p99 %.1f ms\n", run, res.good_rps,
                    res.p99_us / 1000);
        }
    }
    if (rc == 0) {
        for (int k = 0; k < 2; k++) {
            char n[80];
            snprintf(n, sizeof(n), "registrations_%s", kind[k]);
            bench_print(n, (double)good[k] / secs[k], "/s");
            snprintf(n, sizeof(n), "latency_%s_p50", kind[k]);
            bench_print(n, p50[k], "ms");
            snprintf(n, sizeof(n), "latency_%s_p99", kind[k]);
            bench_print(n, p99[k], "ms");
            snprintf(n, sizeof(n), "server_rss_max_%s", kind[k]);
            bench_print(n, (double)rss[k] / 1024, "MiB");
            snprintf(n, sizeof(n), "server_cpu_per_registration_%s", kind[k]);
            bench_print(n, good[k] ? cpu[k] / (double)good[k] * 1e6 : 0, "us");
        }
        bench_print("events_delivered", (double)delivered, "");
        bench_print("events_delivered_unfiltered", (double)unfilt_events, "");
        bench_print("events_per_s", sub_secs > 0 ? (double)delivered / sub_secs : 0, "/s");
        bench_print("events_before_201", (double)before, "");
        if (nlags) {
            qsort(lags, nlags, sizeof(float), cmp_float);
            bench_print("event_lag_p50", lags[nlags / 2], "ms");
            size_t i99 = (nlags * 99) / 100;
            bench_print("event_lag_p99", lags[i99 < nlags ? i99 : nlags - 1], "ms");
        }
        bench_print("subscribers_dropped", (double)dropped, "");
        printf("ratio registrations subscribers/none: %.3f\n",
               secs[NONE] > 0 && good[NONE]
                   ? ((double)good[SUBS] / secs[SUBS]) / ((double)good[NONE] / secs[NONE])
                   : 0);
        if (dropped || bad || miscount || nlags == 0) {
            printf("error: subscribers: %zu dropped, %zu out of order, %zu with a wrong count, "
                   "%zu events timed\n",
                   dropped, bad, miscount, nlags);
            rc = 1;
        }
    }
    free(lags);
out:
    sr_stop(pid);
    sr_receipts_free(g_check);
    sr_rm_tree(dir);
    sr_requests_free(reqs, count);
    free(leaves);
    free(g_t201);
    free((void *)g_good);
    free(g_map.ids);
    free(g_map.slot);
    sr_fleet_free(fleet);
    fflush(stdout);
    return rc;
}
