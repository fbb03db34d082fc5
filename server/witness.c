/*
 * scittd asks its witnesses (docs/witness.md, "Collection inside scittd"): --witness URL=VKEY
 * (repeatable) and --witness-policy FILE (C2SP tlog-policy).
 *
 * Nothing here runs on the registration path: the sequencer thread only records the newest tree
 * size and signals when the lock is free, never waiting for it (scittd_witness_head). A coordinator
 * thread turns the newest signed head into a round: every witness thread submits that one
 * checkpoint (so cosignatures of one size meet), with the consistency proof from the size the
 * witness last cosigned (learnt from its 409, per tlog-witness) read from the ledger. When the
 * cosignatures of a round meet the policy, the cosigned checkpoint becomes what GET /checkpoint
 * serves and what witnessed receipts carry. A round ends when the quorum is met (the witnesses
 * still busy finish on their own and join the next round) or when every witness has answered; a
 * round that missed the quorum is tried again after a back-off (1 s doubling to 30 s) even if no
 * new head came.
 *
 * The newest witnessed checkpoint is also kept in DATA/witnessed.checkpoint (replaced atomically
 * and synced by the coordinator, at most once a second and at stop: never on the registration
 * path). At start it is verified again before it is served: its cosignatures against the
 * configured witness keys and policy, its log signature against this service's key, and its root
 * against the ledger's signed head of the same size (a rolled-back or replaced ledger does not
 * serve a checkpoint it no longer holds). A file that fails is not served (logged), and
 * /checkpoint answers 503 until the first round meets the quorum again.
 */
#include "witness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scitt/file.h"
#include "scitt/json.h"
#include "scitt/receipt.h"
#include "scitt/witness.h"
#include "witness_submit.h"

#define WITNESS_TIMEOUT_MS 5000
#define BACKOFF_MIN_MS     1000u
#define BACKOFF_MAX_MS     30000u
#define POLL_MS            50   /* the coordinator looks for a new head at least this often */
#define HISTORY            4    /* cosignatures kept per witness (the newest sizes) */
#define COSIG_LINE_MAX     512  /* "— " name base64(76 bytes) "\n" */
#define PERSIST_MS         1000 /* the witnessed checkpoint is written at most this often */
#define GAP_MIN_MS         5    /* pacing of a witness that answered 429: from this ... */
#define GAP_MAX_MS         1000 /* ... doubling up to this */
#define WITNESSED_FILE     "witnessed.checkpoint"

static const double ms_bounds[SCITTD_HIST_BUCKETS] = {1,   2,   5,    10,   25,   50,    100,
                                                      250, 500, 1000, 2500, 5000, 10000, 30000};

/* The statuses a witness may refuse with (tlog-witness), and the rest. */
static const int refusals[] = {400, 403, 404, 409, 422, 0};
#define NREFUSALS (sizeof(refusals) / sizeof(refusals[0]))

typedef struct wit {
    struct scittd_witnesses *ws;
    pthread_t thread;
    bool started;
    char url[1024];
    scitt_note_verifier key;
    char name[SCITT_POLICY_NAME_MAX + 1]; /* the policy's name, else the key name */
    int policy_index;                     /* -1: not in the policy (asked, never counted) */
    uint64_t known;                       /* its latest cosigned size as far as we know */
    uint64_t done_seq;                    /* the last round it finished (under mu) */
    struct {
        uint64_t size;
        char line[COSIG_LINE_MAX];
        size_t len;
    } hist[HISTORY]; /* under mu */
    size_t hist_next;
    _Atomic uint64_t cosigned, failed, refused[NREFUSALS];
    _Atomic uint64_t last_ms, rate_limited;
    /* pacing after a 429 (its per-client rate limit): the gap kept between two submissions to
     * this witness, doubled by each 429 and cut by a quarter by each other answer (under mu) */
    unsigned gap_ms;
    int64_t next_ns;
} wit;

/* A registration whose 201 waits for a witnessed checkpoint (--receipts-wait-for-witnesses). */
typedef struct waiter {
    struct waiter *next;
    scitt_http_req *req;
    uint8_t id[SCITT_HASH_LEN];
    uint64_t index, tree_size;
    int64_t deadline_ns;
    bool witnessed; /* how it is answered */
} waiter;

struct scittd_witnesses {
    scittd *d;
    pthread_mutex_t mu;
    pthread_cond_t cv_coord, cv_wit;
    pthread_t coord;
    bool coord_started, stop;
    wit w[SCITTD_MAX_LISTEN];
    size_t n;
    scitt_tlog_policy *policy;
    scitt_dynbuf policy_text; /* the --witness-policy file as read (GET /witnesses) */
    scitt_note_verifier logkey;
    /* the newest signed size, written by the sequencer thread, and when it was seen */
    _Atomic uint64_t newest;
    _Atomic int64_t pending_ns; /* when the oldest head no round has carried yet was seen */
    _Atomic bool want_head;     /* the coordinator would start a round on a new head at once */
    /* the round (under mu) */
    uint64_t seq, target_size;
    int64_t target_ns;
    scitt_dynbuf target_note;
    bool round_open, round_met;
    size_t round_answers;
    bool retry;
    int64_t retry_at_ns;
    unsigned backoff_ms;
    int64_t round_start_ns; /* when the last round started */
    int64_t hold_until_ns;  /* the newest head could not be read: no round before this */
    int64_t interval_ns;    /* --witness-interval-ms: the least time between two round starts */
    /* the newest checkpoint meeting the policy (under mu) */
    scitt_dynbuf witnessed;
    uint64_t witnessed_size;
    /* its copy in DATA/witnessed.checkpoint (the coordinator writes it) */
    char path[4096];
    uint64_t persisted_size;
    int64_t persist_at_ns;
    /* registrations waiting for a witnessed checkpoint (under mu), in arrival order */
    waiter *wait_head, *wait_tail;
    _Atomic uint64_t wait_witnessed, wait_timeouts;
    /* metrics */
    _Atomic uint64_t rounds, quorum_missed;
    scittd_hist lag, latency;
};

