/*
 * C2SP signed notes: the spec's example note and vkey, a byte-flip sweep over it, Ed25519 known
 * answers, sign/verify round trips with several keys, the verification rules (unknown keys, bad
 * known signatures, limits) and a table of malformed notes.
 */
#include "testutil.h"

#include "scitt/json.h"
#include "scitt/limits.h"
#include "scitt/note.h"

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

#define EXAMPLE "vectors/c2sp/signed-note-example.json"

static void test_spec_example(void **state)
{
    (void)state;
    char *vkey = json_member(EXAMPLE, "vkey");
    char *note = json_member(EXAMPLE, "signed_note");
    char *signed_text = json_member(EXAMPLE, "note_text_signed");

    scitt_note_verifier v;
    assert_int_equal(scitt_note_vkey_parse(scitt_span_str(vkey), &v), SCITT_OK);
    assert_string_equal(v.name, "example.com/foo");
    assert_int_equal(v.key_id, 0x530d903a);

    /* The vkey we print for the parsed key is the spec's string, byte for byte. */
    char again[SCITT_NOTE_VKEY_MAX];
    assert_int_equal(scitt_note_vkey_format(scitt_span_str(v.name), v.key, again, sizeof(again)),
                     SCITT_OK);
    assert_string_equal(again, vkey);

    scitt_note_result r;
    assert_int_equal(scitt_note_verify(scitt_span_str(note), &v, 1, &r), SCITT_OK);
    assert_true(scitt_span_eq_str(r.text, signed_text));
    assert_int_equal(r.verified, 1);
    assert_int_equal(r.sigs, 1);
    assert_int_equal(r.unknown, 0);

    scitt_note_parsed p;
    assert_int_equal(scitt_note_parse(scitt_span_str(note), &p), SCITT_OK);
    assert_int_equal(p.n_sigs, 1);
    assert_int_equal(p.sigs[0].key_id, 0x530d903a);
    assert_int_equal(p.sigs[0].sig_len, 64);
    free(vkey);
    free(note);
    free(signed_text);
}

/* Every single-byte change anywhere in the example note must make verification fail. */
static void test_spec_example_flips(void **state)
{
    (void)state;
    char *vkey = json_member(EXAMPLE, "vkey");
    char *note = json_member(EXAMPLE, "signed_note");
    scitt_note_verifier v;
    assert_int_equal(scitt_note_vkey_parse(scitt_span_str(vkey), &v), SCITT_OK);
    size_t len = strlen(note), by_code[4] = {0};
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            note[i] = (char)(note[i] ^ (1 << bit));
            scitt_err e = scitt_note_verify(scitt_span_make(note, len), &v, 1, NULL);
            note[i] = (char)(note[i] ^ (1 << bit));
            if (e == SCITT_OK) {
                fail_msg("flip of bit %d at byte %zu still verifies", bit, i);
            }
            by_code[e == SCITT_ERR_SIGNATURE        ? 0
                    : e == SCITT_ERR_UNTRUSTED      ? 1
                    : e == SCITT_ERR_NOTE_MALFORMED ? 2
                                                    : 3]++;
        }
    }
    /* Text flips break the signature; signature flips break it or the key ID; the rest breaks
     * the syntax. Each kind of failure must actually occur. */
    assert_true(by_code[0] > 0 && by_code[1] > 0 && by_code[2] > 0);
    assert_int_equal(scitt_note_verify(scitt_span_make(note, len), &v, 1, NULL), SCITT_OK);
    free(vkey);
    free(note);
}

/* RFC 8032 §7.1 TEST 1: the public key derived from the seed. */
static void test_ed25519_known_answer(void **state)
{
    (void)state;
    size_t n;
    uint8_t *seed = tu_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", &n);
    uint8_t *want = tu_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", &n);
    uint8_t pub[32];
    assert_int_equal(scitt_note_ed25519_public(seed, pub), SCITT_OK);
    assert_memory_equal(pub, want, 32);
    free(seed);
    free(want);
}

static void make_key(uint8_t seed[32], uint8_t fill, const char *name, scitt_note_verifier *v)
{
    for (int i = 0; i < 32; i++) {
        seed[i] = (uint8_t)(fill + i * 7);
    }
    uint8_t pub[32];
    assert_int_equal(scitt_note_ed25519_public(seed, pub), SCITT_OK);
    assert_int_equal(scitt_note_verifier_init(v, scitt_span_str(name), pub), SCITT_OK);
}

