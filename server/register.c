/*
 * Registration: POST /entries runs the check stage on the libuv worker pool, submits to the
 * sequencer, and answers 201 with the receipt once the batch is durable (a receipt thread builds
 * the receipts of a whole batch in one read snapshot), or 202 at once with Prefer: respond-async.
 * GET /entries/{id} serves receipts, 204 while a registration is pending and 404 for unknown or
 * failed ones; GET /entries/{id}/statement serves the transparent statement.
 */
#include "scittd.h"
#include "witness.h"

#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#define PENDING_MAX   (1u << 16) /* about 11 MiB of entries at most (docs/deploy.md) */
#define FAILED_TTL_S  600
#define RETRY_AFTER_S SCITTD_RETRY_AFTER_S

/* ---- pending registrations (async flow) ---------------------------------------------------- */

#define PENDING_BUCKETS 4096

typedef struct pend {
    struct pend *next;
    uint8_t id[SCITT_HASH_LEN];
    bool failed;
    time_t expires; /* failed registrations are forgotten after a while */
    char detail[96];
} pend;

struct scittd_pending {
    pthread_mutex_t mu;
    pend *buckets[PENDING_BUCKETS];
    size_t count;
};

static pend **pending_slot(scittd_pending *p, const uint8_t id[SCITT_HASH_LEN])
{
    uint32_t h;
    memcpy(&h, id, sizeof(h));
    pend **at = &p->buckets[h % PENDING_BUCKETS];
    time_t now = time(NULL);
    while (*at) {
        pend *e = *at;
        if (e->failed && e->expires < now) {
            *at = e->next; /* expire lazily while walking */
            scitt_free(e);
            p->count--;
            continue;
        }
        if (memcmp(e->id, id, SCITT_HASH_LEN) == 0) {
            break;
        }
        at = &e->next;
    }
    return at;
}

/* With the lock held: the entry for @p id, or NULL. */
static pend *pending_find(scittd_pending *p, const uint8_t id[SCITT_HASH_LEN])
{
    return *pending_slot(p, id);
}

/* With the lock held: the (possibly new, reset to pending) entry, or NULL when full. */
static pend *pending_add(scittd_pending *p, const uint8_t id[SCITT_HASH_LEN])
{
    pend **at = pending_slot(p, id);
    if (!*at) {
        if (p->count >= PENDING_MAX) {
            return NULL;
        }
        pend *e = scitt_calloc(1, sizeof(*e));
        if (!e) {
            return NULL;
        }
        memcpy(e->id, id, SCITT_HASH_LEN);
        *at = e;
        p->count++;
    }
    (*at)->failed = false;
    return *at;
}

static void pending_remove(scittd_pending *p, const uint8_t id[SCITT_HASH_LEN])
{
    pend **at = pending_slot(p, id);
    if (*at) {
        pend *e = *at;
        *at = e->next;
        scitt_free(e);
        p->count--;
    }
}

scittd_reg_state scittd_registration_state(scittd *d, const uint8_t id[SCITT_HASH_LEN],
                                           char *detail, size_t cap)
{
    pthread_mutex_lock(&d->pending->mu);
    pend *p = pending_find(d->pending, id);
    scittd_reg_state st = !p          ? SCITTD_REG_UNKNOWN
                          : p->failed ? SCITTD_REG_FAILED
                                      : SCITTD_REG_PENDING;
    if (p && p->failed) {
        snprintf(detail, cap, "%s", p->detail);
    }
    pthread_mutex_unlock(&d->pending->mu);
    return st;
}

/* ---- the receipt thread ------------------------------------------------------------------ */

typedef struct job {
    struct job *next;
    scittd *d;
    scitt_http_req *req; /* NULL for an async registration */
    uint8_t id[SCITT_HASH_LEN];
    scitt_prepared prep;
    size_t entry_len; /* counted in d->submitted_bytes while submitted */
    bool async;
    char reason[SCITT_POLICY_REASON_MAX];
    scitt_err err;
    scitt_ledger_result res;
    uv_work_t work;
} job;

