/*
 * scittd as a witness of other logs (docs/witness.md, "scittd as a witness"): --witness-key FILE
 * and --witness-log ORIGIN=VKEY (repeatable) serve POST /add-checkpoint (C2SP tlog-witness) and
 * GET /witness/vkey. The decisions and the durable state are libscitt's cosigner
 * (scitt/cosigner.h), the same state machine as `scitt witness serve`: this file loads the key,
 * opens the state in DATA/witness-state and answers over the daemon's HTTP layer, whose limits
 * (rate limit, connections, header and body timeouts) apply as to every other route.
 *
 * The witness key is sealed like the service keys: on SEV-SNP the file holds the key under the
 * firmware's key derived for the measurement, on the virtual platform given --keystore-key under
 * that key (AES-256-GCM both); a plain key file given there is sealed in place at the first
 * start. Elsewhere (TDX, the virtual platform without --keystore-key: no sealing key) it is the
 * plain key file `scitt witness keygen` writes. Either must not be readable by group or others.
 *
 * A request's state write (a synced file) runs on a read-pool thread, never on the loop thread.
 */
#include "witness_role.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scitt/attest.h"
#include "scitt/cosigner.h"
#include "scitt/file.h"

#define KEY_FILE_MAX   2048 /* a sealed key: magic, nonce, the key file, tag */
#define WITNESS_AAD    "scittd-witness-key-v1"
#define STATE_DIR_NAME "witness-state"

static const int statuses[] = {200, 400, 403, 404, 409, 422, 503};
#define NSTATUSES (sizeof(statuses) / sizeof(statuses[0]))

struct scittd_witness_role {
    scitt_cosigner *cosigner;
    char vkey_line[SCITT_NOTE_VKEY_MAX + 2];
    _Atomic uint64_t count[NSTATUSES];
};

/* The witness key's name and seed, sealed (a platform with a sealing key) or plain. */
static scitt_err load_key(scittd *d, char name[SCITT_NOTE_NAME_MAX + 1], uint8_t seed[32],
                          char *reason, size_t cap)
{
    const char *path = d->cfg.witness_key;
    bool can_seal = scittd_platform_can_seal(d);
    scitt_dynbuf raw, plain;
    scitt_dynbuf_init(&raw, KEY_FILE_MAX);
    scitt_dynbuf_init(&plain, KEY_FILE_MAX);
    scitt_err e = scittd_read_secret_file("--witness-key", path, &raw, reason, cap);
    bool sealed = e == SCITT_OK && scitt_is_sealed(scitt_span_make(raw.ptr, raw.len));
    if (e == SCITT_OK && sealed && !can_seal) {
        snprintf(reason, cap,
                 "--witness-key %s: a sealed key, and platform %s has no sealing key (SEV-SNP, or "
                 "--keystore-key on the virtual platform)",
                 path, d->platform);
        e = SCITT_ERR_KEY_MALFORMED;
    } else if (e == SCITT_OK && sealed) {
        e = scittd_platform_seal(d, false, WITNESS_AAD, scitt_span_make(raw.ptr, raw.len), &plain);
        if (e == SCITT_ERR_INTEGRITY) {
            snprintf(reason, cap,
                     "--witness-key %s: cannot unseal it: it was sealed under another key (another "
                     "--keystore-key, another measurement), for another use, or changed since",
                     path);
        } else if (e != SCITT_OK) {
            snprintf(reason, cap, "--witness-key %s: cannot unseal it: %s", path, scitt_err_str(e));
        }
    } else if (e == SCITT_OK) {
        scitt_dynbuf_put(&plain, raw.ptr, raw.len);
        e = plain.err;
    }
    if (e == SCITT_OK) {
        e = scitt_cosigner_key_parse(scitt_span_make(plain.ptr, plain.len), name, seed);
        if (e != SCITT_OK) {
            snprintf(reason, cap, "--witness-key %s: not a witness key file: %s", path,
                     scitt_err_str(e));
        }
    }
    if (e == SCITT_OK && can_seal && !sealed) {
        /* the rename below replaces one name: the plain bytes would live on at a link's target
         * or under another hard link, so such a file is refused rather than sealed */
        struct stat ls;
        const char *why = NULL;
        char err[160];
        if (lstat(path, &ls) != 0) {
            snprintf(err, sizeof(err), "cannot be looked at again: %s", strerror(errno));
            why = err;
        } else if (S_ISLNK(ls.st_mode)) {
            why = "is a symbolic link: sealing it in place would replace the link and leave the "
                  "plain key at its target";
        } else if (!S_ISREG(ls.st_mode)) {
            why = "is not a regular file: it cannot be sealed in place";
        } else if (ls.st_nlink != 1) {
            why = "has another hard link: sealing it in place would leave the plain key under "
                  "the other name";
        }
        if (why != NULL) {
            snprintf(reason, cap, "--witness-key %s %s; give the key file itself, with one name",
                     path, why);
            e = SCITT_ERR_INVALID_ARG;
        }
    }
    if (e == SCITT_OK && can_seal && !sealed) {
        /* a plain key where a sealing key exists: sealed in place, the plain bytes gone with the
         * rename (the file has one name, above) */
        scitt_dynbuf s;
        scitt_dynbuf_init(&s, KEY_FILE_MAX);
        e = scittd_platform_seal(d, true, WITNESS_AAD, scitt_span_make(plain.ptr, plain.len), &s);
        if (e != SCITT_OK) {
            snprintf(reason, cap, "--witness-key %s: cannot seal it: %s", path, scitt_err_str(e));
        } else {
            e = scitt_file_replace(path, scitt_span_make(s.ptr, s.len), 0600, 0);
            if (e != SCITT_OK) {
                /* a read-only /etc (systemd's ProtectSystem=strict), a folder owned by root */
                snprintf(reason, cap,
                         "--witness-key %s: cannot write the sealed key in its place (scittd "
                         "must be able to create files in the key's folder): %s",
                         path, strerror(errno));
            } else {
                SCITT_LOG(SCITT_LOG_INFO, "witness_key",
                          "path=%s sealed=1 action=\"sealed in place\"", path);
            }
        }
        scitt_dynbuf_clear(&s);
    }
    scitt_wipe(raw.ptr, raw.len);
    scitt_wipe(plain.ptr, plain.len);
    scitt_dynbuf_clear(&raw);
    scitt_dynbuf_clear(&plain);
    return e;
}