static void reset(scitt_dynbuf *b)
{
    b->len = 0;
    b->err = SCITT_OK;
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void abs_time(int64_t mono_ns, struct timespec *out)
{
    /* condition variables here use CLOCK_MONOTONIC */
    out->tv_sec = (time_t)(mono_ns / 1000000000);
    out->tv_nsec = (long)(mono_ns % 1000000000);
}

/* ---- configuration ------------------------------------------------------------------------- */

/* Reads @p fd to its end into @p b (whose bound refuses a larger file). */
static scitt_err read_to_end(int fd, scitt_dynbuf *b)
{
    for (;;) {
        uint8_t chunk[4096];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n < 0 ? SCITT_ERR_IO : b->err;
        }
        scitt_dynbuf_put(b, chunk, (size_t)n);
        if (b->err != SCITT_OK) {
            return b->err;
        }
    }
}

static scitt_err read_policy(const char *path, scitt_tlog_policy *p, scitt_dynbuf *text,
                             char *reason, size_t cap)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, SCITT_POLICY_MAX_BYTES);
    scitt_err e = SCITT_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(reason, cap, "--witness-policy %s: %s", path, strerror(errno));
        return SCITT_ERR_IO;
    }
    e = read_to_end(fd, &b);
    close(fd);
    const char *why = "";
    size_t line = 0;
    if (e == SCITT_OK) {
        e = scitt_tlog_policy_parse(scitt_span_make(b.ptr, b.len), p, &why, &line);
        if (e != SCITT_OK) {
            snprintf(reason, cap, "--witness-policy %s:%zu: %s", path, line,
                     e == SCITT_ERR_POLICY ? why : scitt_err_str(e));
        } else {
            scitt_dynbuf_put(text, b.ptr, b.len);
            e = text->err;
        }
    } else {
        snprintf(reason, cap, "--witness-policy %s: %s", path, scitt_err_str(e));
    }
    scitt_dynbuf_clear(&b);
    return e;
}

static bool same_key(const scitt_note_verifier *a, const scitt_note_verifier *b)
{
    return a->key_id == b->key_id && a->name_len == b->name_len &&
           memcmp(a->name, b->name, a->name_len) == 0 &&
           memcmp(a->key, b->key, sizeof(a->key)) == 0;
}

/* A name as a Prometheus label value and a log field: no quote, backslash or control byte. */
static void set_name(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
    for (char *c = dst; *c; c++) {
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20 || *c == 0x7f) {
            *c = '_';
        }
    }
}

/* Without a policy file every configured witness must cosign. */
static void policy_all(scittd_witnesses *ws)
{
    scitt_tlog_policy *p = ws->policy;
    memset(p, 0, sizeof(*p));
    for (size_t i = 0; i < ws->n; i++) {
        p->witnesses[i] = ws->w[i].key;
        snprintf(p->witness_names[i], sizeof(p->witness_names[i]), "%.*s",
                 (int)SCITT_POLICY_NAME_MAX, ws->w[i].key.name);
        p->groups[0].members[i] = (uint8_t)i;
        ws->w[i].policy_index = (int)i;
    }
    p->n_witnesses = ws->n;
    snprintf(p->groups[0].name, sizeof(p->groups[0].name), "all");
    p->groups[0].k = p->groups[0].n = (unsigned)ws->n;
    p->n_groups = 1;
    p->quorum = (int)SCITT_POLICY_MAX_WITNESSES; /* group 0 */
}

static scitt_err configure(scittd_witnesses *ws, char *reason, size_t cap)
{
    scittd *d = ws->d;
    scitt_err e = scitt_note_vkey_parse(scitt_span_str(scitt_service_vkey(d->svc)), &ws->logkey);
    if (e != SCITT_OK) {
        snprintf(reason, cap, "the service's checkpoint key: %s", scitt_err_str(e));
        return e;
    }
    for (size_t i = 0; i < d->cfg.nwitness; i++) {
        wit *w = &ws->w[i];
        const char *arg = d->cfg.witness[i];
        const char *eq = strchr(arg, '=');
        if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(w->url)) {
            snprintf(reason, cap, "--witness %s: URL=VKEY expected", arg);
            return SCITT_ERR_INVALID_ARG;
        }
        memcpy(w->url, arg, (size_t)(eq - arg));
        w->url[eq - arg] = 0;
        if (strncmp(w->url, "http://", 7) != 0 && strncmp(w->url, "https://", 8) != 0) {
            snprintf(reason, cap, "--witness %s: the URL must be http:// or https://", arg);
            return SCITT_ERR_INVALID_ARG;
        }
        e = scitt_cosig_vkey_parse(scitt_span_str(eq + 1), &w->key);
        if (e != SCITT_OK) {
            snprintf(reason, cap, "--witness %s: not a witness vkey (cosignature/v1): %s", arg,
                     scitt_err_str(e));
            return e;
        }
        for (size_t k = 0; k < i; k++) {
            if (same_key(&ws->w[k].key, &w->key)) {
                snprintf(reason, cap, "--witness %s: this witness key is given twice", arg);
                return SCITT_ERR_INVALID_ARG;
            }
        }
        w->ws = ws;
        w->policy_index = -1;
        set_name(w->name, sizeof(w->name), w->key.name);
        ws->n++;
    }
    if (d->cfg.witness_policy == NULL) {
        policy_all(ws);
        return SCITT_OK;
    }
    e = read_policy(d->cfg.witness_policy, ws->policy, &ws->policy_text, reason, cap);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_tlog_policy *p = ws->policy;
    bool ours = p->n_logs == 0;
    for (size_t k = 0; k < p->n_logs; k++) {
        ours = ours || same_key(&p->logs[k], &ws->logkey);
    }
    if (!ours) {
        snprintf(reason, cap, "--witness-policy %s: no log line carries this service's key %s",
                 d->cfg.witness_policy, scitt_service_vkey(d->svc));
        return SCITT_ERR_POLICY;
    }
    for (size_t i = 0; i < ws->n; i++) {
        for (size_t k = 0; k < p->n_witnesses; k++) {
            if (same_key(&p->witnesses[k], &ws->w[i].key)) {
                ws->w[i].policy_index = (int)k;
                set_name(ws->w[i].name, sizeof(ws->w[i].name), p->witness_names[k]);
            }
        }
        if (ws->w[i].policy_index < 0) {
            SCITT_LOG(SCITT_LOG_WARN, "witness_config",
                      "witness=%s warning=\"not in the policy: asked, never counted\"",
                      ws->w[i].name);
        }
    }
    for (size_t k = 0; k < p->n_witnesses; k++) {
        bool asked = false;
        for (size_t i = 0; i < ws->n; i++) {
            asked = asked || ws->w[i].policy_index == (int)k;
        }
        if (!asked) {
            SCITT_LOG(SCITT_LOG_WARN, "witness_config",
                      "witness=%s warning=\"in the policy but no --witness gives its URL\"",
                      p->witness_names[k]);
        }
    }
    return SCITT_OK;
}

