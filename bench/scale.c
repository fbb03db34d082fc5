/*
 * bench/scale: scittd at 10 million entries.
 *
 * Builds (once) a ledger of N real statements (ES256, ~1 KB, 1,000 issuer keys with x5chain) in a
 * directory, through the same check stage and sequencer scittd uses, without HTTP: threads sign,
 * check (scitt_service_check) and submit (scitt_service_submit) as fast as the cores allow. The
 * directory is kept and reused by later runs (a file system kept in memory is refused: the
 * figures are of durable commits). Then, with scittd on that directory, it prints:
 *   filesystem: TYPE DIR                  where the ledger (and the empty one beside it) live
 *   fill: x s, fill_rate: n entries/s    how long building the ledger took (when it was built)
 *   disk: n bytes                         allocated on disk by the data directory when built
 *   storage_overhead: n bytes/entry       (disk - statement bytes) / entries, as built
 *   restart: x ms                         exec to READY (integrity checks included), median of 3
 *   http_ceiling: n /s                    GET /healthz, closed loop: the HTTP stack alone
 *   receipt_reads: n /s                   warm: GET /entries/{id} for 65,536 entries spread over
 *                                         the log (1 in n/65,536), shuffled, read round robin
 *                                         after an untimed pass that reads each of them once (so
 *                                         their pages are in the page cache)
 *   receipt_reads_cold: n /s              cold-ish: scittd stopped, the data files' pages dropped
 *                                         from the page cache (POSIX_FADV_DONTNEED on those files
 *                                         only), scittd started, then --cold-reads entries at
 *                                         random indices over the whole log each read once; the
 *                                         residency of the data files in the page cache is printed
 *                                         before and after (mincore)
 *   search_sub/_iss/_digest/_time_range_p50/p99: x ms   GET /query as the explorer's search
 *                                         page asks it (20 rows, JSON, pages followed while empty):
 *                                         time to the first row for --searches random searches of
 *                                         each kind, after the cold reads: by subject (1 in 5,000
 *                                         entries), by issuer from a random cursor (every entry),
 *                                         by payload digest (one entry) and by a second of
 *                                         registration time; every answer checked against what the
 *                                         builder registered (statement i: sub pkg:oci/app-(i mod
 *                                         5000), its payload's digest), two subjects paged through
 *                                         whole and counted (search_subject_paged_whole: ms each);
 *                                         search_wrong: answers that were not right (fails the
 *                                         run); it uses the index the ledger keeps as it is built
 *                                         (issuer, subject and digest postings, the heads' times)
 *                                         and writes nothing
 *   registrations_at_scale: n /s          POST /entries with the receipt, closed loop, the
 *                                         index read into the page cache first
 *   registrations_empty: n /s             the same on an empty ledger beside it, in this run
 *                                         (three alternating rounds each, the best of each)
 *   ratio receipt_reads/http_ceiling, ratio receipt_reads_cold/receipt_reads,
 *   ratio registrations_at_scale/registrations_empty
 * A read counts when it is a 200 (every 64th receipt is verified for its entry, which the
 * benchmark reads from the ledger itself), a registration when it is a 201 whose receipt
 * verifies; any other response fails the benchmark with an "error:" line on stdout.
 * Usage: scale [--scittd PATH] [--entries N] [--dir DIR] [--seconds S] [--connections C]
 *              [--cold-reads N] [--searches N]
 *        (defaults: build/server/scittd, 10000000, build/bench-scale, 5, 64, 16384, 200)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "scitt/cose.h"
#include "scitt/json.h"
#include "scitt/ledger.h"
#include "scitt/service.h"
#include "scittd_run.h"

#define KEYS              1000
#define SAMPLE            65536 /* entry IDs kept for random reads */
#define IN_FLIGHT         16384 /* submissions queued at most */
#define FILL_SERIES       0
#define ROUNDS            3    /* alternating registration rounds, at scale and empty */
#define READ_VERIFY_EVERY 64   /* receipt reads: every 64th receipt is verified */
#define SUBJECTS          5000 /* sr_statement's subjects: pkg:oci/app-(i mod 5000) */
#define SEARCH_PAGE       20   /* rows per page, as the explorer's search page asks */
#define SEARCH_BODY       (4u << 20)

typedef struct fill {
    scitt_service *svc;
    const sr_fleet *fleet;
    uint64_t total, stride;
    atomic_uint_fast64_t next;
    atomic_uint_fast64_t statement_bytes;
    atomic_uint_fast64_t failed;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t in_flight, done;
    uint8_t (*ids)[32];
} fill;

