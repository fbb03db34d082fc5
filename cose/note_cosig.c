/*
 * C2SP tlog-cosignature (cosignature/v1, Ed25519, signature type 0x04) and the tlog-witness
 * add-checkpoint request: its strict parser and the witness's decision.
 */
#include <stdio.h>
#include <string.h>

#include "note_internal.h"
#include "scitt/merkle.h"
#include "scitt/witness.h"

static const uint8_t dash_prefix[4] = {0xE2, 0x80, 0x94, ' '}; /* "— " */
static const char cosig_header[] = "cosignature/v1\ntime ";

scitt_err scitt_cosig_verifier_init(scitt_note_verifier *v, scitt_span name,
                                    const uint8_t pub[SCITT_NOTE_ED25519_KEY_LEN])
{
    scitt_err e = scitt_note_verifier_init(v, name, pub);
    if (e != SCITT_OK) {
        return e;
    }
    v->key_id = scitt_note_key_id(name, SCITT_NOTE_SIG_TYPE_COSIG,
                                  scitt_span_make(pub, SCITT_NOTE_ED25519_KEY_LEN));
    return SCITT_OK;
}

scitt_err scitt_cosig_vkey_parse(scitt_span vkey, scitt_note_verifier *out)
{
    if (out == NULL || (vkey.ptr == NULL && vkey.len != 0)) {
        return SCITT_ERR_INVALID_ARG;
    }
    const uint8_t *p1 = vkey.len ? memchr(vkey.ptr, '+', vkey.len) : NULL;
    if (p1 == NULL) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    size_t nlen = (size_t)(p1 - vkey.ptr);
    scitt_span name = scitt_span_make(vkey.ptr, nlen);
    scitt_span rest = scitt_span_make(p1 + 1, vkey.len - nlen - 1);
    if (rest.len < 10 || rest.ptr[8] != '+' || !scitt_note_name_valid(name)) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    uint8_t id[4], key[64];
    size_t idlen, keylen;
    if (scitt_hex_decode(scitt_span_make(rest.ptr, 8), id, sizeof(id), &idlen) != SCITT_OK ||
        idlen != 4 ||
        scitt_base64_decode(scitt_span_make(rest.ptr + 9, rest.len - 9), key, sizeof(key),
                            &keylen) != SCITT_OK ||
        keylen == 0) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    if (key[0] != SCITT_NOTE_SIG_TYPE_COSIG) {
        return SCITT_ERR_ALG;
    }
    if (keylen != 1 + SCITT_NOTE_ED25519_KEY_LEN) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    scitt_note_verifier v;
    if (scitt_cosig_verifier_init(&v, name, key + 1) != SCITT_OK) {
        return SCITT_ERR_KEY_MALFORMED;
    }
    uint32_t want = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3];
    if (want != v.key_id) {
        return SCITT_ERR_KEY_MISMATCH;
    }
    *out = v;
    return SCITT_OK;
}

scitt_err scitt_cosig_vkey_format(scitt_span name, const uint8_t pub[SCITT_NOTE_ED25519_KEY_LEN],
                                  char *out, size_t cap)
{
    scitt_note_verifier v;
    if (out == NULL || pub == NULL || scitt_cosig_verifier_init(&v, name, pub) != SCITT_OK) {
        return SCITT_ERR_INVALID_ARG;
    }
    uint8_t typed[1 + SCITT_NOTE_ED25519_KEY_LEN] = {SCITT_NOTE_SIG_TYPE_COSIG};
    memcpy(typed + 1, pub, SCITT_NOTE_ED25519_KEY_LEN);
    char b64[SCITT_BASE64_LEN(sizeof(typed))];
    scitt_err e = scitt_base64_encode(scitt_span_make(typed, sizeof(typed)), b64, sizeof(b64));
    if (e != SCITT_OK) {
        return e;
    }
    int n = snprintf(out, cap, "%s+%08x+%s", v.name, (unsigned)v.key_id, b64);
    return n < 0 || (size_t)n >= cap ? SCITT_ERR_BUFFER_TOO_SMALL : SCITT_OK;
}

