/*
 * Attested key release between scittd instances (docs/tee.md, "Key release"; the protocol's
 * pieces are libscitt's, include/scitt/keyrel.h).
 *
 * Holder (--key-release-policy FILE): GET /keys/join/challenge hands out single-use challenges
 * that live SCITTD_KEYREL_TTL_S seconds (at most SCITTD_KEYREL_SLOTS outstanding); POST
 * /keys/join takes a join bundle (at most SCITT_KEYREL_REQUEST_MAX bytes), spends its challenge,
 * verifies the evidence against the policy on the costly read lane and answers with the keystore
 * blob encrypted to the key the evidence binds. Refusals are RFC 9290 problem details.
 *
 * Joiner (--join URL, with the same policy): when the keystore is empty at start, it checks the
 * holder's own fresh evidence against the policy, asks for a challenge, makes a key pair and
 * evidence binding it, posts the join bundle, opens the answer and stores the blob through its
 * own keystore (sealed on SEV-SNP), so the service opens with the holder's keys.
 */
#include "scittd.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "../client/http.h" /* libscitt-client's transport (server/http.h is the server's) */
#include "scitt/attest.h"
#include "scitt/json.h"
#include "scitt/keyrel.h"

#define SCITTD_KEYREL_SLOTS   64
#define SCITTD_KEYREL_TTL_S   60
#define SCITTD_KEYREL_MEAS    16 /* measurements a policy lists */
#define SCITTD_KEYREL_FILEMAX (64u << 10)

typedef struct slot {
    uint8_t challenge[SCITT_KEYREL_CHALLENGE_LEN];
    int64_t expires; /* 0: free */
} slot;

/* The key-release policy: which evidence may receive the keys. */
typedef struct keyrel_policy {
    char platform[16]; /* "snp", "tdx" or "virtual" */
    uint8_t measurements[SCITTD_KEYREL_MEAS][SCITT_ATTEST_MEASUREMENT_LEN];
    size_t n_measurements;
    uint8_t host_data[SCITTD_KEYREL_MEAS][32];
    size_t n_host_data;
    uint32_t accept_tcb;
} keyrel_policy;

typedef struct scittd_keyrel {
    keyrel_policy policy;
    pthread_mutex_t mu; /* guards slots: challenges are handed out on the loop, spent on a
                           pool thread */
    slot slots[SCITTD_KEYREL_SLOTS];
} scittd_keyrel;

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* ---- the policy file ---------------------------------------------------------------------- */

static scitt_err hex_list(const scitt_json *j, long arr, size_t width, uint8_t *out, size_t *n,
                          const char *name, char *reason, size_t cap)
{
    *n = 0;
    if (arr < 0) {
        return SCITT_OK;
    }
    if (scitt_json_type_of(j, (size_t)arr) != SCITT_JSON_ARRAY) {
        snprintf(reason, cap, "\"%s\" must be an array of hex strings", name);
        return SCITT_ERR_POLICY;
    }
    for (size_t i = 0;; i++) {
        long t = scitt_json_at(j, (size_t)arr, i);
        if (t < 0) {
            break;
        }
        char hex[200];
        size_t len, got = 0;
        if (i >= SCITTD_KEYREL_MEAS) {
            snprintf(reason, cap, "\"%s\" lists more than %d values", name, SCITTD_KEYREL_MEAS);
            return SCITT_ERR_POLICY;
        }
        if (scitt_json_type_of(j, (size_t)t) != SCITT_JSON_STRING ||
            scitt_json_string(j, (size_t)t, hex, sizeof(hex), &len) != SCITT_OK ||
            scitt_hex_decode(scitt_span_make(hex, len), out + i * width, width, &got) != SCITT_OK ||
            got != width) {
            snprintf(reason, cap, "\"%s\"[%zu] must be %zu bytes in hex", name, i, width);
            return SCITT_ERR_POLICY;
        }
        (*n)++;
    }
    return SCITT_OK;
}