struct scittd_receipter {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail;
    bool stop;
};

static void set_location(scitt_http_req *req, const uint8_t id[SCITT_HASH_LEN])
{
    char hex[2 * SCITT_HASH_LEN + 1], loc[16 + sizeof(hex)];
    scitt_entry_id_hex(id, hex);
    snprintf(loc, sizeof(loc), "/entries/%s", hex);
    scittd_header(req, "Location", loc);
}

void scittd_register_answer(scittd *d, scitt_ledger_read *r, scitt_http_req *req,
                            const uint8_t id[SCITT_HASH_LEN], uint64_t index, uint64_t tree_size,
                            bool witnessed)
{
    scitt_dynbuf out;
    scitt_dynbuf_init(&out, 0);
    char detail[256];
    scitt_err e = witnessed
                      ? scittd_witnessed_entry(d, r, index, false, &out, detail, sizeof(detail))
                      : scitt_service_receipt(d->svc, r, index, tree_size, &out);
    if (e == SCITT_OK) {
        scitt_http_res_status(req, 201);
        set_location(req, id);
        e = scitt_http_res_body_dynbuf(req, scittd_cose_type(req, SCITTD_TYPE_RECEIPT), &out);
    }
    if (e == SCITT_ERR_NOT_FOUND) {
        /* committed, but the head is not (or no longer) in the database this instance reads:
         * its failover lost the commit, or a reader lags. Not acknowledged: come back later. */
        e = SCITT_ERR_BUSY;
    }
    if (e != SCITT_OK) {
        scittd_fail(req, e, "the receipt could not be built");
    }
    scitt_dynbuf_clear(&out);
    scitt_http_complete(req);
}

static void *receipter_main(void *arg)
{
    scittd *d = arg;
    scittd_receipter *rc = d->receipter;
    pthread_setname_np(pthread_self(), "receipts");
    pthread_mutex_lock(&rc->mu);
    for (;;) {
        while (!rc->head && !rc->stop) {
            pthread_cond_wait(&rc->cv, &rc->mu);
        }
        job *list = rc->head;
        rc->head = rc->tail = NULL;
        if (!list && rc->stop) {
            break;
        }
        pthread_mutex_unlock(&rc->mu);
        /* One snapshot for everything the last batches completed. */
        scitt_ledger_read *r = NULL;
        scitt_err re = scitt_ledger_read_begin(scitt_service_ledger(d->svc), &r);
        while (list) {
            job *j = list;
            list = j->next;
            if (j->res.err != SCITT_OK || re != SCITT_OK) {
                scittd_fail(j->req, j->res.err ? j->res.err : re, "the registration failed");
                scitt_http_complete(j->req);
            } else if (!scittd_witness_wait(d, j->req, j->id, j->res.index, j->res.tree_size)) {
                scittd_register_answer(d, r, j->req, j->id, j->res.index, j->res.tree_size, false);
            }
            scitt_free(j);
        }
        scitt_ledger_read_end(r);
        pthread_mutex_lock(&rc->mu);
    }
    pthread_mutex_unlock(&rc->mu);
    return NULL;
}

