/*
 * Read endpoints: service keys, the transparency configuration, C2SP checkpoint and tiles,
 * consistency receipts, attestation and health, and the read pool they run on. Anything that
 * reads LMDB runs off the loop in one read snapshot, so the loop never waits on the disk, and
 * never on the libuv worker pool, which is left to the registrations' check stage: reads have
 * threads and bounded queues of their own, and the costly ones (a /query scan, fresh TEE
 * evidence, entry bundles) a smaller lane of low-priority threads, so that a flood of them can
 * neither delay a registration nor take every read thread.
 */
#include "scittd.h"
#include "witness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "scitt/attest.h"
#include "scitt/merkle.h"
#include "scitt/note.h"

void scittd_fail(scitt_http_req *req, scitt_err e, const char *detail)
{
    char msg[256];
    switch (e) {
    case SCITT_ERR_NOT_FOUND:
        scittd_problem(req, 404, "Not Found", detail);
        return;
    case SCITT_ERR_MAP_FULL:
    case SCITT_ERR_NO_SPACE:
    case SCITT_ERR_BUSY:
    case SCITT_ERR_CLOSED:
    case SCITT_ERR_INTEGRITY:
    case SCITT_ERR_CONSISTENCY: /* storage behind the newest signed head (ledger/ha.c) */
    case SCITT_ERR_STATE:
        snprintf(msg, sizeof(msg), "%s: %s", detail, scitt_err_str(e));
        scittd_header(req, "Retry-After", scittd_retry_after(e));
        scittd_problem(req, 503, "Service Unavailable", msg);
        return;
    default:
        snprintf(msg, sizeof(msg), "%s: %s", detail, scitt_err_str(e));
        if (scitt_err_class(e) == SCITT_ERRCLASS_RESOURCE) {
            /* memory, I/O, time, no TEE: the client may come back */
            scittd_header(req, "Retry-After", scittd_retry_after(e));
            scittd_problem(req, 503, "Service Unavailable", msg);
        } else {
            scittd_problem(req, 500, "Internal Server Error", msg);
        }
        return;
    }
}

const char *scittd_retry_after(scitt_err e)
{
    return e == SCITT_ERR_INTEGRITY || e == SCITT_ERR_CONSISTENCY ? "3600" : "5";
}

void scittd_send(scitt_http_req *req, int status, const char *type, scitt_dynbuf *b)
{
    scitt_http_res_status(req, status);
    scitt_err e = scitt_http_res_body_dynbuf(req, type, b);
    if (e != SCITT_OK) {
        scittd_problem(req, 500, "Internal Server Error",
                       e == SCITT_ERR_NOMEM ? "out of memory" : "response too large");
    }
}

/* ---- the read pool -------------------------------------------------------------------------- */

typedef struct lane {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    scittd_read_job *head, *tail;
    size_t queued, max_queued;
    pthread_t threads[SCITTD_MAX_READ_WORKERS];
    unsigned nthreads;
    int nice; /* added to the threads' nice value */
    bool stop;
} lane;

struct scittd_reads {
    lane lanes[2];
};

static void *lane_main(void *arg)
{
    lane *l = arg;
    pthread_setname_np(pthread_self(), "reads");
    if (l->nice > 0) {
        /* Linux keeps a nice value per thread: the costly lane yields the cores to the rest. */
        (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), l->nice);
    }
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->head && !l->stop) {
            pthread_cond_wait(&l->cv, &l->mu);
        }
        scittd_read_job *j = l->head;
        if (!j) {
            break; /* stopping, and every queued job has run */
        }
        l->head = j->next;
        if (!l->head) {
            l->tail = NULL;
        }
        l->queued--;
        pthread_mutex_unlock(&l->mu);
        j->run(j);
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