static scitt_err policy_parse(scitt_span text, bool holder_insecure, keyrel_policy *p, char *reason,
                              size_t cap)
{
    memset(p, 0, sizeof(*p));
    scitt_json j;
    if (scitt_json_parse(text, &j) != SCITT_OK) {
        snprintf(reason, cap, "not a JSON object");
        return SCITT_ERR_POLICY;
    }
    if (scitt_json_type_of(&j, 0) != SCITT_JSON_OBJECT) {
        scitt_json_clear(&j);
        snprintf(reason, cap, "not a JSON object");
        return SCITT_ERR_POLICY;
    }
    scitt_err e = SCITT_OK;
    for (size_t i = 0;; i++) {
        long k = scitt_json_member(&j, 0, i);
        if (k < 0) {
            break;
        }
        if (!scitt_json_str_eq(&j, (size_t)k, "platform") &&
            !scitt_json_str_eq(&j, (size_t)k, "measurements") &&
            !scitt_json_str_eq(&j, (size_t)k, "host_data") &&
            !scitt_json_str_eq(&j, (size_t)k, "accept_tcb")) {
            snprintf(reason, cap,
                     "unknown member (known: platform, measurements, host_data, "
                     "accept_tcb)");
            e = SCITT_ERR_POLICY;
        }
    }
    long pl = scitt_json_get(&j, 0, "platform");
    size_t len;
    if (e == SCITT_OK &&
        (pl < 0 || scitt_json_type_of(&j, (size_t)pl) != SCITT_JSON_STRING ||
         scitt_json_string(&j, (size_t)pl, p->platform, sizeof(p->platform), &len) != SCITT_OK ||
         (strcmp(p->platform, "snp") && strcmp(p->platform, "tdx") &&
          strcmp(p->platform, "virtual")))) {
        snprintf(reason, cap, "\"platform\" must be \"snp\", \"tdx\" or \"virtual\"");
        e = SCITT_ERR_POLICY;
    }
    e = e ? e
          : hex_list(&j, scitt_json_get(&j, 0, "measurements"), SCITT_ATTEST_MEASUREMENT_LEN,
                     &p->measurements[0][0], &p->n_measurements, "measurements", reason, cap);
    if (e == SCITT_OK && p->n_measurements == 0) {
        /* authentic evidence of any code would do: never the keys' policy */
        snprintf(reason, cap, "\"measurements\" must list at least one accepted measurement");
        e = SCITT_ERR_POLICY;
    }
    e = e ? e
          : hex_list(&j, scitt_json_get(&j, 0, "host_data"), 32, &p->host_data[0][0],
                     &p->n_host_data, "host_data", reason, cap);
    if (e == SCITT_OK && p->n_host_data && strcmp(p->platform, "snp") != 0) {
        snprintf(reason, cap, "\"host_data\" is for \"snp\" only");
        e = SCITT_ERR_POLICY;
    }
    long at = scitt_json_get(&j, 0, "accept_tcb");
    if (e == SCITT_OK && at >= 0) {
        char list[200];
        if (strcmp(p->platform, "tdx") != 0 ||
            scitt_json_type_of(&j, (size_t)at) != SCITT_JSON_STRING ||
            scitt_json_string(&j, (size_t)at, list, sizeof(list), &len) != SCITT_OK ||
            scitt_dcap_accept_parse(scitt_span_make(list, len), &p->accept_tcb) != SCITT_OK) {
            snprintf(reason, cap, "\"accept_tcb\" must be a list of TCB statuses (\"tdx\" only)");
            e = SCITT_ERR_POLICY;
        }
    }
    if (e == SCITT_OK && !strcmp(p->platform, "virtual") && !holder_insecure) {
        /* anyone can make virtual evidence: a TEE instance would hand its keys to anybody */
        snprintf(reason, cap,
                 "\"virtual\" evidence is accepted only by an instance on the "
                 "INSECURE virtual platform");
        e = SCITT_ERR_POLICY;
    }
    scitt_json_clear(&j);
    return e;
}

static void policy_opts(const keyrel_policy *p, scitt_attest_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->now = now_s();
    o->allow_insecure_virtual = !strcmp(p->platform, "virtual");
    o->measurements = &p->measurements[0][0];
    o->n_measurements = p->n_measurements;
    o->host_data = p->n_host_data ? &p->host_data[0][0] : NULL;
    o->n_host_data = p->n_host_data;
    o->dcap_accept = p->accept_tcb;
}

/* Evidence of the policy's platform only: virtual evidence never passes for a TEE policy. */
static bool platform_ok(const keyrel_policy *p, scitt_span platform)
{
    return scitt_span_eq_str(platform, p->platform);
}