/* Sequencer thread: the batch holding the job is durable (or failed). */
static void on_committed(void *ctx, const scitt_ledger_result *res)
{
    job *j = ctx;
    scittd *d = j->d;
    atomic_fetch_sub(&d->submitted_bytes, j->entry_len);
    if (res->err == SCITT_OK) {
        atomic_fetch_add(res->duplicate ? &d->duplicates : &d->registrations, 1);
        scittd_witness_head(d, res->tree_size); /* a signed head for the witnesses */
    }
    if (j->async) {
        pthread_mutex_lock(&d->pending->mu);
        pend *p = pending_find(d->pending, j->id);
        if (p && res->err == SCITT_OK) {
            pending_remove(d->pending, j->id);
        } else if (p) {
            p->failed = true;
            p->expires = time(NULL) + FAILED_TTL_S;
            snprintf(p->detail, sizeof(p->detail), "%s", scitt_err_str(res->err));
        }
        pthread_mutex_unlock(&d->pending->mu);
        if (res->err != SCITT_OK) {
            SCITT_LOG(SCITT_LOG_WARN, "registration_failed", "async=1 err=%s",
                      scitt_err_name(res->err));
        }
        scitt_free(j);
        return;
    }
    if (res->err == SCITT_OK) {
        /* an async registration of the same statement that failed earlier is not "failed" any
         * more: this one put it in the log */
        pthread_mutex_lock(&d->pending->mu);
        if (d->pending->count > 0) {
            pending_remove(d->pending, j->id);
        }
        pthread_mutex_unlock(&d->pending->mu);
    }
    j->res = *res;
    scittd_receipter *rc = d->receipter;
    pthread_mutex_lock(&rc->mu);
    j->next = NULL;
    if (rc->tail) {
        rc->tail->next = j;
    } else {
        rc->head = j;
    }
    rc->tail = j;
    pthread_cond_signal(&rc->cv);
    pthread_mutex_unlock(&rc->mu);
}

scitt_err scittd_register_init(scittd *d)
{
    d->pending = scitt_calloc(1, sizeof(*d->pending));
    d->receipter = scitt_calloc(1, sizeof(*d->receipter));
    if (!d->pending || !d->receipter) {
        return SCITT_ERR_NOMEM;
    }
    pthread_mutex_init(&d->pending->mu, NULL);
    pthread_mutex_init(&d->receipter->mu, NULL);
    pthread_cond_init(&d->receipter->cv, NULL);
    if (pthread_create(&d->receipter->thread, NULL, receipter_main, d) != 0) {
        return SCITT_ERR_NOMEM;
    }
    return SCITT_OK;
}

void scittd_register_stop(scittd *d)
{
    scittd_receipter *rc = d->receipter;
    if (!rc) {
        return;
    }
    pthread_mutex_lock(&rc->mu);
    rc->stop = true;
    pthread_cond_signal(&rc->cv);
    pthread_mutex_unlock(&rc->mu);
    pthread_join(rc->thread, NULL);
}

void scittd_register_free(scittd *d)
{
    if (d->pending) {
        pthread_mutex_destroy(&d->pending->mu);
        for (size_t i = 0; i < PENDING_BUCKETS; i++) {
            while (d->pending->buckets[i]) {
                pend *e = d->pending->buckets[i];
                d->pending->buckets[i] = e->next;
                scitt_free(e);
            }
        }
        scitt_free(d->pending);
    }
    if (d->receipter) {
        pthread_mutex_destroy(&d->receipter->mu);
        pthread_cond_destroy(&d->receipter->cv);
        scitt_free(d->receipter);
    }
}

/* ---- POST /entries ------------------------------------------------------------------------ */

static bool authorized(scittd *d, scitt_http_req *req)
{
    if (d->ntokens == 0) {
        return true;
    }
    scitt_span v;
    if (!scitt_http_req_header(req, "Authorization", &v) || v.len < 8 ||
        strncasecmp((const char *)v.ptr, "Bearer ", 7) != 0) {
        return false;
    }
    uint8_t h[32];
    scitt_sha256(v.ptr + 7, v.len - 7, h);
    /* Compare against every token so the time does not depend on which one matched. */
    int match = 0;
    for (size_t i = 0; i < d->ntokens; i++) {
        match |= CRYPTO_memcmp(h, d->tokens[i], 32) == 0;
    }
    return match != 0;
}