/* ---- rounds -------------------------------------------------------------------------------- */

/* Under mu: the cosigned checkpoint of the round's size from the lines witnesses gave for it;
 * published when it meets the policy and is newer than the one served. Nothing is verified again
 * here: the round's note is this service's own signed head, and each line in hist[] was verified
 * against its witness's key over exactly that note when it arrived (scitt__witness_submit), so
 * the quorum is counted over the witnesses' policy indices. */
static void evaluate(scittd_witnesses *ws, char *missing, size_t cap)
{
    uint32_t cosigned = 0;
    const char *line[SCITTD_MAX_LISTEN] = {0};
    size_t len[SCITTD_MAX_LISTEN] = {0};
    for (size_t i = 0; i < ws->n; i++) {
        for (size_t h = 0; h < HISTORY; h++) {
            if (ws->w[i].hist[h].len && ws->w[i].hist[h].size == ws->target_size) {
                line[i] = ws->w[i].hist[h].line;
                len[i] = ws->w[i].hist[h].len;
                if (ws->w[i].policy_index >= 0) {
                    cosigned |= 1u << ws->w[i].policy_index;
                }
                break;
            }
        }
    }
    if (!scitt_tlog_policy_met(ws->policy, cosigned, missing, cap)) {
        return;
    }
    ws->round_met = true;
    if (ws->target_size <= ws->witnessed_size && ws->witnessed.len != 0) {
        return;
    }
    scitt_dynbuf note;
    scitt_dynbuf_init(&note, SCITT_LIMIT_NOTE_BYTES);
    scitt_dynbuf_put(&note, ws->target_note.ptr, ws->target_note.len);
    for (size_t i = 0; i < ws->n; i++) {
        scitt_dynbuf_put(&note, line[i], len[i]);
    }
    if (note.err != SCITT_OK) {
        snprintf(missing, cap, "(%s)", scitt_err_str(note.err));
        ws->round_met = false;
        scitt_dynbuf_clear(&note);
        return;
    }
    scitt_dynbuf old = ws->witnessed;
    ws->witnessed = note;
    ws->witnessed_size = ws->target_size;
    scitt_dynbuf_clear(&old);
    double ms = (double)(now_ns() - ws->target_ns) / 1e6;
    scittd_hist_observe(&ws->lag, ms < 0 ? 0 : ms);
    SCITT_LOG(SCITT_LOG_DEBUG, "witnessed", "size=%llu ms=%.1f",
              (unsigned long long)ws->target_size, ms);
}

/* The ledger's consistency proof, for a witness's add-checkpoint request. */
static scitt_err ledger_proof(void *ctx, uint64_t old, uint64_t size,
                              uint8_t path[][SCITT_HASH_LEN], size_t *n, char *why, size_t cap)
{
    scittd_witnesses *ws = ctx;
    scitt_ledger_read *r = NULL;
    scitt_err e = scitt_ledger_read_begin(scitt_service_ledger(ws->d->svc), &r);
    e = e ? e : scitt_ledger_consistency_proof(r, old, size, path, n);
    scitt_ledger_read_end(r);
    if (e != SCITT_OK) {
        snprintf(why, cap, "no consistency proof from %llu to %llu: %s", (unsigned long long)old,
                 (unsigned long long)size, scitt_err_str(e));
    }
    return e;
}

static void count_refusal(wit *w, int status)
{
    size_t i = 0;
    while (refusals[i] != 0 && refusals[i] != status) {
        i++;
    }
    atomic_fetch_add(&w->refused[i], 1);
}