/* A prepared key signs exactly what its seed signs (Ed25519 is deterministic), and the note
 * opens with the seed's verifier. */
static void test_prepared_key(void **state)
{
    (void)state;
    uint8_t seed[32];
    scitt_note_verifier v;
    make_key(seed, 3, "log.example/prepared", &v);
    scitt_note_key *k = NULL;
    assert_int_equal(scitt_note_key_new(NULL, &k), SCITT_ERR_INVALID_ARG);
    assert_int_equal(scitt_note_key_new(seed, &k), SCITT_OK);
    scitt_note_signer by_seed = {scitt_span_str("log.example/prepared"), seed, NULL};
    scitt_note_signer by_key = {scitt_span_str("log.example/prepared"), NULL, k};
    scitt_dynbuf a, b;
    scitt_dynbuf_init(&a, 0);
    scitt_dynbuf_init(&b, 0);
    for (int i = 0; i < 3; i++) {
        char text[64];
        snprintf(text, sizeof(text), "log.example/prepared\n%d\nroot\n", i);
        a.len = b.len = 0;
        assert_int_equal(scitt_note_sign(scitt_span_str(text), &by_seed, 1, &a), SCITT_OK);
        assert_int_equal(scitt_note_sign(scitt_span_str(text), &by_key, 1, &b), SCITT_OK);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.ptr, b.ptr, a.len);
        assert_int_equal(scitt_note_verify(scitt_span_make(b.ptr, b.len), &v, 1, NULL), SCITT_OK);
    }
    scitt_note_signer neither = {scitt_span_str("log.example/prepared"), NULL, NULL};
    assert_int_equal(scitt_note_sign(scitt_span_str("x\n"), &neither, 1, &a),
                     SCITT_ERR_INVALID_ARG);
    scitt_dynbuf_clear(&a);
    scitt_dynbuf_clear(&b);
    scitt_note_key_free(k);
    scitt_note_key_free(NULL);
}

static void test_round_trip(void **state)
{
    (void)state;
    uint8_t s1[32], s2[32], s3[32];
    scitt_note_verifier v[3];
    make_key(s1, 1, "log.example/one", &v[0]);
    make_key(s2, 2, "witness.example/w1", &v[1]);
    make_key(s3, 3, "log.example/one", &v[2]); /* same name, other key: different key ID */
    assert_true(v[0].key_id != v[2].key_id);

    const char *text = "hello\n\nblank lines inside the text are fine\n";
    scitt_note_signer signers[2] = {{scitt_span_str("log.example/one"), s1, NULL},
                                    {scitt_span_str("witness.example/w1"), s2, NULL}};
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    assert_int_equal(scitt_note_sign(scitt_span_str(text), signers, 2, &b), SCITT_OK);
    scitt_span note = scitt_span_make(b.ptr, b.len);

    scitt_note_result r;
    assert_int_equal(scitt_note_verify(note, v, 2, &r), SCITT_OK);
    assert_int_equal(r.verified, 3);
    assert_true(scitt_span_eq_str(r.text, text));
    /* Only the witness known: the log's line is an unknown key and ignored. */
    assert_int_equal(scitt_note_verify(note, &v[1], 1, &r), SCITT_OK);
    assert_int_equal(r.verified, 1);
    assert_int_equal(r.unknown, 1);
    /* Same name, different key: the key ID differs, so the line is unknown, and nothing known
     * verifies. */
    assert_int_equal(scitt_note_verify(note, &v[2], 1, &r), SCITT_ERR_UNTRUSTED);
    assert_int_equal(scitt_note_verify(note, NULL, 0, &r), SCITT_ERR_UNTRUSTED);

    /* A vkey printed and parsed again verifies the same note. */
    char vk[SCITT_NOTE_VKEY_MAX];
    assert_int_equal(scitt_note_vkey_format(scitt_span_str(v[0].name), v[0].key, vk, sizeof(vk)),
                     SCITT_OK);
    scitt_note_verifier parsed;
    assert_int_equal(scitt_note_vkey_parse(scitt_span_str(vk), &parsed), SCITT_OK);
    assert_int_equal(scitt_note_verify(note, &parsed, 1, &r), SCITT_OK);

    /* A known key whose signature is wrong rejects the note even though another key verifies:
     * forge one by re-signing a different text and splicing the line in. */
    scitt_dynbuf other;
    scitt_dynbuf_init(&other, 0);
    assert_int_equal(scitt_note_sign(scitt_span_str("other\n"), &signers[1], 1, &other), SCITT_OK);
    scitt_dynbuf spliced;
    scitt_dynbuf_init(&spliced, 0);
    scitt_dynbuf_put(&spliced, b.ptr, b.len);
    scitt_dynbuf_put(&spliced, other.ptr + 7, other.len - 7); /* skip "other\n\n" */
    assert_int_equal(scitt_note_verify(scitt_span_make(spliced.ptr, spliced.len), v, 2, &r),
                     SCITT_ERR_SIGNATURE);
    assert_int_equal(scitt_note_verify(scitt_span_make(spliced.ptr, spliced.len), &v[0], 1, &r),
                     SCITT_OK);
    scitt_dynbuf_clear(&other);
    scitt_dynbuf_clear(&spliced);
    scitt_dynbuf_clear(&b);
}