scitt_err scittd_reads_start(scittd *d, unsigned cheap_threads, unsigned costly_threads)
{
    scittd_reads *rs = scitt_calloc(1, sizeof(*rs));
    if (!rs) {
        return SCITT_ERR_NOMEM;
    }
    d->reads = rs;
    const unsigned n[2] = {cheap_threads, costly_threads};
    const size_t q[2] = {SCITTD_READ_QUEUE, SCITTD_COSTLY_QUEUE};
    for (int k = 0; k < 2; k++) {
        lane *l = &rs->lanes[k];
        pthread_mutex_init(&l->mu, NULL);
        pthread_cond_init(&l->cv, NULL);
        l->max_queued = q[k];
        l->nice = k == SCITTD_LANE_COSTLY ? 10 : 0;
        unsigned want = n[k] < 1                         ? 1
                        : n[k] > SCITTD_MAX_READ_WORKERS ? SCITTD_MAX_READ_WORKERS
                                                         : n[k];
        for (unsigned i = 0; i < want; i++) {
            if (pthread_create(&l->threads[i], NULL, lane_main, l) != 0) {
                return SCITT_ERR_NOMEM;
            }
            l->nthreads++;
        }
    }
    return SCITT_OK;
}

void scittd_reads_stop(scittd *d)
{
    scittd_reads *rs = d->reads;
    if (!rs) {
        return;
    }
    for (int k = 0; k < 2; k++) {
        lane *l = &rs->lanes[k];
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        for (unsigned i = 0; i < l->nthreads; i++) {
            pthread_join(l->threads[i], NULL);
        }
        l->nthreads = 0;
    }
}

void scittd_reads_free(scittd *d)
{
    scittd_reads *rs = d->reads;
    if (!rs) {
        return;
    }
    for (int k = 0; k < 2; k++) {
        pthread_mutex_destroy(&rs->lanes[k].mu);
        pthread_cond_destroy(&rs->lanes[k].cv);
    }
    scitt_free(rs);
    d->reads = NULL;
}

bool scittd_reads_submit(scittd *d, int which, scittd_read_job *j, bool admitted)
{
    lane *l = &d->reads->lanes[which];
    j->next = NULL;
    pthread_mutex_lock(&l->mu);
    if (l->stop || (!admitted && l->queued >= l->max_queued)) {
        pthread_mutex_unlock(&l->mu);
        return false;
    }
    if (l->tail) {
        l->tail->next = j;
    } else {
        l->head = j;
    }
    l->tail = j;
    l->queued++;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return true;
}

size_t scittd_reads_queued(scittd *d, int which)
{
    lane *l = &d->reads->lanes[which];
    pthread_mutex_lock(&l->mu);
    size_t n = l->queued;
    pthread_mutex_unlock(&l->mu);
    return n;
}

/* ---- work in one read snapshot ---------------------------------------------------------- */

typedef struct offload {
    scittd_read_job job; /* first: the pool hands back this pointer */
    scittd *d;
    scitt_http_req *req;
    scittd_read_fn fn;
} offload;

static void offload_work(scittd_read_job *j)
{
    offload *o = (offload *)j;
    scitt_ledger_read *r;
    scitt_err e = scitt_ledger_read_begin(scitt_service_ledger(o->d->svc), &r);
    if (e == SCITT_OK) {
        o->fn(o->d, o->req, r);
        scitt_ledger_read_end(r);
    } else {
        scittd_fail(o->req, e, "cannot read the ledger");
    }
    scitt_http_req *req = o->req;
    scitt_free(o);
    scitt_http_complete(req);
}

void scittd_busy(scitt_http_req *req, const char *detail)
{
    scittd_header(req, "Retry-After", "1");
    scittd_problem(req, 503, "Service Unavailable", detail);
}

static void submit_read(scittd *d, scitt_http_req *req, scittd_read_fn fn, int which)
{
    offload *o = scitt_calloc(1, sizeof(*o));
    if (!o) {
        scittd_busy(req, "out of memory");
        scitt_http_complete(req);
        return;
    }
    o->d = d;
    o->req = req;
    o->fn = fn;
    o->job.run = offload_work;
    if (!scittd_reads_submit(d, which, &o->job, false)) {
        scitt_free(o);
        scittd_busy(req, which == SCITTD_LANE_COSTLY ? "too many costly reads are waiting"
                                                     : "too many reads are waiting");
        scitt_http_complete(req);
    }
}