static void *witness_main(void *arg)
{
    wit *w = arg;
    scittd_witnesses *ws = w->ws;
    scitt_dynbuf note, line;
    scitt_dynbuf_init(&note, SCITT_LIMIT_NOTE_BYTES);
    pthread_mutex_lock(&ws->mu);
    while (!ws->stop) {
        if (w->done_seq == ws->seq) {
            pthread_cond_wait(&ws->cv_wit, &ws->mu);
            continue;
        }
        if (w->next_ns > now_ns()) {
            /* paced after a 429: wait, then submit the newest round's head */
            struct timespec until;
            abs_time(w->next_ns, &until);
            pthread_cond_timedwait(&ws->cv_wit, &ws->mu, &until);
            continue;
        }
        uint64_t seq = ws->seq, size = ws->target_size;
        reset(&note);
        scitt_dynbuf_put(&note, ws->target_note.ptr, ws->target_note.len);
        pthread_mutex_unlock(&ws->mu);

        scitt_dynbuf_init(&line, COSIG_LINE_MAX - 1);
        scitt__witness_outcome o;
        char why[512];
        scitt_err e = scitt__witness_submit(w->url, &w->key, scitt_span_make(note.ptr, note.len),
                                            size, &w->known, ledger_proof, ws, WITNESS_TIMEOUT_MS,
                                            &line, &o, why, sizeof(why));
        atomic_store(&w->last_ms, (uint64_t)o.ms);
        scittd_hist_observe(&ws->latency, (double)o.ms);
        if (e == SCITT_OK) {
            atomic_fetch_add(&w->cosigned, 1);
            SCITT_LOG(SCITT_LOG_DEBUG, "witness_cosigned", "witness=%s size=%llu ms=%ld", w->name,
                      (unsigned long long)size, o.ms);
        } else if (o.status == 429) {
            SCITT_LOG(SCITT_LOG_DEBUG, "witness_rate_limited", "witness=%s size=%llu gap_ms=%u",
                      w->name, (unsigned long long)size, w->gap_ms);
        } else if (e == SCITT_ERR_POLICY) {
            count_refusal(w, o.status);
            SCITT_LOG(SCITT_LOG_WARN, "witness_refused",
                      "witness=%s url=%s size=%llu status=%d why=\"%s\"", w->name, w->url,
                      (unsigned long long)size, o.status, why);
        } else {
            atomic_fetch_add(&w->failed, 1);
            SCITT_LOG(SCITT_LOG_WARN, "witness_failed",
                      "witness=%s url=%s size=%llu err=%s why=\"%s\"", w->name, w->url,
                      (unsigned long long)size, scitt_err_name(e), why);
        }

        pthread_mutex_lock(&ws->mu);
        bool limited = e != SCITT_OK && o.status == 429;
        if (limited) {
            /* not an answer to the round: the witness asked us to slow down, so this witness is
             * paced and asked again (with the newest head) after the gap, instead of the round
             * ending as missed and waiting the round back-off (1 s and more) */
            atomic_fetch_add(&w->rate_limited, 1);
            w->gap_ms = w->gap_ms * 2 < GAP_MIN_MS   ? GAP_MIN_MS
                        : w->gap_ms * 2 > GAP_MAX_MS ? GAP_MAX_MS
                                                     : w->gap_ms * 2;
        } else {
            w->gap_ms = w->gap_ms * 3 / 4; /* eases off slower than it backs off */
        }
        w->next_ns = w->gap_ms ? now_ns() + (int64_t)w->gap_ms * 1000000 : 0;
        if (limited) {
            scitt_dynbuf_clear(&line);
            continue;
        }
        if (e == SCITT_OK && line.len < COSIG_LINE_MAX) {
            size_t h = w->hist_next++ % HISTORY;
            memcpy(w->hist[h].line, line.ptr, line.len);
            w->hist[h].len = line.len;
            w->hist[h].size = size;
        }
        scitt_dynbuf_clear(&line);
        w->done_seq = seq;
        if (seq == ws->seq && ws->round_open) {
            ws->round_answers++;
            char missing[512] = "";
            if (e == SCITT_OK) {
                evaluate(ws, missing, sizeof(missing));
            }
            if (ws->round_met) {
                ws->round_open = false;
                ws->retry = false;
                ws->backoff_ms = BACKOFF_MIN_MS;
                pthread_cond_signal(&ws->cv_coord);
            } else if (ws->round_answers == ws->n) {
                if (missing[0] == 0) {
                    evaluate(ws, missing, sizeof(missing));
                }
                ws->round_open = false;
                ws->retry = true;
                ws->retry_at_ns = now_ns() + (int64_t)ws->backoff_ms * 1000000;
                atomic_fetch_add(&ws->quorum_missed, 1);
                SCITT_LOG(SCITT_LOG_WARN, "witness_quorum",
                          "size=%llu met=0 missing=\"%s\" retry_ms=%u",
                          (unsigned long long)ws->target_size, missing, ws->backoff_ms);
                ws->backoff_ms =
                    ws->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ws->backoff_ms * 2;
                pthread_cond_signal(&ws->cv_coord);
            }
        }
    }
    pthread_mutex_unlock(&ws->mu);
    scitt_dynbuf_clear(&note);
    return NULL;
}

/* Reads the newest signed head into @p note; its size in @p size. */
static scitt_err latest_head(scittd_witnesses *ws, scitt_dynbuf *note, uint64_t *size)
{
    scitt_ledger_read *r = NULL;
    scitt_tree_head h;
    scitt_err e = scitt_ledger_read_begin(scitt_service_ledger(ws->d->svc), &r);
    e = e ? e : scitt_ledger_latest(r, &h);
    if (e == SCITT_OK) {
        reset(note);
        scitt_dynbuf_put(note, h.checkpoint.ptr, h.checkpoint.len);
        *size = h.size;
        e = note->err;
    }
    scitt_ledger_read_end(r);
    return e;
}

/* Under mu, on the coordinator (or at stop): writes the witnessed checkpoint when it is newer
 * than the file, with the lock released for the write. */
static void persist(scittd_witnesses *ws, scitt_dynbuf *copy)
{
    if (ws->witnessed_size <= ws->persisted_size || ws->witnessed.len == 0) {
        return;
    }
    uint64_t size = ws->witnessed_size;
    reset(copy);
    scitt_dynbuf_put(copy, ws->witnessed.ptr, ws->witnessed.len);
    pthread_mutex_unlock(&ws->mu);
    scitt_err e =
        copy->err ? copy->err
                  : scitt_file_replace(ws->path, scitt_span_make(copy->ptr, copy->len), 0644, 0);
    if (e != SCITT_OK) {
        SCITT_LOG(SCITT_LOG_WARN, "witnessed_write", "path=%s size=%llu err=%s errno=\"%s\"",
                  ws->path, (unsigned long long)size, scitt_err_name(e), strerror(errno));
    }
    pthread_mutex_lock(&ws->mu);
    if (e == SCITT_OK && size > ws->persisted_size) {
        ws->persisted_size = size;
    }
    ws->persist_at_ns = now_ns() + (int64_t)PERSIST_MS * 1000000;
}

/* At start: the witnessed checkpoint the last run kept, verified again before it is served. */
static void load_witnessed(scittd_witnesses *ws)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, SCITT_LIMIT_NOTE_BYTES);
    char why[1024] = "";
    scitt_err e = SCITT_OK;
    int fd = open(ws->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) {
            snprintf(why, sizeof(why), "cannot read it: %s", strerror(errno));
            e = SCITT_ERR_IO;
        } else {
            e = SCITT_ERR_NOT_FOUND;
        }
    }
    if (fd >= 0) {
        e = read_to_end(fd, &b);
        close(fd);
        if (e != SCITT_OK) {
            snprintf(why, sizeof(why), "cannot read it (or over %u bytes): %s",
                     (unsigned)SCITT_LIMIT_NOTE_BYTES, scitt_err_str(e));
        }
    }
    scitt_checkpoint cp;
    if (e == SCITT_OK) {
        char missing[512] = "";
        e = scitt_tlog_policy_check(ws->policy, scitt_span_make(b.ptr, b.len), &ws->logkey, 1, &cp,
                                    missing, sizeof(missing));
        if (e == SCITT_ERR_POLICY) {
            snprintf(why, sizeof(why), "it does not meet the witness policy; missing: %s", missing);
        } else if (e != SCITT_OK) {
            snprintf(why, sizeof(why), "not a checkpoint of this log: %s", scitt_err_str(e));
        }
    }
    if (e == SCITT_OK) {
        scitt_ledger_read *r = NULL;
        scitt_tree_head h;
        e = scitt_ledger_read_begin(scitt_service_ledger(ws->d->svc), &r);
        e = e ? e : scitt_ledger_head(r, cp.size, &h);
        if (e != SCITT_OK) {
            snprintf(why, sizeof(why), "the ledger has no signed head of size %llu: %s",
                     (unsigned long long)cp.size, scitt_err_str(e));
        } else if (memcmp(h.root, cp.root, SCITT_HASH_LEN) != 0) {
            snprintf(why, sizeof(why), "its root is not the ledger's at size %llu",
                     (unsigned long long)cp.size);
            e = SCITT_ERR_INTEGRITY;
        }
        scitt_ledger_read_end(r);
    }
    if (e == SCITT_OK) {
        scitt_dynbuf old = ws->witnessed;
        ws->witnessed = b;
        ws->witnessed_size = ws->persisted_size = cp.size;
        scitt_dynbuf_clear(&old);
        SCITT_LOG(SCITT_LOG_INFO, "witnessed_loaded", "path=%s size=%llu", ws->path,
                  (unsigned long long)cp.size);
        return;
    }
    if (e != SCITT_ERR_NOT_FOUND) {
        SCITT_LOG(SCITT_LOG_WARN, "witnessed_refused", "path=%s why=\"%s\"", ws->path, why);
    }
    scitt_dynbuf_clear(&b);
}