scitt_err scittd_witness_role_start(scittd *d, char *reason, size_t cap)
{
    if (d->cfg.witness_key == NULL) {
        if (d->cfg.nwitness_log > 0) {
            snprintf(reason, cap, "--witness-log needs --witness-key FILE");
            return SCITT_ERR_INVALID_ARG;
        }
        return SCITT_OK;
    }
    if (d->cfg.nwitness_log == 0) {
        snprintf(reason, cap, "--witness-key needs at least one --witness-log ORIGIN=VKEY");
        return SCITT_ERR_INVALID_ARG;
    }
    scitt_cosigner_log logs[SCITTD_MAX_LISTEN];
    for (size_t i = 0; i < d->cfg.nwitness_log; i++) {
        if (scitt_cosigner_log_parse(d->cfg.witness_log[i], &logs[i]) != SCITT_OK) {
            snprintf(reason, cap, "--witness-log %s: not [ORIGIN=]VKEY with an Ed25519 vkey",
                     d->cfg.witness_log[i]);
            return SCITT_ERR_INVALID_ARG;
        }
    }
    struct scittd_witness_role *r = scitt_calloc(1, sizeof(*r));
    if (r == NULL) {
        snprintf(reason, cap, "out of memory");
        return SCITT_ERR_NOMEM;
    }
    char name[SCITT_NOTE_NAME_MAX + 1], dir[4200];
    uint8_t seed[32];
    scitt_err e = load_key(d, name, seed, reason, cap);
    if (e == SCITT_OK && (size_t)snprintf(dir, sizeof(dir), "%s/%s", d->cfg.data_dir,
                                          STATE_DIR_NAME) >= sizeof(dir)) {
        snprintf(reason, cap, "--data: the path is too long");
        e = SCITT_ERR_INVALID_ARG;
    }
    if (e == SCITT_OK) {
        scitt_cosigner_config cc = {dir, name, seed, logs, d->cfg.nwitness_log};
        e = scitt_cosigner_open(&cc, &r->cosigner, reason, cap);
    }
    scitt_wipe(seed, sizeof(seed));
    if (e != SCITT_OK) {
        scitt_free(r);
        return e;
    }
    snprintf(r->vkey_line, sizeof(r->vkey_line), "%s\n", scitt_cosigner_vkey(r->cosigner));
    d->witness_role = r;
    SCITT_LOG(SCITT_LOG_INFO, "witness_role", "name=%s logs=%zu state=%s vkey=%s", name,
              d->cfg.nwitness_log, dir, scitt_cosigner_vkey(r->cosigner));
    return SCITT_OK;
}

void scittd_witness_role_stop(scittd *d)
{
    if (d->witness_role != NULL) {
        scitt_cosigner_close(d->witness_role->cosigner);
        scitt_free(d->witness_role);
        d->witness_role = NULL;
    }
}

