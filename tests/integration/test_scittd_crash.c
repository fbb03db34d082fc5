/*
 * Crash consistency of the running daemon under load. Four client threads register statements
 * (two of them pipelining eight deep) and record every 201; the test SIGKILLs scittd at chosen
 * moments, restarts it on the same data directory and checks the whole log after every round:
 *
 *  - every acknowledged entry is at its acknowledged index, byte for byte, and its receipt still
 *    verifies with the keys the restarted service publishes;
 *  - every tree head any client saw (receipts, checkpoints) is consistent with the current one:
 *    each head seen since the last check is proved consistent with the current head, and so is
 *    the head of the last check, so by transitivity every head ever seen is;
 *  - the entries, read back through the entry bundles, hash to the signed checkpoint's root and
 *    no entry occurs twice; re-submitting an acknowledged statement answers its old index;
 *  - the restarted server registers new statements.
 *
 * Kill moments, in turn: under load at a random time after the first acknowledgement; while a
 * thread of scittd is inside a storage write or sync (seen in /proc/PID/task/TID/syscall); after
 * the load went idle (every response received); and early, a few milliseconds into the load,
 * after a kill during start-up itself (before the daemon says it is ready).
 *
 * SCITT_CRASH_ROUNDS sets the number of rounds (default 24; `make crash-soak` runs many more).
 *
 * SIGKILL cannot see a missing fsync: the page cache survives the process. The power-cut case
 * runs scittd under a simulated power cut (powercut.c, an LD_PRELOAD library that keeps what a
 * disk would hold: file contents as of their last sync, directory names as of the directory's
 * last fsync), kills it under load, restarts it on that disk image (with a new boot ID, as after
 * a real power cut) and runs the same whole check. Every 201 must survive: a log opened without
 * fsync (MDB_NOSYNC), a keystore renamed without syncing its directory (the rotation made at the
 * first restart), a checkpoint served before its commit is durable, or an index trusted after the
 * cut all fail it. SCITT_POWERCUT_ROUNDS sets its rounds (default 8).
 */
#include <dirent.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "crash_load.h"
#include "powercut.h"

#define NCLIENTS 4

static sd_daemon sd;
static sd_issuer issuers[NCLIENTS];
static cl_client clients[NCLIENTS];
static sd_config cfg;
static cl_head anchor; /* the head of the last check */
static uint64_t rng_state;
/* Rounds planned for each kill moment, and rounds whose kill came at that moment. */
static unsigned mode_planned[4], mode_hits[4];
static const char *const mode_names[4] = {"load", "commit", "idle", "startup"};
static double startup_s = 0.05; /* the last start-up seen, exec to READY */

static uint64_t rnd(uint64_t n)
{
    return cl_rand(&rng_state) % n;
}

/* Starts scittd on the data directory, with @p extra (one more option, or NULL). */
static void start_daemon_with(const char *extra)
{
    const char *args[] = {"--policy",
                          sd_path(&sd, "policy.json"),
                          "--batch-delay-ms",
                          rnd(2) ? "0" : "2",
                          "--map-size",
                          "64M",
                          extra,
                          NULL};
    double t0 = it_now();
    sd_start(&sd, args);
    startup_s = it_now() - t0;
    CL.port = sd.port;
}

static void start_daemon(void)
{
    start_daemon_with(NULL);
}

/* ---- killing ---- */