static void fill_done(void *ctx, const scitt_ledger_result *res)
{
    fill *f = ctx;
    if (res->err != SCITT_OK || res->duplicate) {
        atomic_fetch_add(&f->failed, 1);
    }
    pthread_mutex_lock(&f->mu);
    f->in_flight--;
    f->done++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void *fill_thread(void *arg)
{
    fill *f = arg;
    scitt_dynbuf st;
    scitt_dynbuf_init(&st, 0);
    char reason[256];
    for (;;) {
        uint64_t i = atomic_fetch_add(&f->next, 1);
        if (i >= f->total) {
            break;
        }
        st.len = 0;
        reason[0] = 0;
        scitt_prepared p;
        if (sr_statement(f->fleet, FILL_SERIES, i, &st) != 0 ||
            scitt_service_check(f->svc, scitt_span_make(st.ptr, st.len), &p, reason,
                                sizeof(reason)) != SCITT_OK) {
            fprintf(stderr, "scale: statement %llu refused: %s\n", (unsigned long long)i, reason);
            exit(2);
        }
        if (i % f->stride == 0 && i / f->stride < SAMPLE) {
            memcpy(f->ids[i / f->stride], p.sub.entry_id, 32);
        }
        atomic_fetch_add(&f->statement_bytes, p.sub.entry.len);
        pthread_mutex_lock(&f->mu);
        while (f->in_flight >= IN_FLIGHT) {
            pthread_cond_wait(&f->cv, &f->mu);
        }
        f->in_flight++;
        pthread_mutex_unlock(&f->mu);
        if (scitt_service_submit(f->svc, &p, fill_done, f) != SCITT_OK) {
            fprintf(stderr, "scale: submit failed at %llu\n", (unsigned long long)i);
            exit(2);
        }
        scitt_prepared_clear(&p);
    }
    scitt_dynbuf_clear(&st);
    return NULL;
}

/* What a built directory records about itself (scale.info, written last). */
typedef struct info {
    uint64_t entries, statement_bytes;
    double fill_s;
    uint64_t disk; /* bytes on disk right after the build, before any run added entries */
} info;

static bool info_read(const char *dir, info *in)
{
    char p[4200];
    snprintf(p, sizeof(p), "%s/scale.info", dir);
    FILE *f = fopen(p, "r");
    if (!f) {
        return false;
    }
    unsigned long long e, b, d = 0;
    int got = fscanf(f, "entries %llu statement_bytes %llu fill_s %lf disk %llu", &e, &b,
                     &in->fill_s, &d);
    fclose(f);
    in->entries = e;
    in->statement_bytes = b;
    in->disk = d;
    return got == 3 || got == 4;
}

static int build(const char *dir, uint64_t n, const sr_fleet *fleet, uint8_t (*ids)[32], info *in)
{
    if (sr_rm_tree(dir) != 0 && errno != ENOENT) {
        fprintf(stderr, "scale: cannot clear %s\n", dir);
        return -1;
    }
    if (mkdir(dir, 0700) != 0) {
        fprintf(stderr, "scale: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    /* the layout scittd uses on the virtual platform: keys in <dir>/service-keys */
    char ks_path[4200];
    scitt_keystore ks;
    scitt_keystore_file(dir, NULL, ks_path, sizeof(ks_path), &ks);
    scitt_service_config sc;
    memset(&sc, 0, sizeof(sc));
    sc.data_dir = dir;
    sc.keystore = &ks;
    sc.map_size = 1ull << 30;
    sc.map_size_max = 1ull << 40;
    char reason[512];
    fill f;
    memset(&f, 0, sizeof(f));
    if (scitt_service_open(&sc, &f.svc, reason, sizeof(reason)) != SCITT_OK) {
        fprintf(stderr, "scale: %s\n", reason);
        return -1;
    }
    f.fleet = fleet;
    f.total = n;
    f.stride = n / SAMPLE ? n / SAMPLE : 1;
    f.ids = ids;
    pthread_mutex_init(&f.mu, NULL);
    pthread_cond_init(&f.cv, NULL);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    pthread_t th[64];
    long nth = cores < 64 ? cores : 64;
    double t0 = bench_now();
    for (long i = 0; i < nth; i++) {
        pthread_create(&th[i], NULL, fill_thread, &f);
    }
    uint64_t shown = 0;
    pthread_mutex_lock(&f.mu);
    while (f.done < n) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 5;
        pthread_cond_timedwait(&f.cv, &f.mu, &until);
        if (f.done >= shown + n / 20) {
            shown = f.done;
            fprintf(stderr, "scale: %llu of %llu entries, %.0f s\n", (unsigned long long)shown,
                    (unsigned long long)n, bench_now() - t0);
        }
    }
    pthread_mutex_unlock(&f.mu);
    for (long i = 0; i < nth; i++) {
        pthread_join(th[i], NULL);
    }
    scitt_service_close(f.svc);
    in->fill_s = bench_now() - t0;
    in->entries = n;
    in->statement_bytes = atomic_load(&f.statement_bytes);
    in->disk = sr_disk_bytes(dir);
    if (atomic_load(&f.failed)) {
        fprintf(stderr, "scale: %llu submissions failed\n",
                (unsigned long long)atomic_load(&f.failed));
        return -1;
    }
    char p[4200];
    snprintf(p, sizeof(p), "%s/scale.ids", dir);
    FILE *fi = fopen(p, "wb");
    size_t nids = n < SAMPLE ? n : SAMPLE;
    if (!fi || fwrite(ids, 32, nids, fi) != nids || fclose(fi) != 0) {
        return -1;
    }
    snprintf(p, sizeof(p), "%s/scale.info", dir);
    FILE *fo = fopen(p, "w");
    if (!fo) {
        return -1;
    }
    fprintf(fo, "entries %llu statement_bytes %llu fill_s %.1f disk %llu\n", (unsigned long long)n,
            (unsigned long long)in->statement_bytes, in->fill_s, (unsigned long long)in->disk);
    return fclose(fo) == 0 ? 0 : -1;
}

static size_t ids_read(const char *dir, uint8_t (*ids)[32])
{
    char p[4200];
    snprintf(p, sizeof(p), "%s/scale.ids", dir);
    FILE *f = fopen(p, "rb");
    if (!f) {
        return 0;
    }
    size_t n = fread(ids, 32, SAMPLE, f);
    fclose(f);
    return n;
}

static bool failed; /* any bad response or run: the benchmark exits 1 */

/*
 * A closed loop of @p n requests (round robin; or each once with @p once), every response
 * checked by @p check when given; the rate of good responses, 0 when nothing was measured.
 */
static double closed_loop(int port, const hc_request *reqs, size_t n, unsigned conns,
                          double seconds, bool once, sr_receipts *check, const char *name,
                          hc_result *out)
{
    hc_config cfg = {0};
    cfg.host = "127.0.0.1";
    cfg.port = port;
    cfg.connections = conns;
    cfg.depth = 1;
    cfg.warmup_s = once ? 0 : 1;
    cfg.duration_s = seconds;
    cfg.requests = reqs;
    cfg.nrequests = n;
    cfg.once = once;
    cfg.check = check ? sr_receipt_check : NULL;
    cfg.check_ctx = check;
    hc_result r;
    int rc = hc_run(&cfg, &r);
    if (!sr_report_errors(name, &r)) {
        failed = true;
    }
    if (rc != 0) {
        printf("error: %s: nothing was measured\n", name);
        failed = true;
        return 0;
    }
    if (out) {
        *out = r;
    }
    return r.good_rps;
}

/* ---- the page cache of the data directory ----------------------------------------------- */

/*
 * Adds the bytes of the data extents of @p fd (holes of sparse files are skipped: LMDB files can
 * be sparse up to their map size) to *total, and those of them in the page cache to *resident
 * (mincore over a read-only mapping, a window at a time); with @p load each window is read first,
 * so that it is in the page cache.
 */
static void count_resident(int fd, uint64_t size, bool load, uint64_t *resident, uint64_t *total)
{
    const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), window = 256ull << 20;
    static unsigned char vec[(256u << 20) / 4096];
    static char buf[1u << 20];
    off_t at = 0;
    while ((uint64_t)at < size) {
        off_t data = lseek(fd, at, SEEK_DATA);
        if (data < 0) {
            break;
        }
        off_t hole = lseek(fd, data, SEEK_HOLE);
        if (hole < 0) {
            hole = (off_t)size;
        }
        for (uint64_t off = (uint64_t)data / page * page; off < (uint64_t)hole; off += window) {
            uint64_t len = (uint64_t)hole - off < window ? (uint64_t)hole - off : window;
            for (uint64_t done = 0; load && done < len;) {
                size_t want = len - done < sizeof(buf) ? (size_t)(len - done) : sizeof(buf);
                ssize_t got = pread(fd, buf, want, (off_t)(off + done));
                if (got <= 0) {
                    break;
                }
                done += (uint64_t)got;
            }
            size_t pages = (size_t)((len + page - 1) / page);
            void *m = pages <= sizeof(vec)
                          ? mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, fd, (off_t)off)
                          : MAP_FAILED;
            if (m != MAP_FAILED && mincore(m, (size_t)len, vec) == 0) {
                for (size_t i = 0; i < pages; i++) {
                    *resident += (vec[i] & 1) ? page : 0;
                }
            }
            if (m != MAP_FAILED) {
                munmap(m, (size_t)len);
            }
            *total += (uint64_t)pages * page;
        }
        at = hole;
    }
}