static void test_sign_rejects(void **state)
{
    (void)state;
    uint8_t seed[32];
    scitt_note_verifier v;
    make_key(seed, 9, "k", &v);
    scitt_note_signer s = {scitt_span_str("k"), seed, NULL};
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    assert_int_equal(scitt_note_sign(scitt_span_str("no newline"), &s, 1, &b),
                     SCITT_ERR_NOTE_MALFORMED);
    assert_int_equal(scitt_note_sign(scitt_span_str(""), &s, 1, &b), SCITT_ERR_NOTE_MALFORMED);
    assert_int_equal(scitt_note_sign(scitt_span_str("tab\there\n"), &s, 1, &b),
                     SCITT_ERR_NOTE_MALFORMED);
    assert_int_equal(scitt_note_sign(scitt_span_str("bad \xff utf8\n"), &s, 1, &b), SCITT_ERR_UTF8);
    s.name = scitt_span_str("has space");
    assert_int_equal(scitt_note_sign(scitt_span_str("x\n"), &s, 1, &b), SCITT_ERR_INVALID_ARG);
    s.name = scitt_span_str("has+plus");
    assert_int_equal(scitt_note_sign(scitt_span_str("x\n"), &s, 1, &b), SCITT_ERR_INVALID_ARG);
    s.name = scitt_span_str("nbsp\xc2\xa0"
                            "name");
    assert_int_equal(scitt_note_sign(scitt_span_str("x\n"), &s, 1, &b), SCITT_ERR_INVALID_ARG);
    s.name = scitt_span_str("k");
    scitt_note_signer many[SCITT_LIMIT_NOTE_SIGS + 1];
    for (size_t i = 0; i <= SCITT_LIMIT_NOTE_SIGS; i++) {
        many[i] = s;
    }
    assert_int_equal(scitt_note_sign(scitt_span_str("x\n"), many, SCITT_LIMIT_NOTE_SIGS + 1, &b),
                     SCITT_ERR_TOO_LARGE);
    assert_int_equal(b.len, 0);
    /* The largest text that still fits with one signature line, and one byte more. */
    size_t line = 4 + 1 + 1 + 92 + 1; /* "— " + "k" + " " + base64(68) + "\n" */
    size_t max_text = SCITT_LIMIT_NOTE_BYTES - 1 - line;
    char *big = malloc(max_text + 2);
    memset(big, 'a', max_text + 1);
    big[max_text - 1] = '\n';
    assert_int_equal(scitt_note_sign(scitt_span_make(big, max_text), &s, 1, &b), SCITT_OK);
    assert_int_equal(b.len, SCITT_LIMIT_NOTE_BYTES);
    assert_int_equal(scitt_note_verify(scitt_span_make(b.ptr, b.len), &v, 1, NULL), SCITT_OK);
    b.len = 0;
    big[max_text - 1] = 'a';
    big[max_text] = '\n';
    assert_int_equal(scitt_note_sign(scitt_span_make(big, max_text + 1), &s, 1, &b),
                     SCITT_ERR_TOO_LARGE);
    assert_int_equal(b.len, 0);
    free(big);
    scitt_dynbuf_clear(&b);
}

