/*
 * The PostgreSQL backend of the storage seam (storage.h), on libpq. Each table of the schema is a
 * table `scitt_<name>` of (k bytea, v bytea): bytea sorts like LMDB's keys (bytewise, then the
 * shorter first), so every cursor move is one ordered, indexed query. A transaction is a
 * PostgreSQL transaction on a connection of its own from a small pool: read snapshots are
 * REPEATABLE READ (one snapshot over the log and the index together), the batch transaction is
 * committed before any receipt of it is sent (durable when COMMIT returns, on the standbys too
 * with synchronous replication configured).
 *
 * One writer at a time: opening for writing takes the fencing token of `scitt_lease` (increments
 * it), and every write transaction re-checks that the row still holds this writer's token before
 * it commits, under the row's lock. A writer that another one has replaced finds a newer token:
 * its transaction rolls back and the ledger refuses further writes (SCITT_ERR_STATE).
 *
 * The database is not trusted: everything read back is checked above the seam (entries against
 * their leaf hashes in the tiles, the tiles against the signed head at open).
 */
#include "store.h"

#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Version of the PostgreSQL layout (docs/storage.md); a newer one is refused. */
/* 2: the lease has an expiry and a holder (automatic takeover), and scitt_queue (registrations
 * that other instances hand to the sequencing one); a version-1 database is upgraded in place. */
#define PG_SCHEMA_VERSION 2
#define PG_POOL_MAX       16u

static const char *const table_names[SCITT__T_COUNT] = {
    [SCITT__T_META] = "scitt_meta",         [SCITT__T_HEADS] = "scitt_heads",
    [SCITT__T_TIMES] = "scitt_times",       [SCITT__T_TILES] = "scitt_tiles",
    [SCITT__T_BUNDLES] = "scitt_bundles",   [SCITT__T_RECENT] = "scitt_recent",
    [SCITT__T_BOFFSETS] = "scitt_boffsets", [SCITT__T_IMETA] = "scitt_imeta",
    [SCITT__T_IDS] = "scitt_ids",           [SCITT__T_ISS] = "scitt_iss",
    [SCITT__T_SUB] = "scitt_sub",           [SCITT__T_DIG] = "scitt_dig",
};

/* The statements of a table, prepared once per connection. */
enum {
    Q_GET,
    Q_PUT_DUP,
    Q_PUT_APPEND,
    Q_PUT,
    Q_FIRST,
    Q_LAST,
    Q_NEXT,
    Q_PREV,
    Q_SET_RANGE,
    Q_GET_BOTH_RANGE,
    Q_NEXT_DUP,
    Q_DEL,
    Q_DEL_RANGE,
    Q_RANGE,
    Q_KINDS
};

/* Statements of no table, numbered after the tables' (prepared once per connection too). */
/* X_ROWS + table: the rows of a table's inserts gathered in one statement (pg_rows_flush) */
enum {
    X_FENCE = SCITT__T_COUNT * Q_KINDS,
    X_NOTIFY_DONE,
    X_QUEUE_FINISH,
    X_ROWS,
    X_END = X_ROWS + SCITT__T_COUNT
};

typedef struct pg_conn {
    struct pg_conn *next;
    PGconn *c;
    bool prepared[X_END];
} pg_conn;

struct scitt__pg {
    char *url;
    pthread_mutex_t mu;
    pg_conn *idle;
    unsigned idle_count;
    _Atomic int64_t token; /* the fencing token this writer holds (0: not a writer) */
};

struct scitt__txn {
    scitt__store *s;
    pg_conn *pc;
    bool write;
    bool fenced; /* a write of the log: commits only under this writer's token */
    bool shared; /* a snapshot's second handle: ends with the first */
    /* writes are pipelined: sent without waiting for their results, which are read (and
     * checked) before the next read, the fence or the commit */
    bool piped;
    unsigned pending;
    scitt_err pipe_err;
    /* the fence and the COMMIT, sent in the pipeline after the writes: their places in it */
    unsigned fence_at, commit_at;
    bool fence_sent, commit_sent, committed;
    bool answered; /* queued rows were answered: their instances are told at commit */
    PGresult **res;
    size_t nres, cap;
    /* a read snapshot's answers by query (REPEATABLE READ: the same query, the same rows), so
     * that the receipts of one batch read each tile and head once: an open-addressed table */
    struct pg_memo *memo;
    size_t nmemo, capmemo;
    /* Inserts that add rows (appends, the duplicate tables' postings) gathered per table and
     * sent as one statement of two arrays (PostgreSQL's binary array format) before anything
     * else is sent or read: one statement per table and batch instead of one per row. */
    struct pg_rows {
        scitt_dynbuf k, v; /* an array header (filled in when sent), then each element */
        uint32_t n;
    } rows[SCITT__T_COUNT];
    bool has_rows, flushing;
};

typedef struct pg_memo {
    uint64_t hash;
    uint8_t *key; /* the statement's number, then each parameter's length and bytes */
    size_t len;
    PGresult *r;
} pg_memo;

struct scitt__cursor {
    scitt__txn *t;
    scitt__table tb;
    bool on;
    scitt_span key, val;
};

/* A library never prints: the server's notices (NOTICE: relation exists...) are dropped. */
static void pg_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* ---- connections --------------------------------------------------------------------------- */

/* A connection from the pool (@p fresh: a new one). */
static scitt_err pg_get_conn(struct scitt__pg *pg, pg_conn **out, bool fresh)
{
    pthread_mutex_lock(&pg->mu);
    pg_conn *pc = fresh ? NULL : pg->idle;
    if (pc) {
        pg->idle = pc->next;
        pg->idle_count--;
    }
    pthread_mutex_unlock(&pg->mu);
    if (pc && PQstatus(pc->c) != CONNECTION_OK) {
        PQfinish(pc->c);
        scitt_free(pc);
        pc = NULL;
    }
    if (!pc) {
        pc = scitt_calloc(1, sizeof(*pc));
        if (!pc) {
            return SCITT_ERR_NOMEM;
        }
        pc->c = PQconnectdb(pg->url);
        if (!pc->c || PQstatus(pc->c) != CONNECTION_OK) {
            PQfinish(pc->c);
            scitt_free(pc);
            return SCITT_ERR_IO;
        }
        PQsetNoticeProcessor(pc->c, pg_quiet, NULL);
    }
    *out = pc;
    return SCITT_OK;
}

/*
 * Back to the pool, or closed. A connection its server dropped (the server stopped or died, a
 * failover of the database) closes every idle one too: they went to the same server, and each
 * would fail one more statement before its turn to be replaced came.
 */
static void pg_put_conn(struct scitt__pg *pg, pg_conn *pc, bool healthy)
{
    pg_conn *drop = NULL;
    pthread_mutex_lock(&pg->mu);
    if (healthy && PQstatus(pc->c) == CONNECTION_OK && PQtransactionStatus(pc->c) == PQTRANS_IDLE &&
        pg->idle_count < PG_POOL_MAX) {
        pc->next = pg->idle;
        pg->idle = pc;
        pg->idle_count++;
        pc = NULL;
    } else if (PQstatus(pc->c) == CONNECTION_BAD) {
        drop = pg->idle;
        pg->idle = NULL;
        pg->idle_count = 0;
    }
    pthread_mutex_unlock(&pg->mu);
    if (pc) {
        PQfinish(pc->c);
        scitt_free(pc);
    }
    while (drop) {
        pg_conn *next = drop->next;
        PQfinish(drop->c);
        scitt_free(drop);
        drop = next;
    }
}