static void kill_daemon(void)
{
    assert_true(sd.srv.pid > 0);
    assert_int_equal(kill(sd.srv.pid, SIGKILL), 0);
    int st;
    assert_int_equal(waitpid(sd.srv.pid, &st, 0), sd.srv.pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    sd.srv.pid = 0;
}

/* True when some thread of @p pid is blocked in a storage write or sync right now. */
static bool in_storage_syscall(pid_t pid)
{
    char dir[64];
    snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
    DIR *d = opendir(dir);
    if (!d) {
        return false;
    }
    bool hit = false;
    struct dirent *e;
    while (!hit && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[400], text[64] = "";
        snprintf(path, sizeof(path), "%s/%s/syscall", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) {
            continue;
        }
        long nr = -1;
        if (fgets(text, sizeof(text), f) && sscanf(text, "%ld", &nr) == 1) {
            hit = nr == SYS_fdatasync || nr == SYS_fsync || nr == SYS_msync || nr == SYS_pwrite64 ||
                  nr == SYS_pwritev || nr == SYS_sync_file_range;
        }
        fclose(f);
    }
    closedir(d);
    return hit;
}

static void wait_first_ack(size_t ms)
{
    double deadline = it_now() + (double)ms / 1000.0;
    while (atomic_load(&CL.round_acks) == 0 && it_now() < deadline) {
        it_sleep_ms(1);
    }
}

static bool clients_running;

static void start_clients(void)
{
    clients_running = true;
    atomic_store(&CL.stop, false);
    atomic_store(&CL.round_acks, 0);
    for (unsigned i = 0; i < NCLIENTS; i++) {
        clients[i].sent = clients[i].answered = 0; /* per round */
        assert_int_equal(pthread_create(&clients[i].thread, NULL, cl_main, &clients[i]), 0);
    }
}

static void join_clients(void)
{
    if (!clients_running) {
        return;
    }
    clients_running = false;
    atomic_store(&CL.stop, true);
    for (unsigned i = 0; i < NCLIENTS; i++) {
        pthread_join(clients[i].thread, NULL);
    }
    if (CL.violation[0]) {
        fail_msg("round %u: %s", CL.round, CL.violation);
    }
}

/*
 * Starts scittd without waiting for it and kills it during its start-up (open and recovery),
 * before it says it is ready; true when the kill came before READY. A start-up quicker than the
 * delay drawn is tried again with a shorter one.
 */
static bool kill_during_startup(void)
{
    const char *argv[] = {sd_bin(),        "--data",
                          sd.data,         "--listen",
                          "127.0.0.1:0",   "--platform",
                          "virtual",       "--insecure-virtual",
                          "--policy",      sd_path(&sd, "policy.json"),
                          "--log-level",   "error",
                          "--print-ports", NULL};
    double window_ms = startup_s * 1000 * 0.8;
    for (int attempt = 0; attempt < 8; attempt++, window_ms /= 2) {
        int out[2];
        assert_int_equal(pipe(out), 0);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&fa, out[0]);
        pid_t pid;
        assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
        posix_spawn_file_actions_destroy(&fa);
        close(out[1]);
        it_sleep_ms((int)rnd(window_ms >= 2 ? (uint64_t)window_ms : 2));
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        char c;
        bool ready = read(out[0], &c, 1) == 1; /* READY is its first output */
        close(out[0]);
        if (!ready) {
            return true;
        }
    }
    return false;
}

/* True when every request every client sent was answered. */
static bool all_answered(void)
{
    for (unsigned i = 0; i < NCLIENTS; i++) {
        if (clients[i].sent != clients[i].answered) {
            return false;
        }
    }
    return true;
}

/*
 * One round of load ended by SIGKILL at the moment @p mode says; counts the round as a hit when
 * the kill came at that moment: under load (registrations acknowledged, clients still sending),
 * inside a storage write or sync, with the server idle (every request answered), or a few
 * milliseconds into the load, followed by a kill during start-up (before READY).
 */
static void load_and_kill(unsigned mode)
{
    start_clients();
    bool hit = true;
    switch (mode) {
    case 0:
        wait_first_ack(5000);
        it_sleep_ms(20 + (int)rnd(300));
        hit = atomic_load(&CL.round_acks) > 0; /* and the clients still send */
        kill_daemon();
        break;
    case 1: {
        wait_first_ack(5000);
        it_sleep_ms((int)rnd(50));
        double deadline = it_now() + 10;
        hit = false;
        while (!hit && it_now() < deadline) {
            hit = in_storage_syscall(sd.srv.pid);
        }
        kill_daemon();
        break;
    }
    case 2:
        wait_first_ack(5000);
        it_sleep_ms(20 + (int)rnd(200));
        join_clients(); /* every request answered: the server is idle */
        hit = atomic_load(&CL.round_acks) > 0 && all_answered();
        it_sleep_ms(10 + (int)rnd(100));
        kill_daemon();
        break;
    default:
        it_sleep_ms(1 + (int)rnd(25));
        kill_daemon();
        break;
    }
    join_clients();
    if (mode == 3) {
        hit = kill_during_startup();
    }
    mode_planned[mode]++;
    mode_hits[mode] += hit;
}