/* Under mu, on the coordinator (or at stop, @p all): answers the waiting registrations the
 * witnessed checkpoint now covers, and those past their deadline with the plain receipt, with
 * the lock released while answering. Returns whether it answered any. */
static bool answer_waiters(scittd_witnesses *ws, bool all)
{
    int64_t now = now_ns();
    waiter *done = NULL, **tail = &done, **at = &ws->wait_head;
    ws->wait_tail = NULL;
    while (*at) {
        waiter *w = *at;
        bool covered = ws->witnessed.len > 0 && w->index < ws->witnessed_size;
        if (covered || all || now >= w->deadline_ns) {
            w->witnessed = covered;
            *at = w->next;
            w->next = NULL;
            *tail = w;
            tail = &w->next;
        } else {
            ws->wait_tail = w;
            at = &w->next;
        }
    }
    if (done == NULL) {
        return false;
    }
    pthread_mutex_unlock(&ws->mu);
    scitt_ledger_read *r = NULL;
    scitt_err e = scitt_ledger_read_begin(scitt_service_ledger(ws->d->svc), &r);
    while (done) {
        waiter *w = done;
        done = w->next;
        if (e != SCITT_OK) {
            scittd_fail(w->req, e, "the receipt could not be built");
            scitt_http_complete(w->req);
        } else {
            atomic_fetch_add(w->witnessed ? &ws->wait_witnessed : &ws->wait_timeouts, 1);
            scittd_register_answer(ws->d, r, w->req, w->id, w->index, w->tree_size, w->witnessed);
        }
        scitt_free(w);
    }
    scitt_ledger_read_end(r);
    pthread_mutex_lock(&ws->mu);
    return true;
}

static void *coord_main(void *arg)
{
    scittd_witnesses *ws = arg;
    scitt_dynbuf note, copy;
    scitt_dynbuf_init(&note, SCITT_LIMIT_NOTE_BYTES);
    scitt_dynbuf_init(&copy, SCITT_LIMIT_NOTE_BYTES);
    pthread_mutex_lock(&ws->mu);
    while (!ws->stop) {
        if (ws->wait_head != NULL && answer_waiters(ws, false)) {
            continue;
        }
        if (ws->witnessed_size > ws->persisted_size && now_ns() >= ws->persist_at_ns) {
            persist(ws, &copy);
            continue;
        }
        int64_t now = now_ns();
        uint64_t newest = atomic_load(&ws->newest);
        bool fresh = newest > ws->target_size;
        bool due = ws->retry && now >= ws->retry_at_ns;
        /* rounds start at most every --witness-interval-ms: heads signed meanwhile are covered
         * by the next round's newer head */
        int64_t paced_until = ws->round_start_ns + ws->interval_ns;
        if (paced_until < ws->hold_until_ns) {
            paced_until = ws->hold_until_ns; /* a failed read is tried again later, not at once */
        }
        if (ws->round_open || (!fresh && !due) || now < paced_until) {
            struct timespec until;
            int64_t poll = now + (int64_t)POLL_MS * 1000000;
            bool paced = now < paced_until;
            if (!ws->round_open && (fresh || ws->retry || paced)) {
                /* paced: it looks when the pacing ends, whatever the sequencer signed meanwhile */
                int64_t next =
                    fresh || paced || ws->retry_at_ns < paced_until ? paced_until : ws->retry_at_ns;
                poll = next < poll ? next : poll;
            }
            /* only then does a new head need a signal: the sequencer need not wake it per batch */
            atomic_store(&ws->want_head, !ws->round_open && !paced);
            if (ws->witnessed_size > ws->persisted_size && ws->persist_at_ns < poll) {
                poll = ws->persist_at_ns;
            }
            if (ws->wait_head != NULL && ws->wait_head->deadline_ns < poll) {
                poll = ws->wait_head->deadline_ns; /* the oldest waits the least */
            }
            abs_time(poll, &until);
            pthread_cond_timedwait(&ws->cv_coord, &ws->mu, &until);
            continue;
        }
        /* the lag of a round counts from the oldest head it covers that no round carried */
        int64_t first = atomic_exchange(&ws->pending_ns, 0);
        pthread_mutex_unlock(&ws->mu);
        uint64_t size = 0;
        scitt_err e = latest_head(ws, &note, &size);
        pthread_mutex_lock(&ws->mu);
        if (e != SCITT_OK || size == 0) {
            /* an empty log, or a read that failed: look again later */
            ws->retry = true;
            ws->retry_at_ns = now_ns() + (int64_t)BACKOFF_MIN_MS * 1000000;
            if (e != SCITT_ERR_NOT_FOUND) {
                SCITT_LOG(SCITT_LOG_WARN, "witness_round", "err=%s", scitt_err_name(e));
                /* a newer head stays pending: without this the next look would be at once */
                ws->hold_until_ns = ws->retry_at_ns;
            }
            int64_t zero = 0; /* still pending, unless a newer head was seen meanwhile */
            atomic_compare_exchange_strong(&ws->pending_ns, &zero, first);
            /* compare-and-swap: a head the sequencer records meanwhile is not undone */
            uint64_t cur = atomic_load(&ws->newest);
            if (cur <= ws->target_size || e == SCITT_ERR_NOT_FOUND) {
                atomic_compare_exchange_strong(&ws->newest, &cur, 0);
            }
            continue;
        }
        /* newest only grows: a plain store could put back a smaller size over a head the
         * sequencer recorded since this read, and that head would get no round of its own */
        uint64_t cur = atomic_load(&ws->newest);
        while (cur < size && !atomic_compare_exchange_weak(&ws->newest, &cur, size)) {
        }
        scitt_dynbuf old = ws->target_note;
        ws->target_note = note;
        note = old;
        ws->target_ns = first                     ? first
                        : size == ws->target_size ? ws->target_ns /* tried again */
                                                  : now_ns();
        ws->target_size = size;
        ws->seq++;
        ws->round_start_ns = now_ns();
        ws->round_open = true;
        ws->round_met = false;
        ws->round_answers = 0;
        ws->retry = false;
        atomic_fetch_add(&ws->rounds, 1);
        pthread_cond_broadcast(&ws->cv_wit);
    }
    answer_waiters(ws, true); /* nothing waits past the stop: the plain receipts */
    persist(ws, &copy);       /* what the last rounds witnessed, before the daemon stops */
    pthread_mutex_unlock(&ws->mu);
    scitt_dynbuf_clear(&note);
    scitt_dynbuf_clear(&copy);
    return NULL;
}