scitt_err scittd_keyrel_load(scittd *d, char *reason, size_t cap)
{
    reason[0] = 0;
    if (d->cfg.join_url && !d->cfg.key_release_policy) {
        snprintf(reason, cap,
                 "--join needs --key-release-policy: the holder must run code the policy accepts");
        return SCITT_ERR_INVALID_ARG;
    }
    if (!d->cfg.key_release_policy) {
        return SCITT_OK;
    }
    FILE *f = fopen(d->cfg.key_release_policy, "rb");
    if (!f) {
        snprintf(reason, cap, "cannot open %.300s", d->cfg.key_release_policy);
        return SCITT_ERR_IO;
    }
    char *text = malloc(SCITTD_KEYREL_FILEMAX + 1);
    size_t n = text ? fread(text, 1, SCITTD_KEYREL_FILEMAX + 1, f) : 0;
    fclose(f);
    scittd_keyrel *k = calloc(1, sizeof(*k));
    char why[300] = "";
    scitt_err e = !text || !k                 ? SCITT_ERR_NOMEM
                  : n > SCITTD_KEYREL_FILEMAX ? SCITT_ERR_TOO_LARGE
                                              : policy_parse(scitt_span_make(text, n), d->insecure,
                                                             &k->policy, why, sizeof(why));
    free(text);
    if (e != SCITT_OK) {
        snprintf(reason, cap, "%.200s: %s", d->cfg.key_release_policy,
                 why[0] ? why : scitt_err_str(e));
        free(k);
        return e == SCITT_ERR_NOMEM ? e : SCITT_ERR_INVALID_ARG;
    }
    pthread_mutex_init(&k->mu, NULL);
    d->keyrel = k;
    return SCITT_OK;
}

void scittd_keyrel_free(scittd *d)
{
    if (d->keyrel) {
        pthread_mutex_destroy(&d->keyrel->mu);
        free(d->keyrel);
        d->keyrel = NULL;
    }
}

/* ---- the holder --------------------------------------------------------------------------- */

static void route_challenge(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    scittd_keyrel *k = d->keyrel;
    uint8_t ch[SCITT_KEYREL_CHALLENGE_LEN];
    int64_t now = now_s();
    bool stored = false;
    if (RAND_bytes(ch, sizeof(ch)) == 1) {
        pthread_mutex_lock(&k->mu);
        for (size_t i = 0; i < SCITTD_KEYREL_SLOTS && !stored; i++) {
            if (k->slots[i].expires <= now) {
                memcpy(k->slots[i].challenge, ch, sizeof(ch));
                k->slots[i].expires = now + SCITTD_KEYREL_TTL_S;
                stored = true;
            }
        }
        pthread_mutex_unlock(&k->mu);
    }
    if (!stored) {
        scittd_busy(req, "too many key-release challenges are outstanding");
    } else {
        scittd_header(req, "Cache-Control", "no-store");
        scitt_http_res_status(req, 200);
        scittd_body(req, "application/octet-stream", scitt_span_make(ch, sizeof(ch)));
    }
    scitt_http_complete(req);
}

/* Spends @p ch: true when it was issued, unexpired and not spent before. */
static bool spend(scittd_keyrel *k, const uint8_t ch[SCITT_KEYREL_CHALLENGE_LEN])
{
    int64_t now = now_s();
    bool found = false;
    pthread_mutex_lock(&k->mu);
    for (size_t i = 0; i < SCITTD_KEYREL_SLOTS; i++) {
        if (k->slots[i].expires > now &&
            scitt_ct_equal(k->slots[i].challenge, ch, SCITT_KEYREL_CHALLENGE_LEN)) {
            k->slots[i].expires = 0;
            found = true;
        }
    }
    pthread_mutex_unlock(&k->mu);
    return found;
}

typedef struct join_job {
    scittd_read_job job;
    scittd *d;
    scitt_http_req *req;
} join_job;

static void refuse(scitt_http_req *req, int status, const char *title, const char *detail)
{
    SCITT_LOG(SCITT_LOG_WARN, "keyrel", "released=0 status=%d reason=\"%s\"", status, detail);
    scittd_problem(req, status, title, detail);
}