/* ---- routes -------------------------------------------------------------------------------- */

typedef struct add_job {
    scittd_read_job job; /* first: the pool hands back this pointer */
    scittd *d;
    scitt_http_req *req;
} add_job;

static void add_work(scittd_read_job *j)
{
    add_job *a = (add_job *)j;
    struct scittd_witness_role *r = a->d->witness_role;
    scitt_http_req *req = a->req;
    scitt_free(a);
    scitt_dynbuf out;
    scitt_dynbuf_init(&out, 1024);
    scitt_cosigner_answer ans;
    scitt_cosigner_add(r->cosigner, scitt_http_req_body(req), &out, &ans);
    for (size_t i = 0; i < NSTATUSES; i++) {
        if (statuses[i] == ans.status) {
            atomic_fetch_add(&r->count[i], 1);
        }
    }
    scittd_header(req, "Cache-Control", "no-store");
    if (ans.status == 200) {
        SCITT_LOG(SCITT_LOG_INFO, "witness_role_cosigned", "origin=%s old=%llu size=%llu",
                  ans.origin, (unsigned long long)ans.prev_size, (unsigned long long)ans.size);
        scittd_send(req, 200, ans.content_type, &out);
    } else if (ans.status == 409) {
        SCITT_LOG(SCITT_LOG_WARN, "witness_role_refused",
                  "status=409 origin=%s old=%llu latest=%llu why=\"%s\"", ans.origin,
                  (unsigned long long)ans.old_size, (unsigned long long)ans.prev_size, ans.why);
        scittd_send(req, 409, ans.content_type, &out);
    } else {
        if (ans.write_errno) {
            SCITT_LOG(SCITT_LOG_ERROR, "witness_role_state", "origin=%s errno=\"%s\"", ans.origin,
                      strerror(ans.write_errno));
        } else {
            SCITT_LOG(SCITT_LOG_WARN, "witness_role_refused",
                      "status=%d origin=%s old=%llu why=\"%s\"", ans.status,
                      ans.origin ? ans.origin : "-", (unsigned long long)ans.old_size, ans.why);
        }
        if (ans.status == 503) {
            scittd_header(req, "Retry-After", "1");
        }
        scittd_problem(req, ans.status, scitt_http_status_reason(ans.status), ans.why);
    }
    scitt_dynbuf_clear(&out);
    scitt_http_complete(req);
}

void scittd_route_add_checkpoint(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    add_job *a = scitt_calloc(1, sizeof(*a));
    if (a == NULL) {
        scittd_busy(req, "out of memory");
        scitt_http_complete(req);
        return;
    }
    a->d = d;
    a->req = req;
    a->job.run = add_work;
    if (!scittd_reads_submit(d, SCITTD_LANE_READ, &a->job, false)) {
        scitt_free(a);
        scittd_busy(req, "too many requests are waiting");
        scitt_http_complete(req);
    }
}

void scittd_route_witness_vkey(scitt_http_req *req, void *ctx)
{
    scittd *d = ctx;
    scitt_http_res_status(req, 200);
    scittd_header(req, "Cache-Control", "no-cache");
    scittd_body(req, "text/plain; charset=utf-8", scitt_span_str(d->witness_role->vkey_line));
    scitt_http_complete(req);
}

void scittd_witness_role_metrics(scittd *d, scitt_dynbuf *b)
{
    struct scittd_witness_role *r = d->witness_role;
    if (r == NULL) {
        return;
    }
    scitt_dynbuf_str(b, "# HELP scittd_witness_role_add_checkpoint_total add-checkpoint requests "
                        "this witness answered, by status (200: cosigned).\n"
                        "# TYPE scittd_witness_role_add_checkpoint_total counter\n");
    for (size_t i = 0; i < NSTATUSES; i++) {
        scitt_dynbuf_printf(b, "scittd_witness_role_add_checkpoint_total{status=\"%d\"} %llu\n",
                            statuses[i], (unsigned long long)atomic_load(&r->count[i]));
    }
    scitt_dynbuf_str(b, "# HELP scittd_witness_role_cosigned_size The latest size this witness "
                        "cosigned, by log origin.\n"
                        "# TYPE scittd_witness_role_cosigned_size gauge\n");
    const char *origin;
    uint64_t size;
    for (size_t i = 0; scitt_cosigner_size(r->cosigner, i, &origin, &size); i++) {
        scitt_dynbuf_printf(b, "scittd_witness_role_cosigned_size{origin=\"%s\"} %llu\n", origin,
                            (unsigned long long)size);
    }
}