/* ---- the daemon's calls -------------------------------------------------------------------- */

scitt_err scittd_witness_start(scittd *d, char *reason, size_t cap)
{
    if (d->cfg.nwitness == 0) {
        if (d->cfg.witness_policy != NULL || d->cfg.receipts_wait_for_witnesses) {
            snprintf(reason, cap, "%s needs at least one --witness URL=VKEY",
                     d->cfg.witness_policy ? "--witness-policy" : "--receipts-wait-for-witnesses");
            return SCITT_ERR_INVALID_ARG;
        }
        return SCITT_OK;
    }
    if (d->cfg.cosigned_checkpoint != NULL) {
        snprintf(reason, cap,
                 "--cosigned-checkpoint and --witness both say what /checkpoint serves: give one");
        return SCITT_ERR_INVALID_ARG;
    }
    scittd_witnesses *ws = scitt_calloc(1, sizeof(*ws));
    if (ws == NULL || (ws->policy = scitt_calloc(1, sizeof(*ws->policy))) == NULL) {
        scitt_free(ws);
        snprintf(reason, cap, "out of memory");
        return SCITT_ERR_NOMEM;
    }
    ws->d = d;
    d->witnesses = ws;
    pthread_mutex_init(&ws->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ws->cv_coord, &ca);
    pthread_cond_init(&ws->cv_wit, &ca);
    pthread_condattr_destroy(&ca);
    scitt_dynbuf_init(&ws->target_note, SCITT_LIMIT_NOTE_BYTES);
    scitt_dynbuf_init(&ws->witnessed, SCITT_LIMIT_NOTE_BYTES);
    scitt_dynbuf_init(&ws->policy_text, SCITT_POLICY_MAX_BYTES);
    ws->backoff_ms = BACKOFF_MIN_MS;
    ws->interval_ns = (int64_t)d->cfg.witness_interval_ms * 1000000;
    ws->lag.bounds = ms_bounds;
    ws->latency.bounds = ms_bounds;
    scitt_err e = configure(ws, reason, cap);
    if (e != SCITT_OK) {
        return e;
    }
    if ((size_t)snprintf(ws->path, sizeof(ws->path), "%s/%s", d->cfg.data_dir, WITNESSED_FILE) >=
        sizeof(ws->path)) {
        snprintf(reason, cap, "--data: the path is too long");
        return SCITT_ERR_INVALID_ARG;
    }
    load_witnessed(ws);
    /* the newest head is submitted at start, whatever the log holds */
    atomic_store(&ws->newest, 1);
    atomic_store(&ws->pending_ns, now_ns());
    for (size_t i = 0; i < ws->n; i++) {
        if (pthread_create(&ws->w[i].thread, NULL, witness_main, &ws->w[i]) != 0) {
            snprintf(reason, cap, "cannot start the witness threads");
            return SCITT_ERR_NOMEM;
        }
        ws->w[i].started = true;
    }
    if (pthread_create(&ws->coord, NULL, coord_main, ws) != 0) {
        snprintf(reason, cap, "cannot start the witness threads");
        return SCITT_ERR_NOMEM;
    }
    ws->coord_started = true;
    SCITT_LOG(SCITT_LOG_INFO, "witnesses", "count=%zu policy=%s", ws->n,
              d->cfg.witness_policy ? d->cfg.witness_policy : "all");
    return SCITT_OK;
}

void scittd_witness_head(scittd *d, uint64_t size)
{
    scittd_witnesses *ws = d->witnesses;
    if (ws == NULL || size <= atomic_load(&ws->newest)) {
        return;
    }
    int64_t zero = 0; /* the oldest head waiting for a round keeps its time */
    if (atomic_load(&ws->pending_ns) == 0) {
        atomic_compare_exchange_strong(&ws->pending_ns, &zero, now_ns());
    }
    atomic_store(&ws->newest, size);
    /* Signalled only when the coordinator would start a round at once (not during a round, whose
     * end it is told of, nor while paced, whose end it wakes for), and never waiting for the lock
     * on the sequencer thread: when a witness thread holds it, the coordinator sees the new size
     * at its next look (at most POLL_MS later). */
    if (atomic_load(&ws->want_head) && pthread_mutex_trylock(&ws->mu) == 0) {
        pthread_cond_signal(&ws->cv_coord);
        pthread_mutex_unlock(&ws->mu);
    }
}