/* Maps a failed result to scitt_err by its SQLSTATE. */
static scitt_err pg_result_err(const PGresult *r)
{
    if (!r) {
        return SCITT_ERR_IO;
    }
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        return SCITT_OK;
    }
    const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (!code) {
        return SCITT_ERR_IO;
    }
    if (strcmp(code, "53100") == 0) {
        return SCITT_ERR_NO_SPACE; /* disk_full */
    }
    if (strcmp(code, "53200") == 0) {
        return SCITT_ERR_NOMEM; /* out_of_memory */
    }
    if (strncmp(code, "XX", 2) == 0) {
        return SCITT_ERR_CORRUPT; /* data_corrupted, index_corrupted, internal_error */
    }
    if (strcmp(code, "40001") == 0 || strcmp(code, "40P01") == 0 || strcmp(code, "55P03") == 0) {
        return SCITT_ERR_BUSY;
    }
    return SCITT_ERR_IO;
}

static scitt_err pg_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    scitt_err e = pg_result_err(r);
    PQclear(r);
    return e;
}

/* Writes sent ahead and not yet read back, at most (then they are read, and sending goes on). */
#define PIPE_MAX 512u

static scitt_err pg_rows_flush(scitt__txn *t);

/* Reads back every pipelined write and leaves pipeline mode; the first failure is kept. */
static scitt_err pg_drain(scitt__txn *t)
{
    if (t->has_rows && !t->flushing) {
        scitt_err f = pg_rows_flush(t);
        if (f != SCITT_OK && t->pipe_err == SCITT_OK) {
            t->pipe_err = f;
        }
    }
    if (!t->piped) {
        return t->pipe_err;
    }
    PGconn *c = t->pc->c;
    scitt_err e = SCITT_OK;
    if (PQpipelineSync(c) != 1) {
        e = SCITT_ERR_IO;
    }
    unsigned nulls = 0;
    while (e != SCITT_ERR_IO) {
        PGresult *r = PQgetResult(c);
        if (!r) {
            /* one NULL ends each statement's results */
            if (++nulls > t->pending + 1 || PQstatus(c) != CONNECTION_OK) {
                e = SCITT_ERR_IO;
            }
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        /* results come in the order sent: statement number `nulls` */
        if (t->commit_sent && nulls == t->commit_at) {
            t->committed = st == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
        }
        if (st == PGRES_PIPELINE_ABORTED) {
            e = e ? e : SCITT_ERR_IO;
        } else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            scitt_err f = pg_result_err(r);
            if (t->fence_sent && nulls == t->fence_at && code && strcmp(code, "22012") == 0) {
                f = SCITT_ERR_STATE; /* the fence's division by zero: another writer's token */
            }
            e = e ? e : (f ? f : SCITT_ERR_IO);
        }
        PQclear(r);
    }
    if (PQexitPipelineMode(c) != 1 && e == SCITT_OK) {
        e = SCITT_ERR_IO;
    }
    t->piped = false;
    t->pending = 0;
    t->fence_sent = t->commit_sent = false;
    if (t->pipe_err == SCITT_OK) {
        t->pipe_err = e;
    }
    return t->pipe_err;
}

static bool is_dup(scitt__table tb)
{
    return tb >= SCITT__T_FIRST_DUP;
}

/* Sends a write (statement @p id, prepared as @p sql) without waiting for its result. */
static scitt_err pg_send(scitt__txn *t, unsigned id, const char *sql, int n,
                         const scitt_span *params)
{
    if (t->pipe_err != SCITT_OK) {
        return t->pipe_err;
    }
    if (t->has_rows && !t->flushing) {
        scitt_err f = pg_rows_flush(t); /* what was written before goes first */
        if (f != SCITT_OK) {
            return f;
        }
    }
    PGconn *c = t->pc->c;
    char name[16];
    snprintf(name, sizeof(name), "s%u", id);
    if (!t->pc->prepared[id]) {
        scitt_err e = pg_drain(t); /* PQprepare waits for its answer: not in a pipeline */
        if (e != SCITT_OK) {
            return e;
        }
        PGresult *p = PQprepare(c, name, sql, n, NULL);
        e = pg_result_err(p);
        PQclear(p);
        if (e != SCITT_OK) {
            return e;
        }
        t->pc->prepared[id] = true;
    }
    if (!t->piped) {
        if (PQenterPipelineMode(c) != 1) {
            return SCITT_ERR_IO;
        }
        t->piped = true;
    }
    const char *values[5];
    int lengths[5], formats[5];
    static const char empty[1] = {0};
    for (int i = 0; i < n && i < 5; i++) {
        values[i] = params[i].ptr ? (const char *)params[i].ptr : empty;
        lengths[i] = (int)params[i].len;
        formats[i] = 1;
    }
    if (n > 5 || PQsendQueryPrepared(c, name, n, values, lengths, formats, 1) != 1) {
        t->pipe_err = SCITT_ERR_IO;
        return pg_drain(t);
    }
    if (++t->pending >= PIPE_MAX) {
        return pg_drain(t);
    }
    return SCITT_OK;
}

/* The header of a one-dimensional bytea[] of @p n elements, no NULLs (binary format). */
#define ROWS_HEADER 20
static void rows_header(uint8_t *h, uint32_t n)
{
    static const uint32_t fields[5] = {1, 0, 17 /* bytea */, 0, 1};
    for (unsigned i = 0; i < 5; i++) {
        uint32_t v = i == 3 ? n : fields[i];
        h[4 * i] = (uint8_t)(v >> 24);
        h[4 * i + 1] = (uint8_t)(v >> 16);
        h[4 * i + 2] = (uint8_t)(v >> 8);
        h[4 * i + 3] = (uint8_t)v;
    }
}

static void rows_put(scitt_dynbuf *b, scitt_span x)
{
    if (b->len == 0) {
        uint8_t h[ROWS_HEADER] = {0};
        scitt_dynbuf_put(b, h, sizeof(h));
    }
    uint8_t len[4] = {(uint8_t)(x.len >> 24), (uint8_t)(x.len >> 16), (uint8_t)(x.len >> 8),
                      (uint8_t)x.len};
    scitt_dynbuf_put(b, len, 4);
    if (x.len) {
        scitt_dynbuf_put(b, x.ptr, x.len);
    }
}

/* Sends every table's gathered rows, one statement per table. */
static scitt_err pg_rows_flush(scitt__txn *t)
{
    scitt_err e = SCITT_OK;
    t->flushing = true;
    for (unsigned tb = 0; tb < SCITT__T_COUNT; tb++) {
        struct pg_rows *r = &t->rows[tb];
        if (r->n == 0) {
            continue;
        }
        if (e == SCITT_OK && (r->k.err != SCITT_OK || r->v.err != SCITT_OK)) {
            e = SCITT_ERR_NOMEM;
        }
        if (e == SCITT_OK) {
            rows_header(r->k.ptr, r->n);
            rows_header(r->v.ptr, r->n);
            char sql[200];
            snprintf(sql, sizeof(sql),
                     "INSERT INTO %s (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[])%s",
                     table_names[tb], is_dup((scitt__table)tb) ? " ON CONFLICT DO NOTHING" : "");
            scitt_span p[2] = {scitt_span_make(r->k.ptr, r->k.len),
                               scitt_span_make(r->v.ptr, r->v.len)};
            e = pg_send(t, X_ROWS + tb, sql, 2, p);
        }
        r->k.len = r->v.len = 0;
        r->n = 0;
    }
    t->has_rows = false;
    t->flushing = false;
    return e;
}

/*
 * Runs statement @p kind of table @p tb (text @p sql, prepared on the connection the first time)
 * with binary parameters and results; the result is kept by the transaction.
 */