static void join_work(scittd_read_job *job)
{
    join_job *j = (join_job *)job;
    scittd *d = j->d;
    scitt_http_req *req = j->req;
    scittd_keyrel *k = d->keyrel;
    scitt_keyrel_join join;
    scitt_attest_result *r = scitt_calloc(1, sizeof(*r));
    scitt_dynbuf blob, ans;
    scitt_dynbuf_init(&blob, SCITT_KEYREL_BLOB_MAX);
    scitt_dynbuf_init(&ans, 0);
    char detail[300];
    scitt_err e;
    if (!r) {
        scittd_busy(req, "out of memory");
        goto out;
    }
    e = scitt_keyrel_join_parse(scitt_http_req_body(req), &join);
    if (e != SCITT_OK) {
        snprintf(detail, sizeof(detail), "the join bundle does not parse: %s", scitt_err_str(e));
        refuse(req, 400, "Malformed join request", detail);
        goto out;
    }
    /* spent before anything else is looked at: a challenge is answered at most once */
    if (!spend(k, join.request.challenge)) {
        refuse(req, 403, "Unknown challenge",
               "the join request's challenge was not issued here, has expired or was used");
        goto out;
    }
    if (!platform_ok(&k->policy, join.bundle.platform)) {
        snprintf(detail, sizeof(detail), "evidence of platform \"%.*s\" where \"%s\" is required",
                 (int)(join.bundle.platform.len < 32 ? join.bundle.platform.len : 32),
                 (const char *)join.bundle.platform.ptr, k->policy.platform);
        refuse(req, 403, "Evidence refused", detail);
        goto out;
    }
    scitt_attest_opts o;
    policy_opts(&k->policy, &o);
    e = scitt_keyrel_join_verify(&join, &o, r);
    if (e != SCITT_OK) {
        snprintf(detail, sizeof(detail), "%s: %s", scitt_err_str(e),
                 r->why != SCITT_TEE_OK ? scitt_tee_reason_str(r->why) : scitt_err_name(e));
        refuse(req, 403, "Evidence refused", detail);
        goto out;
    }
    e = d->keystore.load(d->keystore.ctx, &blob);
    e = e ? e : scitt_keyrel_wrap(&join.request, scitt_span_make(blob.ptr, blob.len), &ans);
    if (e != SCITT_OK) {
        SCITT_LOG(SCITT_LOG_ERROR, "keyrel", "released=0 err=%s", scitt_err_name(e));
        scittd_fail(req, SCITT_ERR_IO, "the service keys cannot be released");
        goto out;
    }
    char mhex[2 * SCITT_ATTEST_MEASUREMENT_LEN + 1];
    if (scitt_hex_encode(scitt_span_make(r->measurement, sizeof(r->measurement)), mhex,
                         sizeof(mhex)) != SCITT_OK) {
        mhex[0] = 0;
    }
    SCITT_LOG(SCITT_LOG_INFO, "keyrel", "released=1 platform=%s measurement=%s", r->platform, mhex);
    scittd_header(req, "Cache-Control", "no-store");
    scittd_send(req, 200, "application/octet-stream", &ans);
out:
    scitt_wipe(blob.ptr, blob.len);
    scitt_dynbuf_clear(&blob);
    scitt_dynbuf_clear(&ans); /* empty when sent: the response took it */
    scitt_free(r);
    scitt_free(j);
    scitt_http_complete(req);
}

static void route_join(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    join_job *j = scitt_calloc(1, sizeof(*j));
    if (!j) {
        scittd_busy(req, "out of memory");
        scitt_http_complete(req);
        return;
    }
    j->d = d;
    j->req = req;
    j->job.run = join_work;
    /* evidence verification costs RSA and ECDSA work: the costly lane, never the loop */
    if (!scittd_reads_submit(d, SCITTD_LANE_COSTLY, &j->job, false)) {
        scitt_free(j);
        scittd_busy(req, "too many costly reads are waiting");
        scitt_http_complete(req);
    }
}

