/*
 * The witness role (scitt/cosigner.h): decide, persist, then cosign. Shared by `scitt witness
 * serve` (tools/cmd_witness.c) and scittd --witness-key (server/witness_role.c).
 */
#include "scitt/cosigner.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scitt/file.h"

struct scitt_cosigner {
    char name[SCITT_NOTE_NAME_MAX + 1];
    char vkey[SCITT_NOTE_VKEY_MAX];
    scitt_note_key *key;
    int dir_fd; /* the state folder, flocked */
    size_t n_logs;
    scitt_cosigner_log logs[SCITT_COSIGNER_MAX_LOGS];
    char path[SCITT_COSIGNER_MAX_LOGS][4096];
    scitt_witness_log cfg[SCITT_COSIGNER_MAX_LOGS];
    scitt_witness_state state[SCITT_COSIGNER_MAX_LOGS];
    pthread_mutex_t lock; /* check, persist and update of state[] */
};

/* ---- configuration ------------------------------------------------------------------------- */

scitt_err scitt_cosigner_log_parse(const char *arg, scitt_cosigner_log *out)
{
    if (arg == NULL || out == NULL) {
        return SCITT_ERR_INVALID_ARG;
    }
    for (const char *eq = strchr(arg, '='); eq != NULL; eq = strchr(eq + 1, '=')) {
        size_t olen = (size_t)(eq - arg);
        if (olen > 0 && olen <= SCITT_NOTE_NAME_MAX &&
            scitt_note_vkey_parse(scitt_span_str(eq + 1), &out->key) == SCITT_OK &&
            scitt_note_name_valid(scitt_span_make(arg, olen))) {
            memcpy(out->origin, arg, olen);
            out->origin[olen] = 0;
            return SCITT_OK;
        }
    }
    if (scitt_note_vkey_parse(scitt_span_str(arg), &out->key) != SCITT_OK) {
        return SCITT_ERR_INVALID_ARG;
    }
    memcpy(out->origin, out->key.name, out->key.name_len + 1);
    return SCITT_OK;
}

/* ---- key file ------------------------------------------------------------------------------ */

static const char key_prefix[] = "PRIVATE+KEY+";

scitt_err scitt_cosigner_key_parse(scitt_span text, char name[SCITT_NOTE_NAME_MAX + 1],
                                   uint8_t seed[32])
{
    if (text.len > SCITT_COSIGNER_KEY_FILE_MAX || text.len < sizeof(key_prefix) ||
        memcmp(text.ptr, key_prefix, sizeof(key_prefix) - 1) != 0) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    scitt_span s =
        scitt_span_make(text.ptr + sizeof(key_prefix) - 1, text.len - (sizeof(key_prefix) - 1));
    if (s.len && s.ptr[s.len - 1] == '\n') {
        s.len--;
    }
    /* name+id+key: a name holds no '+', the base64 may */
    const uint8_t *mid = s.len ? memchr(s.ptr, '+', s.len) : NULL;
    if (mid == NULL || (size_t)(s.ptr + s.len - mid) < 11 || mid[9] != '+') {
        return SCITT_ERR_KEY_MALFORMED;
    }
    const uint8_t *last = mid + 9;
    scitt_span nm = scitt_span_make(s.ptr, (size_t)(mid - s.ptr));
    if (!scitt_note_name_valid(nm)) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    uint8_t id[4], raw[48];
    size_t idlen, rawlen;
    if (scitt_hex_decode(scitt_span_make(mid + 1, 8), id, sizeof(id), &idlen) != SCITT_OK ||
        idlen != 4 ||
        scitt_base64_decode(scitt_span_make(last + 1, s.len - (size_t)(last + 1 - s.ptr)), raw,
                            sizeof(raw), &rawlen) != SCITT_OK ||
        rawlen != 33 || raw[0] != SCITT_NOTE_SIG_TYPE_COSIG) {
        scitt_wipe(raw, sizeof(raw));
        return SCITT_ERR_KEY_MALFORMED;
    }
    uint8_t pub[32];
    scitt_err e = scitt_note_ed25519_public(raw + 1, pub);
    uint32_t want = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
    if (e == SCITT_OK &&
        scitt_note_key_id(nm, SCITT_NOTE_SIG_TYPE_COSIG, scitt_span_make(pub, 32)) != want) {
        e = SCITT_ERR_KEY_MISMATCH;
    }
    if (e == SCITT_OK) {
        memcpy(name, nm.ptr, nm.len);
        name[nm.len] = 0;
        memcpy(seed, raw + 1, 32);
    }
    scitt_wipe(raw, sizeof(raw));
    return e;
}