void scittd_offload_read(scittd *d, scitt_http_req *req, scittd_read_fn fn)
{
    submit_read(d, req, fn, SCITTD_LANE_READ);
}

void scittd_offload_costly(scittd *d, scitt_http_req *req, scittd_read_fn fn)
{
    submit_read(d, req, fn, SCITTD_LANE_COSTLY);
}

/* ---- keys ---------------------------------------------------------------------------------- */

void scittd_route_keys(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    const scitt_cose_keyset *keys = scitt_service_keys(d->svc);
    scitt_span path = scitt_http_req_path(req);
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &b);
    const char *base = "/.well-known/scitt-keys";
    size_t bl = strlen(base);
    if (path.len == bl) {
        if (scitt_cose_keyset_encode_cose(keys, &w) != SCITT_OK) {
            b.err = SCITT_ERR_NOMEM;
        }
        scittd_header(req, "Cache-Control", "max-age=300");
        scittd_send(req, 200, "application/cbor", &b);
        scitt_http_complete(req);
        return;
    }
    /* /.well-known/scitt-keys/{kid}: the base64url (no padding) form of the kid */
    scitt_span enc = scitt_span_make(path.ptr + bl + 1, path.len - bl - 1);
    uint8_t kid[256];
    size_t kl;
    const scitt_cose_key *k = NULL;
    if (path.ptr[bl] == '/' && scitt_base64url_decode(enc, kid, sizeof(kid), &kl) == SCITT_OK) {
        k = scitt_cose_keyset_find(keys, scitt_span_make(kid, kl));
    }
    if (!k) {
        scitt_dynbuf_clear(&b);
        scittd_problem(req, 404, "No such key", "No key could be found for this kid value");
        scitt_http_complete(req);
        return;
    }
    if (scitt_cose_key_encode_cose(k, false, &w) != SCITT_OK) {
        b.err = SCITT_ERR_NOMEM;
    }
    scittd_header(req, "Cache-Control", "max-age=300");
    scittd_send(req, 200, "application/cbor", &b);
    scitt_http_complete(req);
}

void scittd_route_jwks(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    if (scitt_cose_keyset_encode_jwks(scitt_service_keys(d->svc), &b) != SCITT_OK) {
        b.err = SCITT_ERR_NOMEM;
    }
    scittd_send(req, 200, "application/json", &b);
    scitt_http_complete(req);
}

/* ---- configuration and attestation --------------------------------------------------------- */

static void put_kv_text(scitt_cbor_writer *w, const char *k, const char *v)
{
    scitt_cbor_put_cstr(w, k);
    scitt_cbor_put_cstr(w, v);
}

void scittd_route_config(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &b);
    const scitt_policy *pol = scitt_service_policy(d->svc);
    bool dev = scitt_policy_is_development(pol);
    size_t n = 9u + (d->insecure ? 1u : 0u) + (dev ? 1u : 0u);
    /* deterministic CBOR: text keys sorted by length, then bytewise */
    scitt_cbor_put_map(&w, n);
    put_kv_text(&w, "issuer", scitt_service_issuer(d->svc));
    put_kv_text(&w, "origin", scitt_service_origin(d->svc));
    if (d->insecure) {
        scitt_cbor_put_cstr(&w, "insecure");
        scitt_cbor_put_bool(&w, true);
    }
    /* absolute for older clients (compat.c); relative only when no URL can be made */
    char jwks[SCITTD_PUBLIC_URL_MAX + 300];
    put_kv_text(&w, "jwks_uri",
                scittd_absolute_url(d, req, "/jwks", jwks, sizeof(jwks)) ? jwks : "/jwks");
    put_kv_text(&w, "platform", d->platform);
    put_kv_text(&w, "checkpoint", "/checkpoint");
    put_kv_text(&w, "attestation", "/attestation");
    scitt_cbor_put_cstr(&w, "policy_entry");
    scitt_cbor_put_uint(&w, scitt_service_policy_index(d->svc));
    if (dev) {
        put_kv_text(&w, "policy_warning",
                    "development policy: any issuer with an x5chain leaf is accepted");
    }
    put_kv_text(&w, "scitt_keys_uri", "/.well-known/scitt-keys");
    put_kv_text(&w, "checkpoint_vkey", scitt_service_vkey(d->svc));
    if (scitt_cbor_writer_finish(&w, NULL) != SCITT_OK) {
        b.err = SCITT_ERR_NOMEM;
    }
    scittd_send(req, 200, "application/cbor", &b);
    scitt_http_complete(req);
}

