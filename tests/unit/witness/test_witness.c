/*
 * Witnesses: cosignature/v1 lines signed and verified (and refused when tampered with), the strict
 * add-checkpoint request parser, the witness's decision against every way a log could try to get
 * a fork, a rollback or an unproven tree cosigned, and tlog-policy quorums.
 */
#include "testutil.h"

#include "memtree.h"
#include "scitt/cbor.h"
#include "scitt/witness.h"

#define ORIGIN "log.example/a"

typedef struct fixture {
    uint8_t log_seed[32], other_seed[32], wit_seed[32];
    scitt_note_verifier log_v, other_v, wit_v;
    scitt_note_key *wit_key;
    memtree honest, fork; /* fork: same first 6 leaves, then different ones */
} fixture;

static void make_key(uint8_t seed[32], uint8_t base, const char *name, bool cosigner,
                     scitt_note_verifier *v)
{
    uint8_t pub[32];
    for (int i = 0; i < 32; i++) {
        seed[i] = (uint8_t)(base + i);
    }
    assert_int_equal(scitt_note_ed25519_public(seed, pub), SCITT_OK);
    if (cosigner) {
        assert_int_equal(scitt_cosig_verifier_init(v, scitt_span_str(name), pub), SCITT_OK);
    } else {
        assert_int_equal(scitt_note_verifier_init(v, scitt_span_str(name), pub), SCITT_OK);
    }
}