static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The memo's key of a query (statement @p id, @p n parameters) in @p buf (NULL when too long). */
static size_t memo_key(unsigned id, int n, const scitt_span *params, uint8_t *buf, size_t cap)
{
    size_t len = 4;
    for (int i = 0; i < n; i++) {
        len += 4 + params[i].len;
    }
    if (len > cap) {
        return 0;
    }
    put_be32(buf, id);
    size_t at = 4;
    for (int i = 0; i < n; i++) {
        put_be32(buf + at, (uint32_t)params[i].len);
        if (params[i].len) {
            memcpy(buf + at + 4, params[i].ptr, params[i].len);
        }
        at += 4 + params[i].len;
    }
    return len;
}

static uint64_t memo_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 1099511628211ull;
    }
    return h;
}

static pg_memo *memo_find(scitt__txn *t, uint64_t h, const uint8_t *key, size_t len)
{
    if (!t->capmemo) {
        return NULL;
    }
    for (size_t i = (size_t)h & (t->capmemo - 1);; i = (i + 1) & (t->capmemo - 1)) {
        pg_memo *m = &t->memo[i];
        if (!m->key || (m->hash == h && m->len == len && memcmp(m->key, key, len) == 0)) {
            return m;
        }
    }
}

/* Remembers @p r (kept by the transaction) as the answer to @p key; best effort. */
static void memo_put(scitt__txn *t, uint64_t h, const uint8_t *key, size_t len, PGresult *r)
{
    if (2 * (t->nmemo + 1) > t->capmemo) {
        size_t cap = t->capmemo ? 2 * t->capmemo : 64;
        pg_memo *m = scitt_calloc(cap, sizeof(*m));
        if (!m) {
            return;
        }
        pg_memo *old = t->memo;
        size_t oldcap = t->capmemo;
        t->memo = m;
        t->capmemo = cap;
        for (size_t i = 0; i < oldcap; i++) {
            if (old[i].key) {
                *memo_find(t, old[i].hash, old[i].key, old[i].len) = old[i];
            }
        }
        scitt_free(old);
    }
    pg_memo *m = memo_find(t, h, key, len);
    if (m->key) {
        return;
    }
    m->key = scitt_malloc(len);
    if (!m->key) {
        return;
    }
    memcpy(m->key, key, len);
    m->hash = h;
    m->len = len;
    m->r = r;
    t->nmemo++;
}

static scitt_err pg_query(scitt__txn *t, scitt__table tb, int kind, const char *sql, int n,
                          const scitt_span *params, PGresult **out)
{
    scitt_err d = pg_drain(t);
    if (d != SCITT_OK) {
        return d;
    }
    /* a read-only snapshot answers a query it was asked before from memory */
    uint8_t kbuf[256];
    size_t klen =
        t->write ? 0
                 : memo_key((unsigned)tb * Q_KINDS + (unsigned)kind, n, params, kbuf, sizeof(kbuf));
    uint64_t kh = klen ? memo_hash(kbuf, klen) : 0;
    if (klen) {
        pg_memo *m = memo_find(t, kh, kbuf, klen);
        if (m && m->key) {
            *out = m->r;
            return SCITT_OK;
        }
    }
    if (t->nres == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        PGresult **res = scitt_realloc(t->res, cap * sizeof(*res));
        if (!res) {
            return SCITT_ERR_NOMEM;
        }
        t->res = res;
        t->cap = cap;
    }
    unsigned id = (unsigned)tb * Q_KINDS + (unsigned)kind;
    char name[16];
    snprintf(name, sizeof(name), "s%u", id);
    PGconn *c = t->pc->c;
    if (!t->pc->prepared[id]) {
        PGresult *p = PQprepare(c, name, sql, n, NULL);
        scitt_err e = pg_result_err(p);
        PQclear(p);
        if (e != SCITT_OK) {
            return e;
        }
        t->pc->prepared[id] = true;
    }
    const char *values[3];
    int lengths[3], formats[3];
    static const char empty[1] = {0};
    for (int i = 0; i < n && i < 3; i++) {
        values[i] = params[i].ptr ? (const char *)params[i].ptr : empty;
        lengths[i] = (int)params[i].len;
        formats[i] = 1;
    }
    PGresult *r = PQexecPrepared(c, name, n, values, lengths, formats, 1);
    scitt_err e = pg_result_err(r);
    if (e != SCITT_OK) {
        PQclear(r);
        return e;
    }
    t->res[t->nres++] = r;
    if (klen) {
        memo_put(t, kh, kbuf, klen, r);
    }
    *out = r;
    return SCITT_OK;
}

static scitt_span pg_value(const PGresult *r, int row, int col)
{
    return scitt_span_make((const uint8_t *)PQgetvalue(r, row, col),
                           (size_t)PQgetlength(r, row, col));
}

/* ---- transactions -------------------------------------------------------------------------- */

static void txn_free(scitt__txn *t, bool healthy)
{
    for (unsigned i = 0; i < SCITT__T_COUNT; i++) {
        scitt_dynbuf_clear(&t->rows[i].k);
        scitt_dynbuf_clear(&t->rows[i].v);
    }
    for (size_t i = 0; i < t->nres; i++) {
        PQclear(t->res[i]);
    }
    scitt_free(t->res);
    for (size_t i = 0; i < t->capmemo; i++) {
        scitt_free(t->memo[i].key);
    }
    scitt_free(t->memo);
    if (t->pc) {
        pg_put_conn(t->s->pg, t->pc, healthy);
    }
    scitt_free(t);
}