/* ---- checking ---- */

static int cmp_head(const void *a, const void *b)
{
    const cl_head *x = a, *y = b;
    return x->size < y->size ? -1 : x->size > y->size;
}

/* Head @p h (seen by a client) is the current head or consistent with it. */
static void check_head(it_conn *c, const scitt_cose_keyset *keys, const cl_head *h,
                       const sd_checkpoint *now)
{
    if (h->size > now->cp.size) {
        fail_msg("a tree head of size %llu was seen, the log restarted at %llu",
                 (unsigned long long)h->size, (unsigned long long)now->cp.size);
    }
    if (h->size == now->cp.size) {
        assert_memory_equal(h->root, now->cp.root, 32);
        return;
    }
    char path[96];
    snprintf(path, sizeof(path), "/proofs/consistency?from=%llu&to=%llu",
             (unsigned long long)h->size, (unsigned long long)now->cp.size);
    sd_send(c, "GET", path, NULL, scitt_span_make(NULL, 0));
    it_resp *r = sd_recv(c);
    if (r->status != 200) {
        fail_msg("%s answered %d", path, r->status);
    }
    scitt_receipt_info info;
    scitt_err e = scitt_receipt_verify_consistency(sd_body(r), h->size, h->root, keys, 0, &info);
    if (e != SCITT_OK) {
        fail_msg("the head of size %llu is not consistent with the current one: %s",
                 (unsigned long long)h->size, scitt_err_name(e));
    }
    assert_int_equal(info.tree_size, now->cp.size);
    assert_memory_equal(info.root, now->cp.root, 32);
    free(r);
}

/*
 * The whole check after a restart; returns the current tree size. With @p every_id, every
 * acknowledged entry is also fetched by its entry ID (the index must find each one), not a sample.
 */