static void leaf(uint8_t out[32], unsigned i, unsigned variant)
{
    uint8_t entry[8] = {'e', (uint8_t)variant, (uint8_t)(i >> 8), (uint8_t)i};
    scitt_merkle_leaf_hash(scitt_span_make(entry, sizeof(entry)), out);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    make_key(f->log_seed, 0x10, ORIGIN, false, &f->log_v);
    make_key(f->other_seed, 0x30, ORIGIN, false, &f->other_v);
    make_key(f->wit_seed, 0x50, "witness.example/w1", true, &f->wit_v);
    assert_int_equal(scitt_note_key_new(f->wit_seed, &f->wit_key), SCITT_OK);
    memtree_init(&f->honest);
    memtree_init(&f->fork);
    for (unsigned i = 0; i < 40; i++) {
        uint8_t h[32];
        leaf(h, i, 0);
        assert_int_equal(memtree_append(&f->honest, h), SCITT_OK);
        leaf(h, i, i < 6 ? 0 : 1);
        assert_int_equal(memtree_append(&f->fork, h), SCITT_OK);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    scitt_note_key_free(f->wit_key);
    memtree_free(&f->honest);
    memtree_free(&f->fork);
    free(f);
    return 0;
}

static void root_of(memtree *t, uint64_t size, uint8_t out[32])
{
    if (size == 0) {
        scitt_merkle_empty_root(out);
        return;
    }
    scitt_merkle_source src = memtree_source(t);
    assert_int_equal(scitt_merkle_range_root(&src, 0, size, out), SCITT_OK);
}

/* A checkpoint of @p t at @p size signed by @p seed under the name @p origin. */
static void signed_cp(memtree *t, uint64_t size, const char *origin, const uint8_t *seed,
                      scitt_dynbuf *out)
{
    uint8_t root[32];
    root_of(t, size, root);
    scitt_dynbuf text;
    scitt_dynbuf_init(&text, 0);
    assert_int_equal(scitt_checkpoint_format(scitt_span_str(origin), size, root,
                                             scitt_span_make(NULL, 0), &text),
                     SCITT_OK);
    scitt_note_signer s = {scitt_span_str(origin), seed, NULL};
    scitt_dynbuf_init(out, 0);
    assert_int_equal(scitt_note_sign(scitt_span_make(text.ptr, text.len), &s, 1, out), SCITT_OK);
    scitt_dynbuf_clear(&text);
}

/* ---- cosignatures ---------------------------------------------------------------------------- */

static void test_cosig_round_trip(void **state)
{
    fixture *f = *state;
    scitt_dynbuf note;
    signed_cp(&f->honest, 7, ORIGIN, f->log_seed, &note);
    scitt_note_parsed p;
    assert_int_equal(scitt_note_parse(scitt_span_make(note.ptr, note.len), &p), SCITT_OK);
    assert_int_equal(scitt_cosig_sign(f->wit_key, scitt_span_str("witness.example/w1"), p.text,
                                      1700000000, &note),
                     SCITT_OK);
    scitt_cosig_result r;
    assert_int_equal(scitt_cosig_verify(scitt_span_make(note.ptr, note.len), &f->wit_v, 1, &r),
                     SCITT_OK);
    assert_int_equal(r.cosigned, 1);
    assert_int_equal(r.time[0], 1700000000);
    /* the blob is 76 bytes: key ID, timestamp, signature */
    assert_int_equal(scitt_note_parse(scitt_span_make(note.ptr, note.len), &p), SCITT_OK);
    assert_int_equal(p.n_sigs, 2);
    assert_int_equal(p.sigs[1].sig_len, 72);
    assert_int_equal(p.sigs[1].key_id, f->wit_v.key_id);
    /* the log's own signature still verifies beside it, and is not a cosignature */
    scitt_checkpoint cp;
    assert_int_equal(scitt_checkpoint_open(scitt_span_make(note.ptr, note.len), &f->log_v, 1,
                                           scitt_span_str(ORIGIN), &cp, NULL),
                     SCITT_OK);
    scitt_note_verifier as_log;
    make_key(f->wit_seed, 0x50, "witness.example/w1", false, &as_log);
    assert_int_equal(scitt_cosig_verify(scitt_span_make(note.ptr, note.len), &as_log, 1, &r),
                     SCITT_OK);
    assert_int_equal(r.cosigned, 0); /* a type 0x01 key ID matches no cosignature line */

    /* vkeys: type 0x04, and a log (0x01) vkey is refused as a witness key */
    char vk[SCITT_NOTE_VKEY_MAX];
    assert_int_equal(
        scitt_cosig_vkey_format(scitt_span_str("witness.example/w1"), f->wit_v.key, vk, sizeof(vk)),
        SCITT_OK);
    scitt_note_verifier back;
    assert_int_equal(scitt_cosig_vkey_parse(scitt_span_str(vk), &back), SCITT_OK);
    assert_int_equal(back.key_id, f->wit_v.key_id);
    assert_int_equal(scitt_note_vkey_parse(scitt_span_str(vk), &back), SCITT_ERR_ALG);
    assert_int_equal(scitt_note_vkey_format(scitt_span_str(ORIGIN), f->log_v.key, vk, sizeof(vk)),
                     SCITT_OK);
    assert_int_equal(scitt_cosig_vkey_parse(scitt_span_str(vk), &back), SCITT_ERR_ALG);
    scitt_dynbuf_clear(&note);
}

/* Tampering: another text, another time, a zeroed time, a truncated blob. */
static void test_cosig_tampered(void **state)
{
    fixture *f = *state;
    scitt_dynbuf note;
    signed_cp(&f->honest, 7, ORIGIN, f->log_seed, &note);
    scitt_note_parsed p;
    assert_int_equal(scitt_note_parse(scitt_span_make(note.ptr, note.len), &p), SCITT_OK);
    size_t text_len = p.text.len;
    size_t before = note.len;
    assert_int_equal(
        scitt_cosig_sign(f->wit_key, scitt_span_str("witness.example/w1"), p.text, 42, &note),
        SCITT_OK);
    /* the cosignature line alone, to splice into variants */
    char line[256];
    size_t line_len = note.len - before;
    assert_true(line_len < sizeof(line));
    memcpy(line, note.ptr + before, line_len);
    line[line_len] = 0;
    const char *b64 = strchr(line + 4, ' ') + 1;
    uint8_t blob[SCITT_COSIG_BLOB_LEN];
    size_t blen;
    assert_int_equal(
        scitt_base64_decode(scitt_span_make(b64, strlen(b64) - 1), blob, sizeof(blob), &blen),
        SCITT_OK);
    assert_int_equal(blen, 76);

    scitt_cosig_result r;
    for (int v = 0; v < 4; v++) {
        uint8_t mut[SCITT_COSIG_BLOB_LEN];
        memcpy(mut, blob, sizeof(mut));
        size_t mlen = sizeof(mut);
        if (v == 0) {
            mut[11] ^= 1; /* another time */
        } else if (v == 1) {
            memset(mut + 4, 0, 8); /* time 0 */
        } else if (v == 2) {
            mut[75] ^= 0x80; /* the signature */
        } else {
            mlen = 68; /* a plain Ed25519 blob under the witness's key ID */
        }
        char mb64[SCITT_BASE64_LEN(SCITT_COSIG_BLOB_LEN)];
        assert_int_equal(scitt_base64_encode(scitt_span_make(mut, mlen), mb64, sizeof(mb64)),
                         SCITT_OK);
        scitt_dynbuf m;
        scitt_dynbuf_init(&m, 0);
        scitt_dynbuf_put(&m, note.ptr, before);
        scitt_dynbuf_put(&m, line, (size_t)(b64 - line));
        scitt_dynbuf_str(&m, mb64);
        scitt_dynbuf_u8(&m, '\n');
        assert_int_equal(scitt_cosig_verify(scitt_span_make(m.ptr, m.len), &f->wit_v, 1, &r),
                         SCITT_ERR_SIGNATURE);
        scitt_dynbuf_clear(&m);
    }
    /* the same line on another checkpoint text */
    scitt_dynbuf other;
    signed_cp(&f->honest, 8, ORIGIN, f->log_seed, &other);
    scitt_dynbuf_put(&other, line, line_len);
    assert_int_equal(scitt_cosig_verify(scitt_span_make(other.ptr, other.len), &f->wit_v, 1, &r),
                     SCITT_ERR_SIGNATURE);
    /* a cosignature validly signed over "time 0" is still refused: not a checkpoint cosignature */
    {
        scitt_dynbuf msg, signed_msg;
        scitt_dynbuf_init(&msg, 0);
        scitt_dynbuf_init(&signed_msg, 0);
        scitt_dynbuf_str(&msg, "cosignature/v1\ntime 0\n");
        scitt_dynbuf_put(&msg, note.ptr, text_len);
        scitt_note_signer s = {scitt_span_str("witness.example/w1"), f->wit_seed, NULL};
        assert_int_equal(scitt_note_sign(scitt_span_make(msg.ptr, msg.len), &s, 1, &signed_msg),
                         SCITT_OK);
        scitt_note_parsed sp;
        assert_int_equal(scitt_note_parse(scitt_span_make(signed_msg.ptr, signed_msg.len), &sp),
                         SCITT_OK);
        uint8_t raw[68], zero[SCITT_COSIG_BLOB_LEN];
        size_t rl;
        assert_int_equal(scitt_base64_decode(sp.sigs[0].blob_b64, raw, sizeof(raw), &rl), SCITT_OK);
        memcpy(zero, blob, 4);
        memset(zero + 4, 0, 8);
        memcpy(zero + 12, raw + 4, 64);
        char zb64[SCITT_BASE64_LEN(SCITT_COSIG_BLOB_LEN)];
        assert_int_equal(
            scitt_base64_encode(scitt_span_make(zero, sizeof(zero)), zb64, sizeof(zb64)), SCITT_OK);
        scitt_dynbuf m;
        scitt_dynbuf_init(&m, 0);
        scitt_dynbuf_put(&m, note.ptr, before);
        scitt_dynbuf_put(&m, line, (size_t)(b64 - line));
        scitt_dynbuf_str(&m, zb64);
        scitt_dynbuf_u8(&m, '\n');
        assert_int_equal(scitt_cosig_verify(scitt_span_make(m.ptr, m.len), &f->wit_v, 1, &r),
                         SCITT_ERR_SIGNATURE);
        scitt_dynbuf_clear(&msg);
        scitt_dynbuf_clear(&signed_msg);
        scitt_dynbuf_clear(&m);
    }
    scitt_dynbuf_clear(&other);
    scitt_dynbuf_clear(&note);
    /* time 0 cannot be signed */
    assert_int_equal(
        scitt_cosig_sign(f->wit_key, scitt_span_str("w"), scitt_span_str("a\n1\n"), 0, &note),
        SCITT_ERR_INVALID_ARG);
}

/* ---- add-checkpoint requests ----------------------------------------------------------------- */

static void test_request_parse(void **state)
{
    (void)state;
    static const char hash[] = "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n";
    scitt_witness_request req;
    const char *ok = "old 3\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\nx\n1\n";
    assert_int_equal(scitt_witness_request_parse(scitt_span_str(ok), &req), SCITT_OK);
    assert_int_equal(req.old_size, 3);
    assert_int_equal(req.n_proof, 1);
    assert_true(scitt_span_eq_str(req.note, "x\n1\n"));
    assert_int_equal(scitt_witness_request_parse(scitt_span_str("old 0\n\nn\n"), &req), SCITT_OK);
    assert_int_equal(req.old_size, 0);

    static const char *bad[] = {
        "",
        "old 3",
        "old 3\n",
        "old 3\n\n",     /* no checkpoint */
        "old 03\n\nn\n", /* leading zero */
        "old -1\n\nn\n",
        "old  3\n\nn\n",
        "Old 3\n\nn\n",
        "old 3 \n\nn\n",
        "old 18446744073709551616\n\nn\n",                           /* overflow */
        "old 3\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw\n\nn\n", /* no padding */
        "old 3\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpka==\n\nn\n",
        "old 3\nAAAA\n\nn\n", /* not 32 bytes */
        "old 3\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\r\n\nn\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(scitt_witness_request_parse(scitt_span_str(bad[i]), &req),
                         SCITT_ERR_MALFORMED);
    }
    /* 63 proof lines are accepted, 64 are not */
    for (size_t lines = 63; lines <= 64; lines++) {
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        scitt_dynbuf_str(&b, "old 1\n");
        for (size_t i = 0; i < lines; i++) {
            scitt_dynbuf_str(&b, hash);
        }
        scitt_dynbuf_str(&b, "\nn\n");
        assert_int_equal(scitt_witness_request_parse(scitt_span_make(b.ptr, b.len), &req),
                         lines == 63 ? SCITT_OK : SCITT_ERR_MALFORMED);
        scitt_dynbuf_clear(&b);
    }
    /* the bound */
    size_t big = SCITT_WITNESS_BODY_MAX + 1;
    char *huge = malloc(big);
    memset(huge, 'a', big);
    assert_int_equal(scitt_witness_request_parse(scitt_span_make(huge, big), &req),
                     SCITT_ERR_TOO_LARGE);
    free(huge);
}