static scitt_err pg_txn_begin(scitt__store *s, scitt__txn_kind kind, scitt__txn **out)
{
    *out = NULL;
    bool write = kind == SCITT__TXN_LOG_WRITE || kind == SCITT__TXN_INDEX_WRITE;
    if (write && s->read_only) {
        return SCITT_ERR_STATE;
    }
    scitt__txn *t = scitt_calloc(1, sizeof(*t));
    if (!t) {
        return SCITT_ERR_NOMEM;
    }
    t->s = s;
    t->write = write;
    for (unsigned i = 0; i < SCITT__T_COUNT; i++) {
        scitt_dynbuf_init(&t->rows[i].k, 0);
        scitt_dynbuf_init(&t->rows[i].v, 0);
    }
    /* The log is fenced; the index is derived data, and a deposed writer's postings name entries
     * it committed while it held the token, so they need no fence. */
    t->fenced = kind == SCITT__TXN_LOG_WRITE;
    if (t->fenced && atomic_load(&s->pg->token) == 0) {
        scitt_free(t);
        return SCITT_ERR_STATE; /* not the writer (a follower, or deposed) */
    }
    /* a pooled connection may have died with its server (a database failover): one retry on a
     * fresh connection */
    scitt_err e = SCITT_ERR_IO;
    for (int attempt = 0; attempt < 2 && e != SCITT_OK; attempt++) {
        if (t->pc) {
            pg_put_conn(s->pg, t->pc, false);
            t->pc = NULL;
        }
        e = pg_get_conn(s->pg, &t->pc, attempt > 0);
        if (e == SCITT_OK) {
            e = pg_exec(t->pc->c, write ? "BEGIN ISOLATION LEVEL READ COMMITTED"
                                        : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        }
    }
    if (e != SCITT_OK) {
        txn_free(t, false);
        return e;
    }
    *out = t;
    return SCITT_OK;
}

static void pg_txn_abort(scitt__store *s, scitt__txn *t)
{
    (void)s;
    if (!t || t->shared) {
        return;
    }
    for (unsigned i = 0; i < SCITT__T_COUNT; i++) {
        t->rows[i].n = 0; /* rolled back: nothing gathered is sent */
        t->rows[i].k.len = t->rows[i].v.len = 0;
    }
    t->has_rows = false;
    (void)pg_drain(t);
    bool ok = pg_exec(t->pc->c, "ROLLBACK") == SCITT_OK;
    txn_free(t, ok);
}

/*
 * The writes, the fence and the COMMIT go in one pipeline, read back at once: one round trip. The
 * fence fails its statement (a division by zero) when the row no longer holds this writer's
 * token, which aborts the transaction before the COMMIT runs.
 */
static const char fence_sql[] =
    "WITH f AS (UPDATE scitt_lease SET renewed = now() WHERE id = 1 AND token = $1::bigint "
    "RETURNING 1) SELECT 1 / (SELECT count(*)::integer FROM f)";

static scitt_err pg_txn_commit(scitt__store *s, scitt__txn *t)
{
    scitt_err e = t->pipe_err;
    if (e == SCITT_OK && t->has_rows) {
        e = pg_rows_flush(t); /* before the fence's place in the pipeline is taken */
    }
    if (e == SCITT_OK && t->pending + 3 >= PIPE_MAX) {
        e = pg_drain(t); /* room for the fence and the COMMIT in this pipeline */
    }
    if (e == SCITT_OK && t->fenced) {
        uint8_t tk[8];
        scitt__be64(tk, (uint64_t)atomic_load(&s->pg->token));
        scitt_span p = scitt_span_make(tk, sizeof(tk));
        e = pg_send(t, X_FENCE, fence_sql, 1, &p);
        if (e == SCITT_OK) {
            /* its place once sent: preparing it first (a new connection) drains the pipeline */
            t->fence_at = t->pending - 1;
            t->fence_sent = true;
        }
    }
    if (e == SCITT_OK) {
        if (!t->piped) {
            e = PQenterPipelineMode(t->pc->c) == 1 ? SCITT_OK : SCITT_ERR_IO;
            t->piped = e == SCITT_OK;
        }
        if (e == SCITT_OK &&
            PQsendQueryParams(t->pc->c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) != 1) {
            e = SCITT_ERR_IO;
        }
        if (e == SCITT_OK) {
            t->commit_at = t->pending++;
            t->commit_sent = true;
            t->committed = false;
        }
    }
    e = pg_drain(t);
    /* a COMMIT of a failed transaction reports ROLLBACK, not an error */
    if (e == SCITT_OK && !t->committed) {
        e = SCITT_ERR_IO;
    }
    if (e != SCITT_OK) {
        pg_txn_abort(s, t); /* (ROLLBACK outside a transaction only warns) */
        return e;
    }
    txn_free(t, true);
    return SCITT_OK;
}

static scitt_err pg_snapshot_begin(scitt__store *s, scitt__txn **log, scitt__txn **index)
{
    scitt__txn *t;
    scitt_err e = pg_txn_begin(s, SCITT__TXN_LOG_READ, &t);
    if (e != SCITT_OK) {
        return e;
    }
    /* the index handle is the same transaction: one snapshot over both */
    *log = t;
    *index = t;
    return SCITT_OK;
}

static void pg_snapshot_end(scitt__store *s, scitt__txn *log, scitt__txn *index)
{
    (void)index;
    pg_txn_abort(s, log);
}

/* ---- records ------------------------------------------------------------------------------- */

static scitt_err pg_get(const scitt__store *s, scitt__txn *t, scitt__table tb, scitt_span key,
                        scitt_span *val)
{
    (void)s;
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT v FROM %s WHERE k = $1 ORDER BY v LIMIT 1", table_names[tb]);
    PGresult *r;
    scitt_err e = pg_query(t, tb, Q_GET, sql, 1, &key, &r);
    if (e != SCITT_OK) {
        return e;
    }
    if (PQntuples(r) != 1) {
        return SCITT_ERR_NOT_FOUND;
    }
    *val = pg_value(r, 0, 0);
    return SCITT_OK;
}

/* A slice of a value in the database, so that one entry of a bundle crosses the wire alone. */
static scitt_err pg_get_range(const scitt__store *s, scitt__txn *t, scitt__table tb, scitt_span key,
                              uint32_t off, uint32_t len, scitt_span *val)
{
    (void)s;
    if (off > INT32_MAX - 1 || len > INT32_MAX) {
        return SCITT_ERR_INVALID_ARG;
    }
    char sql[128];
    snprintf(sql, sizeof(sql),
             "SELECT substring(v FROM $2::integer FOR $3::integer) FROM %s WHERE k = $1",
             table_names[tb]);
    /* integer parameters in binary: four bytes, network order; substring counts from 1 */
    uint8_t from[4], count[4];
    scitt_writer w;
    scitt_writer_init(&w, from, 4);
    scitt_writer_be32(&w, off + 1);
    scitt_writer_init(&w, count, 4);
    scitt_writer_be32(&w, len);
    const scitt_span p[3] = {key, scitt_span_make(from, 4), scitt_span_make(count, 4)};
    PGresult *r;
    scitt_err e = pg_query(t, tb, Q_RANGE, sql, 3, p, &r);
    if (e != SCITT_OK) {
        return e;
    }
    if (PQntuples(r) != 1) {
        return SCITT_ERR_NOT_FOUND;
    }
    *val = pg_value(r, 0, 0);
    return SCITT_OK;
}

static scitt_err pg_put(const scitt__store *s, scitt__txn *t, scitt__table tb, scitt_span key,
                        scitt_span val, unsigned flags)
{
    (void)s;
    if (!t->write) {
        return SCITT_ERR_STATE;
    }
    if (is_dup(tb) || (flags & SCITT__PUT_APPEND)) {
        /* rows added, never replaced: gathered, sent as one statement per table */
        struct pg_rows *r = &t->rows[tb];
        rows_put(&r->k, key);
        rows_put(&r->v, val);
        r->n++;
        t->has_rows = true;
        if (r->k.err != SCITT_OK || r->v.err != SCITT_OK) {
            return SCITT_ERR_NOMEM;
        }
        /* a statement's arrays stay small (a rebuild of the index adds rows by the thousand) */
        return r->n >= 4096 || r->v.len >= (4u << 20) ? pg_rows_flush(t) : SCITT_OK;
    }
    char sql[160];
    const char *n = table_names[tb];
    int kind = is_dup(tb) ? Q_PUT_DUP : (flags & SCITT__PUT_APPEND) ? Q_PUT_APPEND : Q_PUT;
    if (is_dup(tb)) {
        snprintf(sql, sizeof(sql), "INSERT INTO %s (k, v) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                 n);
    } else if (flags & SCITT__PUT_APPEND) {
        /* an append never replaces: an existing key fails the transaction */
        snprintf(sql, sizeof(sql), "INSERT INTO %s (k, v) VALUES ($1, $2)", n);
    } else {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO %s (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = "
                 "excluded.v",
                 n);
    }
    scitt_span p[2] = {key, val};
    return pg_send(t, (unsigned)tb * Q_KINDS + (unsigned)kind, sql, 2, p);
}

static scitt_err pg_cursor_open(const scitt__store *s, scitt__txn *t, scitt__table tb,
                                scitt__cursor **out)
{
    (void)s;
    scitt__cursor *c = scitt_calloc(1, sizeof(*c));
    if (!c) {
        return SCITT_ERR_NOMEM;
    }
    c->t = t;
    c->tb = tb;
    *out = c;
    return SCITT_OK;
}

static scitt_err pg_cursor_get(scitt__cursor *c, scitt_span *key, scitt_span *val, scitt__op op)
{
    const char *n = table_names[c->tb];
    bool dup = is_dup(c->tb);
    char sql[200];
    scitt_span p[2];
    int np = 0;
    switch (op) {
    case SCITT__OP_FIRST:
        snprintf(sql, sizeof(sql), "SELECT k, v FROM %s ORDER BY k, v LIMIT 1", n);
        break;
    case SCITT__OP_LAST:
        snprintf(sql, sizeof(sql), "SELECT k, v FROM %s ORDER BY k DESC, v DESC LIMIT 1", n);
        break;
    case SCITT__OP_NEXT:
    case SCITT__OP_PREV:
        if (!c->on) {
            return SCITT_ERR_INVALID_ARG;
        }
        p[0] = c->key;
        p[1] = c->val;
        np = dup ? 2 : 1;
        if (op == SCITT__OP_NEXT) {
            snprintf(sql, sizeof(sql),
                     dup ? "SELECT k, v FROM %s WHERE (k, v) > ($1, $2) ORDER BY k, v LIMIT 1"
                         : "SELECT k, v FROM %s WHERE k > $1 ORDER BY k LIMIT 1",
                     n);
        } else {
            snprintf(sql, sizeof(sql),
                     dup ? "SELECT k, v FROM %s WHERE (k, v) < ($1, $2) ORDER BY k DESC, v DESC "
                           "LIMIT 1"
                         : "SELECT k, v FROM %s WHERE k < $1 ORDER BY k DESC LIMIT 1",
                     n);
        }
        break;
    case SCITT__OP_SET_RANGE:
        p[0] = *key;
        np = 1;
        snprintf(sql, sizeof(sql), "SELECT k, v FROM %s WHERE k >= $1 ORDER BY k, v LIMIT 1", n);
        break;
    case SCITT__OP_GET_BOTH_RANGE:
        p[0] = *key;
        p[1] = *val;
        np = 2;
        snprintf(sql, sizeof(sql),
                 "SELECT k, v FROM %s WHERE k = $1 AND v >= $2 ORDER BY v LIMIT 1", n);
        break;
    case SCITT__OP_NEXT_DUP:
        if (!c->on) {
            return SCITT_ERR_INVALID_ARG;
        }
        p[0] = c->key;
        p[1] = c->val;
        np = 2;
        snprintf(sql, sizeof(sql), "SELECT k, v FROM %s WHERE k = $1 AND v > $2 ORDER BY v LIMIT 1",
                 n);
        break;
    default:
        return SCITT_ERR_INVALID_ARG;
    }
    PGresult *r;
    static const int kinds[] = {
        [SCITT__OP_FIRST] = Q_FIRST,         [SCITT__OP_LAST] = Q_LAST,
        [SCITT__OP_NEXT] = Q_NEXT,           [SCITT__OP_PREV] = Q_PREV,
        [SCITT__OP_SET_RANGE] = Q_SET_RANGE, [SCITT__OP_GET_BOTH_RANGE] = Q_GET_BOTH_RANGE,
        [SCITT__OP_NEXT_DUP] = Q_NEXT_DUP,
    };
    scitt_err e = pg_query(c->t, c->tb, kinds[op], sql, np, p, &r);
    if (e != SCITT_OK) {
        return e;
    }
    if (PQntuples(r) != 1) {
        /* like LMDB, a failed move leaves the cursor where it was */
        return SCITT_ERR_NOT_FOUND;
    }
    c->on = true;
    c->key = pg_value(r, 0, 0);
    c->val = pg_value(r, 0, 1);
    *key = c->key;
    *val = c->val;
    return SCITT_OK;
}

static scitt_err pg_cursor_del(scitt__cursor *c)
{
    if (!c->on || !c->t->write) {
        return SCITT_ERR_STATE;
    }
    char sql[128];
    snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE k = $1 AND v = $2", table_names[c->tb]);
    scitt_span p[2] = {c->key, c->val};
    PGresult *r;
    return pg_query(c->t, c->tb, Q_DEL, sql, 2, p, &r);
}

static void pg_cursor_close(scitt__cursor *c)
{
    scitt_free(c);
}

/* One statement, pipelined with the batch's writes (a bundle sealed: its entries leave
 * `recent` at once, not one seek and one delete each). */
static scitt_err pg_del_range(const scitt__store *s, scitt__txn *t, scitt__table tb, scitt_span lo,
                              scitt_span hi)
{
    (void)s;
    if (!t->write || is_dup(tb)) {
        return SCITT_ERR_STATE;
    }
    char sql[128];
    snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE k >= $1 AND k < $2", table_names[tb]);
    scitt_span p[2] = {lo, hi};
    return pg_send(t, (unsigned)tb * Q_KINDS + Q_DEL_RANGE, sql, 2, p);
}

/* ---- the store ----------------------------------------------------------------------------- */

static void pg_close(scitt__store *s)
{
    struct scitt__pg *pg = s->pg;
    if (!pg) {
        return;
    }
    while (pg->idle) {
        pg_conn *next = pg->idle->next;
        PQfinish(pg->idle->c);
        scitt_free(pg->idle);
        pg->idle = next;
    }
    pthread_mutex_destroy(&pg->mu);
    scitt_free(pg->url);
    scitt_free(pg);
    s->pg = NULL;
}

static scitt_err pg_grow(scitt__store *s)
{
    (void)s;
    return SCITT_ERR_MAP_FULL; /* nothing to grow: the database sizes itself */
}

static scitt_err pg_sync(scitt__store *s, bool index)
{
    (void)s;
    (void)index;
    return SCITT_OK; /* a committed transaction is durable */
}

static scitt_err pg_index_reset(scitt__store *s)
{
    pg_conn *pc;
    scitt_err e = pg_get_conn(s->pg, &pc, false);
    if (e != SCITT_OK) {
        return e;
    }
    e = pg_exec(pc->c, "TRUNCATE scitt_imeta, scitt_ids, scitt_iss, scitt_sub, scitt_dig");
    pg_put_conn(s->pg, pc, e == SCITT_OK);
    return e;
}

scitt_err scitt__pg_clear_log(scitt__store *s)
{
    pg_conn *pc;
    scitt_err e = pg_get_conn(s->pg, &pc, false);
    if (e != SCITT_OK) {
        return e;
    }
    e = pg_exec(pc->c,
                "TRUNCATE scitt_meta, scitt_heads, scitt_times, scitt_tiles, scitt_bundles, "
                "scitt_recent, scitt_boffsets, scitt_imeta, scitt_ids, scitt_iss, scitt_sub, "
                "scitt_dig");
    pg_put_conn(s->pg, pc, e == SCITT_OK);
    return e;
}

static uint64_t pg_bytes_used(scitt__store *s)
{
    pg_conn *pc;
    if (pg_get_conn(s->pg, &pc, false) != SCITT_OK) {
        return 0;
    }
    uint64_t n = 0;
    PGresult *r = PQexec(pc->c, "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::text "
                                "FROM pg_class c WHERE c.relname LIKE 'scitt\\_%' AND c.relkind = "
                                "'r'");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        n = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);
    pg_put_conn(s->pg, pc, true);
    return n;
}

const scitt__storage_ops scitt__pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .txn_begin = pg_txn_begin,
    .txn_commit = pg_txn_commit,
    .txn_abort = pg_txn_abort,
    .snapshot_begin = pg_snapshot_begin,
    .snapshot_end = pg_snapshot_end,
    .get = pg_get,
    .get_range = pg_get_range,
    .put = pg_put,
    .cursor_open = pg_cursor_open,
    .cursor_get = pg_cursor_get,
    .cursor_del = pg_cursor_del,
    .del_range = pg_del_range,
    .cursor_close = pg_cursor_close,
    .grow = pg_grow,
    .sync = pg_sync,
    .index_reset = pg_index_reset,
    .bytes_used = pg_bytes_used,
};