typedef struct attest_job {
    scittd_read_job job;
    scittd *d;
    scitt_http_req *req;
    uint8_t nonce[32];
    size_t nonce_len;
} attest_job;

/* Fresh evidence for a nonce: device I/O and a report per request, so on the costly lane. */
static void attest_work(scittd_read_job *job)
{
    attest_job *j = (attest_job *)job;
    scitt_http_req *req = j->req;
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_err e = scittd_platform_bundle(j->d, scitt_span_make(j->nonce, j->nonce_len), &b);
    if (e != SCITT_OK) {
        scitt_dynbuf_clear(&b);
        scittd_fail(req, e == SCITT_ERR_BUSY ? e : SCITT_ERR_IO, "the platform gave no evidence");
    } else {
        scittd_header(req, "Cache-Control", "no-store");
        scittd_send(req, 200, "application/cbor", &b);
    }
    scitt_free(j);
    scitt_http_complete(req);
}

void scittd_route_attestation(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    scitt_span q;
    if (!scitt_http_req_query_param(req, "nonce", &q)) {
        /* the bundle made at start: same evidence for everyone */
        scitt_http_res_status(req, 200);
        scittd_header(req, "Cache-Control", "max-age=60");
        scittd_body(req, "application/cbor", scitt_span_make(d->bundle.ptr, d->bundle.len));
        scitt_http_complete(req);
        return;
    }
    /* ?nonce=<hex, up to 32 bytes>: fresh evidence bound to the verifier's nonce */
    attest_job *j = scitt_calloc(1, sizeof(*j));
    if (!j || scitt_hex_decode(q, j->nonce, sizeof(j->nonce), &j->nonce_len) != SCITT_OK) {
        if (!j) {
            scittd_busy(req, "out of memory");
        } else {
            scittd_problem(req, 400, "Malformed request", "nonce must be hex, at most 32 bytes");
        }
        scitt_free(j);
        scitt_http_complete(req);
        return;
    }
    j->d = d;
    j->req = req;
    j->job.run = attest_work;
    if (!scittd_reads_submit(d, SCITTD_LANE_COSTLY, &j->job, false)) {
        scitt_free(j);
        scittd_busy(req, "too many costly reads are waiting");
        scitt_http_complete(req);
    }
}

void scittd_route_healthz(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    scitt_err st = scitt_ledger_state(scitt_service_ledger(d->svc));
    char body[128];
    snprintf(body, sizeof(body), "%s\n", st == SCITT_OK ? "ok" : scitt_err_str(st));
    scitt_http_res_status(req, st == SCITT_OK ? 200 : 503);
    if (st != SCITT_OK) {
        scittd_header(req, "Retry-After", scittd_retry_after(st));
    }
    scittd_body(req, "text/plain; charset=utf-8", scitt_span_str(body));
    scitt_http_complete(req);
}

/* ---- checkpoint and tiles ------------------------------------------------------------------ */

static void checkpoint_latest_read(scittd *d, scitt_http_req *req, scitt_ledger_read *r)
{
    (void)d;
    scitt_tree_head h;
    scitt_err e = scitt_ledger_latest(r, &h);
    if (e != SCITT_OK) {
        scittd_fail(req, e, "no checkpoint has been signed yet");
        return;
    }
    scitt_http_res_status(req, 200);
    scittd_header(req, "Cache-Control", "no-cache");
    if (scitt_http_res_body_copy(req, "text/plain; charset=utf-8", h.checkpoint) != SCITT_OK) {
        scittd_problem(req, 500, "Internal Server Error", "out of memory");
    }
}