bool scittd_witness_wait(scittd *d, scitt_http_req *req, const uint8_t id[SCITT_HASH_LEN],
                         uint64_t index, uint64_t tree_size)
{
    scittd_witnesses *ws = d->witnesses;
    if (ws == NULL || !d->cfg.receipts_wait_for_witnesses) {
        return false;
    }
    waiter *w = scitt_calloc(1, sizeof(*w));
    if (w == NULL) {
        return false; /* answered at once, unwitnessed */
    }
    w->req = req;
    memcpy(w->id, id, SCITT_HASH_LEN);
    w->index = index;
    w->tree_size = tree_size;
    w->deadline_ns = now_ns() + (int64_t)d->cfg.receipts_witness_timeout_ms * 1000000;
    pthread_mutex_lock(&ws->mu);
    if (ws->stop) {
        pthread_mutex_unlock(&ws->mu);
        scitt_free(w);
        return false;
    }
    if (ws->wait_tail) {
        ws->wait_tail->next = w;
    } else {
        ws->wait_head = w;
    }
    ws->wait_tail = w;
    /* already covered: the coordinator answers at once */
    if (ws->witnessed.len > 0 && index < ws->witnessed_size) {
        pthread_cond_signal(&ws->cv_coord);
    }
    pthread_mutex_unlock(&ws->mu);
    return true;
}

void scittd_witness_stop(scittd *d)
{
    scittd_witnesses *ws = d->witnesses;
    if (ws == NULL) {
        return;
    }
    pthread_mutex_lock(&ws->mu);
    ws->stop = true;
    pthread_cond_broadcast(&ws->cv_coord);
    pthread_cond_broadcast(&ws->cv_wit);
    pthread_mutex_unlock(&ws->mu);
    if (ws->coord_started) {
        pthread_join(ws->coord, NULL);
    }
    for (size_t i = 0; i < ws->n; i++) {
        if (ws->w[i].started) {
            pthread_join(ws->w[i].thread, NULL);
        }
    }
    pthread_mutex_destroy(&ws->mu);
    pthread_cond_destroy(&ws->cv_coord);
    pthread_cond_destroy(&ws->cv_wit);
    scitt_dynbuf_clear(&ws->target_note);
    scitt_dynbuf_clear(&ws->witnessed);
    scitt_dynbuf_clear(&ws->policy_text);
    scitt_free(ws->policy);
    scitt_free(ws);
    d->witnesses = NULL;
}

scitt_err scittd_witnessed(scittd *d, scitt_dynbuf *out, uint64_t *size)
{
    scittd_witnesses *ws = d->witnesses;
    if (ws == NULL) {
        return SCITT_ERR_UNSUPPORTED;
    }
    pthread_mutex_lock(&ws->mu);
    scitt_err e = SCITT_ERR_NOT_FOUND;
    if (ws->witnessed.len > 0) {
        scitt_dynbuf_put(out, ws->witnessed.ptr, ws->witnessed.len);
        *size = ws->witnessed_size;
        e = out->err;
    }
    pthread_mutex_unlock(&ws->mu);
    return e;
}

