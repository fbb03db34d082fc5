/*
 * bench/pg_reads: receipt reads with the log in PostgreSQL, from one scittd instance and from
 * two instances on the same database, beside the same reads from a scittd on LMDB, in one run.
 *
 * A PostgreSQL server is started on loopback (PostgreSQL's defaults), instance A (--storage, the
 * lease) registers --entries statements, instance B joins the same database with A's service keys
 * (a follower: it serves reads from the database). A scittd on LMDB registers the same
 * statements. Then, closed loop, --connections connections, --seconds each after a 1 s warm-up,
 * GET /entries/{id} round robin over those entries:
 *   reads_lmdb: n /s             the LMDB instance
 *   reads_pg_one: n /s           instance A alone
 *   reads_pg_two: n /s           A and B at once, half the connections each (the sum)
 *   server_cpu_per_read_P: x us  the scittd's CPU (user + system) over the run / reads
 *   ratio reads_pg_one/reads_lmdb, ratio reads_pg_two/reads_pg_one
 * A read counts when it is a 200; every 16th receipt is verified for its entry (an inclusion
 * proof to a signed tree head under the service's receipt key). The machine runs the database,
 * the instances and the client: on few cores a second instance adds no cores, so the second
 * ratio says what a second instance costs or gives here, not on separate machines.
 * Usage: pg_reads [--scittd PATH] [--entries N] [--seconds S] [--connections C]
 *        (defaults: build/server/scittd, 20000, 5, 32); scratch under TMPDIR.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "pg_server.h"
#include "scittd_run.h"

#include "scitt/receipt.h"

#define VERIFY_EVERY 16

static bool failed;

typedef struct reader {
    int port;
    const hc_request *gets;
    const uint8_t (*leaves)[32];
    size_t n;
    unsigned conns;
    double seconds;
    const char *name;
    double rps;
} reader;

static void *read_run(void *arg)
{
    reader *r = arg;
    sr_receipts *check = sr_receipts_new(r->port, r->gets, r->leaves, r->n, VERIFY_EVERY);
    if (!check) {
        printf("error: %s: cannot read the receipt key\n", r->name);
        failed = true;
        return NULL;
    }
    sr_receipts_expect(check, 200);
    hc_config cfg = {0};
    cfg.host = "127.0.0.1";
    cfg.port = r->port;
    cfg.connections = r->conns;
    cfg.depth = 1;
    cfg.warmup_s = 1;
    cfg.duration_s = r->seconds;
    cfg.requests = r->gets;
    cfg.nrequests = r->n;
    cfg.check = sr_receipt_check;
    cfg.check_ctx = check;
    hc_result res;
    int rc = hc_run(&cfg, &res);
    if (!sr_report_errors(r->name, &res) || rc != 0) {
        failed = true;
    }
    r->rps = rc == 0 ? res.good_rps : 0;
    sr_receipts_free(check);
    return NULL;
}

/* Registers every statement of @p posts once through @p port; false (with an error line) when
 * any was not a 201 whose receipt verifies. */
static bool register_all(int port, const hc_request *posts, const uint8_t (*leaves)[32], size_t n,
                         const char *name)
{
    sr_receipts *check = sr_receipts_new(port, posts, leaves, n, 1);
    if (!check) {
        printf("error: %s: cannot read the receipt key\n", name);
        return false;
    }
    hc_config cfg = {0};
    cfg.host = "127.0.0.1";
    cfg.port = port;
    cfg.connections = 32;
    cfg.depth = 1;
    cfg.duration_s = 600;
    cfg.requests = posts;
    cfg.nrequests = n;
    cfg.once = true;
    cfg.check = sr_receipt_check;
    cfg.check_ctx = check;
    hc_result res;
    int rc = hc_run(&cfg, &res);
    sr_receipts_free(check);
    bool ok = sr_report_errors(name, &res) && rc == 0 && res.good == n;
    if (!ok) {
        printf("error: %s: %llu of %zu registered\n", name, (unsigned long long)res.good, n);
    }
    return ok;
}