/* ---- the witness's decision ------------------------------------------------------------------ */

typedef struct wit {
    scitt_witness_log log;
    scitt_witness_state st;
} wit;

/* Submits a checkpoint of @p t at @p size (signed with @p seed, origin @p origin) with a proof
 * from @p old built over @p proof_tree; applies the new state on COSIGN. */
static scitt_witness_verdict submit(fixture *f, wit *w, memtree *t, uint64_t old, uint64_t size,
                                    const char *origin, const uint8_t *seed, memtree *proof_tree,
                                    int corrupt)
{
    scitt_dynbuf note, body;
    signed_cp(t, size, origin, seed, &note);
    uint8_t path[SCITT_LIMIT_PROOF_HASHES][32];
    size_t n = 0;
    if (old > 0 && old < size) {
        scitt_merkle_source src = memtree_source(proof_tree);
        assert_int_equal(scitt_merkle_consistency_proof(&src, old, size, path, &n), SCITT_OK);
    }
    if (corrupt == 1 && n > 0) {
        path[n - 1][3] ^= 1;
    } else if (corrupt == 2 && n > 0) {
        n--;
    } else if (corrupt == 3) {
        memset(path[n], 7, 32);
        n++;
    }
    scitt_dynbuf_init(&body, 0);
    assert_int_equal(scitt_witness_request_format(old, (const uint8_t(*)[32])path, n,
                                                  scitt_span_make(note.ptr, note.len), &body),
                     SCITT_OK);
    scitt_witness_request req;
    assert_int_equal(scitt_witness_request_parse(scitt_span_make(body.ptr, body.len), &req),
                     SCITT_OK);
    size_t li = 99;
    scitt_witness_state next;
    scitt_span text;
    const char *why = NULL;
    scitt_witness_verdict v =
        scitt_witness_check(&w->log, &w->st, 1, &req, &li, &next, &text, &why);
    assert_non_null(why);
    if (v == SCITT_WITNESS_COSIGN) {
        assert_int_equal(li, 0);
        assert_int_equal(next.size, size);
        w->st = next;
    }
    (void)f;
    scitt_dynbuf_clear(&note);
    scitt_dynbuf_clear(&body);
    return v;
}