/* The tables of layout version 2 beyond version 1's, and the upgrade of a version-1 database. */
static const char *const v2_sql[] = {
    "ALTER TABLE scitt_lease ADD COLUMN IF NOT EXISTS expires timestamptz NOT NULL DEFAULT now()",
    "ALTER TABLE scitt_lease ADD COLUMN IF NOT EXISTS holder text NOT NULL DEFAULT ''",
    "CREATE TABLE IF NOT EXISTS scitt_queue (id bigserial PRIMARY KEY, policy bigint NOT NULL, "
    "rec bytea NOT NULL, entry bytea NOT NULL, mac bytea NOT NULL, idx bigint, size bigint, "
    "dup boolean, err integer)",
};

/*
 * Creates the tables when missing, upgrades a version-1 layout and checks the version, in one
 * transaction (an advisory transaction lock keeps two instances starting together from racing on
 * CREATE).
 */
static scitt_err pg_schema(PGconn *c, bool read_only)
{
    scitt_err e = pg_exec(c, "BEGIN");
    e = e ? e : pg_exec(c, "SELECT pg_advisory_xact_lock(7365636974)");
    if (e == SCITT_OK && read_only) {
        PGresult *t = PQexec(c, "SELECT to_regclass('scitt_schema') IS NULL");
        e = pg_result_err(t);
        if (e == SCITT_OK && strcmp(PQgetvalue(t, 0, 0), "t") == 0) {
            e = SCITT_ERR_NOT_FOUND; /* no log in this database */
        }
        PQclear(t);
    }
    if (e == SCITT_OK && !read_only) {
        e = pg_exec(c, "CREATE TABLE IF NOT EXISTS scitt_schema (version integer NOT NULL)");
        e = e ? e
              : pg_exec(c, "CREATE TABLE IF NOT EXISTS scitt_lease (id integer PRIMARY KEY, "
                           "token bigint NOT NULL, renewed timestamptz NOT NULL DEFAULT now())");
        e = e ? e
              : pg_exec(c, "INSERT INTO scitt_lease (id, token) VALUES (1, 0) ON CONFLICT DO "
                           "NOTHING");
        for (unsigned tb = 0; e == SCITT_OK && tb < SCITT__T_COUNT; tb++) {
            char sql[200];
            snprintf(sql, sizeof(sql),
                     is_dup((scitt__table)tb)
                         ? "CREATE TABLE IF NOT EXISTS %s (k bytea NOT NULL, v bytea NOT NULL, "
                           "PRIMARY KEY (k, v))"
                         : "CREATE TABLE IF NOT EXISTS %s (k bytea PRIMARY KEY, v bytea NOT NULL)",
                     table_names[tb]);
            e = pg_exec(c, sql);
        }
    }
    PGresult *r = NULL;
    if (e == SCITT_OK) {
        r = PQexec(c, "SELECT max(version) FROM scitt_schema");
        e = pg_result_err(r);
    }
    int version = 0;
    if (e == SCITT_OK) {
        if (PQgetisnull(r, 0, 0)) {
            e = read_only ? SCITT_ERR_NOT_FOUND
                          : pg_exec(c, "INSERT INTO scitt_schema (version) VALUES (1)");
            version = 1;
        } else {
            version = atoi(PQgetvalue(r, 0, 0));
        }
        if (e == SCITT_OK && (version < 1 || version > PG_SCHEMA_VERSION)) {
            e = SCITT_ERR_UNSUPPORTED; /* written by a newer version of scittd */
        }
    }
    PQclear(r);
    if (e == SCITT_OK && !read_only && version < PG_SCHEMA_VERSION) {
        for (size_t i = 0; e == SCITT_OK && i < sizeof(v2_sql) / sizeof(v2_sql[0]); i++) {
            e = pg_exec(c, v2_sql[i]);
        }
        e = e ? e : pg_exec(c, "UPDATE scitt_schema SET version = 2");
    }
    if (e == SCITT_OK) {
        e = pg_exec(c, "COMMIT");
    } else {
        (void)pg_exec(c, "ROLLBACK");
    }
    return e;
}

