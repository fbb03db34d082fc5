/*
 * C2SP tlog-checkpoint bodies: the witness-cosigned example from the C2SP specs, format/parse
 * round trips, signed checkpoints, and a table of malformed bodies.
 */
#include "testutil.h"

#include "scitt/json.h"
#include "scitt/note.h"

#define WITNESS "vectors/c2sp/checkpoint-cosignature-witness-examples.json"

static char *json_member(const char *rel, const char *key)
{
    size_t len;
    uint8_t *text = tu_read_file(tu_shared(rel), &len);
    scitt_json j;
    assert_int_equal(scitt_json_parse(scitt_span_make(text, len), &j), SCITT_OK);
    long tok = scitt_json_get(&j, 0, key);
    assert_true(tok >= 0);
    char *s = NULL;
    assert_int_equal(scitt_json_strdup(&j, (size_t)tok, &s), SCITT_OK);
    scitt_json_clear(&j);
    free(text);
    return s;
}

static void seeded_key(uint8_t seed[32], const char *name, scitt_note_verifier *v)
{
    for (int i = 0; i < 32; i++) {
        seed[i] = (uint8_t)(0x40 + i);
    }
    uint8_t pub[32];
    assert_int_equal(scitt_note_ed25519_public(seed, pub), SCITT_OK);
    assert_int_equal(scitt_note_verifier_init(v, scitt_span_str(name), pub), SCITT_OK);
}

/* The C2SP example: its lines parse (key IDs and blob sizes as the spec decodes them), its body
 * is a checkpoint, and once we sign the same body, the example's lines from keys we do not know
 * are ignored while ours verifies. */
static void test_witness_example(void **state)
{
    (void)state;
    char *note = json_member(WITNESS, "checkpoint_with_cosignature");
    scitt_note_parsed p;
    assert_int_equal(scitt_note_parse(scitt_span_str(note), &p), SCITT_OK);
    assert_int_equal(p.n_sigs, 2);
    assert_true(scitt_span_eq_str(p.sigs[0].name, "example.com/behind-the-sofa"));
    assert_int_equal(p.sigs[0].key_id, 0x033de0ae);
    assert_int_equal(p.sigs[0].sig_len, 64);
    assert_true(scitt_span_eq_str(p.sigs[1].name, "witness.example.com/w1"));
    assert_int_equal(p.sigs[1].key_id, 0x8d66cf3f);
    assert_int_equal(p.sigs[1].sig_len, 72); /* u64 timestamp || Ed25519 signature */

    scitt_checkpoint cp;
    assert_int_equal(scitt_checkpoint_parse(p.text, &cp), SCITT_OK);
    assert_true(scitt_span_eq_str(cp.origin, "example.com/behind-the-sofa"));
    assert_int_equal(cp.size, 20852163);
    assert_int_equal(cp.extensions.len, 0);
    char b64[64];
    assert_int_equal(scitt_base64_encode(scitt_span_make(cp.root, 32), b64, sizeof(b64)), SCITT_OK);
    assert_string_equal(b64, "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");

    /* No public keys are published for the example: with only a key of ours nothing verifies. */
    uint8_t seed[32];
    scitt_note_verifier ours;
    seeded_key(seed, "example.com/behind-the-sofa", &ours);
    assert_int_equal(scitt_note_verify(scitt_span_str(note), &ours, 1, NULL), SCITT_ERR_UNTRUSTED);

    /* Sign the body with our key (same name, other key ID) and append the example's lines. */
    scitt_note_signer s = {scitt_span_str("example.com/behind-the-sofa"), seed, NULL};
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    assert_int_equal(scitt_note_sign(p.text, &s, 1, &b), SCITT_OK);
    const char *lines = note + p.text.len + 1;
    scitt_dynbuf_str(&b, lines);
    scitt_note_result r;
    scitt_checkpoint cp2;
    assert_int_equal(scitt_checkpoint_open(scitt_span_make(b.ptr, b.len), &ours, 1,
                                           scitt_span_str("example.com/behind-the-sofa"), &cp2, &r),
                     SCITT_OK);
    assert_int_equal(r.sigs, 3);
    assert_int_equal(r.unknown, 2);
    assert_int_equal(r.verified, 1);
    assert_int_equal(cp2.size, 20852163);
    assert_int_equal(scitt_checkpoint_open(scitt_span_make(b.ptr, b.len), &ours, 1,
                                           scitt_span_str("example.com/other-log"), &cp2, &r),
                     SCITT_ERR_UNTRUSTED);
    scitt_dynbuf_clear(&b);
    free(note);
}