/* Worker pool: the check stage. */
static void check_work(uv_work_t *w)
{
    job *j = w->data;
    j->err = scitt_service_check(j->d->svc, scitt_http_req_body(j->req), &j->prep, j->reason,
                                 sizeof(j->reason));
    /* A C2SP entry bundle prefixes each entry with a 16-bit length: an entry over 65,535 bytes
     * could never be served there, so it is refused here, whatever the policy allows. */
    if (j->err == SCITT_OK && j->prep.sub.entry.len > SCITTD_BUNDLE_ENTRY_MAX) {
        j->err = SCITT_ERR_TOO_LARGE;
        snprintf(j->reason, sizeof(j->reason),
                 "the registered statement is %zu bytes; C2SP entry bundles carry at most 65,535: "
                 "register a hash envelope of the payload instead (scitt sign --hash-envelope)",
                 j->prep.sub.entry.len);
    }
}

static const char *reject_title(scitt_err e)
{
    switch (e) {
    case SCITT_ERR_ALG:
        return "Bad Signature Algorithm";
    case SCITT_ERR_PAYLOAD_MISSING:
        return "Payload Missing";
    case SCITT_ERR_SIGNATURE:
        return "Bad Signature";
    case SCITT_ERR_POLICY:
    case SCITT_ERR_UNTRUSTED:
    case SCITT_ERR_CERT_CHAIN:
    case SCITT_ERR_EXPIRED:
    case SCITT_ERR_DID_MISMATCH:
    case SCITT_ERR_TOO_LARGE:
        return "Rejected";
    default:
        return "Malformed request";
    }
}

bool scittd_check_refuses(scitt_err e)
{
    return scitt_err_class(e) == SCITT_ERRCLASS_INPUT;
}

/* Loop thread: the check is done; reject, or submit. */
static void check_done(uv_work_t *w, int status)
{
    job *j = w->data;
    scittd *d = j->d;
    scitt_http_req *req = j->req;
    if (status != 0 || j->err != SCITT_OK) {
        scitt_err e = status != 0 ? SCITT_ERR_CLOSED : j->err;
        const char *why = j->reason[0] ? j->reason : scitt_err_str(e);
        if (!scittd_check_refuses(e)) {
            /* Our failure, not the statement's (memory, the crypto library, a pool cancelled):
             * 5xx, and not counted as a rejection. */
            SCITT_LOG(SCITT_LOG_ERROR, "check_failed", "req=%llu err=%s reason=\"%s\"",
                      (unsigned long long)scitt_http_req_id(req), scitt_err_name(e), why);
            scittd_fail(req, e, "the statement could not be checked");
        } else {
            atomic_fetch_add(&d->rejections, 1);
            SCITT_LOG(SCITT_LOG_INFO, "rejected", "req=%llu err=%s reason=\"%s\"",
                      (unsigned long long)scitt_http_req_id(req), scitt_err_name(e), why);
            scittd_problem(req, 400, j->prep.title ? j->prep.title : reject_title(e), why);
        }
        scitt_http_complete(req);
        scitt_prepared_clear(&j->prep);
        scitt_free(j);
        return;
    }
    memcpy(j->id, j->prep.sub.entry_id, SCITT_HASH_LEN);
    /* The ledger copies a submission, and once submitted the job may be freed at any moment by
     * on_committed: take the prepared bytes out of the job and free them here. */
    scitt_prepared prep = j->prep;
    memset(&j->prep, 0, sizeof(j->prep));
    /* What waits for the sequencer is bounded too: past the limit, clients come back later. */
    j->entry_len = prep.sub.entry.len;
    if (atomic_fetch_add(&d->submitted_bytes, j->entry_len) + j->entry_len >
        SCITTD_SUBMITTED_MAX_BYTES) {
        atomic_fetch_sub(&d->submitted_bytes, j->entry_len);
        scittd_busy(req, "too many registrations are waiting for the sequencer");
        scitt_http_complete(req);
        scitt_prepared_clear(&prep);
        scitt_free(j);
        return;
    }
    scitt_err e;
    if (j->async) {
        pthread_mutex_lock(&d->pending->mu);
        pend *p = pending_add(d->pending, j->id);
        pthread_mutex_unlock(&d->pending->mu);
        if (!p) {
            atomic_fetch_sub(&d->submitted_bytes, j->entry_len);
            scittd_header(req, "Retry-After", RETRY_AFTER_S);
            scittd_problem(req, 503, "Service Unavailable", "too many registrations are pending");
            scitt_http_complete(req);
            scitt_prepared_clear(&prep);
            scitt_free(j);
            return;
        }
        /* Answer now; the job belongs to the sequencer once submitted. */
        uint8_t id[SCITT_HASH_LEN];
        memcpy(id, j->id, SCITT_HASH_LEN);
        j->req = NULL;
        e = scitt_service_submit(d->svc, &prep, on_committed, j);
        scitt_prepared_clear(&prep);
        if (e == SCITT_OK && d->cfg.compat_operations) {
            scittd_compat_accepted(req, id); /* 202, /operations/{id}, the operation body */
            scitt_http_complete(req);
            return;
        }
        if (e == SCITT_OK) {
            scitt_http_res_status(req, 202);
            set_location(req, id);
            scittd_header(req, "Retry-After", RETRY_AFTER_S);
            scitt_http_complete(req);
            return;
        }
        pthread_mutex_lock(&d->pending->mu);
        pending_remove(d->pending, id);
        pthread_mutex_unlock(&d->pending->mu);
        j->req = req;
    } else {
        e = scitt_service_submit(d->svc, &prep, on_committed, j);
        scitt_prepared_clear(&prep);
        if (e == SCITT_OK) {
            return; /* on_committed takes it from here */
        }
    }
    atomic_fetch_sub(&d->submitted_bytes, j->entry_len);
    scittd_fail(req, e, "the ledger is not accepting registrations");
    scitt_http_complete(req);
    scitt_free(j);
}