/* Reads @p path whole into @p b (its bound: SCITT_ERR_TOO_LARGE past it). */
static scitt_err read_small_file(const char *path, scitt_dynbuf *b)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return SCITT_ERR_NOT_FOUND;
    }
    scitt_err e = SCITT_OK;
    for (;;) {
        uint8_t chunk[4096];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            e = n < 0 ? SCITT_ERR_IO : b->err;
            break;
        }
        scitt_dynbuf_put(b, chunk, (size_t)n);
        if (b->err != SCITT_OK) {
            e = b->err;
            break;
        }
    }
    close(fd);
    return e;
}

/* With --cosigned-checkpoint, GET /checkpoint is the witnessed checkpoint the collector wrote:
 * served only when our note key signed it for our origin (never a stranger's file, and never the
 * unwitnessed head in its place). Without it, the newest signed head, as /checkpoint/latest. */
static void checkpoint_read(scittd *d, scitt_http_req *req, scitt_ledger_read *r)
{
    if (d->witnesses != NULL) {
        scittd_witness_checkpoint(d, req); /* --witness: server/witness.c */
        return;
    }
    if (d->cfg.cosigned_checkpoint == NULL) {
        checkpoint_latest_read(d, req, r);
        return;
    }
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, SCITT_LIMIT_NOTE_BYTES);
    scitt_note_verifier v;
    scitt_checkpoint cp;
    scitt_err e = read_small_file(d->cfg.cosigned_checkpoint, &b);
    if (e == SCITT_OK) {
        e = scitt_note_vkey_parse(scitt_span_str(scitt_service_vkey(d->svc)), &v);
    }
    if (e == SCITT_OK) {
        e = scitt_checkpoint_open(scitt_span_make(b.ptr, b.len), &v, 1,
                                  scitt_span_make(v.name, v.name_len), &cp, NULL);
    }
    if (e != SCITT_OK) {
        scitt_dynbuf_clear(&b);
        scittd_problem(req, 503, "No witnessed checkpoint",
                       "no cosigned checkpoint of this log is available yet; the newest signed "
                       "head is at /checkpoint/latest");
        return;
    }
    scitt_http_res_status(req, 200);
    scittd_header(req, "Cache-Control", "no-cache");
    if (scitt_http_res_body_copy(req, "text/plain; charset=utf-8", scitt_span_make(b.ptr, b.len)) !=
        SCITT_OK) {
        scittd_problem(req, 500, "Internal Server Error", "out of memory");
    }
    scitt_dynbuf_clear(&b);
}

void scittd_route_checkpoint(scitt_http_req *req, void *ctx)
{
    scittd_offload_read(ctx, req, checkpoint_read);
}

void scittd_route_checkpoint_latest(scitt_http_req *req, void *ctx)
{
    scittd_offload_read(ctx, req, checkpoint_latest_read);
}

/* A hash tile or an entry bundle sent whole, gzipped (RFC 9110 content coding) when the client
 * accepts gzip; the answer varies with Accept-Encoding either way, so caches keep the two apart.
 * Bundles too large to hold whole stream in pieces and are sent as they are. */
static void send_tile(scitt_http_req *req, scitt_dynbuf *b)
{
    scittd_header(req, "Vary", "Accept-Encoding");
    if (b->err == SCITT_OK && scittd_wants_gzip(req)) {
        scitt_dynbuf z;
        scitt_dynbuf_init(&z, 0);
        if (scittd_gzip(scitt_span_make(b->ptr, b->len), &z) == SCITT_OK && z.err == SCITT_OK) {
            scitt_dynbuf_clear(b);
            scittd_header(req, "Content-Encoding", "gzip");
            scittd_send(req, 200, "application/octet-stream", &z);
            return;
        }
        scitt_dynbuf_clear(&z); /* could not compress: send it as it is */
    }
    scittd_send(req, 200, "application/octet-stream", b);
}