/* Takes the writer's fencing token: every writer before this one can no longer commit. */
static scitt_err pg_take_token(PGconn *c, int64_t *token)
{
    PGresult *r = PQexec(c, "UPDATE scitt_lease SET token = token + 1, renewed = now(), expires = "
                            "now() WHERE id = 1 RETURNING token");
    scitt_err e = pg_result_err(r);
    if (e == SCITT_OK && PQntuples(r) != 1) {
        e = SCITT_ERR_CORRUPT;
    }
    if (e == SCITT_OK) {
        *token = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    }
    PQclear(r);
    return e;
}

scitt_err scitt__pg_open(scitt__store *s, const char *url, bool read_only, bool take_token)
{
    memset(s, 0, sizeof(*s));
    s->ops = &scitt__pg_ops;
    s->read_only = read_only;
    s->has_boffsets = true;
    s->index_durable = true;
    s->visible_durable = true;
    struct scitt__pg *pg = scitt_calloc(1, sizeof(*pg));
    size_t n = strlen(url);
    char *copy = scitt_malloc(n + 1);
    if (!pg || !copy) {
        scitt_free(pg);
        scitt_free(copy);
        return SCITT_ERR_NOMEM;
    }
    memcpy(copy, url, n + 1);
    pg->url = copy;
    pthread_mutex_init(&pg->mu, NULL);
    s->pg = pg;
    pg_conn *pc;
    scitt_err e = pg_get_conn(pg, &pc, false);
    if (e != SCITT_OK) {
        pg_close(s);
        return e;
    }
    e = pg_schema(pc->c, read_only);
    if (e == SCITT_OK && !read_only && take_token) {
        int64_t token = 0;
        e = pg_take_token(pc->c, &token);
        atomic_store(&pg->token, token);
    }
    pg_put_conn(pg, pc, e == SCITT_OK);
    if (e != SCITT_OK) {
        pg_close(s);
    }
    return e;
}

bool scitt__pg_url(const char *storage)
{
    return storage &&
           (strncmp(storage, "postgresql://", 13) == 0 || strncmp(storage, "postgres://", 11) == 0);
}

/* ---- the lease (several instances) --------------------------------------------------------- */

/* Runs @p sql with text parameters on a pooled connection, outside any transaction. */
static scitt_err pg_simple(scitt__store *s, const char *sql, int n, const char *const *params,
                           PGresult **out)
{
    *out = NULL;
    pg_conn *pc;
    scitt_err e = pg_get_conn(s->pg, &pc, false);
    if (e != SCITT_OK) {
        return e;
    }
    PGresult *r = PQexecParams(pc->c, sql, n, NULL, params, NULL, NULL, 0);
    e = pg_result_err(r);
    pg_put_conn(s->pg, pc, e == SCITT_OK);
    if (e != SCITT_OK) {
        PQclear(r);
        return e;
    }
    *out = r;
    return SCITT_OK;
}

scitt_err scitt__pg_lease_acquire(scitt__store *s, const char *holder, unsigned lease_ms, bool *got)
{
    *got = false;
    char ms[24];
    snprintf(ms, sizeof(ms), "%u", lease_ms);
    const char *params[2] = {ms, holder ? holder : ""};
    PGresult *r;
    /* the database's clock decides expiry: one clock for every instance */
    scitt_err e = pg_simple(s,
                            "UPDATE scitt_lease SET token = token + 1, renewed = now(), "
                            "expires = now() + $1::bigint * interval '1 millisecond', "
                            "holder = $2 WHERE id = 1 AND expires <= now() RETURNING token",
                            2, params, &r);
    if (e == SCITT_OK && PQntuples(r) == 1) {
        atomic_store(&s->pg->token, strtoll(PQgetvalue(r, 0, 0), NULL, 10));
        *got = true;
    }
    PQclear(r);
    return e;
}

scitt_err scitt__pg_lease_renew(scitt__store *s, unsigned lease_ms, bool *held)
{
    *held = false;
    int64_t token = atomic_load(&s->pg->token);
    if (token == 0) {
        return SCITT_OK;
    }
    char ms[24], tk[24];
    snprintf(ms, sizeof(ms), "%u", lease_ms);
    snprintf(tk, sizeof(tk), "%lld", (long long)token);
    const char *params[2] = {ms, tk};
    PGresult *r;
    scitt_err e = pg_simple(s,
                            "UPDATE scitt_lease SET renewed = now(), expires = now() + "
                            "$1::bigint * interval '1 millisecond' WHERE id = 1 AND token = $2",
                            2, params, &r);
    if (e == SCITT_OK) {
        *held = strcmp(PQcmdTuples(r), "1") == 0;
    }
    PQclear(r);
    return e;
}