static void put_head(scitt_dynbuf *b, const char *name, const char *type, const char *help)
{
    scitt_dynbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void scittd_witness_metrics(scittd *d, scitt_dynbuf *b)
{
    scittd_witnesses *ws = d->witnesses;
    if (ws == NULL) {
        return;
    }
    put_head(b, "scittd_witness_cosigned_total", "counter",
             "Checkpoints a witness cosigned for this log.");
    for (size_t i = 0; i < ws->n; i++) {
        scitt_dynbuf_printf(b, "scittd_witness_cosigned_total{witness=\"%s\"} %llu\n",
                            ws->w[i].name, (unsigned long long)atomic_load(&ws->w[i].cosigned));
    }
    put_head(b, "scittd_witness_refused_total", "counter",
             "Checkpoints a witness refused, by its HTTP status (409 and 422 may mean a fork).");
    for (size_t i = 0; i < ws->n; i++) {
        for (size_t k = 0; k < NREFUSALS; k++) {
            char st[8];
            snprintf(st, sizeof(st), "%d", refusals[k]);
            scitt_dynbuf_printf(b,
                                "scittd_witness_refused_total{witness=\"%s\",status=\"%s\"} %llu\n",
                                ws->w[i].name, refusals[k] ? st : "other",
                                (unsigned long long)atomic_load(&ws->w[i].refused[k]));
        }
    }
    put_head(
        b, "scittd_witness_failures_total", "counter",
        "Submissions that got no usable answer (unreachable, timed out, no valid cosignature).");
    for (size_t i = 0; i < ws->n; i++) {
        scitt_dynbuf_printf(b, "scittd_witness_failures_total{witness=\"%s\"} %llu\n",
                            ws->w[i].name, (unsigned long long)atomic_load(&ws->w[i].failed));
    }
    put_head(b, "scittd_witness_last_milliseconds", "gauge",
             "Duration of the last submission to each witness.");
    for (size_t i = 0; i < ws->n; i++) {
        scitt_dynbuf_printf(b, "scittd_witness_last_milliseconds{witness=\"%s\"} %llu\n",
                            ws->w[i].name, (unsigned long long)atomic_load(&ws->w[i].last_ms));
    }
    put_head(b, "scittd_witness_rate_limited_total", "counter",
             "Submissions a witness answered 429 (its rate limit): that witness is then paced.");
    for (size_t i = 0; i < ws->n; i++) {
        scitt_dynbuf_printf(b, "scittd_witness_rate_limited_total{witness=\"%s\"} %llu\n",
                            ws->w[i].name, (unsigned long long)atomic_load(&ws->w[i].rate_limited));
    }
    scittd_hist_put(b, "scittd_witness_request_milliseconds",
                    "Duration of a submission to a witness (all witnesses).", &ws->latency);
    scittd_hist_put(
        b, "scittd_witness_lag_milliseconds",
        "From the oldest signed head no round had carried to a checkpoint covering it meeting "
        "the witness policy (the wait for --witness-interval-ms included).",
        &ws->lag);
    pthread_mutex_lock(&ws->mu);
    uint64_t ws_size = ws->witnessed_size;
    pthread_mutex_unlock(&ws->mu);
    put_head(b, "scittd_witnessed_size", "gauge",
             "Tree size of the newest checkpoint meeting the witness policy (0: none yet).");
    scitt_dynbuf_printf(b, "scittd_witnessed_size %llu\n", (unsigned long long)ws_size);
    put_head(b, "scittd_witness_waited_total", "counter",
             "Registrations whose 201 waited for witnesses (--receipts-wait-for-witnesses), by "
             "how it ended: a witnessed receipt, or the plain one at the timeout or stop.");
    scitt_dynbuf_printf(b, "scittd_witness_waited_total{result=\"witnessed\"} %llu\n",
                        (unsigned long long)atomic_load(&ws->wait_witnessed));
    scitt_dynbuf_printf(b, "scittd_witness_waited_total{result=\"timeout\"} %llu\n",
                        (unsigned long long)atomic_load(&ws->wait_timeouts));
    put_head(b, "scittd_witness_rounds_total", "counter",
             "Checkpoints submitted to the witnesses.");
    scitt_dynbuf_printf(b, "scittd_witness_rounds_total %llu\n",
                        (unsigned long long)atomic_load(&ws->rounds));
    put_head(b, "scittd_witness_quorum_missed_total", "counter",
             "Rounds every witness answered without meeting the policy.");
    scitt_dynbuf_printf(b, "scittd_witness_quorum_missed_total %llu\n",
                        (unsigned long long)atomic_load(&ws->quorum_missed));
}

scitt_err scittd_witnessed_entry(scittd *d, scitt_ledger_read *r, uint64_t index, bool statement,
                                 scitt_dynbuf *out, char *detail, size_t cap)
{
    scitt_dynbuf note, receipt, with;
    uint64_t size = 0;
    scitt_dynbuf_init(&note, SCITT_LIMIT_NOTE_BYTES);
    scitt_dynbuf_init(&receipt, 0);
    scitt_dynbuf_init(&with, 0);
    scitt_err e = scittd_witnessed(d, &note, &size);
    if (e == SCITT_ERR_UNSUPPORTED) {
        snprintf(detail, cap, "this service has no witnesses configured (--witness)");
    } else if (e == SCITT_ERR_NOT_FOUND) {
        snprintf(detail, cap, "no checkpoint of this log has met its witness policy yet");
        e = SCITT_ERR_BUSY;
    } else if (e == SCITT_OK && index >= size) {
        snprintf(detail, cap,
                 "entry %llu is not in the newest witnessed checkpoint yet (size %llu); retry",
                 (unsigned long long)index, (unsigned long long)size);
        e = SCITT_ERR_BUSY;
    }
    e = e ? e : scitt_service_receipt(d->svc, r, index, size, &receipt);
    e = e ? e
          : scitt_receipt_attach_checkpoint(scitt_span_make(receipt.ptr, receipt.len),
                                            scitt_span_make(note.ptr, note.len),
                                            statement ? &with : out);
    if (e == SCITT_OK && statement) {
        scitt_span entry, rs = scitt_span_make(with.ptr, with.len);
        e = scitt_ledger_entry(r, index, &entry);
        scitt_cbor_writer w;
        scitt_cbor_writer_init_dynbuf(&w, out);
        e = e ? e : scitt_receipt_embed(entry, &rs, 1, &w);
    }
    scitt_dynbuf_clear(&note);
    scitt_dynbuf_clear(&receipt);
    scitt_dynbuf_clear(&with);
    return e;
}

void scittd_witness_checkpoint(scittd *d, scitt_http_req *req)
{
    scitt_dynbuf b;
    uint64_t size = 0;
    scitt_dynbuf_init(&b, SCITT_LIMIT_NOTE_BYTES);
    scitt_err e = scittd_witnessed(d, &b, &size);
    if (e == SCITT_OK) {
        scitt_http_res_status(req, 200);
        scittd_header(req, "Cache-Control", "no-cache");
        scittd_send(req, 200, "text/plain; charset=utf-8", &b);
    } else {
        scittd_header(req, "Retry-After", "1");
        scittd_problem(req, 503, "No witnessed checkpoint",
                       "no checkpoint of this log has met its witness policy yet; the newest "
                       "signed head is at /checkpoint/latest");
    }
    scitt_dynbuf_clear(&b);
}

/* GET /witnesses: what a browser needs to check the cosignatures of /checkpoint itself (the
 * explorer's service page): each configured witness (policy name, vkey, URL, whether the policy
 * counts it, the newest size it cosigned here), the policy file as given (null: every witness
 * must cosign) and the newest witnessed size. Nothing secret: relying parties need the same. */
void scittd_route_witnesses(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    scittd_witnesses *ws = d->witnesses;
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 256u << 10); /* R_LARGE: a 64 KiB policy even if escaped twice over */
    scitt_json_writer w;
    scitt_json_writer_init(&w, &b);
    scitt_json_begin_object(&w);
    scitt_json_put_key(&w, "witnesses");
    scitt_json_begin_array(&w);
    if (ws != NULL) {
        pthread_mutex_lock(&ws->mu);
        for (size_t i = 0; i < ws->n; i++) {
            const wit *x = &ws->w[i];
            const char *eq = strchr(d->cfg.witness[i], '=');
            uint64_t last = 0;
            for (size_t h = 0; h < HISTORY; h++) {
                if (x->hist[h].len && x->hist[h].size > last) {
                    last = x->hist[h].size;
                }
            }
            scitt_json_begin_object(&w);
            scitt_json_put_key(&w, "name");
            scitt_json_put_cstr(&w, x->name);
            scitt_json_put_key(&w, "vkey");
            scitt_json_put_cstr(&w, eq ? eq + 1 : "");
            scitt_json_put_key(&w, "url");
            scitt_json_put_cstr(&w, x->url);
            scitt_json_put_key(&w, "counted");
            scitt_json_put_bool(&w, x->policy_index >= 0);
            scitt_json_put_key(&w, "cosigned_size");
            scitt_json_put_uint(&w, last);
            scitt_json_end_object(&w);
        }
    }
    scitt_json_end_array(&w);
    scitt_json_put_key(&w, "policy");
    if (ws != NULL && ws->policy_text.len > 0) {
        scitt_json_put_text(&w, scitt_span_make(ws->policy_text.ptr, ws->policy_text.len));
    } else {
        scitt_json_put_null(&w);
    }
    scitt_json_put_key(&w, "witnessed_size");
    scitt_json_put_uint(&w, ws != NULL ? ws->witnessed_size : 0);
    if (ws != NULL) {
        pthread_mutex_unlock(&ws->mu);
    }
    scitt_json_end_object(&w);
    if (scitt_json_writer_finish(&w) != SCITT_OK) {
        b.err = SCITT_ERR_NOMEM;
    }
    scittd_header(req, "Cache-Control", "no-cache");
    scittd_send(req, 200, "application/json", &b);
    scitt_http_complete(req);
}