/* vkey strings: each row must fail with its code. */
static void test_vkey_rejects(void **state)
{
    (void)state;
    static const struct {
        const char *vkey;
        scitt_err err;
        const char *why;
    } rows[] = {
        {"", SCITT_ERR_KEY_MALFORMED, "empty"},
        {"example.com/foo", SCITT_ERR_KEY_MALFORMED, "no '+'"},
        {"+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", SCITT_ERR_KEY_MALFORMED,
         "empty name"},
        {"example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
         SCITT_ERR_KEY_MALFORMED, "7 hex digits"},
        {"example.com/foo+530d903g+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
         SCITT_ERR_KEY_MALFORMED, "not hex"},
        {"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",
         SCITT_ERR_KEY_MALFORMED, "base64 cut short"},
        {"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k=",
         SCITT_ERR_KEY_MALFORMED, "bad padding"},
        {"example.com/foo+530d903a+", SCITT_ERR_KEY_MALFORMED, "no key"},
        {"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U0=",
         SCITT_ERR_KEY_MALFORMED, "type byte and a 31-byte key"},
        {"example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", SCITT_ERR_ALG,
         "type 0x02 (ECDSA) is not supported"},
        {"example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
         SCITT_ERR_KEY_MISMATCH, "key ID off by one"},
        {"example.com/fo0+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
         SCITT_ERR_KEY_MISMATCH, "other name, same ID"},
        {"example com+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
         SCITT_ERR_KEY_MALFORMED, "space in name"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scitt_note_verifier v;
        scitt_err e = scitt_note_vkey_parse(scitt_span_str(rows[i].vkey), &v);
        if (e != rows[i].err) {
            fail_msg("row %zu (%s): got %s", i, rows[i].why, scitt_err_name(e));
        }
    }
}

/* Malformed notes, each with its reason; signature lines use the example's valid line. */
#define SIG                                                                                        \
    "\xe2\x80\x94 example.com/foo "                                                                \
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM="
#define TEXT "This is an example message.\n"
static void test_malformed_table(void **state)
{
    (void)state;
    static const struct {
        const char *note;
        scitt_err err;
        const char *why;
    } rows[] = {
        {"", SCITT_ERR_NOTE_MALFORMED, "empty"},
        {TEXT, SCITT_ERR_NOTE_MALFORMED, "no signature block"},
        {TEXT "\n", SCITT_ERR_NOTE_MALFORMED, "blank line but no signatures"},
        {TEXT "\n" SIG, SCITT_ERR_NOTE_MALFORMED, "last signature line without newline"},
        {TEXT SIG "\n", SCITT_ERR_NOTE_MALFORMED, "no blank line before the signatures"},
        {TEXT "\n" SIG "\n\n", SCITT_ERR_NOTE_MALFORMED, "blank line after the signatures"},
        {TEXT "\n" SIG "\n"
              "junk\n",
         SCITT_ERR_NOTE_MALFORMED, "a line without the em dash"},
        {TEXT "\n- example.com/foo AAAAAAA=\n", SCITT_ERR_NOTE_MALFORMED, "ASCII hyphen"},
        {TEXT "\n\xe2\x80\x94"
              "example.com/foo AAAAAAA=\n",
         SCITT_ERR_NOTE_MALFORMED, "no space after the dash"},
        {TEXT "\n\xe2\x80\x94 example.com/foo\n", SCITT_ERR_NOTE_MALFORMED, "no signature"},
        {TEXT "\n\xe2\x80\x94 example.com/foo \n", SCITT_ERR_NOTE_MALFORMED, "empty signature"},
        {TEXT "\n\xe2\x80\x94  AAAAAAA=\n", SCITT_ERR_NOTE_MALFORMED, "empty key name"},
        {TEXT "\n\xe2\x80\x94 a+b AAAAAAA=\n", SCITT_ERR_NOTE_MALFORMED, "'+' in the key name"},
        {TEXT "\n\xe2\x80\x94 example.com/foo AAAA\n", SCITT_ERR_NOTE_MALFORMED,
         "3 decoded bytes: no room for a key ID and a signature"},
        {TEXT "\n\xe2\x80\x94 example.com/foo AAAAAA==\n", SCITT_ERR_NOTE_MALFORMED,
         "4 decoded bytes: a key ID without signature"},
        {TEXT "\n\xe2\x80\x94 example.com/foo AAAAAAA\n", SCITT_ERR_NOTE_MALFORMED,
         "base64 without padding"},
        {TEXT "\n\xe2\x80\x94 example.com/foo AAAA AAA=\n", SCITT_ERR_NOTE_MALFORMED,
         "space inside the base64"},
        {"tab\tin text\n\n" SIG "\n", SCITT_ERR_NOTE_MALFORMED, "control character in the text"},
        {"cr\r\n\n" SIG "\n", SCITT_ERR_NOTE_MALFORMED, "carriage return"},
        {"bad \xc3\x28 utf8\n\n" SIG "\n", SCITT_ERR_UTF8, "invalid UTF-8 in the text"},
        {"overlong \xc0\xaf\n\n" SIG "\n", SCITT_ERR_UTF8, "overlong UTF-8"},
    };
    scitt_note_verifier v;
    assert_int_equal(
        scitt_note_vkey_parse(
            scitt_span_str("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"),
            &v),
        SCITT_OK);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scitt_span note = scitt_span_str(rows[i].note);
        scitt_err e = scitt_note_verify(note, &v, 1, NULL);
        if (e != rows[i].err) {
            fail_msg("row %zu (%s): got %s", i, rows[i].why, scitt_err_name(e));
        }
        scitt_note_parsed p;
        assert_int_equal(scitt_note_parse(note, &p), rows[i].err);
    }
    /* A NUL byte (which a C string cannot carry) in the text and after the signatures. */
    static const char nul_text[] = "nu\0l\n\n" SIG "\n";
    assert_int_equal(
        scitt_note_verify(scitt_span_make(nul_text, sizeof(nul_text) - 1), &v, 1, NULL),
        SCITT_ERR_NOTE_MALFORMED);
    static const char nul_end[] = TEXT "\n" SIG "\n";
    assert_int_equal(scitt_note_verify(scitt_span_make(nul_end, sizeof(nul_end)), &v, 1, NULL),
                     SCITT_ERR_NOTE_MALFORMED);
    assert_int_equal(scitt_note_verify(scitt_span_make(nul_end, sizeof(nul_end) - 1), &v, 1, NULL),
                     SCITT_OK);
}