/* "cosignature/v1\ntime <t>\n" || text, into @p msg. */
static scitt_err signed_message(scitt_span text, uint64_t time, scitt_dynbuf *msg)
{
    scitt_dynbuf_init(msg, SCITT_LIMIT_NOTE_BYTES + 64);
    scitt_dynbuf_str(msg, cosig_header);
    scitt_dynbuf_printf(msg, "%llu\n", (unsigned long long)time);
    scitt_dynbuf_put(msg, text.ptr, text.len);
    return msg->err;
}

scitt_err scitt_cosig_sign(const scitt_note_key *key, scitt_span name, scitt_span text,
                           uint64_t time, scitt_dynbuf *out)
{
    if (key == NULL || out == NULL || time == 0 || !scitt_note_name_valid(name) ||
        (text.ptr == NULL && text.len != 0)) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (text.len > SCITT_LIMIT_NOTE_BYTES) {
        return SCITT_ERR_TOO_LARGE;
    }
    if (text.len == 0 || text.ptr[text.len - 1] != '\n') {
        return SCITT_ERR_NOTE_MALFORMED;
    }
    scitt_err e = scitt__note_text_check(text);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_dynbuf msg;
    e = signed_message(text, time, &msg);
    uint8_t blob[SCITT_COSIG_BLOB_LEN], pub[SCITT_NOTE_ED25519_KEY_LEN];
    if (e == SCITT_OK) {
        e = scitt__ed25519_sign_key(key, scitt_span_make(msg.ptr, msg.len), blob + 12, pub);
    }
    scitt_dynbuf_clear(&msg);
    if (e != SCITT_OK) {
        return e;
    }
    uint32_t id = scitt_note_key_id(name, SCITT_NOTE_SIG_TYPE_COSIG, scitt_span_make(pub, 32));
    for (int i = 0; i < 4; i++) {
        blob[i] = (uint8_t)(id >> (24 - 8 * i));
    }
    for (int i = 0; i < 8; i++) {
        blob[4 + i] = (uint8_t)(time >> (56 - 8 * i));
    }
    char b64[SCITT_BASE64_LEN(sizeof(blob))];
    e = scitt_base64_encode(scitt_span_make(blob, sizeof(blob)), b64, sizeof(b64));
    if (e != SCITT_OK) {
        return e;
    }
    size_t start = out->len;
    scitt_dynbuf_put(out, dash_prefix, sizeof(dash_prefix));
    scitt_dynbuf_put(out, name.ptr, name.len);
    scitt_dynbuf_u8(out, ' ');
    scitt_dynbuf_str(out, b64);
    scitt_dynbuf_u8(out, '\n');
    if (out->err != SCITT_OK) {
        e = out->err;
        out->err = SCITT_OK;
        out->len = start;
    }
    return e;
}

scitt_err scitt_cosig_verify(scitt_span note, const scitt_note_verifier *w, size_t n,
                             scitt_cosig_result *out)
{
    if (out == NULL || (w == NULL && n != 0) || n > SCITT_NOTE_MAX_VERIFIERS) {
        return SCITT_ERR_INVALID_ARG;
    }
    scitt_note_parsed *p = scitt_malloc(sizeof(*p));
    if (p == NULL) {
        return SCITT_ERR_NOMEM;
    }
    scitt_err e = scitt_note_parse(note, p);
    scitt_cosig_result res;
    memset(&res, 0, sizeof(res));
    for (size_t i = 0; e == SCITT_OK && i < p->n_sigs; i++) {
        const scitt_note_sig *l = &p->sigs[i];
        size_t k = 0;
        while (k < n && !(w[k].key_id == l->key_id &&
                          scitt_span_eq(scitt_span_make(w[k].name, w[k].name_len), l->name))) {
            k++;
        }
        if (k == n) {
            continue;
        }
        uint8_t blob[SCITT_COSIG_BLOB_LEN];
        size_t blen;
        if (l->sig_len != SCITT_COSIG_BLOB_LEN - 4 ||
            scitt_base64_decode(l->blob_b64, blob, sizeof(blob), &blen) != SCITT_OK ||
            blen != sizeof(blob)) {
            e = SCITT_ERR_SIGNATURE;
            break;
        }
        uint64_t t = 0;
        for (int j = 0; j < 8; j++) {
            t = t << 8 | blob[4 + j];
        }
        if (t == 0) {
            e = SCITT_ERR_SIGNATURE;
            break;
        }
        scitt_dynbuf msg;
        e = signed_message(p->text, t, &msg);
        if (e == SCITT_OK) {
            e = scitt__ed25519_verify(w[k].key, scitt_span_make(msg.ptr, msg.len), blob + 12);
        }
        scitt_dynbuf_clear(&msg);
        if (e == SCITT_OK) {
            res.cosigned |= 1u << k;
            res.time[k] = t;
        }
    }
    if (e == SCITT_OK) {
        res.text = p->text;
        *out = res;
    }
    scitt_free(p);
    return e;
}