void scitt__pg_lease_drop(scitt__store *s, bool release)
{
    int64_t token = atomic_exchange(&s->pg->token, 0);
    if (!release || token == 0) {
        return;
    }
    char tk[24];
    snprintf(tk, sizeof(tk), "%lld", (long long)token);
    const char *params[1] = {tk};
    PGresult *r;
    if (pg_simple(s, "UPDATE scitt_lease SET expires = now() WHERE id = 1 AND token = $1", 1,
                  params, &r) == SCITT_OK) {
        PQclear(r);
    }
}

bool scitt__pg_writer(const scitt__store *s)
{
    return s->pg && atomic_load(&s->pg->token) != 0;
}

/* ---- the queue of registrations handed to the sequencing instance -------------------------- */

scitt_err scitt__pg_queue_put(scitt__store *s, size_t n, const uint64_t *policy,
                              const scitt_span *rec, const scitt_span *entry, const scitt_span *mac,
                              int64_t *ids)
{
    pg_conn *pc;
    scitt_err e = pg_get_conn(s->pg, &pc, false);
    if (e != SCITT_OK) {
        return e;
    }
    e = pg_exec(pc->c, "BEGIN");
    for (size_t i = 0; e == SCITT_OK && i < n; i++) {
        uint8_t pol[8];
        scitt__be64(pol, policy[i]);
        const char *values[4] = {(const char *)pol, (const char *)rec[i].ptr,
                                 (const char *)entry[i].ptr, (const char *)mac[i].ptr};
        int lengths[4] = {8, (int)rec[i].len, (int)entry[i].len, (int)mac[i].len};
        int formats[4] = {1, 1, 1, 1};
        PGresult *r = PQexecParams(pc->c,
                                   "INSERT INTO scitt_queue (policy, rec, entry, mac) VALUES "
                                   "($1::bigint, $2, $3, $4) RETURNING id",
                                   4, NULL, values, lengths, formats, 0);
        e = pg_result_err(r);
        if (e == SCITT_OK && PQntuples(r) == 1) {
            ids[i] = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        } else if (e == SCITT_OK) {
            e = SCITT_ERR_IO;
        }
        PQclear(r);
    }
    /* delivered at commit, to every instance listening */
    e = e ? e : pg_exec(pc->c, "NOTIFY scitt_queue");
    if (e == SCITT_OK) {
        PGresult *r = PQexec(pc->c, "COMMIT");
        e = pg_result_err(r);
        if (e == SCITT_OK && strcmp(PQcmdStatus(r), "COMMIT") != 0) {
            e = SCITT_ERR_IO;
        }
        PQclear(r);
    } else {
        (void)pg_exec(pc->c, "ROLLBACK");
    }
    pg_put_conn(s->pg, pc, e == SCITT_OK);
    return e;
}

scitt_err scitt__pg_queue_claim(scitt__txn *t, bool any_policy, uint64_t policy, unsigned max,
                                scitt__pg_qrow **rows, size_t *n)
{
    *rows = NULL;
    *n = 0;
    scitt_err d = pg_drain(t);
    if (d != SCITT_OK) {
        return d;
    }
    uint8_t pol[8], lim[8];
    scitt__be64(pol, policy);
    scitt__be64(lim, max);
    const char *values[2] = {(const char *)lim, (const char *)pol};
    int lengths[2] = {8, 8};
    int formats[2] = {1, 1};
    /* rows another batch is writing are skipped, not waited for; one policy per batch */
    PGresult *r = PQexecParams(
        t->pc->c,
        any_policy ? "SELECT id, policy, rec, entry, mac FROM scitt_queue WHERE size IS NULL AND "
                     "err IS NULL AND policy = (SELECT policy FROM scitt_queue WHERE size IS NULL "
                     "AND err IS NULL ORDER BY id LIMIT 1) ORDER BY id LIMIT $1::bigint FOR "
                     "UPDATE SKIP LOCKED"
                   : "SELECT id, policy, rec, entry, mac FROM scitt_queue WHERE size IS NULL AND "
                     "err IS NULL AND policy = $2::bigint ORDER BY id LIMIT $1::bigint FOR UPDATE "
                     "SKIP LOCKED",
        any_policy ? 1 : 2, NULL, values, lengths, formats, 1);
    scitt_err e = pg_result_err(r);
    if (e != SCITT_OK) {
        PQclear(r);
        return e;
    }
    if (t->nres == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        PGresult **res = scitt_realloc(t->res, cap * sizeof(*res));
        if (!res) {
            PQclear(r);
            return SCITT_ERR_NOMEM;
        }
        t->res = res;
        t->cap = cap;
    }
    t->res[t->nres++] = r;
    int count = PQntuples(r);
    if (count == 0) {
        return SCITT_OK;
    }
    scitt__pg_qrow *out = scitt_calloc((size_t)count, sizeof(*out));
    if (!out) {
        return SCITT_ERR_NOMEM;
    }
    for (int i = 0; i < count; i++) {
        scitt_span id = pg_value(r, i, 0), pl = pg_value(r, i, 1);
        if (id.len != 8 || pl.len != 8) {
            scitt_free(out);
            return SCITT_ERR_CORRUPT;
        }
        out[i].id = (int64_t)scitt__get_be64(id.ptr);
        out[i].policy = scitt__get_be64(pl.ptr);
        out[i].rec = pg_value(r, i, 2);
        out[i].entry = pg_value(r, i, 3);
        out[i].mac = pg_value(r, i, 4);
    }
    *rows = out;
    *n = (size_t)count;
    return SCITT_OK;
}

scitt_err scitt__pg_queue_finish(scitt__txn *t, int64_t id, const scitt_ledger_result *res)
{
    uint8_t sid[8], idx[8], size[8], dup[1], err[4];
    scitt__be64(sid, (uint64_t)id);
    scitt__be64(idx, res->index);
    scitt__be64(size, res->tree_size);
    dup[0] = res->duplicate ? 1 : 0;
    put_be32(err, (uint32_t)(int32_t)res->err);
    scitt_span p[5] = {scitt_span_make(sid, 8), scitt_span_make(idx, 8), scitt_span_make(size, 8),
                       scitt_span_make(dup, 1), scitt_span_make(err, 4)};
    /* pipelined with the batch's writes: its result is read before the commit */
    scitt_err e = pg_send(t, X_QUEUE_FINISH,
                          "UPDATE scitt_queue SET idx = $2::bigint, size = $3::bigint, dup = "
                          "$4::boolean, err = $5::integer WHERE id = $1::bigint",
                          5, p);
    if (e == SCITT_OK) {
        t->answered = true;
    }
    return e;
}

scitt_err scitt__pg_queue_notify(scitt__txn *t)
{
    if (!t->answered) {
        return SCITT_OK; /* no row answered: nobody waits for this commit */
    }
    return pg_send(t, X_NOTIFY_DONE, "SELECT pg_notify('scitt_done', '')", 0, NULL);
}