static void test_check(void **state)
{
    fixture *f = *state;
    wit w = {{scitt_span_str(ORIGIN), &f->log_v, 1}, {0}};
    memtree *H = &f->honest, *F = &f->fork;

    /* first contact and growth */
    assert_int_equal(submit(f, &w, H, 0, 5, ORIGIN, f->log_seed, H, 0), SCITT_WITNESS_COSIGN);
    assert_int_equal(submit(f, &w, H, 5, 9, ORIGIN, f->log_seed, H, 0), SCITT_WITNESS_COSIGN);
    /* the same checkpoint again: fine */
    assert_int_equal(submit(f, &w, H, 9, 9, ORIGIN, f->log_seed, H, 0), SCITT_WITNESS_COSIGN);

    /* a fork at the cosigned size: another root for size 9 */
    assert_int_equal(submit(f, &w, F, 9, 9, ORIGIN, f->log_seed, F, 0), SCITT_WITNESS_CONFLICT);
    /* a fork that grew: its own (valid for the fork) proof from 9 does not lead from our root */
    assert_int_equal(submit(f, &w, F, 9, 20, ORIGIN, f->log_seed, F, 0), SCITT_WITNESS_BAD_PROOF);
    /* the fork claiming to start from a state we never cosigned */
    assert_int_equal(submit(f, &w, F, 0, 20, ORIGIN, f->log_seed, F, 0), SCITT_WITNESS_CONFLICT);
    assert_int_equal(submit(f, &w, F, 5, 20, ORIGIN, f->log_seed, F, 0), SCITT_WITNESS_CONFLICT);

    /* an old checkpoint: a rollback */
    assert_int_equal(submit(f, &w, H, 5, 5, ORIGIN, f->log_seed, H, 0), SCITT_WITNESS_CONFLICT);
    assert_int_equal(submit(f, &w, H, 9, 5, ORIGIN, f->log_seed, H, 0), SCITT_WITNESS_BAD_REQUEST);
    assert_int_equal(submit(f, &w, H, 0, 5, ORIGIN, f->log_seed, H, 0), SCITT_WITNESS_CONFLICT);

    /* bad proofs: a flipped bit, one hash short, one hash too many */
    for (int c = 1; c <= 3; c++) {
        assert_int_equal(submit(f, &w, H, 9, 17, ORIGIN, f->log_seed, H, c),
                         SCITT_WITNESS_BAD_PROOF);
    }
    /* equal sizes need an empty proof */
    assert_int_equal(submit(f, &w, H, 9, 9, ORIGIN, f->log_seed, H, 3), SCITT_WITNESS_BAD_PROOF);

    /* another origin, or the right origin signed by a key the witness does not trust */
    assert_int_equal(submit(f, &w, H, 9, 17, "log.example/b", f->log_seed, H, 0),
                     SCITT_WITNESS_UNKNOWN_LOG);
    assert_int_equal(submit(f, &w, H, 9, 17, ORIGIN, f->other_seed, H, 0), SCITT_WITNESS_FORBIDDEN);

    /* none of the refusals moved the state; a good proof still does */
    assert_int_equal(w.st.size, 9);
    assert_int_equal(submit(f, &w, H, 9, 33, ORIGIN, f->log_seed, H, 0), SCITT_WITNESS_COSIGN);
    assert_int_equal(w.st.size, 33);
}