static uint64_t check_all_ex(bool every_id)
{
    scitt_cose_keyset *keys = sd_keys(&sd);
    sd_checkpoint now;
    sd_get_checkpoint(&sd, &cfg, &now);
    it_conn *c = sd_connect(&sd);

    /* The log read back reproduces the signed root; no entry is in it twice. */
    sd_log lc;
    sd_read_log(c, now.cp.size, &lc);
    assert_memory_equal(lc.id[now.cp.size], now.cp.root, 32);
    uint8_t(*sorted)[32] = malloc((now.cp.size + 1) * 32);
    memcpy(sorted, lc.id, now.cp.size * 32);
    qsort(sorted, now.cp.size, 32, sd_cmp_id);
    for (uint64_t i = 1; i < now.cp.size; i++) {
        if (memcmp(sorted[i - 1], sorted[i], 32) == 0) {
            fail_msg("an entry occurs twice in a log of %llu", (unsigned long long)now.cp.size);
        }
    }
    free(sorted);

    /* Every acknowledged entry at its index, byte for byte; receipts of the last round verify,
     * and so does a sample of older ones, fetched again by entry ID. */
    size_t fresh = 0;
    for (size_t i = 0; i < CL.nacks; i++) {
        const cl_ack *a = &CL.acks[i];
        if (a->index >= now.cp.size) {
            fail_msg("entry acknowledged at %llu is gone: the log has %llu",
                     (unsigned long long)a->index, (unsigned long long)now.cp.size);
        }
        if (lc.len[a->index] != a->entry_len ||
            memcmp(lc.bytes.ptr + lc.off[a->index], a->entry, a->entry_len) != 0) {
            fail_msg("index %llu does not hold the entry acknowledged there",
                     (unsigned long long)a->index);
        }
        bool recent = a->round + 1 >= CL.round;
        if (!recent && !every_id && rnd(64) != 0) {
            continue;
        }
        fresh += recent;
        scitt_receipt_info info;
        scitt_span entry = scitt_span_make(a->entry, a->entry_len);
        assert_int_equal(scitt_receipt_verify_inclusion(scitt_span_make(a->receipt, a->receipt_len),
                                                        entry, keys, SD_VERIFY_FLAGS, &info),
                         SCITT_OK);
        assert_int_equal(info.leaf_index, a->index);
        if (every_id || rnd(8) == 0) {
            char hex[65], path[96];
            assert_int_equal(scitt_hex_encode(scitt_span_make(a->id, 32), hex, sizeof(hex)),
                             SCITT_OK);
            snprintf(path, sizeof(path), "/entries/%s", hex);
            sd_send(c, "GET", path, NULL, scitt_span_make(NULL, 0));
            it_resp *r = sd_recv(c);
            if (r->status != 200) {
                fail_msg("%s answered %d after the restart", path, r->status);
            }
            assert_int_equal(
                scitt_receipt_verify_inclusion(sd_body(r), entry, keys, SD_VERIFY_FLAGS, &info),
                SCITT_OK);
            assert_int_equal(info.leaf_index, a->index);
            free(r);
        }
    }
    sd_log_free(&lc);

    /* Every head seen since the last check, and that check's head, against the current one.
     * Two heads of one size must have one root. */
    if (anchor.size > 0) {
        cl_add_head(anchor.size, anchor.root);
    }
    qsort(CL.heads, CL.nheads, sizeof(*CL.heads), cmp_head);
    size_t distinct = 0;
    for (size_t i = 0; i < CL.nheads; i++) {
        if (i > 0 && CL.heads[i].size == CL.heads[i - 1].size) {
            if (memcmp(CL.heads[i].root, CL.heads[i - 1].root, 32) != 0) {
                fail_msg("two roots for tree size %llu", (unsigned long long)CL.heads[i].size);
            }
            continue;
        }
        check_head(c, keys, &CL.heads[i], &now);
        distinct++;
    }
    CL.nheads = 0;
    anchor.size = now.cp.size;
    memcpy(anchor.root, now.cp.root, 32);
    it_close(c);

    /* The restarted service registers. */
    char payload[64];
    snprintf(payload, sizeof(payload), "{\"after round\": %u}", CL.round);
    scitt_dynbuf st;
    sd_statement(&issuers[0], "pkg:crash/check", payload, &st);
    scitt_dynbuf receipt;
    uint64_t idx = sd_register(&sd, keys, scitt_span_make(st.ptr, st.len), NULL, &receipt);
    assert_int_equal(idx, now.cp.size);
    scitt_dynbuf entry;
    char hex[65];
    sd_entry(scitt_span_make(st.ptr, st.len), &entry, hex);
    uint8_t id[32];
    scitt_sha256(entry.ptr, entry.len, id);
    cl_add_ack(scitt_span_make(entry.ptr, entry.len), id, idx,
               scitt_span_make(receipt.ptr, receipt.len));
    scitt_dynbuf_clear(&entry);
    scitt_dynbuf_clear(&receipt);
    scitt_dynbuf_clear(&st);
    scitt_cose_keyset_free(keys);
    print_message("crash: checked %llu entries, %zu acknowledged (%zu receipts of the last round), "
                  "%zu distinct tree heads\n",
                  (unsigned long long)now.cp.size, CL.nacks, fresh, distinct);
    return now.cp.size + 1;
}

static uint64_t check_all(void)
{
    return check_all_ex(false);
}