/*
 * Loop thread, as soon as the headers are complete: who may register, and whether the ledger
 * takes registrations at all, is decided before a byte of the statement is read.
 */
bool scittd_entries_admit(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    if (!authorized(d, req)) {
        scittd_header(req, "WWW-Authenticate", "Bearer");
        scittd_problem(req, 401, "Unauthorized", "a valid bearer token is required to register");
        return false;
    }
    scitt_err state = scitt_ledger_state(scitt_service_ledger(d->svc));
    if (state != SCITT_OK) {
        scittd_fail(req, state, "the ledger is not accepting registrations");
        return false;
    }
    return true;
}

/* The statement has been read: scittd_entries_admit let it through. */
void scittd_route_entries_post(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    job *j = scitt_calloc(1, sizeof(*j));
    if (!j) {
        scittd_busy(req, "out of memory");
        scitt_http_complete(req);
        return;
    }
    j->d = d;
    j->req = req;
    scitt_span prefer;
    j->async = d->cfg.compat_operations || (scitt_http_req_header(req, "Prefer", &prefer) &&
                                            memmem(prefer.ptr, prefer.len, "respond-async", 13));
    j->work.data = j;
    if (uv_queue_work(d->loop, &j->work, check_work, check_done) != 0) {
        scitt_free(j);
        scittd_busy(req, "cannot schedule the check");
        scitt_http_complete(req);
    }
}

/* ---- GET /entries/{id} and /entries/{id}/statement ----------------------------------------- */

/* Parses "/entries/<id>[/statement]". */
static bool entry_path(scitt_http_req *req, uint8_t id[SCITT_HASH_LEN], bool *statement)
{
    scitt_span path = scitt_http_req_path(req);
    scitt_span rest = scitt_span_make(path.ptr + 9, path.len - 9); /* after "/entries/" */
    *statement = false;
    if (rest.len == 64 + 10 && memcmp(rest.ptr + 64, "/statement", 10) == 0) {
        *statement = true;
        rest.len = 64;
    }
    return scitt_entry_id_parse(rest, id) == SCITT_OK;
}