static void test_limits(void **state)
{
    (void)state;
    scitt_note_verifier v;
    assert_int_equal(
        scitt_note_vkey_parse(
            scitt_span_str("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"),
            &v),
        SCITT_OK);
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_dynbuf_str(&b, TEXT "\n");
    /* The valid line plus unknown-key lines up to the limit: accepted. */
    scitt_dynbuf_str(&b, SIG "\n");
    for (size_t i = 1; i < SCITT_LIMIT_NOTE_SIGS; i++) {
        scitt_dynbuf_printf(&b, "\xe2\x80\x94 witness%zu.example AAAAAAA=\n", i);
    }
    scitt_note_result r;
    assert_int_equal(scitt_note_verify(scitt_span_make(b.ptr, b.len), &v, 1, &r), SCITT_OK);
    assert_int_equal(r.sigs, SCITT_LIMIT_NOTE_SIGS);
    assert_int_equal(r.unknown, SCITT_LIMIT_NOTE_SIGS - 1);
    /* One line more is refused before any signature is checked. */
    scitt_dynbuf_str(&b, "\xe2\x80\x94 one-too-many.example AAAAAAA=\n");
    assert_int_equal(scitt_note_verify(scitt_span_make(b.ptr, b.len), &v, 1, &r),
                     SCITT_ERR_TOO_LARGE);
    scitt_dynbuf_clear(&b);

    /* Size: a note one byte over the limit. */
    char *big = malloc(SCITT_LIMIT_NOTE_BYTES + 1);
    memset(big, 'a', SCITT_LIMIT_NOTE_BYTES + 1);
    assert_int_equal(scitt_note_verify(scitt_span_make(big, SCITT_LIMIT_NOTE_BYTES + 1), &v, 1, &r),
                     SCITT_ERR_TOO_LARGE);
    free(big);
    scitt_note_verifier many[SCITT_NOTE_MAX_VERIFIERS + 1];
    for (size_t i = 0; i <= SCITT_NOTE_MAX_VERIFIERS; i++) {
        many[i] = v;
    }
    assert_int_equal(scitt_note_verify(scitt_span_str(TEXT "\n" SIG "\n"), many,
                                       SCITT_NOTE_MAX_VERIFIERS + 1, &r),
                     SCITT_ERR_INVALID_ARG);
    assert_int_equal(
        scitt_note_verify(scitt_span_str(TEXT "\n" SIG "\n"), many, SCITT_NOTE_MAX_VERIFIERS, &r),
        SCITT_OK);
}