static void test_crash(void **state)
{
    (void)state;
    const char *env = getenv("SCITT_CRASH_ROUNDS");
    unsigned rounds = env ? (unsigned)atoi(env) : 24;
    assert_true(rounds >= 1);
    rng_state = (uint64_t)time(NULL) * 2654435761u + (uint64_t)getpid();
    print_message("crash: seed %llu\n", (unsigned long long)rng_state);
    pthread_mutex_init(&CL.mu, NULL);
    sd_init(&sd);
    const sd_issuer *list[NCLIENTS];
    for (unsigned i = 0; i < NCLIENTS; i++) {
        char iss[64];
        snprintf(iss, sizeof(iss), "https://issuer%u.example", i);
        sd_issuer_init(&issuers[i], SCITT_COSE_ALG_ES256, iss);
        list[i] = &issuers[i];
        clients[i].id = i;
        clients[i].issuer = issuers[i];
        clients[i].depth = i < 2 ? 1 : 8;
        clients[i].rng = rng_state + i + 1;
    }
    sd_write_policy(sd_path(&sd, "policy.json"), list, NCLIENTS, NULL);
    start_daemon();
    scitt_cose_keyset *keys = sd_keys(&sd);
    CL.keys = keys;
    sd_get_config(&sd, &cfg);
    assert_int_equal(scitt_note_vkey_parse(scitt_span_str(cfg.vkey), &CL.vkey), SCITT_OK);
    snprintf(CL.origin, sizeof(CL.origin), "%s", cfg.origin);

    double t0 = it_now();
    uint64_t size = 0;
    for (unsigned r = 0; r < rounds; r++) {
        CL.round = r;
        unsigned mode = r % 4;
        size_t before = CL.nacks;
        load_and_kill(mode);
        start_daemon();
        size = check_all();
        print_message("crash: round %u (kill %s) acknowledged %zu\n", r + 1, mode_names[mode],
                      CL.nacks - before - 1);
    }
    sd_stop(&sd);
    start_daemon();
    CL.round = rounds;
    size = check_all();
    sd_stop(&sd);
    size_t again = atomic_load(&CL.resubmits);
    print_message("crash: %u rounds, %zu acknowledged entries, %zu re-submissions answered with "
                  "their index, final log %llu, %.1f s\n",
                  rounds, CL.nacks, again, (unsigned long long)size, it_now() - t0);
    /* The load must really have been there for the rounds to mean anything, and every round's
     * kill must have come at the moment it planned. */
    assert_true(CL.nacks >= rounds * 10u);
    for (unsigned m = 0; m < 4; m++) {
        print_message("crash: kills %s: %u of %u planned\n", mode_names[m], mode_hits[m],
                      mode_planned[m]);
    }
    for (unsigned m = 0; m < 4; m++) {
        if (mode_hits[m] != mode_planned[m]) {
            fail_msg("%u of %u kills planned at moment \"%s\" came at another",
                     mode_planned[m] - mode_hits[m], mode_planned[m], mode_names[m]);
        }
        assert_int_equal(mode_planned[m], (rounds + 3 - m) / 4);
    }

    for (size_t i = 0; i < CL.nacks; i++) {
        free(CL.acks[i].entry);
        free(CL.acks[i].receipt);
    }
    free(CL.acks);
    free(CL.heads);
    scitt_cose_keyset_free(keys);
    for (unsigned i = 0; i < NCLIENTS; i++) {
        sd_issuer_clear(&issuers[i]);
    }
}

/* ---- power cuts ---- */

static char pc_state[300];
static unsigned pc_starts;

/* Starts scittd under the simulated power cut, with a fresh shadow and a boot ID of its own. */
static void start_under_power(const char *extra)
{
    snprintf(pc_state, sizeof(pc_state), "%s/powercut-%u", sd.dir, pc_starts);
    assert_int_equal(mkdir(pc_state, 0700), 0);
    char boot[64];
    snprintf(boot, sizeof(boot), "5c177d00-0000-4000-8000-%012u", ++pc_starts);
    const char *asan = getenv("ASAN_OPTIONS");
    char *saved = asan ? strdup(asan) : NULL;
    char opts[1024];
    /* the library is preloaded ahead of the sanitizer runtime in a sanitizer build */
    snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0", asan ? asan : "", asan ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    setenv("LD_PRELOAD", it_bin("libscitt_powercut.so"), 1);
    setenv("SCITT_POWERCUT_ROOT", sd.data, 1);
    setenv("SCITT_POWERCUT_STATE", pc_state, 1);
    setenv("SCITT_POWERCUT_BOOT", boot, 1);
    start_daemon_with(extra);
    unsetenv("LD_PRELOAD");
    unsetenv("SCITT_POWERCUT_ROOT");
    unsetenv("SCITT_POWERCUT_STATE");
    unsetenv("SCITT_POWERCUT_BOOT");
    if (saved) {
        setenv("ASAN_OPTIONS", saved, 1);
        free(saved);
    } else {
        unsetenv("ASAN_OPTIONS");
    }
}

/* The power goes: the process dies and the data directory becomes what the disk held. */
static void power_cut(void)
{
    kill_daemon();
    char image[300];
    snprintf(image, sizeof(image), "%s/image", sd.dir);
    assert_int_equal(pc_image(pc_state, sd.data, image, &rng_state), 0);
    char out[64];
    const char *rm[] = {"rm", "-rf", sd.data, pc_state, NULL};
    assert_int_equal(it_run(rm, out, sizeof(out), 30000), 0);
    assert_int_equal(rename(image, sd.data), 0);
}