static bool copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    bool ok = in && out;
    char buf[4096];
    size_t k;
    while (ok && (k = fread(buf, 1, sizeof(buf), in)) > 0) {
        ok = fwrite(buf, 1, k, out) == k;
    }
    ok = ok && !ferror(in);
    if (in) {
        fclose(in);
    }
    if (out && fclose(out) != 0) {
        ok = false;
    }
    return ok;
}

static double cpu_per_read_us(pid_t pid, double cpu0, double reads)
{
    double c = sr_cpu_s(pid);
    return c >= 0 && cpu0 >= 0 && reads > 0 ? (c - cpu0) * 1e6 / reads : 0;
}

int main(int argc, char **argv)
{
    bench_help(argc, argv,
               "usage: pg_reads [--scittd PATH] [--entries N] [--seconds S] [--connections C]\n"
               "  receipt reads from one and from two scittd instances on one PostgreSQL, beside\n"
               "  LMDB, in one run (defaults: build/server/scittd, 20000, 5, 32); scratch under\n"
               "  TMPDIR\n");
    const char *bin = "build/server/scittd";
    size_t n = 20000;
    double seconds = 5;
    unsigned conns = 32;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--scittd")) {
            bin = argv[i + 1];
        } else if (!strcmp(argv[i], "--entries")) {
            n = strtoull(argv[i + 1], NULL, 10);
        } else if (!strcmp(argv[i], "--seconds")) {
            seconds = atof(argv[i + 1]);
        } else if (!strcmp(argv[i], "--connections")) {
            conns = (unsigned)atoi(argv[i + 1]);
        } else {
            fprintf(stderr, "pg_reads: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (n == 0 || !(seconds > 0) || conns < 2) {
        fprintf(stderr, "pg_reads: --entries and --seconds must be > 0, --connections >= 2\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    const char *tmp = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/scitt-pg-reads-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "pg_reads: cannot create a directory under %s\n", tmp ? tmp : "/tmp");
        return 2;
    }
    if (bench_fs_record("pg_reads", dir, true) != 0) {
        sr_rm_tree(dir);
        return 1;
    }
    char da[600], db[600], dl[600], keys_a[640], keys_b[640];
    snprintf(da, sizeof(da), "%s/a", dir);
    snprintf(db, sizeof(db), "%s/b", dir);
    snprintf(dl, sizeof(dl), "%s/lmdb", dir);
    snprintf(keys_a, sizeof(keys_a), "%s/service-keys", da);
    snprintf(keys_b, sizeof(keys_b), "%s/service-keys", db);

    pg_server pg;
    memset(&pg, 0, sizeof(pg));
    pg.parent = tmp;
    pid_t pa = -1, pb = -1, pl = -1;
    int porta = 0, portb = 0, portl = 0;
    sr_fleet *fleet = sr_fleet_new(64);
    uint8_t(*leaves)[32] = calloc(n, 32);
    uint8_t(*ids)[32] = calloc(n, 32);
    hc_request *posts = NULL, *gets_a = NULL, *gets_b = NULL, *gets_l = NULL;
    int rc = 1;
    if (!fleet || !leaves || !ids) {
        goto out;
    }
    if (!pg_server_start(&pg)) {
        printf("error: pg_reads: cannot start PostgreSQL\n");
        goto out;
    }
    printf("storage_postgresql: a server started by the bench on loopback (PostgreSQL's defaults: "
           "fsync on, synchronous_commit on)\n");

    /* the statements and their entry IDs (SHA-256 of the registered form of the very bytes
     * posted: a statement signed again would have another signature) */
    posts = sr_post_requests(fleet, 1, 0, n, leaves);
    for (size_t i = 0; i < n; i++) {
        const char *body = strstr(posts[i].bytes, "\r\n\r\n");
        scitt_cose_sign1 m;
        if (!body || scitt_cose_sign1_decode(
                         scitt_span_make((const uint8_t *)body + 4,
                                         posts[i].len - (size_t)(body + 4 - posts[i].bytes)),
                         0, &m) != SCITT_OK) {
            printf("error: pg_reads: cannot decode statement %zu\n", i);
            goto out;
        }
        scitt_receipt_entry_digest(&m, ids[i]);
    }

    const char *pg_args[] = {"--storage", pg.url, NULL};
    pa = sr_start_args(bin, da, NULL, pg_args, &porta, NULL);
    if (pa < 0 || !register_all(porta, posts, (const uint8_t(*)[32])leaves, n, "register_pg")) {
        printf("error: pg_reads: instance A (PostgreSQL) did not start or register\n");
        goto out;
    }
    if (mkdir(db, 0700) != 0 || !copy_file(keys_a, keys_b)) {
        printf("error: pg_reads: cannot give instance B the service keys\n");
        goto out;
    }
    pb = sr_start_args(bin, db, NULL, pg_args, &portb, NULL);
    pl = sr_start(bin, dl, &portl, NULL);
    if (pb < 0 || pl < 0 ||
        !register_all(portl, posts, (const uint8_t(*)[32])leaves, n, "register_lmdb")) {
        printf("error: pg_reads: instance B or the LMDB instance did not start or register\n");
        goto out;
    }
    printf("entries: %zu (~1 KB statements, the development policy)\n", n);
    printf("read_verify_every: %d\n", VERIFY_EVERY);

    gets_a = sr_get_requests("/entries/", (const uint8_t(*)[32])ids, n);
    gets_b = sr_get_requests("/entries/", (const uint8_t(*)[32])ids, n);
    gets_l = sr_get_requests("/entries/", (const uint8_t(*)[32])ids, n);

    /* LMDB */
    reader rl = {portl, gets_l, (const uint8_t(*)[32])leaves, n, conns, seconds, "reads_lmdb", 0};
    double c0 = sr_cpu_s(pl);
    read_run(&rl);
    bench_print("reads_lmdb", rl.rps, "/s");
    bench_print("server_cpu_per_read_lmdb", cpu_per_read_us(pl, c0, rl.rps * (seconds + 1)), "us");
    sr_stop(pl);
    pl = -1;

    /* PostgreSQL, one instance */
    reader ra = {porta, gets_a, (const uint8_t(*)[32])leaves, n, conns, seconds, "reads_pg_one", 0};
    c0 = sr_cpu_s(pa);
    read_run(&ra);
    bench_print("reads_pg_one", ra.rps, "/s");
    bench_print("server_cpu_per_read_pg", cpu_per_read_us(pa, c0, ra.rps * (seconds + 1)), "us");

    /* PostgreSQL, two instances at once, half the connections each */
    reader r2[2] = {
        {porta, gets_a, (const uint8_t(*)[32])leaves, n, conns / 2, seconds, "reads_pg_two_a", 0},
        {portb, gets_b, (const uint8_t(*)[32])leaves, n, conns - conns / 2, seconds,
         "reads_pg_two_b", 0},
    };
    pthread_t th;
    if (pthread_create(&th, NULL, read_run, &r2[1]) != 0) {
        goto out;
    }
    read_run(&r2[0]);
    pthread_join(th, NULL);
    double two = r2[0].rps + r2[1].rps;
    printf("reads_pg_two_split: %.0f /s through A, %.0f /s through B\n", r2[0].rps, r2[1].rps);
    bench_print("reads_pg_two", two, "/s");
    bench_print("ratio reads_pg_one/reads_lmdb", rl.rps > 0 ? ra.rps / rl.rps : 0, "");
    bench_print("ratio reads_pg_two/reads_pg_one", ra.rps > 0 ? two / ra.rps : 0, "");
    rc = failed ? 1 : 0;
out:
    if (pa > 0) {
        sr_stop(pa);
    }
    if (pb > 0) {
        sr_stop(pb);
    }
    if (pl > 0) {
        sr_stop(pl);
    }
    pg_server_destroy(&pg);
    sr_requests_free(posts, posts ? n : 0);
    sr_requests_free(gets_a, gets_a ? n : 0);
    sr_requests_free(gets_b, gets_b ? n : 0);
    sr_requests_free(gets_l, gets_l ? n : 0);
    free(leaves);
    free(ids);
    if (fleet) {
        sr_fleet_free(fleet);
    }
    sr_rm_tree(dir);
    return rc;
}