/*
 * An entry bundle too large to hold whole is produced piece by piece while it is sent: each
 * piece is copied on the costly lane in a snapshot of its own (entries never change once logged,
 * and each read checks the entry against its leaf hash), so a slow reader holds one piece buffer,
 * not the bundle, and no read transaction stays open between pieces.
 */
typedef struct bundle {
    scittd_read_job job;
    scittd *d;
    uint64_t first;  /* index of the bundle's first entry */
    unsigned width;  /* entries in it */
    unsigned next;   /* entry the next piece starts in */
    size_t next_off; /* bytes of that entry (its 2-byte length first) already produced */
    scitt_http_req *req;
    uint8_t *buf;
    size_t cap;
} bundle;

static void bundle_fill(scittd_read_job *job)
{
    bundle *b = (bundle *)job;
    scitt_ledger_read *r;
    size_t n = 0;
    if (scitt_ledger_read_begin(scitt_service_ledger(b->d->svc), &r) == SCITT_OK) {
        while (n < b->cap && b->next < b->width) {
            scitt_span e;
            if (scitt_ledger_entry(r, b->first + b->next, &e) != SCITT_OK || e.len > 65535) {
                n = 0; /* the bytes promised cannot be produced: the layer closes */
                break;
            }
            uint8_t l2[2] = {(uint8_t)(e.len >> 8), (uint8_t)e.len};
            size_t whole = 2 + e.len, take = whole - b->next_off;
            if (take > b->cap - n) {
                take = b->cap - n;
            }
            for (size_t i = 0; i < take; i++) {
                size_t at = b->next_off + i;
                b->buf[n + i] = at < 2 ? l2[at] : e.ptr[at - 2];
            }
            n += take;
            b->next_off += take;
            if (b->next_off == whole) {
                b->next++;
                b->next_off = 0;
            }
        }
        scitt_ledger_read_end(r);
    }
    scitt_http_res_piece(b->req, n);
}

static void bundle_pull(scitt_http_req *req, void *ctx, uint8_t *buf, size_t cap)
{
    bundle *b = ctx;
    b->req = req;
    b->buf = buf;
    b->cap = cap;
    b->job.run = bundle_fill;
    /* The response is admitted already: its pieces never wait for room in the queue. */
    if (!scittd_reads_submit(b->d, SCITTD_LANE_COSTLY, &b->job, true)) {
        scitt_http_res_piece(req, 0);
    }
}

static void bundle_release(void *ctx)
{
    scitt_free(ctx);
}

static void bundle_read(scittd *d, scitt_http_req *req, scitt_ledger_read *r, uint64_t index,
                        unsigned width)
{
    /* The bundle exists exactly when the level-0 tile of the same index and width does. */
    scitt_span tile;
    scitt_err e = scitt_ledger_tile(r, 0, index, width, &tile);
    uint64_t total = 0;
    for (unsigned i = 0; i < width && e == SCITT_OK; i++) {
        scitt_span entry;
        e = scitt_ledger_entry(r, index * 256 + i, &entry);
        if (e == SCITT_OK && entry.len > 65535) {
            scittd_problem(req, 404, "Not Found",
                           "this bundle holds an entry over 65,535 bytes; entry "
                           "bundles are not served for it");
            return;
        }
        total += 2 + (e == SCITT_OK ? entry.len : 0);
    }
    if (e != SCITT_OK) {
        scittd_fail(req, e, "no such tile in the tree");
        return;
    }
    scittd_header(req, "Cache-Control", "public, max-age=31536000, immutable");
    if (scitt_http_req_method(req) == SCITT_HTTP_HEAD) {
        /* The length is all a HEAD needs: nothing is copied and no piece is ever produced. */
        scitt_http_res_status(req, 200);
        if (scitt_http_res_body_stream(req, "application/octet-stream", total, bundle_pull, NULL,
                                       NULL) != SCITT_OK) {
            scittd_problem(req, 500, "Internal Server Error", "out of memory");
        }
        return;
    }
    if (total <= SCITT_HTTP_PIECE_BYTES) {
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        e = scitt_ledger_entry_bundle(r, index, width, &b);
        if (e != SCITT_OK) {
            scitt_dynbuf_clear(&b);
            scittd_fail(req, e, "no such tile in the tree");
            return;
        }
        send_tile(req, &b);
        return;
    }
    bundle *b = scitt_calloc(1, sizeof(*b));
    if (!b) {
        scittd_busy(req, "out of memory");
        return;
    }
    b->d = d;
    b->first = index * 256;
    b->width = width;
    scitt_http_res_status(req, 200);
    if (scitt_http_res_body_stream(req, "application/octet-stream", total, bundle_pull,
                                   bundle_release, b) != SCITT_OK) {
        scittd_busy(req, "out of memory");
    }
}