/* A checkpoint cosigned by many witnesses (C2SP tlog-cosignature lines: type 0x04, a timestamp and
 * an Ed25519 signature, 76 bytes) verifies with the log's key alone: at least 100 signature lines
 * are accepted, unknown signers ignored; the line limit and the byte limit still hold. */
static void test_many_witnesses(void **state)
{
    (void)state;
    uint8_t seed[32], wseed[32];
    scitt_note_verifier log, w7;
    make_key(seed, 5, "log.example/witnessed", &log);
    make_key(wseed, 6, "witness-007.example.org/w", &w7);
    const char *text = "log.example/witnessed\n42\n"
                       "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
    scitt_note_signer signer = {scitt_span_str("log.example/witnessed"), seed, NULL};
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    assert_int_equal(scitt_note_sign(scitt_span_str(text), &signer, 1, &b), SCITT_OK);
    /* A line of witness w7 over another text, then lines of unknown witnesses with long names
     * and 76-byte blobs, up to the limit. */
    scitt_note_signer wsigner = {scitt_span_str("witness-007.example.org/w"), wseed, NULL};
    scitt_dynbuf other;
    scitt_dynbuf_init(&other, 0);
    assert_int_equal(scitt_note_sign(scitt_span_str("other\n"), &wsigner, 1, &other), SCITT_OK);
    scitt_dynbuf_put(&b, other.ptr + 7, other.len - 7); /* skip "other\n\n" */
    scitt_dynbuf_clear(&other);
    uint8_t blob[76];
    char b64[SCITT_BASE64_LEN(sizeof(blob))];
    scitt_note_result r;
    for (size_t i = 0; i + 2 < SCITT_LIMIT_NOTE_SIGS || i + 2 < 100; i++) {
        memset(blob, (int)i, sizeof(blob));
        assert_int_equal(scitt_base64_encode(scitt_span_make(blob, sizeof(blob)), b64, sizeof(b64)),
                         SCITT_OK);
        scitt_dynbuf_printf(
            &b, "\xe2\x80\x94 witness-%03zu.example.org/cosigner-with-a-long-name %s\n", i, b64);
        if (i + 3 == 100) { /* 100 lines: what Go's sumdb/note accepts */
            assert_int_equal(scitt_note_verify(scitt_span_make(b.ptr, b.len), &log, 1, &r),
                             SCITT_OK);
            assert_int_equal(r.sigs, 100);
        }
    }
    assert_int_equal(scitt_note_verify(scitt_span_make(b.ptr, b.len), &log, 1, &r), SCITT_OK);
    assert_int_equal(r.verified, 1);
    assert_int_equal(r.sigs, SCITT_LIMIT_NOTE_SIGS);
    assert_int_equal(r.unknown, SCITT_LIMIT_NOTE_SIGS - 1);
    scitt_checkpoint cp;
    assert_int_equal(scitt_checkpoint_open(scitt_span_make(b.ptr, b.len), &log, 1,
                                           scitt_span_str("log.example/witnessed"), &cp, NULL),
                     SCITT_OK);
    assert_int_equal(cp.size, 42);
    scitt_note_parsed p;
    assert_int_equal(scitt_note_parse(scitt_span_make(b.ptr, b.len), &p), SCITT_OK);
    assert_int_equal(p.n_sigs, SCITT_LIMIT_NOTE_SIGS);
    assert_int_equal(p.sigs[2].sig_len, 72);
    /* Once the caller knows w7, its line (a signature of another text) rejects the note. */
    scitt_note_verifier both[2] = {log, w7};
    assert_int_equal(scitt_note_verify(scitt_span_make(b.ptr, b.len), both, 2, &r),
                     SCITT_ERR_SIGNATURE);
    /* One line more than the limit is refused before any signature is checked. */
    scitt_dynbuf_printf(&b, "\xe2\x80\x94 one-too-many.example %s\n", b64);
    assert_int_equal(scitt_note_verify(scitt_span_make(b.ptr, b.len), &log, 1, &r),
                     SCITT_ERR_TOO_LARGE);
    assert_int_equal(scitt_note_parse(scitt_span_make(b.ptr, b.len), &p), SCITT_ERR_TOO_LARGE);
    /* The byte limit has room for the line limit at the longest key names. */
    b.len = 0;
    assert_int_equal(scitt_note_sign(scitt_span_str(text), &signer, 1, &b), SCITT_OK);
    char name[SCITT_NOTE_NAME_MAX + 1];
    memset(name, 'w', SCITT_NOTE_NAME_MAX);
    name[SCITT_NOTE_NAME_MAX] = 0;
    for (size_t i = 1; i < SCITT_LIMIT_NOTE_SIGS; i++) {
        memcpy(name, &"0123456789"[i % 10], 1);
        scitt_dynbuf_printf(&b, "\xe2\x80\x94 %s %s\n", name, b64);
    }
    assert_true(b.len <= SCITT_LIMIT_NOTE_BYTES);
    assert_int_equal(scitt_note_verify(scitt_span_make(b.ptr, b.len), &log, 1, &r), SCITT_OK);
    scitt_dynbuf_clear(&b);
}