scitt_err scittd_keyrel_routes(scittd *d)
{
    if (!d->keyrel) {
        return SCITT_OK;
    }
    scitt_http_route r;
    memset(&r, 0, sizeof(r));
    r.name = "keys_join_challenge";
    r.methods = SCITT_HTTP_GET;
    r.path = "/keys/join/challenge";
    r.handler = route_challenge;
    r.ctx = d;
    r.max_response = 64u << 10;
    scitt_err e = scitt_http_server_route(d->http, &r);
    if (e != SCITT_OK) {
        return e;
    }
    memset(&r, 0, sizeof(r));
    r.name = "keys_join";
    r.methods = SCITT_HTTP_POST;
    r.path = "/keys/join";
    r.handler = route_join;
    r.ctx = d;
    r.max_body = SCITT_KEYREL_REQUEST_MAX;
    r.content_types = "application/cbor";
    r.require_length = true;
    r.max_response = 256u << 10; /* the keystore blob (a few KiB) encrypted */
    return scitt_http_server_route(d->http, &r);
}

/* ---- the joiner --------------------------------------------------------------------------- */

static scitt_err call(const scitt__http_url *url, const char *method, const char *path,
                      scitt_span body, size_t max_body, scitt_dynbuf *out, char *reason, size_t cap)
{
    static const char *const hdr[] = {"Content-Type: application/cbor"};
    scitt__http_request rq = {method, path, body.len ? hdr : NULL, body.len ? 1u : 0u, body};
    scitt__http_opts o;
    memset(&o, 0, sizeof(o));
    o.timeout_ms = 30000;
    o.max_body = max_body;
    o.user_agent = "scittd-join";
    scitt__http_result res;
    memset(&res, 0, sizeof(res));
    char why[300] = "";
    scitt_err e = scitt__http_do(url, &rq, &o, &res, why, sizeof(why));
    if (e != SCITT_OK) {
        snprintf(reason, cap, "%s %s: %s", method, path, why[0] ? why : scitt_err_str(e));
    } else if (res.res.status != 200) {
        scitt_client_reply rep;
        scitt__http_reply_of(&res, &rep);
        snprintf(reason, cap, "%s %s: %s", method, path, rep.problem);
        e = SCITT_ERR_POLICY;
    } else {
        scitt_dynbuf_put(out, res.body.ptr, res.body.len);
        e = out->err;
    }
    scitt__http_result_clear(&res);
    return e;
}