enum { CACHE_COUNT, CACHE_EVICT, CACHE_LOAD };

/* Resident (in the page cache) and total bytes of the regular files under @p dir; CACHE_EVICT
 * asks the kernel to drop their clean cached pages first (POSIX_FADV_DONTNEED, these files only:
 * the rest of the machine's cache is left alone), CACHE_LOAD reads them in first. */
static void cache_walk(const char *dir, int mode, uint64_t *resident, uint64_t *total)
{
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            continue;
        }
        char p[4200];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            cache_walk(p, mode, resident, total);
            continue;
        }
        if (!S_ISREG(st.st_mode) || st.st_size == 0) {
            continue;
        }
        int fd = open(p, O_RDONLY);
        if (fd < 0) {
            continue;
        }
        if (mode == CACHE_EVICT) {
            fdatasync(fd);
            posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        }
        count_resident(fd, (uint64_t)st.st_size, mode == CACHE_LOAD, resident, total);
        close(fd);
    }
    closedir(d);
}

static double cache_resident(const char *dir, bool evict)
{
    uint64_t resident = 0, total = 0;
    cache_walk(dir, evict ? CACHE_EVICT : CACHE_COUNT, &resident, &total);
    return total ? 100.0 * (double)resident / (double)total : 0;
}

/* ---- entries read from the ledger itself ------------------------------------------------- */

/*
 * With scittd stopped, from the ledger in @p dir (read-only): the leaf hashes of the entries
 * whose IDs are @p ids[0..nids) (into @p id_leaves), and @p ncold entries at random indices over
 * the whole log (their IDs into @p cold_ids, leaves into @p cold_leaves). Each entry's ID is
 * checked to find that same entry. 0 on success.
 */