/* A fresh witness: a non-empty proof from 0, and a size-0 checkpoint with a non-empty root. */
static void test_check_fresh(void **state)
{
    fixture *f = *state;
    wit w = {{scitt_span_str(ORIGIN), &f->log_v, 1}, {0}};
    assert_int_equal(submit(f, &w, &f->honest, 0, 5, ORIGIN, f->log_seed, &f->honest, 3),
                     SCITT_WITNESS_BAD_PROOF);
    assert_int_equal(w.st.size, 0);

    uint8_t root[32];
    memset(root, 1, sizeof(root));
    scitt_dynbuf text, note, body;
    scitt_dynbuf_init(&text, 0);
    scitt_dynbuf_init(&note, 0);
    scitt_dynbuf_init(&body, 0);
    assert_int_equal(
        scitt_checkpoint_format(scitt_span_str(ORIGIN), 0, root, scitt_span_make(NULL, 0), &text),
        SCITT_OK);
    scitt_note_signer s = {scitt_span_str(ORIGIN), f->log_seed, NULL};
    assert_int_equal(scitt_note_sign(scitt_span_make(text.ptr, text.len), &s, 1, &note), SCITT_OK);
    assert_int_equal(
        scitt_witness_request_format(0, NULL, 0, scitt_span_make(note.ptr, note.len), &body),
        SCITT_OK);
    scitt_witness_request req;
    assert_int_equal(scitt_witness_request_parse(scitt_span_make(body.ptr, body.len), &req),
                     SCITT_OK);
    size_t li;
    scitt_witness_state next;
    scitt_span cp;
    assert_int_equal(scitt_witness_check(&w.log, &w.st, 1, &req, &li, &next, &cp, NULL),
                     SCITT_WITNESS_BAD_PROOF);
    scitt_dynbuf_clear(&text);
    scitt_dynbuf_clear(&note);
    scitt_dynbuf_clear(&body);
}

/* ---- tlog-policy ----------------------------------------------------------------------------- */

static void vkeys(fixture *f, char log_vk[SCITT_NOTE_VKEY_MAX], char wvk[3][SCITT_NOTE_VKEY_MAX],
                  scitt_note_key *wk[3])
{
    assert_int_equal(
        scitt_note_vkey_format(scitt_span_str(ORIGIN), f->log_v.key, log_vk, SCITT_NOTE_VKEY_MAX),
        SCITT_OK);
    for (int i = 0; i < 3; i++) {
        uint8_t seed[32];
        scitt_note_verifier v;
        char name[32];
        snprintf(name, sizeof(name), "w%d.example", i);
        make_key(seed, (uint8_t)(0x80 + i * 0x20), name, true, &v);
        assert_int_equal(
            scitt_cosig_vkey_format(scitt_span_str(name), v.key, wvk[i], SCITT_NOTE_VKEY_MAX),
            SCITT_OK);
        assert_int_equal(scitt_note_key_new(seed, &wk[i]), SCITT_OK);
    }
}