/* A signature line of a longer private type (an ML-DSA-44 cosignature is 2,432 bytes) is checked
 * whole; padding anywhere but at its end is malformed. */
static void test_long_signature_line(void **state)
{
    (void)state;
    uint8_t seed[32];
    scitt_note_verifier log;
    make_key(seed, 8, "log.example/pq", &log);
    scitt_note_signer signer = {scitt_span_str("log.example/pq"), seed, NULL};
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    assert_int_equal(scitt_note_sign(scitt_span_str("log.example/pq\n1\nroot\n"), &signer, 1, &b),
                     SCITT_OK);
    size_t signed_len = b.len;
    static uint8_t blob[2432];
    for (size_t i = 0; i < sizeof(blob); i++) {
        blob[i] = (uint8_t)(i * 31);
    }
    static char b64[SCITT_BASE64_LEN(sizeof(blob) + 1)];
    assert_int_equal(scitt_base64_encode(scitt_span_make(blob, sizeof(blob)), b64, sizeof(b64)),
                     SCITT_OK);
    scitt_dynbuf_printf(&b, "\xe2\x80\x94 pq-witness.example %s\n", b64);
    scitt_note_parsed p;
    assert_int_equal(scitt_note_parse(scitt_span_make(b.ptr, b.len), &p), SCITT_OK);
    assert_int_equal(p.sigs[1].sig_len, sizeof(blob) - 4);
    assert_int_equal(p.sigs[1].key_id, (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
                                           (uint32_t)blob[2] << 8 | blob[3]);
    assert_int_equal(scitt_note_verify(scitt_span_make(b.ptr, b.len), &log, 1, NULL), SCITT_OK);
    /* Padding in the middle (after the first, in a later piece, at the end of a piece). */
    size_t at[] = {8, 300, 255, 256, strlen(b64) - 8};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        b.len = signed_len;
        char bad[sizeof(b64)];
        memcpy(bad, b64, sizeof(b64));
        bad[at[i]] = '=';
        scitt_dynbuf_printf(&b, "\xe2\x80\x94 pq-witness.example %s\n", bad);
        assert_int_equal(scitt_note_parse(scitt_span_make(b.ptr, b.len), &p),
                         SCITT_ERR_NOTE_MALFORMED);
    }
    /* A character outside the alphabet in a later piece. */
    b.len = signed_len;
    b64[1000] = '*';
    scitt_dynbuf_printf(&b, "\xe2\x80\x94 pq-witness.example %s\n", b64);
    assert_int_equal(scitt_note_verify(scitt_span_make(b.ptr, b.len), &log, 1, NULL),
                     SCITT_ERR_NOTE_MALFORMED);
    scitt_dynbuf_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_example),         cmocka_unit_test(test_spec_example_flips),
        cmocka_unit_test(test_ed25519_known_answer), cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_sign_rejects),         cmocka_unit_test(test_vkey_rejects),
        cmocka_unit_test(test_malformed_table),      cmocka_unit_test(test_limits),
        cmocka_unit_test(test_prepared_key),         cmocka_unit_test(test_many_witnesses),
        cmocka_unit_test(test_long_signature_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
