/*
 * Crash consistency of the ledger: a child process appends batches as fast as it can and reports
 * every acknowledged entry through a pipe; the parent kills it with SIGKILL at a random moment,
 * reopens the data directory and checks that every acknowledged entry is at its index, that the
 * recomputed root equals the last signed tree head (open reports no integrity error), and that
 * every tree head an acknowledgement named is consistent with the newest. Repeated ROUNDS times.
 */
#include "testutil.h"
#include "ledger_util.h"
#include "test_signer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "scitt/limits.h"

#define ROUNDS   60
#define MAX_ACKS 400000

typedef struct ack {
    uint64_t index;
    uint64_t tree_size;
    uint8_t id[32];
} ack;

typedef struct child_slot {
    int fd;
    uint8_t id[32];
} child_slot;

static void child_done(void *ctx, const scitt_ledger_result *res)
{
    child_slot *s = ctx;
    if (res->err == SCITT_OK) {
        ack a;
        a.index = res->index;
        a.tree_size = res->tree_size;
        memcpy(a.id, s->id, 32);
        /* a write of under PIPE_BUF bytes to a pipe is atomic */
        if (write(s->fd, &a, sizeof(a)) != (ssize_t)sizeof(a)) {
            _exit(3);
        }
    }
    free(s);
}

/* The child: appends bursts of distinct entries until it is killed. */
static void child_main(const char *dir, int fd, uint64_t round)
{
    test_signer ts;
    scitt_ledger_signer signer;
    ts_init(&ts, &signer);
    scitt_ledger_config cfg = {0};
    cfg.dir = dir;
    cfg.signer = &signer;
    cfg.map_size = 256u << 20;
    scitt_ledger *l;
    if (scitt_ledger_open(&cfg, &l) != SCITT_OK || scitt_ledger_state(l) != SCITT_OK) {
        _exit(2);
    }
    lu_entry *e = malloc(sizeof(*e));
    for (uint64_t i = 0;; i++) {
        lu_make(e, i, round * 1000003u);
        child_slot *s = malloc(sizeof(*s));
        s->fd = fd;
        memcpy(s->id, e->sub_.entry_id, 32);
        if (scitt_ledger_submit(l, &e->sub_, child_done, s) != SCITT_OK) {
            _exit(4);
        }
        if (i % 64 == 63) {
            /* let batches of varied sizes form */
            struct timespec ts2 = {0, (long)(i % 5) * 200000L};
            nanosleep(&ts2, NULL);
        }
    }
}

static ack *acks;
static size_t nacks;

/* Reads acknowledgements while the child runs, so a full pipe never stalls its sequencer. */
static void *read_acks_thread(void *arg);

static void read_acks(int fd)
{
    for (;;) {
        ack a;
        ssize_t n = read(fd, &a, sizeof(a));
        if (n == 0) {
            return;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        assert_int_equal(n, (ssize_t)sizeof(a));
        assert_true(nacks < MAX_ACKS);
        acks[nacks] = a;
        __atomic_store_n(&nacks, nacks + 1, __ATOMIC_RELEASE);
    }
}

static void *read_acks_thread(void *arg)
{
    read_acks(*(int *)arg);
    return NULL;
}

typedef struct {
    scitt_ledger_read *r;
    scitt_tree_head latest;
    unsigned checked;
} cons_ctx;

static scitt_err check_head(void *ctx, const scitt_tree_head *h)
{
    cons_ctx *c = ctx;
    uint8_t path[65][32];
    size_t n;
    assert_int_equal(scitt_ledger_consistency_proof(c->r, h->size, c->latest.size, path, &n),
                     SCITT_OK);
    assert_int_equal(scitt_merkle_consistency_verify(h->size, c->latest.size, h->root,
                                                     c->latest.root, (const uint8_t(*)[32])path, n),
                     SCITT_OK);
    c->checked++;
    return SCITT_OK;
}

static void test_sigkill_rounds(void **state)
{
    (void)state;
    char *dir = lu_tmpdir();
    acks = calloc(MAX_ACKS, sizeof(*acks));
    unsigned seed = (unsigned)time(NULL);
    print_message("crash test seed %u\n", seed);
    srand(seed);
    test_signer ts;
    scitt_ledger_signer signer;
    ts_init(&ts, &signer);
    scitt_ledger_config cfg = {0};
    cfg.dir = dir;
    cfg.signer = &signer;
    cfg.map_size = 256u << 20;
    uint64_t last_size = 0;
    unsigned kills_during_work = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            child_main(dir, p[1], (uint64_t)round + 1);
        }
        close(p[1]);
        size_t before = nacks;
        pthread_t reader;
        assert_int_equal(pthread_create(&reader, NULL, read_acks_thread, &p[0]), 0);
        /*
         * Kill at a random moment: one round in four counts from the start (often during
         * start-up or the first batch), the others from the first acknowledgement, so most
         * kills land mid-stream however slow the machine is.
         */
        if (round % 4 != 0) {
            for (int t = 0; t < 5000 && __atomic_load_n(&nacks, __ATOMIC_ACQUIRE) == before; t++) {
                struct timespec ms = {0, 1000000L};
                nanosleep(&ms, NULL);
            }
        }
        struct timespec wait = {0, (long)(rand() % 30000) * 1000L};
        nanosleep(&wait, NULL);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        pthread_join(reader, NULL);
        close(p[0]);
        if (nacks > before) {
            kills_during_work++;
        }

        /* reopen: integrity holds, every acknowledged entry is where it was acknowledged */
        scitt_ledger *l;
        assert_int_equal(scitt_ledger_open(&cfg, &l), SCITT_OK);
        assert_int_equal(scitt_ledger_state(l), SCITT_OK);
        scitt_ledger_read *r;
        assert_int_equal(scitt_ledger_read_begin(l, &r), SCITT_OK);
        cons_ctx c = {r, {0}, 0};
        scitt_err le = scitt_ledger_latest(r, &c.latest);
        if (nacks > 0) {
            assert_int_equal(le, SCITT_OK);
        }
        if (le == SCITT_OK) {
            assert_true(c.latest.size >= last_size);
            last_size = c.latest.size;
        }
        for (size_t i = 0; i < nacks; i++) {
            uint64_t idx;
            assert_int_equal(scitt_ledger_find(r, acks[i].id, &idx), SCITT_OK);
            assert_int_equal(idx, acks[i].index);
            scitt_span entry;
            assert_int_equal(scitt_ledger_entry(r, idx, &entry), SCITT_OK);
            uint8_t h[32];
            scitt_sha256(entry.ptr, entry.len, h);
            assert_memory_equal(h, acks[i].id, 32);
            /* the head the acknowledgement named was durable too */
            scitt_tree_head ah;
            assert_int_equal(scitt_ledger_head(r, acks[i].tree_size, &ah), SCITT_OK);
        }
        /* every stored head (hence every acknowledged one) is consistent with the newest */
        if (le == SCITT_OK) {
            assert_int_equal(scitt_ledger_heads(r, 1, c.latest.size, check_head, &c), SCITT_OK);
        }
        scitt_ledger_read_end(r);
        scitt_ledger_close(l);
    }
    print_message("crash test: %d SIGKILL rounds (%u with acknowledged work in flight), %zu "
                  "acknowledged entries, final tree size %llu\n",
                  ROUNDS, kills_during_work, nacks, (unsigned long long)last_size);
    assert_true(kills_during_work >= ROUNDS / 2);
    free(acks);
    ts_clear(&ts);
    lu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sigkill_rounds)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