static bool tile_path(scitt_http_req *req, bool *entries, unsigned *level, uint64_t *index,
                      unsigned *width)
{
    scitt_span path = scitt_http_req_path(req);
    return scitt_tile_parse_path(scitt_span_make(path.ptr + 1, path.len - 1), entries, level, index,
                                 width) == SCITT_OK;
}

static void tile_read(scittd *d, scitt_http_req *req, scitt_ledger_read *r)
{
    bool entries;
    unsigned level, width;
    uint64_t index;
    if (!tile_path(req, &entries, &level, &index, &width)) {
        scittd_problem(req, 404, "Not Found", "not a canonical C2SP tile path");
        return;
    }
    if (entries) {
        bundle_read(d, req, r, index, width);
        return;
    }
    scitt_span tile;
    scitt_err e = scitt_ledger_tile(r, level, index, width, &tile);
    if (e == SCITT_OK) {
        scittd_header(req, "Cache-Control", "public, max-age=31536000, immutable");
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        scitt_dynbuf_put(&b, tile.ptr, tile.len);
        send_tile(req, &b);
        return;
    }
    scittd_fail(req, e, "no such tile in the tree");
}

void scittd_route_tile(scitt_http_req *req, void *ctx)
{
    bool entries;
    unsigned level, width;
    uint64_t index;
    /* Hash tiles are one lookup; entry bundles read up to 256 entries and go to the costly lane. */
    if (tile_path(req, &entries, &level, &index, &width) && entries) {
        scittd_offload_costly(ctx, req, tile_read);
    } else {
        scittd_offload_read(ctx, req, tile_read);
    }
}

/* ---- consistency receipts ------------------------------------------------------------------ */

bool scittd_parse_u64(scitt_span s, uint64_t *out)
{
    if (s.len == 0 || s.len > 19) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(s.ptr[i] - '0');
    }
    *out = v;
    return true;
}

static void consistency_read(scittd *d, scitt_http_req *req, scitt_ledger_read *r)
{
    scitt_span from, to;
    uint64_t m, n;
    if (!scitt_http_req_query_param(req, "from", &from) ||
        !scitt_http_req_query_param(req, "to", &to) || !scittd_parse_u64(from, &m) ||
        !scittd_parse_u64(to, &n) || m == 0 || m >= n) {
        scittd_problem(req, 400, "Malformed request",
                       "from and to must be tree sizes with 0 < from < to");
        return;
    }
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_err e = scitt_service_consistency(d->svc, r, m, n, &b);
    if (e != SCITT_OK) {
        scitt_dynbuf_clear(&b);
        scittd_fail(req, e, "both sizes must be signed tree heads of this log");
        return;
    }
    scittd_header(req, "Cache-Control", "public, max-age=31536000, immutable");
    scittd_send(req, 200, scittd_cose_type(req, SCITTD_TYPE_RECEIPT), &b);
}

void scittd_route_consistency(scitt_http_req *req, void *ctx)
{
    scittd_offload_read(ctx, req, consistency_read);
}