/* ---- add-checkpoint ------------------------------------------------------------------------ */

/* The next line of @p body from @p *pos, without its '\n'; false when no '\n' is left. */
static bool next_line(scitt_span body, size_t *pos, scitt_span *line)
{
    scitt_span rest = scitt_span_make(body.ptr + *pos, body.len - *pos);
    const uint8_t *nl = rest.len ? memchr(rest.ptr, '\n', rest.len) : NULL;
    if (nl == NULL) {
        return false;
    }
    *line = scitt_span_make(rest.ptr, (size_t)(nl - rest.ptr));
    *pos += line->len + 1;
    return true;
}

static bool parse_decimal(scitt_span s, uint64_t *out)
{
    if (s.len == 0 || s.len > 20 || (s.len > 1 && s.ptr[0] == '0')) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') {
            return false;
        }
        uint64_t d = (uint64_t)(s.ptr[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

scitt_err scitt_witness_request_parse(scitt_span body, scitt_witness_request *out)
{
    if (out == NULL || (body.ptr == NULL && body.len != 0)) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (body.len > SCITT_WITNESS_BODY_MAX) {
        return SCITT_ERR_TOO_LARGE;
    }
    size_t pos = 0;
    scitt_span line;
    if (!next_line(body, &pos, &line) || line.len < 5 || memcmp(line.ptr, "old ", 4) != 0 ||
        !parse_decimal(scitt_span_make(line.ptr + 4, line.len - 4), &out->old_size)) {
        return SCITT_ERR_MALFORMED;
    }
    out->n_proof = 0;
    for (;;) {
        if (!next_line(body, &pos, &line)) {
            return SCITT_ERR_MALFORMED;
        }
        if (line.len == 0) {
            break;
        }
        size_t got;
        if (out->n_proof == SCITT_WITNESS_PROOF_MAX || line.len != 44 ||
            scitt_base64_decode(line, out->proof[out->n_proof], SCITT_HASH_LEN, &got) != SCITT_OK ||
            got != SCITT_HASH_LEN) {
            return SCITT_ERR_MALFORMED;
        }
        out->n_proof++;
    }
    if (pos == body.len) {
        return SCITT_ERR_MALFORMED; /* no checkpoint */
    }
    out->note = scitt_span_make(body.ptr + pos, body.len - pos);
    return SCITT_OK;
}

scitt_err scitt_witness_request_format(uint64_t old_size, const uint8_t proof[][SCITT_HASH_LEN],
                                       size_t n_proof, scitt_span note, scitt_dynbuf *out)
{
    if (out == NULL || (proof == NULL && n_proof != 0) || n_proof > SCITT_WITNESS_PROOF_MAX ||
        note.len == 0) {
        return SCITT_ERR_INVALID_ARG;
    }
    size_t start = out->len;
    scitt_dynbuf_printf(out, "old %llu\n", (unsigned long long)old_size);
    for (size_t i = 0; i < n_proof; i++) {
        char b64[SCITT_BASE64_LEN(SCITT_HASH_LEN)];
        if (scitt_base64_encode(scitt_span_make(proof[i], SCITT_HASH_LEN), b64, sizeof(b64)) !=
            SCITT_OK) {
            out->len = start;
            return SCITT_ERR_INVALID_ARG;
        }
        scitt_dynbuf_str(out, b64);
        scitt_dynbuf_u8(out, '\n');
    }
    scitt_dynbuf_u8(out, '\n');
    scitt_dynbuf_put(out, note.ptr, note.len);
    if (out->err != SCITT_OK) {
        scitt_err e = out->err;
        out->err = SCITT_OK;
        out->len = start;
        return e;
    }
    return SCITT_OK;
}

static scitt_witness_verdict say(const char **why, const char *reason, scitt_witness_verdict v)
{
    if (why != NULL) {
        *why = reason;
    }
    return v;
}

scitt_witness_verdict scitt_witness_check(const scitt_witness_log *logs,
                                          const scitt_witness_state *state, size_t n_logs,
                                          const scitt_witness_request *req, size_t *log_index,
                                          scitt_witness_state *next, scitt_span *cp_text,
                                          const char **why)
{
    if (logs == NULL || state == NULL || req == NULL || log_index == NULL || next == NULL ||
        cp_text == NULL) {
        return say(why, "internal: missing argument", SCITT_WITNESS_BAD_REQUEST);
    }
    scitt_note_parsed *p = scitt_malloc(sizeof(*p));
    if (p == NULL) {
        return say(why, "out of memory", SCITT_WITNESS_BAD_REQUEST);
    }
    scitt_witness_verdict v;
    scitt_checkpoint cp;
    /* The origin comes from the (still unverified) text only to pick the log's keys. */
    if (scitt_note_parse(req->note, p) != SCITT_OK || scitt_checkpoint_parse(p->text, &cp)) {
        v = say(why, "the checkpoint is not a well-formed signed note", SCITT_WITNESS_BAD_REQUEST);
        goto out;
    }
    size_t li = 0;
    while (li < n_logs && !scitt_span_eq(logs[li].origin, cp.origin)) {
        li++;
    }
    if (li == n_logs) {
        v = say(why, "unknown log origin", SCITT_WITNESS_UNKNOWN_LOG);
        goto out;
    }
    *log_index = li;
    scitt_err e = scitt_checkpoint_open(req->note, logs[li].keys, logs[li].n_keys, logs[li].origin,
                                        &cp, NULL);
    if (e == SCITT_ERR_UNTRUSTED || e == SCITT_ERR_SIGNATURE) {
        v = say(why, "no trusted log signature verifies", SCITT_WITNESS_FORBIDDEN);
        goto out;
    }
    if (e != SCITT_OK) {
        v = say(why, "the checkpoint is malformed", SCITT_WITNESS_BAD_REQUEST);
        goto out;
    }
    if (req->old_size > cp.size) {
        v = say(why, "old size is above the checkpoint size", SCITT_WITNESS_BAD_REQUEST);
        goto out;
    }
    const scitt_witness_state *st = &state[li];
    if (req->old_size != st->size) {
        v = say(why, "old size is not the latest cosigned size", SCITT_WITNESS_CONFLICT);
        goto out;
    }
    if (cp.size == 0) {
        uint8_t empty[SCITT_HASH_LEN];
        scitt_merkle_empty_root(empty);
        if (memcmp(cp.root, empty, SCITT_HASH_LEN) != 0) {
            v = say(why, "an empty tree with a non-empty root", SCITT_WITNESS_BAD_PROOF);
            goto out;
        }
    }
    if (req->old_size == 0) {
        if (req->n_proof != 0) {
            v = say(why, "a proof from size 0 must be empty", SCITT_WITNESS_BAD_PROOF);
            goto out;
        }
    } else if (req->old_size == cp.size) {
        if (memcmp(st->root, cp.root, SCITT_HASH_LEN) != 0) {
            v = say(why, "another root for the latest cosigned size", SCITT_WITNESS_CONFLICT);
            goto out;
        }
        if (req->n_proof != 0) {
            v = say(why, "a proof between equal sizes must be empty", SCITT_WITNESS_BAD_PROOF);
            goto out;
        }
    } else if (scitt_merkle_consistency_verify(req->old_size, cp.size, st->root, cp.root,
                                               (const uint8_t(*)[SCITT_HASH_LEN])req->proof,
                                               req->n_proof) != SCITT_OK) {
        v = say(why, "the consistency proof does not verify", SCITT_WITNESS_BAD_PROOF);
        goto out;
    }
    next->size = cp.size;
    memcpy(next->root, cp.root, SCITT_HASH_LEN);
    *cp_text = p->text;
    v = say(why, "consistent", SCITT_WITNESS_COSIGN);
out:
    scitt_free(p);
    return v;
}