scitt_err scitt__pg_queue_results(scitt__store *s, const int64_t *ids, size_t n,
                                  void (*visit)(void *ctx, int64_t id,
                                                const scitt_ledger_result *res),
                                  void *ctx)
{
    if (n == 0) {
        return SCITT_OK;
    }
    scitt_dynbuf list;
    scitt_dynbuf_init(&list, 0);
    scitt_dynbuf_put(&list, (const uint8_t *)"{", 1);
    for (size_t i = 0; i < n; i++) {
        char one[24];
        int k = snprintf(one, sizeof(one), "%s%lld", i ? "," : "", (long long)ids[i]);
        scitt_dynbuf_put(&list, (const uint8_t *)one, (size_t)k);
    }
    scitt_dynbuf_put(&list, (const uint8_t *)"}", 2); /* with the terminating NUL */
    if (list.err != SCITT_OK) {
        scitt_err e = list.err;
        scitt_dynbuf_clear(&list);
        return e;
    }
    const char *params[1] = {(const char *)list.ptr};
    PGresult *r;
    /* a row answered is gone: the leader wrote its result in the batch that sequenced it */
    scitt_err e = pg_simple(s,
                            "DELETE FROM scitt_queue WHERE id = ANY($1::bigint[]) AND (size IS NOT "
                            "NULL OR err IS NOT NULL) RETURNING id, idx, size, dup, err",
                            1, params, &r);
    scitt_dynbuf_clear(&list);
    if (e != SCITT_OK) {
        return e;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        scitt_ledger_result res;
        memset(&res, 0, sizeof(res));
        res.err = (scitt_err)atoi(PQgetvalue(r, i, 4));
        res.index = strtoull(PQgetvalue(r, i, 1), NULL, 10);
        res.tree_size = strtoull(PQgetvalue(r, i, 2), NULL, 10);
        res.duplicate = strcmp(PQgetvalue(r, i, 3), "t") == 0;
        visit(ctx, strtoll(PQgetvalue(r, i, 0), NULL, 10), &res);
    }
    PQclear(r);
    return SCITT_OK;
}

scitt_err scitt__pg_queue_withdraw(scitt__store *s, int64_t id, bool *withdrawn)
{
    *withdrawn = false;
    char sid[24];
    snprintf(sid, sizeof(sid), "%lld", (long long)id);
    const char *params[1] = {sid};
    PGresult *r;
    /* SKIP LOCKED: a row a batch is sequencing right now is not withdrawn */
    scitt_err e = pg_simple(s,
                            "DELETE FROM scitt_queue WHERE id = (SELECT id FROM scitt_queue WHERE "
                            "id = $1::bigint AND size IS NULL AND err IS NULL FOR UPDATE SKIP "
                            "LOCKED)",
                            1, params, &r);
    if (e == SCITT_OK) {
        *withdrawn = strcmp(PQcmdTuples(r), "1") == 0;
    }
    PQclear(r);
    return e;
}

/* ---- notifications ------------------------------------------------------------------------- */

struct scitt__pg_listener {
    char *url;
    PGconn *c;
};

static bool listener_connect(scitt__pg_listener *L)
{
    if (L->c && PQstatus(L->c) == CONNECTION_OK) {
        return true;
    }
    PQfinish(L->c);
    L->c = PQconnectdb(L->url);
    if (!L->c || PQstatus(L->c) != CONNECTION_OK ||
        pg_exec(L->c, "LISTEN scitt_queue") != SCITT_OK ||
        pg_exec(L->c, "LISTEN scitt_done") != SCITT_OK) {
        PQfinish(L->c);
        L->c = NULL;
        return false;
    }
    PQsetNoticeProcessor(L->c, pg_quiet, NULL);
    return true;
}

scitt_err scitt__pg_listen(scitt__store *s, scitt__pg_listener **out)
{
    scitt__pg_listener *L = scitt_calloc(1, sizeof(*L));
    size_t n = strlen(s->pg->url);
    char *url = scitt_malloc(n + 1);
    if (!L || !url) {
        scitt_free(L);
        scitt_free(url);
        return SCITT_ERR_NOMEM;
    }
    memcpy(url, s->pg->url, n + 1);
    L->url = url;
    (void)listener_connect(L); /* retried at every wait */
    *out = L;
    return SCITT_OK;
}

void scitt__pg_listen_wait(scitt__pg_listener *L, int wake_fd, int timeout_ms, bool *queued,
                           bool *done)
{
    struct pollfd fds[2];
    nfds_t n = 0;
    fds[n].fd = wake_fd;
    fds[n].events = POLLIN;
    n++;
    bool connected = listener_connect(L);
    if (connected) {
        fds[n].fd = PQsocket(L->c);
        fds[n].events = POLLIN;
        n++;
    }
    (void)poll(fds, n, timeout_ms);
    if (fds[0].revents & POLLIN) {
        uint64_t v;
        (void)!read(wake_fd, &v, sizeof(v));
    }
    if (!connected) {
        return;
    }
    if (!PQconsumeInput(L->c)) {
        PQfinish(L->c);
        L->c = NULL; /* reconnected at the next wait */
        *queued = *done = true;
        return;
    }
    PGnotify *note;
    while ((note = PQnotifies(L->c)) != NULL) {
        if (strcmp(note->relname, "scitt_queue") == 0) {
            *queued = true;
        } else if (strcmp(note->relname, "scitt_done") == 0) {
            *done = true;
        }
        PQfreemem(note);
    }
}

void scitt__pg_listen_close(scitt__pg_listener *L)
{
    if (!L) {
        return;
    }
    PQfinish(L->c);
    scitt_free(L->url);
    scitt_free(L);
}

/* ---- lookups of a whole batch ------------------------------------------------------------ */

scitt_err scitt__pg_ids_candidates(scitt__txn *t, const uint8_t *const *ids, size_t n, bool *cand)
{
    for (size_t i = 0; i < n; i++) {
        cand[i] = false;
    }
    if (n == 0) {
        return SCITT_OK;
    }
    scitt_err e = pg_drain(t);
    if (e != SCITT_OK) {
        return e;
    }
    /* two text arrays of hex: the bucket (the ID's first byte) and the next three bytes */
    scitt_dynbuf k, lo;
    scitt_dynbuf_init(&k, 0);
    scitt_dynbuf_init(&lo, 0);
    scitt_dynbuf_put(&k, (const uint8_t *)"{", 1);
    scitt_dynbuf_put(&lo, (const uint8_t *)"{", 1);
    for (size_t i = 0; i < n; i++) {
        char a[8], b[12];
        int na = snprintf(a, sizeof(a), "%s%02x", i ? "," : "", ids[i][0]);
        int nb =
            snprintf(b, sizeof(b), "%s%02x%02x%02x", i ? "," : "", ids[i][1], ids[i][2], ids[i][3]);
        scitt_dynbuf_put(&k, (const uint8_t *)a, (size_t)na);
        scitt_dynbuf_put(&lo, (const uint8_t *)b, (size_t)nb);
    }
    scitt_dynbuf_put(&k, (const uint8_t *)"}", 2);
    scitt_dynbuf_put(&lo, (const uint8_t *)"}", 2);
    e = k.err ? k.err : lo.err;
    PGresult *r = NULL;
    if (e == SCITT_OK) {
        const char *values[2] = {(const char *)k.ptr, (const char *)lo.ptr};
        r = PQexecParams(t->pc->c,
                         "SELECT q.n FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS "
                         "q(k, lo, n) WHERE EXISTS (SELECT 1 FROM scitt_ids i WHERE i.k = "
                         "decode(q.k, 'hex') AND i.v >= decode(q.lo || '0000000000', 'hex') AND "
                         "i.v <= decode(q.lo || 'ffffffffff', 'hex'))",
                         2, NULL, values, NULL, NULL, 0);
        e = pg_result_err(r);
    }
    for (int i = 0; e == SCITT_OK && i < PQntuples(r); i++) {
        long long at = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        if (at >= 1 && (unsigned long long)at <= n) {
            cand[at - 1] = true;
        }
    }
    PQclear(r);
    scitt_dynbuf_clear(&k);
    scitt_dynbuf_clear(&lo);
    return e;
}