static void test_policy(void **state)
{
    fixture *f = *state;
    char log_vk[SCITT_NOTE_VKEY_MAX], wvk[3][SCITT_NOTE_VKEY_MAX];
    scitt_note_key *wk[3];
    vkeys(f, log_vk, wvk, wk);
    char text[4096];
    snprintf(text, sizeof(text),
             "# a 2-of-3 policy\n"
             "log %s https://log.example/\n"
             "\n"
             "witness A %s\n"
             "  witness\tB %s http://127.0.0.1:1/\n"
             "witness C %s\n"
             "group two 2 A B C\n"
             "quorum two\n",
             log_vk, wvk[0], wvk[1], wvk[2]);
    scitt_tlog_policy *p = malloc(sizeof(*p));
    const char *why = NULL;
    size_t line = 0;
    assert_int_equal(scitt_tlog_policy_parse(scitt_span_str(text), p, &why, &line), SCITT_OK);
    assert_int_equal(p->n_logs, 1);
    assert_int_equal(p->n_witnesses, 3);
    assert_int_equal(p->quorum, 32);

    scitt_dynbuf note;
    signed_cp(&f->honest, 11, ORIGIN, f->log_seed, &note);
    scitt_note_parsed np;
    assert_int_equal(scitt_note_parse(scitt_span_make(note.ptr, note.len), &np), SCITT_OK);
    size_t text_len = np.text.len;
    char missing[128];
    scitt_checkpoint cp;
    /* no cosignature, then one (C's): not enough, and the missing ones are named */
    assert_int_equal(scitt_tlog_policy_check(p, scitt_span_make(note.ptr, note.len), NULL, 0, &cp,
                                             missing, sizeof(missing)),
                     SCITT_ERR_POLICY);
    assert_string_equal(missing, "A, B, C");
    assert_int_equal(scitt_cosig_sign(wk[2], scitt_span_str("w2.example"),
                                      scitt_span_make(note.ptr, text_len), 100, &note),
                     SCITT_OK);
    assert_int_equal(scitt_tlog_policy_check(p, scitt_span_make(note.ptr, note.len), NULL, 0, &cp,
                                             missing, sizeof(missing)),
                     SCITT_ERR_POLICY);
    assert_string_equal(missing, "A, B");
    /* a second witness: the quorum is met */
    assert_int_equal(scitt_cosig_sign(wk[0], scitt_span_str("w0.example"),
                                      scitt_span_make(note.ptr, text_len), 101, &note),
                     SCITT_OK);
    assert_int_equal(scitt_tlog_policy_check(p, scitt_span_make(note.ptr, note.len), NULL, 0, &cp,
                                             missing, sizeof(missing)),
                     SCITT_OK);
    assert_int_equal(cp.size, 11);
    /* the same cosignatures under a key the policy does not list as the log: refused */
    scitt_dynbuf forged;
    signed_cp(&f->honest, 11, ORIGIN, f->other_seed, &forged);
    scitt_dynbuf_put(&forged, note.ptr + forged.len, note.len - forged.len);
    assert_int_equal(
        scitt_tlog_policy_check(p, scitt_span_make(forged.ptr, forged.len), NULL, 0, &cp, NULL, 0),
        SCITT_ERR_UNTRUSTED);
    scitt_dynbuf_clear(&forged);
    /* a log key named after another origin does not vouch for this one */
    snprintf(text, sizeof(text), "log %s\nwitness A %s\nquorum A\n", log_vk, wvk[0]);
    assert_int_equal(scitt_tlog_policy_parse(scitt_span_str(text), p, &why, &line), SCITT_OK);
    assert_int_equal(
        scitt_tlog_policy_check(p, scitt_span_make(note.ptr, note.len), NULL, 0, &cp, NULL, 0),
        SCITT_OK);
    scitt_dynbuf wrong;
    signed_cp(&f->honest, 11, "log.example/other", f->log_seed, &wrong);
    assert_int_equal(
        scitt_tlog_policy_check(p, scitt_span_make(wrong.ptr, wrong.len), NULL, 0, &cp, NULL, 0),
        SCITT_ERR_UNTRUSTED);
    scitt_dynbuf_clear(&wrong);
    {
        uint8_t root[32];
        root_of(&f->honest, 11, root);
        scitt_dynbuf text2, other_origin;
        scitt_dynbuf_init(&text2, 0);
        scitt_dynbuf_init(&other_origin, 0);
        assert_int_equal(scitt_checkpoint_format(scitt_span_str("log.example/other"), 11, root,
                                                 scitt_span_make(NULL, 0), &text2),
                         SCITT_OK);
        scitt_note_signer s = {scitt_span_str(ORIGIN), f->log_seed, NULL};
        assert_int_equal(
            scitt_note_sign(scitt_span_make(text2.ptr, text2.len), &s, 1, &other_origin), SCITT_OK);
        assert_int_equal(scitt_cosig_sign(wk[0], scitt_span_str("w0.example"),
                                          scitt_span_make(text2.ptr, text2.len), 5, &other_origin),
                         SCITT_OK);
        /* the policy's log key signed it, A cosigned it, but its origin is not the key's name */
        assert_int_equal(
            scitt_tlog_policy_check(p, scitt_span_make(other_origin.ptr, other_origin.len), NULL, 0,
                                    &cp, NULL, 0),
            SCITT_ERR_UNTRUSTED);
        scitt_dynbuf_clear(&text2);
        scitt_dynbuf_clear(&other_origin);
    }

    /* nested groups: all of (any of A,B) and C */
    snprintf(text, sizeof(text),
             "log %s\nwitness A %s\nwitness B %s\nwitness C %s\ngroup ab any A B\n"
             "group both all ab C\nquorum both\n",
             log_vk, wvk[0], wvk[1], wvk[2]);
    assert_int_equal(scitt_tlog_policy_parse(scitt_span_str(text), p, &why, &line), SCITT_OK);
    assert_int_equal(
        scitt_tlog_policy_check(p, scitt_span_make(note.ptr, note.len), NULL, 0, &cp, NULL, 0),
        SCITT_OK); /* A and C cosigned */
    scitt_dynbuf_clear(&note);

    /* rejected policies */
    const char *bad[][2] = {
        {"witness A %s\n", "no quorum"},
        {"witness A %s\nquorum A\nquorum A\n", "two quorums"},
        {"witness A %s\nquorum B\n", "undefined quorum"},
        {"witness A %s\ngroup g 2 A\nquorum g\n", "k > n"},
        {"witness A %s\ngroup g 0 A\nquorum g\n", "k = 0"},
        {"witness A %s\ngroup g any A A\nquorum g\n", "duplicate member"},
        {"witness A %s\ngroup g any B\nquorum g\n", "undefined member"},
        {"witness A %s\nwitness A %s\nquorum A\n", "duplicate name"},
        {"witness none %s\nquorum none\n", "reserved name"},
        {"witness A %s\nfrobnicate\nquorum A\n", "unknown keyword"},
        {"witness A %s\x01\nquorum A\n", "control character"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(text, sizeof(text), bad[i][0], wvk[0], wvk[1]);
#pragma GCC diagnostic pop
        assert_int_equal(scitt_tlog_policy_parse(scitt_span_str(text), p, &why, &line),
                         SCITT_ERR_POLICY);
    }
    /* the same key twice; a log key as a witness */
    snprintf(text, sizeof(text), "witness A %s\nwitness B %s\nquorum A\n", wvk[0], wvk[0]);
    assert_int_equal(scitt_tlog_policy_parse(scitt_span_str(text), p, &why, &line),
                     SCITT_ERR_POLICY);
    snprintf(text, sizeof(text), "witness A %s\nquorum A\n", log_vk);
    assert_int_equal(scitt_tlog_policy_parse(scitt_span_str(text), p, &why, &line),
                     SCITT_ERR_POLICY);
    assert_int_equal(line, 1);
    assert_int_equal(scitt_tlog_policy_parse(scitt_span_str("quorum none\n"), p, &why, &line),
                     SCITT_OK);
    assert_int_equal(p->quorum, -1);
    for (int i = 0; i < 3; i++) {
        scitt_note_key_free(wk[i]);
    }
    free(p);
}

/* A receipt-shaped COSE_Sign1 whose unprotected map is {396: {-1: [h'00']}} and, with @p extra,
 * a text key "z" after it (text keys sort after every integer). */
static size_t fake_receipt(uint8_t *buf, size_t cap, bool extra)
{
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, buf, cap);
    scitt_cbor_put_tag(&w, 18);
    scitt_cbor_put_array(&w, 4);
    static const uint8_t prot[] = {0xa1, 0x01, 0x26};
    scitt_cbor_put_bytes(&w, scitt_span_make(prot, sizeof(prot)));
    scitt_cbor_put_map(&w, extra ? 2 : 1);
    scitt_cbor_put_uint(&w, 396);
    scitt_cbor_put_map(&w, 1);
    scitt_cbor_put_int(&w, -1);
    scitt_cbor_put_array(&w, 1);
    scitt_cbor_put_bytes(&w, scitt_span_make(prot, 1));
    if (extra) {
        scitt_cbor_put_cstr(&w, "z");
        scitt_cbor_put_uint(&w, 1);
    }
    scitt_cbor_put_null(&w);
    scitt_cbor_put_bytes(&w, scitt_span_make(prot, sizeof(prot)));
    scitt_span out;
    assert_int_equal(scitt_cbor_writer_finish(&w, &out), SCITT_OK);
    return out.len;
}