scitt_err scitt_cosigner_key_format(const char *name, const uint8_t seed[32], scitt_dynbuf *out)
{
    uint8_t pub[32], raw[33] = {SCITT_NOTE_SIG_TYPE_COSIG};
    scitt_span nm = scitt_span_str(name);
    if (!scitt_note_name_valid(nm)) {
        return SCITT_ERR_INVALID_ARG;
    }
    scitt_err e = scitt_note_ed25519_public(seed, pub);
    if (e != SCITT_OK) {
        return e;
    }
    memcpy(raw + 1, seed, 32);
    char b64[SCITT_BASE64_LEN(33)];
    e = scitt_base64_encode(scitt_span_make(raw, sizeof(raw)), b64, sizeof(b64));
    scitt_wipe(raw, sizeof(raw));
    if (e == SCITT_OK) {
        scitt_dynbuf_printf(
            out, "%s%s+%08x+%s\n", key_prefix, name,
            (unsigned)scitt_note_key_id(nm, SCITT_NOTE_SIG_TYPE_COSIG, scitt_span_make(pub, 32)),
            b64);
        e = out->err;
    }
    scitt_wipe(b64, sizeof(b64));
    return e;
}

/* ---- state --------------------------------------------------------------------------------- */

/* The latest cosigned checkpoint of log @p i from its file (none yet: size 0). */
static scitt_err load_state(scitt_cosigner *c, size_t i, char *reason, size_t cap)
{
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, SCITT_LIMIT_NOTE_BYTES);
    scitt_err e = SCITT_OK;
    int fd = open(c->path[i], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            scitt_dynbuf_clear(&b);
            return SCITT_OK; /* never cosigned for this log */
        }
        e = SCITT_ERR_IO;
    }
    while (e == SCITT_OK) {
        uint8_t *dst = scitt_dynbuf_reserve(&b, 4096);
        if (dst == NULL) {
            e = SCITT_ERR_TOO_LARGE;
            break;
        }
        b.len -= 4096;
        ssize_t k = read(fd, dst, 4096);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k < 0) {
            e = SCITT_ERR_IO;
        } else if (k == 0) {
            break;
        } else {
            b.len += (size_t)k;
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    scitt_checkpoint cp;
    if (e == SCITT_OK) {
        e = scitt_checkpoint_parse(scitt_span_make(b.ptr, b.len), &cp);
    }
    if (e == SCITT_OK && !scitt_span_eq_str(cp.origin, c->logs[i].origin)) {
        e = SCITT_ERR_INTEGRITY;
    }
    if (e == SCITT_OK) {
        c->state[i].size = cp.size;
        memcpy(c->state[i].root, cp.root, SCITT_HASH_LEN);
    } else {
        /* never start from nothing when the record is unreadable: that would allow a rollback */
        snprintf(reason, cap, "%s: unreadable witness state: %s", c->path[i], scitt_err_str(e));
    }
    scitt_dynbuf_clear(&b);
    return e;
}