static void test_format_parse(void **state)
{
    (void)state;
    uint8_t root[32];
    scitt_sha256("", 0, root); /* the empty tree's root */
    static const struct {
        const char *origin;
        uint64_t size;
        const char *ext;
    } rows[] = {
        {"example.com/log", 0, ""},
        {"example.com/log", 1, ""},
        {"a", 18446744073709551615u, ""},
        {"scitt.example/ünïcode", 42, "ext line one\n\xe2\x80\x94 looks like a sig but is not\n"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        assert_int_equal(scitt_checkpoint_format(scitt_span_str(rows[i].origin), rows[i].size, root,
                                                 scitt_span_str(rows[i].ext), &b),
                         SCITT_OK);
        scitt_checkpoint cp;
        assert_int_equal(scitt_checkpoint_parse(scitt_span_make(b.ptr, b.len), &cp), SCITT_OK);
        assert_true(scitt_span_eq_str(cp.origin, rows[i].origin));
        assert_true(cp.size == rows[i].size);
        assert_memory_equal(cp.root, root, 32);
        assert_true(scitt_span_eq_str(cp.extensions, rows[i].ext));
        scitt_dynbuf_clear(&b);
    }
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    assert_int_equal(
        scitt_checkpoint_format(scitt_span_str("example.com/log"), 7, root, scitt_span_str(""), &b),
        SCITT_OK);
    scitt_dynbuf_u8(&b, 0);
    assert_string_equal((char *)b.ptr,
                        "example.com/log\n7\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
    scitt_dynbuf_clear(&b);

    static const char *bad_origin[] = {"", "two\nlines", "tab\there", "bad\xff"};
    for (size_t i = 0; i < sizeof(bad_origin) / sizeof(bad_origin[0]); i++) {
        scitt_dynbuf_init(&b, 0);
        assert_int_equal(
            scitt_checkpoint_format(scitt_span_str(bad_origin[i]), 1, root, scitt_span_str(""), &b),
            SCITT_ERR_INVALID_ARG);
        scitt_dynbuf_clear(&b);
    }
    static const char *bad_ext[] = {"no newline", "\n", "a\n\nb\n", "cr\r\n"};
    for (size_t i = 0; i < sizeof(bad_ext) / sizeof(bad_ext[0]); i++) {
        scitt_dynbuf_init(&b, 0);
        assert_int_equal(
            scitt_checkpoint_format(scitt_span_str("o"), 1, root, scitt_span_str(bad_ext[i]), &b),
            SCITT_ERR_INVALID_ARG);
        scitt_dynbuf_clear(&b);
    }
}

#define ROOT "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
static void test_parse_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        scitt_err err;
        const char *why;
    } rows[] = {
        {"", SCITT_ERR_NOTE_MALFORMED, "empty"},
        {"\n5\n" ROOT "\n", SCITT_ERR_NOTE_MALFORMED, "empty origin"},
        {"o\n5\n" ROOT, SCITT_ERR_NOTE_MALFORMED, "root line without newline"},
        {"o\n5\n", SCITT_ERR_NOTE_MALFORMED, "no root line"},
        {"o\n", SCITT_ERR_NOTE_MALFORMED, "no size line"},
        {"o\n05\n" ROOT "\n", SCITT_ERR_NOTE_MALFORMED, "leading zero"},
        {"o\n00\n" ROOT "\n", SCITT_ERR_NOTE_MALFORMED, "zero written twice"},
        {"o\n+5\n" ROOT "\n", SCITT_ERR_NOTE_MALFORMED, "sign"},
        {"o\n-1\n" ROOT "\n", SCITT_ERR_NOTE_MALFORMED, "negative"},
        {"o\n\n" ROOT "\n", SCITT_ERR_NOTE_MALFORMED, "empty size"},
        {"o\n5 \n" ROOT "\n", SCITT_ERR_NOTE_MALFORMED, "trailing space after the size"},
        {"o\n0x10\n" ROOT "\n", SCITT_ERR_NOTE_MALFORMED, "hex size"},
        {"o\n18446744073709551616\n" ROOT "\n", SCITT_ERR_NOTE_MALFORMED, "2^64 overflows"},
        {"o\n99999999999999999999\n" ROOT "\n", SCITT_ERR_NOTE_MALFORMED, "20 digits, overflows"},
        {"o\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuA==\n", SCITT_ERR_NOTE_MALFORMED,
         "31-byte root"},
        {"o\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFVV\n", SCITT_ERR_NOTE_MALFORMED,
         "33-byte root"},
        {"o\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n", SCITT_ERR_NOTE_MALFORMED,
         "root without padding"},
        {"o\n5\n47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=\n", SCITT_ERR_NOTE_MALFORMED,
         "URL-safe alphabet"},
        {"o\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=\n", SCITT_ERR_NOTE_MALFORMED,
         "non-zero padding bits"},
        {"o\n5\n" ROOT "\n\n", SCITT_ERR_NOTE_MALFORMED, "empty extension line"},
        {"o\n5\n" ROOT "\next", SCITT_ERR_NOTE_MALFORMED, "extension line without newline"},
        {"o\r\n5\n" ROOT "\n", SCITT_ERR_NOTE_MALFORMED, "carriage return"},
        {"o\xff\n5\n" ROOT "\n", SCITT_ERR_UTF8, "invalid UTF-8 in the origin"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scitt_checkpoint cp;
        scitt_err e = scitt_checkpoint_parse(scitt_span_str(rows[i].body), &cp);
        if (e != rows[i].err) {
            fail_msg("row %zu (%s): got %s", i, rows[i].why, scitt_err_name(e));
        }
    }
    scitt_checkpoint cp;
    assert_int_equal(scitt_checkpoint_parse(scitt_span_str("o\n0\n" ROOT "\n"), &cp), SCITT_OK);
    assert_int_equal(cp.size, 0);
}

/* A signed checkpoint whose body is not a checkpoint is refused even though its signature is
 * good. */
static void test_open_rejects_bad_body(void **state)
{
    (void)state;
    uint8_t seed[32];
    scitt_note_verifier v;
    seeded_key(seed, "example.com/log", &v);
    scitt_note_signer s = {scitt_span_str("example.com/log"), seed, NULL};
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    assert_int_equal(scitt_note_sign(scitt_span_str("example.com/log\n01\n" ROOT "\n"), &s, 1, &b),
                     SCITT_OK);
    assert_int_equal(scitt_note_verify(scitt_span_make(b.ptr, b.len), &v, 1, NULL), SCITT_OK);
    assert_int_equal(
        scitt_checkpoint_open(scitt_span_make(b.ptr, b.len), &v, 1, scitt_span_str(""), NULL, NULL),
        SCITT_ERR_NOTE_MALFORMED);
    scitt_dynbuf_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_witness_example),
        cmocka_unit_test(test_format_parse),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_open_rejects_bad_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
