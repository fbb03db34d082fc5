/*
 * The log's side of C2SP tlog-witness: one add-checkpoint exchange (client/witness_submit.h).
 */
#include "witness_submit.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "scitt/limits.h"

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The body of a 409: "<decimal size>\n" (text/x.tlog.size), no leading zeros. */
static bool parse_size(scitt_span b, uint64_t *out)
{
    if (b.len < 2 || b.len > 21 || b.ptr[b.len - 1] != '\n' || (b.ptr[0] == '0' && b.len > 2)) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i + 1 < b.len; i++) {
        unsigned d = (unsigned)(b.ptr[i] - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static void put_line(scitt_dynbuf *out, const scitt_note_sig *l)
{
    scitt_dynbuf_put(out, "\xe2\x80\x94 ", 4);
    scitt_dynbuf_put(out, l->name.ptr, l->name.len);
    scitt_dynbuf_u8(out, ' ');
    scitt_dynbuf_put(out, l->blob_b64.ptr, l->blob_b64.len);
    scitt_dynbuf_u8(out, '\n');
}

static bool is_key(const scitt_note_sig *l, const scitt_note_verifier *k)
{
    return l->key_id == k->key_id && scitt_span_eq(l->name, scitt_span_make(k->name, k->name_len));
}

scitt_err scitt__note_lines_of(scitt_span note, const scitt_note_verifier *keys, size_t n_keys,
                               scitt_dynbuf *out)
{
    scitt_note_parsed *np = scitt_malloc(sizeof(*np));
    scitt_err e = np ? scitt_note_parse(note, np) : SCITT_ERR_NOMEM;
    for (size_t i = 0; e == SCITT_OK && i < np->n_sigs; i++) {
        for (size_t k = 0; k < n_keys; k++) {
            if (is_key(&np->sigs[i], &keys[k])) {
                put_line(out, &np->sigs[i]);
                break;
            }
        }
    }
    scitt_free(np);
    return e ? e : out->err;
}

/* Builds the add-checkpoint body from @p old to @p size, with the log's proof. */
static scitt_err make_body(uint64_t old, uint64_t size, scitt_span note,
                           scitt__witness_proof_fn proof, void *ctx, scitt_dynbuf *body, char *why,
                           size_t cap)
{
    uint8_t(*path)[SCITT_HASH_LEN] = scitt_calloc(SCITT_WITNESS_PROOF_MAX, SCITT_HASH_LEN);
    size_t n = 0;
    scitt_err e = path ? SCITT_OK : SCITT_ERR_NOMEM;
    if (e == SCITT_OK && old > 0 && old < size) {
        e = proof(ctx, old, size, path, &n, why, cap);
        if (e == SCITT_OK && n > SCITT_WITNESS_PROOF_MAX) {
            e = SCITT_ERR_PROOF_MALFORMED;
            snprintf(why, cap, "the consistency proof has more than %u hashes",
                     SCITT_WITNESS_PROOF_MAX);
        }
    }
    if (e == SCITT_OK) {
        e = scitt_witness_request_format(old, (const uint8_t(*)[SCITT_HASH_LEN])path, n, note,
                                         body);
    }
    scitt_free(path);
    return e;
}

/* Keeps the line of @p w in the answer @p ans if it verifies over @p note. */
static scitt_err keep_cosignature(const scitt_note_verifier *w, scitt_span note, scitt_span ans,
                                  scitt_dynbuf *line)
{
    scitt_dynbuf both;
    scitt_dynbuf_init(&both, SCITT_LIMIT_NOTE_BYTES);
    scitt_dynbuf_put(&both, note.ptr, note.len);
    scitt_dynbuf_put(&both, ans.ptr, ans.len);
    scitt_cosig_result cr;
    scitt_note_parsed *np = scitt_malloc(sizeof(*np));
    scitt_err e = both.err ? both.err : np ? SCITT_OK : SCITT_ERR_NOMEM;
    scitt_span all = scitt_span_make(both.ptr, both.len);
    e = e ? e : scitt_cosig_verify(all, w, 1, &cr);
    e = e ? e : scitt_note_parse(all, np);
    if (e == SCITT_OK && cr.cosigned != 1) {
        e = SCITT_ERR_SIGNATURE;
    }
    bool found = false;
    for (size_t i = 0; e == SCITT_OK && i < np->n_sigs && !found; i++) {
        /* only a line the witness sent, not one already in the note */
        if (is_key(&np->sigs[i], w) && np->sigs[i].name.ptr >= both.ptr + note.len) {
            put_line(line, &np->sigs[i]);
            found = true;
        }
    }
    if (e == SCITT_OK && !found) {
        e = SCITT_ERR_SIGNATURE;
    }
    scitt_free(np);
    scitt_dynbuf_clear(&both);
    return e ? e : line->err;
}

scitt_err scitt__witness_submit(const char *url, const scitt_note_verifier *w, scitt_span note,
                                uint64_t size, uint64_t *known, scitt__witness_proof_fn proof,
                                void *proof_ctx, int timeout_ms, scitt_dynbuf *line,
                                scitt__witness_outcome *out, char *why, size_t cap)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(out, 0, sizeof(*out));
    why[0] = 0;
    scitt__http_url wurl;
    if (scitt__http_url_parse(url, &wurl) != SCITT_OK) {
        snprintf(why, cap, "bad witness URL");
        return SCITT_ERR_INVALID_ARG;
    }
    scitt__http_opts wopts = {timeout_ms, 64u << 10, NULL, NULL};
    uint64_t old = *known > size ? 0 : *known; /* a smaller tree cannot be proved: ask again */
    scitt_err e = SCITT_ERR_IO;
    for (int attempt = 0; attempt < 2; attempt++) {
        scitt_dynbuf body;
        scitt_dynbuf_init(&body, SCITT_WITNESS_BODY_MAX);
        e = make_body(old, size, note, proof, proof_ctx, &body, why, cap);
        if (e != SCITT_OK) {
            if (why[0] == 0) {
                snprintf(why, cap, "the add-checkpoint request: %s", scitt_err_str(e));
            }
            scitt_dynbuf_clear(&body);
            break;
        }
        static const char *const hdr[] = {"Content-Type: text/plain"};
        scitt__http_request rq = {"POST", "/add-checkpoint", hdr, 1,
                                  scitt_span_make(body.ptr, body.len)};
        scitt__http_result r;
        e = scitt__http_do(&wurl, &rq, &wopts, &r, why, cap);
        scitt_dynbuf_clear(&body);
        if (e != SCITT_OK) {
            break;
        }
        out->status = r.res.status;
        scitt_span ans = scitt_span_make(r.body.ptr, r.body.len);
        if (r.res.status == 409) {
            uint64_t v;
            bool ok = parse_size(ans, &v);
            if (ok) {
                out->learnt = true;
                out->latest = v;
            }
            if (ok && v <= size && attempt == 0 && v != old) {
                *known = old = v;
                scitt__http_result_clear(&r);
                continue;
            }
            snprintf(why, cap,
                     ok && v > size ? "409: the witness cosigned size %llu, above this checkpoint's"
                     : ok ? "409: the witness cosigned another tree of size %llu (a fork?)"
                          : "409 without a size",
                     (unsigned long long)(ok ? v : 0));
            e = SCITT_ERR_POLICY;
        } else if (r.res.status != 200) {
            scitt_client_reply reply;
            scitt__http_reply_of(&r, &reply);
            size_t n = strnlen(reply.problem, cap - 1); /* a shortened message is fine */
            memcpy(why, reply.problem, n);
            why[n] = 0;
            /* a busy or rate-limiting witness has not refused the checkpoint */
            e = r.res.status == 429 || r.res.status >= 500 ? SCITT_ERR_BUSY : SCITT_ERR_POLICY;
        } else {
            e = keep_cosignature(w, note, ans, line);
            if (e == SCITT_OK) {
                *known = size;
            } else {
                snprintf(why, cap, "the answer holds no valid cosignature of this witness (%s)",
                         scitt_err_str(e));
                e = SCITT_ERR_SIGNATURE;
            }
        }
        scitt__http_result_clear(&r);
        break;
    }
    out->ms = ms_since(&t0);
    return e;
}