/* The cosigned checkpoint a witnessed receipt carries: attached in deterministic key order with
 * every other byte kept, found again, never two, and only as text. */
static void test_receipt_checkpoint(void **state)
{
    (void)state;
    static const char note[] = "log.example\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n";
    static const uint8_t key[] = {0x3a, 0x00, 0x01, 0x00, 0x01};
    uint8_t buf[256];
    for (int extra = 0; extra < 2; extra++) {
        size_t n = fake_receipt(buf, sizeof(buf), extra);
        scitt_span in = scitt_span_make(buf, n), got;
        assert_int_equal(scitt_receipt_checkpoint(in, &got), SCITT_ERR_NOT_FOUND);
        scitt_dynbuf out;
        scitt_dynbuf_init(&out, 0);
        assert_int_equal(scitt_receipt_attach_checkpoint(in, scitt_span_str(note), &out), SCITT_OK);
        assert_int_equal(scitt_receipt_checkpoint(scitt_span_make(out.ptr, out.len), &got),
                         SCITT_OK);
        assert_int_equal(got.len, strlen(note));
        assert_memory_equal(got.ptr, note, got.len);
        /* tag, array head and protected header unchanged; map head one larger */
        assert_memory_equal(out.ptr, buf, 6);
        assert_int_equal(out.ptr[6], buf[6] + 1);
        /* the label after 396 and before "z"; payload and signature are the input's last bytes */
        const uint8_t *at = memmem(out.ptr, out.len, key, sizeof(key));
        assert_non_null(at);
        const uint8_t *k396 = memmem(out.ptr, out.len, "\x19\x01\x8c", 3);
        assert_true(k396 != NULL && k396 < at);
        if (extra) {
            const uint8_t *z = memmem(out.ptr, out.len, "\x61z", 2);
            assert_true(z != NULL && at < z);
        }
        assert_memory_equal(out.ptr + out.len - 5, buf + n - 5, 5);
        assert_int_equal(scitt_cbor_validate(scitt_span_make(out.ptr, out.len)), SCITT_OK);
        /* never a second one; out untouched on error */
        scitt_dynbuf again;
        scitt_dynbuf_init(&again, 0);
        assert_int_equal(scitt_receipt_attach_checkpoint(scitt_span_make(out.ptr, out.len),
                                                         scitt_span_str(note), &again),
                         SCITT_ERR_HEADER);
        assert_int_equal(again.len, 0);
        scitt_dynbuf_clear(&again);
        /* a byte string under the label is not a checkpoint */
        uint8_t *bad = scitt_malloc(out.len);
        memcpy(bad, out.ptr, out.len);
        bad[(size_t)(at - out.ptr) + sizeof(key)] ^=
            0x60 ^ 0x40; /* text head to byte string head */
        assert_int_equal(scitt_receipt_checkpoint(scitt_span_make(bad, out.len), &got),
                         SCITT_ERR_HEADER);
        scitt_free(bad);
        scitt_dynbuf_clear(&out);
    }
    /* not a receipt: an error, nothing written */
    size_t n = fake_receipt(buf, sizeof(buf), false);
    scitt_dynbuf out;
    scitt_dynbuf_init(&out, 0);
    assert_int_not_equal(scitt_receipt_attach_checkpoint(scitt_span_make(buf + 1, n - 1),
                                                         scitt_span_str(note), &out),
                         SCITT_OK);
    assert_int_equal(out.len, 0);
    assert_int_not_equal(
        scitt_receipt_attach_checkpoint(scitt_span_make(buf, n - 1), scitt_span_str(note), &out),
        SCITT_OK);
    assert_int_equal(
        scitt_receipt_attach_checkpoint(scitt_span_make(buf, n), scitt_span_make("", 0), &out),
        SCITT_ERR_INVALID_ARG);
    assert_int_equal(out.len, 0);
    scitt_dynbuf_clear(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cosig_round_trip),   cmocka_unit_test(test_cosig_tampered),
        cmocka_unit_test(test_request_parse),      cmocka_unit_test(test_check),
        cmocka_unit_test(test_check_fresh),        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_receipt_checkpoint),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