scitt_err scitt_cosigner_open(const scitt_cosigner_config *cfg, scitt_cosigner **out, char *reason,
                              size_t cap)
{
    *out = NULL;
    if (cap) {
        reason[0] = 0;
    }
    if (cfg == NULL || cfg->state_dir == NULL || cfg->name == NULL || cfg->seed == NULL ||
        cfg->n_logs == 0 || cfg->n_logs > SCITT_COSIGNER_MAX_LOGS ||
        strlen(cfg->name) > SCITT_NOTE_NAME_MAX) {
        snprintf(reason, cap, "a state folder, a witness key and 1..%u logs are needed",
                 SCITT_COSIGNER_MAX_LOGS);
        return SCITT_ERR_INVALID_ARG;
    }
    for (size_t i = 0; i < cfg->n_logs; i++) {
        for (size_t k = 0; k < i; k++) {
            if (!strcmp(cfg->logs[i].origin, cfg->logs[k].origin)) {
                snprintf(reason, cap, "log origin %s given twice", cfg->logs[i].origin);
                return SCITT_ERR_INVALID_ARG;
            }
        }
    }
    scitt_cosigner *c = scitt_calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(reason, cap, "out of memory");
        return SCITT_ERR_NOMEM;
    }
    c->dir_fd = -1;
    pthread_mutex_init(&c->lock, NULL);
    snprintf(c->name, sizeof(c->name), "%s", cfg->name);
    uint8_t pub[32];
    scitt_err e = scitt_note_key_new(cfg->seed, &c->key);
    e = e ? e : scitt_note_ed25519_public(cfg->seed, pub);
    e = e ? e : scitt_cosig_vkey_format(scitt_span_str(c->name), pub, c->vkey, sizeof(c->vkey));
    if (e != SCITT_OK) {
        snprintf(reason, cap, "cannot load the witness key: %s", scitt_err_str(e));
        goto fail;
    }
    if ((mkdir(cfg->state_dir, 0700) != 0 && errno != EEXIST) ||
        (c->dir_fd = open(cfg->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(reason, cap, "%s: cannot open the state folder: %s", cfg->state_dir,
                 strerror(errno));
        e = SCITT_ERR_IO;
        goto fail;
    }
    if (flock(c->dir_fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(reason, cap, "%s: another witness holds this state folder", cfg->state_dir);
        e = SCITT_ERR_BUSY;
        goto fail;
    }
    c->n_logs = cfg->n_logs;
    for (size_t i = 0; i < c->n_logs; i++) {
        c->logs[i] = cfg->logs[i];
        uint8_t h[32];
        char hex[65];
        scitt_sha256(c->logs[i].origin, strlen(c->logs[i].origin), h);
        e = scitt_hex_encode(scitt_span_make(h, 32), hex, sizeof(hex));
        if (e == SCITT_OK && (size_t)snprintf(c->path[i], sizeof(c->path[i]), "%s/%s.checkpoint",
                                              cfg->state_dir, hex) >= sizeof(c->path[i])) {
            e = SCITT_ERR_INVALID_ARG;
        }
        if (e != SCITT_OK) {
            snprintf(reason, cap, "%s: the path is too long", cfg->state_dir);
            goto fail;
        }
        c->cfg[i] = (scitt_witness_log){scitt_span_str(c->logs[i].origin), &c->logs[i].key, 1};
        if ((e = load_state(c, i, reason, cap)) != SCITT_OK) {
            goto fail;
        }
    }
    *out = c;
    return SCITT_OK;
fail:
    scitt_cosigner_close(c);
    return e;
}

void scitt_cosigner_close(scitt_cosigner *c)
{
    if (c == NULL) {
        return;
    }
    if (c->dir_fd >= 0) {
        close(c->dir_fd); /* releases the flock */
    }
    scitt_note_key_free(c->key);
    pthread_mutex_destroy(&c->lock);
    scitt_free(c);
}

const char *scitt_cosigner_vkey(const scitt_cosigner *c)
{
    return c->vkey;
}

size_t scitt_cosigner_logs(const scitt_cosigner *c)
{
    return c->n_logs;
}

bool scitt_cosigner_size(scitt_cosigner *c, size_t i, const char **origin, uint64_t *size)
{
    if (i >= c->n_logs) {
        return false;
    }
    pthread_mutex_lock(&c->lock);
    *size = c->state[i].size;
    pthread_mutex_unlock(&c->lock);
    *origin = c->logs[i].origin;
    return true;
}

/* ---- add-checkpoint ------------------------------------------------------------------------ */

void scitt_cosigner_add(scitt_cosigner *c, scitt_span body, scitt_dynbuf *out,
                        scitt_cosigner_answer *ans)
{
    memset(ans, 0, sizeof(*ans));
    ans->why = "";
    scitt_witness_request *req = scitt_malloc(sizeof(*req));
    if (req == NULL) {
        ans->status = 503;
        ans->why = "out of memory";
        return;
    }
    if (scitt_witness_request_parse(body, req) != SCITT_OK) {
        ans->status = 400;
        ans->why = "the body is not an add-checkpoint request";
        scitt_free(req);
        return;
    }
    ans->old_size = req->old_size;
    size_t li = SIZE_MAX;
    scitt_witness_state next = {0}, prev = {0};
    scitt_span text = {0};
    const char *why = "";
    bool persisted = true;
    pthread_mutex_lock(&c->lock);
    scitt_witness_verdict v =
        scitt_witness_check(c->cfg, c->state, c->n_logs, req, &li, &next, &text, &why);
    if (li < c->n_logs) {
        prev = c->state[li];
        ans->origin = c->logs[li].origin;
    }
    if (v == SCITT_WITNESS_COSIGN) {
        /* durable before anything is signed: the record is the checkpoint text itself */
        persisted = scitt_file_replace(c->path[li], text, 0600, 0) == SCITT_OK;
        if (persisted) {
            c->state[li] = next;
        } else {
            ans->write_errno = errno;
        }
    }
    pthread_mutex_unlock(&c->lock);
    ans->prev_size = prev.size;
    ans->why = why ? why : "";
    if (v == SCITT_WITNESS_COSIGN && !persisted) {
        ans->status = 503;
        ans->why = "the witness could not record its state";
    } else if (v == SCITT_WITNESS_COSIGN) {
        uint64_t now = (uint64_t)time(NULL);
        size_t len0 = out->len;
        if (scitt_cosig_sign(c->key, scitt_span_str(c->name), text, now ? now : 1, out) ==
            SCITT_OK) {
            ans->status = 200;
            ans->content_type = "text/plain; charset=utf-8";
            ans->size = next.size;
            ans->why = "";
        } else {
            out->len = len0;
            ans->status = 503;
            ans->why = "signing failed";
        }
    } else if (v == SCITT_WITNESS_CONFLICT) {
        size_t len0 = out->len;
        scitt_dynbuf_printf(out, "%llu\n", (unsigned long long)prev.size);
        if (out->err != SCITT_OK) {
            out->len = len0;
            ans->status = 503;
            ans->why = "out of memory";
        } else {
            ans->status = 409;
            ans->content_type = "text/x.tlog.size";
        }
    } else {
        ans->status = (int)v;
    }
    scitt_free(req);
}