static int from_ledger(const char *dir, const uint8_t (*ids)[32], size_t nids,
                       uint8_t (*id_leaves)[32], size_t ncold, uint64_t seed,
                       uint8_t (*cold_ids)[32], uint8_t (*cold_leaves)[32], uint64_t *size)
{
    scitt_ledger_config lc;
    memset(&lc, 0, sizeof(lc));
    lc.dir = dir;
    lc.read_only = true;
    lc.map_size_max = 1ull << 40;
    scitt_ledger *l = NULL;
    scitt_ledger_read *r = NULL;
    scitt_tree_head head;
    int rc = -1;
    if (scitt_ledger_open(&lc, &l) != SCITT_OK || scitt_ledger_read_begin(l, &r) != SCITT_OK ||
        scitt_ledger_latest(r, &head) != SCITT_OK || head.size == 0) {
        fprintf(stderr, "scale: cannot read the ledger in %s\n", dir);
        goto out;
    }
    *size = head.size;
    for (size_t i = 0; i < nids; i++) {
        uint64_t index;
        scitt_span entry;
        if (scitt_ledger_find(r, ids[i], &index) != SCITT_OK ||
            scitt_ledger_entry(r, index, &entry) != SCITT_OK) {
            fprintf(stderr, "scale: a recorded entry ID is not in the ledger\n");
            goto out;
        }
        scitt_merkle_leaf_hash(entry, id_leaves[i]);
    }
    for (size_t i = 0; i < ncold; i++) {
        uint64_t index = bench_rand(&seed) % head.size, found;
        scitt_span entry;
        if (scitt_ledger_entry(r, index, &entry) != SCITT_OK) {
            fprintf(stderr, "scale: entry %llu cannot be read\n", (unsigned long long)index);
            goto out;
        }
        scitt_sha256(entry.ptr, entry.len, cold_ids[i]);
        scitt_merkle_leaf_hash(entry, cold_leaves[i]);
        if (scitt_ledger_find(r, cold_ids[i], &found) != SCITT_OK || found != index) {
            fprintf(stderr, "scale: entry %llu is not found by its ID\n",
                    (unsigned long long)index);
            goto out;
        }
    }
    rc = 0;
out:
    scitt_ledger_read_end(r);
    scitt_ledger_close(l);
    return rc;
}

/* ---- search (GET /query) on the built ledger: measured, the ledger left as it was built ---- */

/* GET @p path with Accept: application/json on a fresh connection: the status, the body in @p b
 * (NUL-terminated), -1 on a transport error. */
static int get_json(int port, const char *path, char *b, size_t cap, size_t *len)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char req[1024];
    int rl = snprintf(req, sizeof(req),
                      "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
                      "Connection: close\r\n\r\n",
                      path);
    size_t got = 0;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || write(fd, req, (size_t)rl) != rl) {
        close(fd);
        return -1;
    }
    for (;;) {
        ssize_t n = read(fd, b + got, cap - 1 - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
        if (got == cap - 1) {
            close(fd);
            return -1;
        }
    }
    close(fd);
    b[got] = 0;
    char *body = strstr(b, "\r\n\r\n");
    if (got < 12 || !body) {
        return -1;
    }
    int status = atoi(b + 9);
    body += 4;
    *len = got - (size_t)(body - b);
    memmove(b, body, *len + 1);
    return status;
}

typedef struct search_row {
    uint64_t index, registered;
    char sub[64], digest[72];
    bool iss_ok;
} search_row;

/* Parses a /query JSON page into @p rows (at most @p cap); its next cursor in @p next (empty when
 * none). Returns the rows, or -1 when the page does not parse. */