scitt_err scittd_keyrel_join(scittd *d, char *reason, size_t cap)
{
    reason[0] = 0;
    if (!d->cfg.join_url) {
        return SCITT_OK;
    }
    scitt_dynbuf have;
    scitt_dynbuf_init(&have, SCITT_KEYREL_BLOB_MAX);
    scitt_err e = d->keystore.load(d->keystore.ctx, &have);
    scitt_wipe(have.ptr, have.len);
    scitt_dynbuf_clear(&have);
    if (e == SCITT_OK) {
        SCITT_LOG(SCITT_LOG_INFO, "keyrel", "join=0 reason=\"the keystore holds keys already\"");
        return SCITT_OK;
    }
    if (e != SCITT_ERR_NOT_FOUND) {
        snprintf(reason, cap, "the keystore cannot be read: %s", scitt_err_str(e));
        return e;
    }
    scitt__http_url url;
    if (scitt__http_url_parse(d->cfg.join_url, &url) != SCITT_OK) {
        snprintf(reason, cap, "--join must be an http:// or https:// URL");
        return SCITT_ERR_INVALID_ARG;
    }
    scitt_keyrel_key *key = NULL;
    scitt_attest_result *r = scitt_calloc(1, sizeof(*r));
    scitt_dynbuf holder, ch, doc, bundle, ans, blob;
    scitt_dynbuf_init(&holder, 0);
    scitt_dynbuf_init(&ch, 0);
    scitt_dynbuf_init(&doc, 0);
    scitt_dynbuf_init(&bundle, 0);
    scitt_dynbuf_init(&ans, 0);
    scitt_dynbuf_init(&blob, SCITT_KEYREL_BLOB_MAX);
    e = r ? SCITT_OK : SCITT_ERR_NOMEM;
    /* 1. the holder runs code the policy accepts (fresh evidence for our nonce) */
    uint8_t nonce[32];
    char path[100] = "/attestation?nonce=";
    if (e == SCITT_OK && (RAND_bytes(nonce, sizeof(nonce)) != 1 ||
                          scitt_hex_encode(scitt_span_make(nonce, sizeof(nonce)), path + 19,
                                           sizeof(path) - 19) != SCITT_OK)) {
        e = SCITT_ERR_CRYPTO;
    }
    e = e ? e : call(&url, "GET", path, scitt_span_make(NULL, 0), 4u << 20, &holder, reason, cap);
    if (e == SCITT_OK) {
        scitt_attest_opts o;
        policy_opts(&d->keyrel->policy, &o);
        o.nonce = scitt_span_make(nonce, sizeof(nonce));
        scitt_attest_bundle hb;
        e = scitt_attest_bundle_parse(scitt_span_make(holder.ptr, holder.len), &hb);
        if (e == SCITT_OK && !platform_ok(&d->keyrel->policy, hb.platform)) {
            snprintf(reason, cap,
                     "the holder's evidence is of platform \"%.*s\", the key-release "
                     "policy requires \"%s\"",
                     (int)(hb.platform.len < 32 ? hb.platform.len : 32),
                     (const char *)hb.platform.ptr, d->keyrel->policy.platform);
            e = SCITT_ERR_POLICY;
        } else if (e == SCITT_OK) {
            e = scitt_attest_verify(scitt_span_make(holder.ptr, holder.len), &o, r);
        }
        if (e != SCITT_OK && !reason[0]) {
            snprintf(
                reason, cap, "the holder's evidence does not meet the key-release policy: %s%s%s",
                scitt_err_str(e), r->why ? ": " : "", r->why ? scitt_tee_reason_str(r->why) : "");
        }
    }
    /* 2. a challenge, a fresh key, evidence binding both */
    e = e ? e
          : call(&url, "GET", "/keys/join/challenge", scitt_span_make(NULL, 0), 1024, &ch, reason,
                 cap);
    if (e == SCITT_OK && ch.len != SCITT_KEYREL_CHALLENGE_LEN) {
        snprintf(reason, cap, "the holder's challenge is not %u bytes", SCITT_KEYREL_CHALLENGE_LEN);
        e = SCITT_ERR_MALFORMED;
    }
    e = e ? e : scitt_keyrel_key_new(&key);
    uint8_t pub[SCITT_KEYREL_PUB_LEN];
    if (e == SCITT_OK) {
        scitt_keyrel_key_public(key, pub);
        e = scitt_keyrel_request_encode(ch.ptr, pub, &doc);
    }
    if (e == SCITT_OK) {
        e = scittd_platform_bundle_for(d, scitt_span_make(doc.ptr, doc.len),
                                       scitt_span_make(ch.ptr, ch.len), &bundle);
        if (e != SCITT_OK) {
            snprintf(reason, cap, "the %s platform gave no evidence for the join request",
                     d->platform);
        }
    }
    /* 3. the keys, encrypted to our key for this request */
    e = e ? e
          : call(&url, "POST", "/keys/join", scitt_span_make(bundle.ptr, bundle.len),
                 SCITT_KEYREL_BLOB_MAX + 4096, &ans, reason, cap);
    if (e == SCITT_OK) {
        uint8_t digest[32];
        scitt_sha256(doc.ptr, doc.len, digest);
        e = scitt_keyrel_unwrap(key, digest, scitt_span_make(ans.ptr, ans.len), &blob);
        if (e != SCITT_OK) {
            snprintf(reason, cap, "the holder's answer does not open with the join key: %s",
                     scitt_err_str(e));
        }
    }
    if (e == SCITT_OK) {
        e = d->keystore.store(d->keystore.ctx, scitt_span_make(blob.ptr, blob.len));
        if (e != SCITT_OK) {
            snprintf(reason, cap, "the released keys cannot be stored: %s", scitt_err_str(e));
        }
    }
    if (e == SCITT_OK) {
        SCITT_LOG(SCITT_LOG_INFO, "keyrel", "join=1 from=\"%s\" keystore=\"%s\"", d->cfg.join_url,
                  d->keystore.description ? d->keystore.description : "file");
    } else if (!reason[0]) {
        snprintf(reason, cap, "key release from %.300s failed: %s", d->cfg.join_url,
                 scitt_err_str(e));
    }
    scitt_wipe(blob.ptr, blob.len);
    scitt_dynbuf_clear(&blob);
    scitt_dynbuf_clear(&holder);
    scitt_dynbuf_clear(&ch);
    scitt_dynbuf_clear(&doc);
    scitt_dynbuf_clear(&bundle);
    scitt_dynbuf_clear(&ans);
    scitt_keyrel_key_free(key);
    scitt_free(r);
    return e;
}