static void test_power_cut(void **state)
{
    (void)state;
    const char *env = getenv("SCITT_POWERCUT_ROUNDS");
    unsigned rounds = env ? (unsigned)atoi(env) : 8;
    assert_true(rounds >= 2);
    rng_state = (uint64_t)time(NULL) * 2654435761u + (uint64_t)getpid();
    print_message("power cut: seed %llu\n", (unsigned long long)rng_state);
    pthread_mutex_init(&CL.mu, NULL);
    sd_init(&sd);
    const sd_issuer *list[NCLIENTS];
    for (unsigned i = 0; i < NCLIENTS; i++) {
        char iss[64];
        snprintf(iss, sizeof(iss), "https://issuer%u.example", i);
        sd_issuer_init(&issuers[i], SCITT_COSE_ALG_ES256, iss);
        list[i] = &issuers[i];
        clients[i].id = i;
        clients[i].issuer = issuers[i];
        clients[i].depth = i < 2 ? 1 : 8;
        clients[i].rng = rng_state + i + 1;
    }
    sd_write_policy(sd_path(&sd, "policy.json"), list, NCLIENTS, NULL);
    /* the data directory exists (and is durable) before the first start */
    assert_int_equal(mkdir(sd.data, 0700), 0);
    start_under_power(NULL);
    scitt_cose_keyset *keys = sd_keys(&sd);
    CL.keys = keys;
    sd_get_config(&sd, &cfg);
    assert_int_equal(scitt_note_vkey_parse(scitt_span_str(cfg.vkey), &CL.vkey), SCITT_OK);
    snprintf(CL.origin, sizeof(CL.origin), "%s", cfg.origin);

    double t0 = it_now();
    unsigned in_syscall = 0;
    for (unsigned r = 0; r < rounds; r++) {
        CL.round = r;
        size_t before = CL.nacks;
        if (r % 2 == 1) {
            /* a clean stop first: the index on disk is then whole, and the next cut tears it
             * between that state and newer pages (it still opens: only the marker tells) */
            sd_stop(&sd);
            start_under_power(NULL);
        }
        start_clients();
        wait_first_ack(5000);
        if (r % 2 == 0) {
            it_sleep_ms(20 + (int)rnd(300));
        } else {
            /* inside a write or a sync of the storage */
            it_sleep_ms((int)rnd(50));
            double deadline = it_now() + 3;
            bool hit = false;
            while (!hit && it_now() < deadline) {
                hit = in_storage_syscall(sd.srv.pid);
            }
            in_syscall += hit;
        }
        power_cut();
        join_clients();
        /* the first restart rotates the receipt key: its keystore must survive the next cut */
        start_under_power(r == 0 ? "--rotate-receipt-key" : NULL);
        scitt_cose_keyset_free(keys);
        keys = sd_keys(&sd);
        CL.keys = keys;
        if (r == 0) {
            assert_int_equal(scitt_cose_keyset_count(keys), 2);
        }
        check_all_ex(true);
        print_message("power cut: round %u acknowledged %zu\n", r + 1, CL.nacks - before - 1);
    }
    /* a clean stop, and a start on the real disk (no simulation, the real boot ID) */
    sd_stop(&sd);
    start_daemon();
    CL.round = rounds;
    uint64_t size = check_all_ex(true);
    sd_stop(&sd);
    print_message("power cut: %u rounds, %zu acknowledged entries, final log %llu, %u cuts "
                  "inside a storage syscall, %.1f s\n",
                  rounds, CL.nacks, (unsigned long long)size, in_syscall, it_now() - t0);
    assert_true(CL.nacks >= rounds * 10u);
    for (size_t i = 0; i < CL.nacks; i++) {
        free(CL.acks[i].entry);
        free(CL.acks[i].receipt);
    }
    free(CL.acks);
    free(CL.heads);
    scitt_cose_keyset_free(keys);
    for (unsigned i = 0; i < NCLIENTS; i++) {
        sd_issuer_clear(&issuers[i]);
    }
}

static int teardown(void **state)
{
    (void)state;
    CL.violation[0] = 0; /* the test already failed if there was one */
    join_clients();
    sd_teardown(&sd);
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test_teardown(test_crash, teardown),
                                       cmocka_unit_test_teardown(test_power_cut, teardown)};
    int sel = TU_SELECT(tests, argc, argv);
    if (sel != 0) {
        return sel;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