static long parse_page(const char *body, size_t len, search_row *rows, size_t cap, char *next,
                       size_t ncap)
{
    scitt_json j;
    if (scitt_json_parse(scitt_span_make(body, len), &j) != SCITT_OK) {
        return -1;
    }
    long ents = scitt_json_get(&j, 0, "entries"), nx = scitt_json_get(&j, 0, "next");
    long out = -1;
    next[0] = 0;
    if (ents < 0 || scitt_json_type_of(&j, (size_t)ents) != SCITT_JSON_ARRAY || nx < 0) {
        goto done;
    }
    if (scitt_json_type_of(&j, (size_t)nx) != SCITT_JSON_NULL) {
        const scitt_json_tok *t = &j.toks[nx];
        snprintf(next, ncap, "%.*s", (int)(t->end - t->start), body + t->start);
    }
    size_t n = j.toks[ents].count;
    if (n > cap) {
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        long e = scitt_json_at(&j, (size_t)ents, i);
        long ix = scitt_json_get(&j, (size_t)e, "index");
        long rg = scitt_json_get(&j, (size_t)e, "registered");
        long is = scitt_json_get(&j, (size_t)e, "iss");
        long sb = scitt_json_get(&j, (size_t)e, "sub");
        long dg = scitt_json_get(&j, (size_t)e, "digest");
        size_t l;
        if (ix < 0 || rg < 0 || is < 0 || sb < 0 ||
            scitt_json_u64(&j, (size_t)ix, &rows[i].index) != SCITT_OK ||
            scitt_json_u64(&j, (size_t)rg, &rows[i].registered) != SCITT_OK ||
            scitt_json_string(&j, (size_t)sb, rows[i].sub, sizeof(rows[i].sub), &l) != SCITT_OK) {
            goto done;
        }
        rows[i].iss_ok = scitt_json_str_eq(&j, (size_t)is, SR_ISSUER);
        rows[i].digest[0] = 0;
        if (dg >= 0 && scitt_json_type_of(&j, (size_t)dg) == SCITT_JSON_STRING &&
            scitt_json_string(&j, (size_t)dg, rows[i].digest, sizeof(rows[i].digest), &l) !=
                SCITT_OK) {
            goto done;
        }
    }
    out = (long)n;
done:
    scitt_json_clear(&j);
    return out;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Prints NAME_p50 and NAME_p99 (ms) of @p t[0..n). */
static void print_pct(const char *name, double *t, size_t n)
{
    char k[96];
    if (n == 0) {
        return;
    }
    qsort(t, n, sizeof(double), cmp_dbl);
    snprintf(k, sizeof(k), "%s_p50", name);
    bench_print(k, t[n / 2] * 1000, "ms");
    snprintf(k, sizeof(k), "%s_p99", name);
    bench_print(k, t[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] * 1000, "ms");
}

/* Entries of the first @p n statements under subject K: those i < n with i mod SUBJECTS == K. */
static uint64_t subject_count(uint64_t n, uint64_t k)
{
    return n / SUBJECTS + (k < n % SUBJECTS ? 1 : 0);
}

/*
 * One search as the explorer's search page makes it: pages of SEARCH_PAGE rows from @p query,
 * followed until the first row (a page may end early at the service's scan bound, with a
 * cursor). @p first_s gets the time to the first result, @p rows the rows of that page. Returns
 * the rows of that page, 0 when the query matched nothing, -1 on a bad answer.
 */
static long first_result(int port, const char *query, char *buf, search_row *rows, double *first_s)
{
    char path[768], next[64] = "";
    double t0 = bench_now();
    for (int page = 0; page < 1000; page++) {
        snprintf(path, sizeof(path), "/query?%s&limit=%d%s%s", query, SEARCH_PAGE,
                 next[0] ? "&cursor=" : "", next);
        size_t len = 0;
        if (get_json(port, path, buf, SEARCH_BODY, &len) != 200) {
            return -1;
        }
        long n = parse_page(buf, len, rows, SEARCH_PAGE, next, sizeof(next));
        if (n != 0 || !next[0]) {
            *first_s = bench_now() - t0;
            return n;
        }
    }
    return -1;
}

/*
 * The search phase: latency to the first result and correctness of GET /query by subject, issuer
 * (from a random start), payload digest and registration time range, on the ledger as built (its
 * statement i is sr_statement(FILL_SERIES, i): iss SR_ISSUER, sub pkg:oci/app-(i mod 5000), a
 * payload whose SHA-256 is the digest). Two subjects are also paged through whole and counted.
 */
static void search_phase(int port, const sr_fleet *fleet, uint64_t n, size_t nsearch)
{
    char *buf = malloc(SEARCH_BODY);
    search_row *rows = malloc(1000 * sizeof(*rows));
    double *t_sub = calloc(nsearch, sizeof(double)), *t_iss = calloc(nsearch, sizeof(double));
    double *t_dig = calloc(nsearch, sizeof(double)), *t_time = calloc(nsearch, sizeof(double));
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    scitt_dynbuf st;
    scitt_dynbuf_init(&st, 0);
    uint64_t seed = 0x5ea2c4;
    size_t wrong = 0, nsub = 0, niss = 0, ndig = 0, ntime = 0;
    char q[512], first_wrong[256] = "";
    if (!buf || !rows || !t_sub || !t_iss || !t_dig || !t_time || !m) {
        printf("error: search: out of memory\n");
        failed = true;
        goto out;
    }
#define WRONG(...)                                                                                 \
    do {                                                                                           \
        if (!wrong++) {                                                                            \
            snprintf(first_wrong, sizeof(first_wrong), __VA_ARGS__);                               \
        }                                                                                          \
    } while (0)
    for (size_t s = 0; s < nsearch; s++) {
        /* by subject: every row under it, in index order, a full first page */
        uint64_t k = bench_rand(&seed) % SUBJECTS;
        char want[64];
        snprintf(want, sizeof(want), "pkg:oci/app-%llu", (unsigned long long)k);
        snprintf(q, sizeof(q), "sub=%s", want);
        long r = first_result(port, q, buf, rows, &t_sub[nsub]);
        /* a full page, or (a small ledger) at least what was built: later runs of this
         * benchmark register more under the same subjects */
        uint64_t expect = subject_count(n, k) < SEARCH_PAGE ? subject_count(n, k) : SEARCH_PAGE;
        bool ok = r >= (long)expect && r <= SEARCH_PAGE;
        for (long i = 0; ok && i < r; i++) {
            ok = strcmp(rows[i].sub, want) == 0 && rows[i].iss_ok &&
                 (i == 0 || rows[i].index > rows[i - 1].index);
        }
        if (!ok) {
            WRONG("sub=%s: %ld rows, %llu expected or a row of another subject", want, r,
                  (unsigned long long)expect);
        }
        nsub++;

        /* by issuer, from a random place in the log: every row the issuer's */
        uint64_t from = 1 + bench_rand(&seed) % (n > SEARCH_PAGE ? n - SEARCH_PAGE : 1);
        snprintf(q, sizeof(q), "iss=%s&cursor=%llu", SR_ISSUER, (unsigned long long)from);
        r = first_result(port, q, buf, rows, &t_iss[niss]);
        ok = r > 0 && rows[0].index >= from;
        for (long i = 0; ok && i < r; i++) {
            ok = rows[i].iss_ok;
        }
        if (!ok) {
            WRONG("iss from %llu: %ld rows", (unsigned long long)from, r);
        }
        niss++;

        /* by payload digest: statement i's, exactly one row, its subject */
        uint64_t i = bench_rand(&seed) % n;
        st.len = 0;
        uint8_t d[32];
        char hex[65];
        if (sr_statement(fleet, FILL_SERIES, i, &st) != 0 ||
            scitt_cose_sign1_decode(scitt_span_make(st.ptr, st.len), 0, m) != SCITT_OK) {
            WRONG("statement %llu cannot be made again", (unsigned long long)i);
            continue;
        }
        scitt_sha256(m->payload.ptr, m->payload.len, d);
        for (int b = 0; b < 32; b++) {
            snprintf(hex + 2 * b, 3, "%02x", d[b]);
        }
        snprintf(q, sizeof(q), "digest=%s", hex);
        r = first_result(port, q, buf, rows, &t_dig[ndig]);
        snprintf(want, sizeof(want), "pkg:oci/app-%llu", (unsigned long long)(i % SUBJECTS));
        if (r != 1 || strcmp(rows[0].sub, want) != 0 || strcmp(rows[0].digest, hex) != 0) {
            WRONG("digest of statement %llu: %ld rows", (unsigned long long)i, r);
        }
        ndig++;

        /* by registration time: a second of the log's history (from a random entry's time) */
        uint64_t at = 1 + bench_rand(&seed) % (n - 1);
        snprintf(q, sizeof(q), "cursor=%llu", (unsigned long long)at);
        double unused;
        r = first_result(port, q, buf, rows, &unused);
        if (r < 1) {
            WRONG("entry %llu not listed", (unsigned long long)at);
            continue;
        }
        uint64_t t = rows[0].registered;
        snprintf(q, sizeof(q), "after=%llu&before=%llu", (unsigned long long)t,
                 (unsigned long long)t + 1);
        r = first_result(port, q, buf, rows, &t_time[ntime]);
        ok = r > 0;
        for (long x = 0; ok && x < r; x++) {
            ok = rows[x].registered >= t && rows[x].registered <= t + 1;
        }
        if (!ok) {
            WRONG("time range [%llu, %llu]: %ld rows or one outside", (unsigned long long)t,
                  (unsigned long long)t + 1, r);
        }
        ntime++;
    }
    /* completeness: two subjects paged through whole, 1,000 rows a page */
    size_t paged = 0;
    double t_all = 0;
    for (uint64_t k = 0; k < 2; k++) {
        uint64_t kk = (k * 2477 + 17) % SUBJECTS, count = 0, last = 0;
        char next[64] = "", path[256];
        double t0 = bench_now();
        do {
            snprintf(path, sizeof(path), "/query?sub=pkg:oci/app-%llu&limit=1000%s%s",
                     (unsigned long long)kk, next[0] ? "&cursor=" : "", next);
            size_t len = 0;
            long r = get_json(port, path, buf, SEARCH_BODY, &len) == 200
                         ? parse_page(buf, len, rows, 1000, next, sizeof(next))
                         : -1;
            if (r < 0) {
                WRONG("paging sub app-%llu failed", (unsigned long long)kk);
                break;
            }
            for (long x = 0; x < r; x++) {
                if ((count && rows[x].index <= last) || !rows[x].iss_ok) {
                    WRONG("paging sub app-%llu: out of order", (unsigned long long)kk);
                }
                last = rows[x].index;
            }
            count += (uint64_t)r;
            paged++;
        } while (next[0]);
        t_all += bench_now() - t0;
        /* later runs of this benchmark register more under these subjects: at least as built */
        if (count < subject_count(n, kk)) {
            WRONG("sub app-%llu: %llu rows paged, %llu built", (unsigned long long)kk,
                  (unsigned long long)count, (unsigned long long)subject_count(n, kk));
        }
    }
#undef WRONG
    printf("search: %zu searches of each kind, %d rows a page, time to the first row (pages "
           "followed while empty), Accept: application/json, one connection per request\n",
           nsearch, SEARCH_PAGE);
    print_pct("search_sub", t_sub, nsub);
    print_pct("search_iss", t_iss, niss);
    print_pct("search_digest", t_dig, ndig);
    print_pct("search_time_range", t_time, ntime);
    bench_print("search_subject_paged_whole", t_all / 2 * 1000, "ms");
    bench_print("search_wrong", (double)wrong, "");
    if (wrong) {
        printf("error: search: %zu wrong answers; first: %s\n", wrong, first_wrong);
        failed = true;
    }
out:
    scitt_dynbuf_clear(&st);
    free(m);
    free(buf);
    free(rows);
    free(t_sub);
    free(t_iss);
    free(t_dig);
    free(t_time);
}

int main(int argc, char **argv)
{
    bench_help(
        argc, argv,
        "usage: scale [--scittd PATH] [--entries N] [--dir DIR] [--seconds S] [--connections C]\n"
        "             [--cold-reads N] [--searches N]\n  "
        "builds (once) and measures a large ledger: restart, reads warm and cold, search,\n"
        "  registrations against empty (defaults: build/server/scittd, 10000000,\n"
        "  build/bench-scale, 5 s, 64 connections, 16384 cold reads, 200 searches of each "
        "kind)\n");
    const char *bin = "build/server/scittd", *dir = "build/bench-scale";
    uint64_t n = 10000000;
    double seconds = 5;
    unsigned conns = 64;
    size_t ncold = 16384, nsearch = 200;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--scittd")) {
            bin = argv[i + 1];
        } else if (!strcmp(argv[i], "--entries")) {
            n = strtoull(argv[i + 1], NULL, 10);
        } else if (!strcmp(argv[i], "--dir")) {
            dir = argv[i + 1];
        } else if (!strcmp(argv[i], "--seconds")) {
            seconds = atof(argv[i + 1]);
        } else if (!strcmp(argv[i], "--connections")) {
            conns = (unsigned)atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--cold-reads")) {
            ncold = strtoull(argv[i + 1], NULL, 10);
        } else if (!strcmp(argv[i], "--searches")) {
            nsearch = strtoull(argv[i + 1], NULL, 10);
        } else {
            fprintf(stderr, "scale: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (n < 2 || ncold == 0 || nsearch == 0 || !(seconds > 0) || conns == 0) {
        fprintf(stderr, "scale: --entries (2 or more), --cold-reads, --searches, --seconds and "
                        "--connections must be > 0\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (bench_fs_record("scale", dir, true) != 0) {
        return 1;
    }
    sr_fleet *fleet = sr_fleet_new(KEYS);
    uint8_t(*ids)[32] = calloc(SAMPLE, 32);
    info in;
    size_t nids = 0;
    if (info_read(dir, &in) && in.entries == n && (nids = ids_read(dir, ids)) > 0) {
        fprintf(stderr, "scale: reusing the %llu-entry ledger in %s (built in %.0f s)\n",
                (unsigned long long)n, dir, in.fill_s);
    } else {
        fprintf(stderr, "scale: building a %llu-entry ledger in %s\n", (unsigned long long)n, dir);
        if (build(dir, n, fleet, ids, &in) != 0) {
            return 1;
        }
        nids = n < SAMPLE ? n : SAMPLE;
    }
    bench_print("entries", (double)n, "");
    bench_print("fill", in.fill_s, "s");
    bench_print("fill_rate", (double)n / in.fill_s, "entries/s");
    /* Storage as built: every later run adds the statements it registers at scale. */
    uint64_t disk = in.disk ? in.disk : sr_disk_bytes(dir);
    bench_print("disk", (double)disk, "bytes");
    bench_print("storage_overhead", ((double)disk - (double)in.statement_bytes) / (double)n,
                "bytes/entry");

    /* The leaves of the warm sample and a cold sample over the whole log, from the ledger. */
    uint8_t(*id_leaves)[32] = calloc(nids, 32);
    uint8_t(*cold_ids)[32] = calloc(ncold, 32);
    uint8_t(*cold_leaves)[32] = calloc(ncold, 32);
    uint64_t size = 0;
    if (!id_leaves || !cold_ids || !cold_leaves ||
        from_ledger(dir, (const uint8_t(*)[32])ids, nids, id_leaves, ncold,
                    (uint64_t)time(NULL) | 1, cold_ids, cold_leaves, &size) != 0) {
        printf("error: scale: the entries to read could not be taken from the ledger\n");
        return 1;
    }

    /* restart: exec to READY, median of three */
    double t[3];
    int port = 0;
    pid_t pid = -1;
    for (int k = 0; k < 3; k++) {
        pid = sr_start(bin, dir, &port, &t[k]);
        if (pid < 0) {
            printf("error: scale: %s does not start on %s\n", bin, dir);
            return 1;
        }
        if (k < 2) {
            sr_stop(pid);
        }
    }
    double lo = t[0] < t[1] ? t[0] : t[1], hi = t[0] < t[1] ? t[1] : t[0];
    double med = t[2] < lo ? lo : t[2] > hi ? hi : t[2];
    bench_print("restart", med * 1000, "ms");

    /*
     * Warm reads: the sample of entries spread over the log (1 in n/65536), shuffled, read round
     * robin after one untimed pass over all of them. The HTTP stack alone is their ceiling. Every
     * 64th receipt is verified for its entry.
     */
    uint64_t seed = 0x5ca1ab1e;
    for (size_t i = nids - 1; i > 0; i--) {
        size_t j = (size_t)(bench_rand(&seed) % (i + 1));
        uint8_t tmp[32];
        memcpy(tmp, ids[i], 32);
        memcpy(ids[i], ids[j], 32);
        memcpy(ids[j], tmp, 32);
        memcpy(tmp, id_leaves[i], 32);
        memcpy(id_leaves[i], id_leaves[j], 32);
        memcpy(id_leaves[j], tmp, 32);
    }
    hc_request health = {"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 0};
    health.len = strlen(health.bytes);
    double ceiling = closed_loop(port, &health, 1, conns, seconds, false, NULL, "healthz", NULL);
    hc_request *gets = sr_get_requests("/entries/", (const uint8_t(*)[32])ids, nids);
    sr_receipts *rcheck =
        sr_receipts_new(port, gets, (const uint8_t(*)[32])id_leaves, nids, READ_VERIFY_EVERY);
    if (!rcheck) {
        printf("error: scale: cannot read the receipt key of the scittd on %s\n", dir);
        return 1;
    }
    sr_receipts_expect(rcheck, 200);
    /*
     * "Warm" means the sample's pages are in the page cache: one untimed pass reads every sampled
     * entry once first. Without it the measured seconds were mostly the first pass, and the
     * figure depended on how much of the 13 GB the page cache happened to hold.
     */
    double resident_warm = cache_resident(dir, false);
    hc_result pr;
    memset(&pr, 0, sizeof(pr));
    closed_loop(port, gets, nids, conns, 600, true, rcheck, "reads_prime", &pr);
    double resident_primed = cache_resident(dir, false);
    double reads = closed_loop(port, gets, nids, conns, seconds, false, rcheck, "reads_warm", NULL);
    sr_receipts_free(rcheck);
    sr_requests_free(gets, nids);
    bench_print("http_ceiling", ceiling, "/s");
    printf("reads_warm: %zu entries spread over the log, read round robin after one untimed pass "
           "over all of them (%.1f s); data files in the page cache: %.1f%% before that pass, "
           "%.1f%% after\n",
           nids, pr.elapsed_s, resident_warm, resident_primed);
    printf("warm_reads_entries: %zu\n", nids);
    bench_print("page_cache_warm", resident_primed, "%");
    bench_print("receipt_reads", reads, "/s");

    /*
     * Cold-ish reads: scittd stopped, the data files' pages dropped from the page cache, scittd
     * started again, then each of ncold entries at random indices over the whole log read once.
     * The upper levels of the B-trees come back into the cache quickly, hence "-ish".
     */
    sr_stop(pid);
    double before = cache_resident(dir, false);
    double evicted = cache_resident(dir, true);
    pid = sr_start(bin, dir, &port, NULL);
    if (pid < 0) {
        printf("error: scale: %s does not start again on %s\n", bin, dir);
        return 1;
    }
    gets = sr_get_requests("/entries/", (const uint8_t(*)[32])cold_ids, ncold);
    rcheck =
        sr_receipts_new(port, gets, (const uint8_t(*)[32])cold_leaves, ncold, READ_VERIFY_EVERY);
    if (!rcheck) {
        printf("error: scale: cannot read the receipt key of the scittd on %s\n", dir);
        return 1;
    }
    sr_receipts_expect(rcheck, 200);
    hc_result cr;
    memset(&cr, 0, sizeof(cr));
    double cold =
        closed_loop(port, gets, ncold, conns, seconds * 4, true, rcheck, "reads_cold", &cr);
    double after = cache_resident(dir, false);
    sr_receipts_free(rcheck);
    sr_requests_free(gets, ncold);
    printf("reads_cold: %llu of %zu random entries of %llu read once each in %.1f s; data files "
           "in the page cache: %.1f%% before, %.1f%% after dropping them (POSIX_FADV_DONTNEED, "
           "scittd stopped), %.1f%% after the reads\n",
           (unsigned long long)cr.completed, ncold, (unsigned long long)size, cr.elapsed_s, before,
           evicted, after);
    printf("cold_reads_entries: %llu\n", (unsigned long long)cr.completed);
    bench_print("page_cache_cold_before", before, "%");
    bench_print("page_cache_cold_dropped", evicted, "%");
    bench_print("page_cache_cold_after", after, "%");
    bench_print("receipt_reads_cold", cold, "/s");
    printf("receipts_verified: every %d-th read, every registration's 201\n", READ_VERIFY_EVERY);
    printf("read_verify_every: %d\n", READ_VERIFY_EVERY);

    /* Search on the log as built, right after the cold reads (scittd on it, the page cache as
     * those reads left it) */
    search_phase(port, fleet, n, nsearch);

    /*
     * Registrations at scale and on an empty ledger (same file system), both daemons up, in
     * alternating rounds with fresh statements for each; the best round of each is reported, so
     * load from elsewhere on the machine hits both alike. Only verified 201s count. The index
     * (every registration looks its entry ID up there) is read into the page cache first, as on
     * a service that has been running: the cold reads above dropped it with the data files.
     */
    char index_dir[4200];
    snprintf(index_dir, sizeof(index_dir), "%s/index", dir);
    uint64_t ires = 0, itot = 0;
    cache_walk(index_dir, CACHE_LOAD, &ires, &itot);
    bench_print("page_cache_index_at_scale", itot ? 100.0 * (double)ires / (double)itot : 0, "%");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t count = (size_t)(sr_ecdsa_ceiling(cores) * (seconds + 1) * 1.3);
    uint64_t series = (uint64_t)time(NULL);
    uint8_t(*leaves)[32] = malloc(2 * ROUNDS * count * 32);
    hc_request *posts = sr_post_requests(fleet, series, 0, 2 * ROUNDS * count, leaves);
    char empty[4200];
    snprintf(empty, sizeof(empty), "%s-empty-XXXXXX", dir);
    double at_scale = 0, on_empty = 0;
    int eport = 0;
    bool made = mkdtemp(empty) != NULL;
    if (made && bench_fs_record("scale", empty, true) != 0) {
        sr_rm_tree(empty);
        made = false;
    }
    pid_t epid = made ? sr_start(bin, empty, &eport, NULL) : -1;
    sr_receipts *scheck =
        sr_receipts_new(port, posts, (const uint8_t(*)[32])leaves, 2 * ROUNDS * count, 1);
    sr_receipts *echeck = epid > 0 ? sr_receipts_new(eport, posts, (const uint8_t(*)[32])leaves,
                                                     2 * ROUNDS * count, 1)
                                   : NULL;
    if (!scheck || !echeck) {
        printf("error: scale: the empty scittd did not start or a receipt key is missing\n");
        failed = true;
    }
    for (size_t r = 0; !failed && r < ROUNDS; r++) {
        hc_result ra, rb;
        char name[64];
        snprintf(name, sizeof(name), "registrations_at_scale_round%zu", r + 1);
        double a = closed_loop(port, posts + 2 * r * count, count, conns, seconds, false, scheck,
                               name, &ra);
        snprintf(name, sizeof(name), "registrations_empty_round%zu", r + 1);
        double b = closed_loop(eport, posts + (2 * r + 1) * count, count, conns, seconds, false,
                               echeck, name, &rb);
        if (ra.sent > count || rb.sent > count) {
            printf("error: scale: round %zu ran out of its %zu statements (some were sent twice)\n",
                   r + 1, count);
            failed = true;
        }
        fprintf(stderr, "scale: round %zu: %.0f /s at scale, %.0f /s empty\n", r + 1, a, b);
        at_scale = a > at_scale ? a : at_scale;
        on_empty = b > on_empty ? b : on_empty;
    }
    if (epid > 0) {
        sr_stop(epid);
    }
    sr_stop(pid);
    if (made) {
        sr_rm_tree(empty);
    }
    sr_receipts_free(scheck);
    sr_receipts_free(echeck);
    sr_requests_free(posts, 2 * ROUNDS * count);
    free(leaves);
    bench_print("registrations_at_scale", at_scale, "/s");
    bench_print("registrations_empty", on_empty, "/s");
    bench_print("ratio receipt_reads/http_ceiling", ceiling > 0 ? reads / ceiling : 0, "");
    bench_print("ratio receipt_reads_cold/receipt_reads", reads > 0 ? cold / reads : 0, "");
    bench_print("ratio registrations_at_scale/registrations_empty",
                on_empty > 0 ? at_scale / on_empty : 0, "");
    free(ids);
    free(id_leaves);
    free(cold_ids);
    free(cold_leaves);
    sr_fleet_free(fleet);
    return !failed && reads > 0 && cold > 0 && at_scale > 0 && on_empty > 0 ? 0 : 1;
}