static void entry_read(scittd *d, scitt_http_req *req, scitt_ledger_read *r)
{
    uint8_t id[SCITT_HASH_LEN];
    bool statement;
    uint64_t index = 0;
    scitt_err e =
        entry_path(req, id, &statement) ? scitt_ledger_find(r, id, &index) : SCITT_ERR_NOT_FOUND;
    scitt_dynbuf out;
    scitt_dynbuf_init(&out, 0);
    bool known = e == SCITT_OK;
    scitt_span wv;
    if (e == SCITT_OK && scitt_http_req_query_param(req, "witnessed", &wv) &&
        !scitt_span_eq(wv, scitt_span_str("1"))) {
        scitt_dynbuf_clear(&out);
        scittd_problem(req, 400, "Bad Request", "witnessed takes the value 1");
        return;
    }
    if (e == SCITT_OK && scitt_http_req_query_param(req, "witnessed", &wv)) {
        /* against the newest witnessed checkpoint, carrying it (server/witness.c) */
        char detail[160];
        e = scittd_witnessed_entry(d, r, index, statement, &out, detail, sizeof(detail));
        if (e == SCITT_ERR_UNSUPPORTED || e == SCITT_ERR_BUSY) {
            scitt_dynbuf_clear(&out);
            if (e == SCITT_ERR_BUSY) {
                scittd_header(req, "Retry-After", RETRY_AFTER_S);
            }
            scittd_problem(req, e == SCITT_ERR_BUSY ? 503 : 404,
                           e == SCITT_ERR_BUSY ? "Not Yet Witnessed" : "No Witnesses", detail);
            return;
        }
    } else if (e == SCITT_OK) {
        e = statement ? scitt_service_transparent(d->svc, r, index, 0, &out)
                      : scitt_service_receipt(d->svc, r, index, 0, &out);
    }
    if (e == SCITT_OK) {
        scitt_http_res_status(req, 200);
        set_location(req, id);
        e = scitt_http_res_body_dynbuf(
            req, scittd_cose_type(req, statement ? SCITTD_TYPE_STATEMENT : SCITTD_TYPE_RECEIPT),
            &out);
    }
    scitt_dynbuf_clear(&out);
    if (e == SCITT_ERR_NOT_FOUND && known) {
        /* The first entry while the log holds only it: RFC 9942 has no receipt for a one-leaf
         * tree (docs/receipts.md). */
        scittd_problem(req, 404, "Not Found",
                       "no receipt is issued over a one-leaf tree: this entry's receipt exists "
                       "once the log holds a second entry");
    } else if (e == SCITT_ERR_NOT_FOUND) {
        char hex[65];
        scitt_entry_id_hex(id, hex);
        char detail[160];
        snprintf(detail, sizeof(detail), "Receipt with entry ID %s not known to this service", hex);
        scittd_problem(req, 404, "Not Found", detail);
    } else if (e != SCITT_OK) {
        scittd_fail(req, e, "the entry could not be read");
    }
}

void scittd_route_entries_get(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    uint8_t id[SCITT_HASH_LEN];
    bool statement;
    if (!entry_path(req, id, &statement)) {
        scittd_problem(req, 404, "Not Found", "entry IDs are 64 lowercase hexadecimal digits");
        scitt_http_complete(req);
        return;
    }
    pthread_mutex_lock(&d->pending->mu);
    pend *p = pending_find(d->pending, id);
    bool pending = p && !p->failed, failed = p && p->failed;
    char detail[96] = "";
    if (failed) {
        snprintf(detail, sizeof(detail), "%s", p->detail);
    }
    pthread_mutex_unlock(&d->pending->mu);
    if (pending) {
        scitt_http_res_status(req, 204);
        scittd_header(req, "Retry-After", RETRY_AFTER_S);
        scittd_header(req, "Cache-Control", "no-store");
        set_location(req, id);
        scitt_http_complete(req);
        return;
    }
    if (failed) {
        char msg[160];
        snprintf(msg, sizeof(msg), "the registration failed: %s", detail);
        scittd_problem(req, 404, "Registration Failed", msg);
        scitt_http_complete(req);
        return;
    }
    scittd_offload_read(d, req, entry_read);
}
