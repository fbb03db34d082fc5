/*
 * The auditor's state file (tools/audit_codec.c): a valid state.cbor round-trips, and a table of
 * damaged ones, each with one field of the wrong type, size or value (or missing, repeated,
 * inconsistent with the others), is refused with a reason that names the field. Every prefix and
 * every bit flip of a valid file is decoded without touching memory it should not (run under the
 * sanitizer build and valgrind).
 */
#include "testutil.h"

#include "audit.h"
#include "scitt/cbor.h"

enum {
    F_VERSION,
    F_SIZE,
    F_ROOT,
    F_COMPACT,
    F_TIME,
    F_LIVE,
    F_POLICY_INDEX,
    F_POLICY,
    F_ISSUER,
    F_POLICIES,
    F_ENTRIES,
    F_EDGE,
    F_REPORTED,
    F_REPORTED_ENTRIES,
    F_COUNT
};
static const char *const names[F_COUNT] = {
    "version", "size",   "root",     "compact", "time", "live",     "policy_index",
    "policy",  "issuer", "policies", "entries", "edge", "reported", "reported_entries"};

#define POLICY_TEXT "{\"version\":1,\"issuers\":[{\"iss_prefix\":\"\",\"self_signed\":true}]}"

/* A tree of three entries: its leaves, compact range and root. */
static uint8_t leaves[3][SCITT_HASH_LEN];
static scitt_merkle_compact compact;
static uint8_t root[SCITT_HASH_LEN];

static void make_tree(void)
{
    scitt_merkle_compact_init(&compact);
    for (int i = 0; i < 3; i++) {
        char e[8];
        snprintf(e, sizeof(e), "entry%d", i);
        scitt_merkle_leaf_hash(scitt_span_str(e), leaves[i]);
        assert_int_equal(scitt_merkle_compact_append(&compact, leaves[i], NULL, NULL), SCITT_OK);
    }
    scitt_merkle_compact_root(&compact, root);
}

/* The valid value of field @p f. */
static void put_valid(scitt_cbor_writer *w, unsigned f)
{
    switch (f) {
    case F_VERSION:
        scitt_cbor_put_uint(w, 1);
        break;
    case F_SIZE:
        scitt_cbor_put_uint(w, 3);
        break;
    case F_ROOT:
        scitt_cbor_put_bytes(w, scitt_span_make(root, SCITT_HASH_LEN));
        break;
    case F_COMPACT: /* size 3: the nodes of levels 0 and 1 */
        scitt_cbor_put_array(w, 2);
        scitt_cbor_put_bytes(w, scitt_span_make(compact.nodes[0], SCITT_HASH_LEN));
        scitt_cbor_put_bytes(w, scitt_span_make(compact.nodes[1], SCITT_HASH_LEN));
        break;
    case F_TIME:
        scitt_cbor_put_int(w, 1767225600);
        break;
    case F_LIVE:
        scitt_cbor_put_bool(w, true);
        break;
    case F_POLICY_INDEX:
        scitt_cbor_put_uint(w, 0);
        break;
    case F_POLICY:
        scitt_cbor_put_bytes(w, scitt_span_str(POLICY_TEXT));
        break;
    case F_ISSUER:
        scitt_cbor_put_cstr(w, "https://ts.example");
        break;
    case F_POLICIES:
    case F_REPORTED:
        scitt_cbor_put_uint(w, 1);
        break;
    case F_ENTRIES:
        scitt_cbor_put_uint(w, 3);
        break;
    case F_EDGE: /* level 0: tile 0 with the three leaf hashes */
        scitt_cbor_put_array(w, 1);
        scitt_cbor_put_array(w, 2);
        scitt_cbor_put_uint(w, 0);
        scitt_cbor_put_bytes(w, scitt_span_make(leaves[0], sizeof(leaves)));
        break;
    case F_REPORTED_ENTRIES:
        scitt_cbor_put_array(w, 1);
        scitt_cbor_put_uint(w, 2);
        break;
    default:
        fail();
    }
}

enum op { REPLACE, DROP, TWICE, EXTRA };

/* The valid state with field @p f replaced by @p raw (REPLACE), left out or written twice, or
 * with a field no version knows (EXTRA). */
static void build(scitt_dynbuf *b, int f, enum op op, scitt_span raw)
{
    scitt_dynbuf_init(b, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, b);
    size_t n = F_COUNT;
    n = f >= 0 && op == DROP ? n - 1 : (f >= 0 && op == TWICE) || op == EXTRA ? n + 1 : n;
    scitt_cbor_put_map(&w, n);
    for (unsigned i = 0; i < F_COUNT; i++) {
        if ((int)i == f && op == DROP) {
            continue;
        }
        scitt_cbor_put_cstr(&w, names[i]);
        if ((int)i == f && op == REPLACE) {
            scitt_cbor_put_raw(&w, raw);
        } else {
            put_valid(&w, i);
        }
        if ((int)i == f && op == TWICE) {
            scitt_cbor_put_cstr(&w, names[i]);
            put_valid(&w, i);
        }
    }
    if (op == EXTRA) {
        scitt_cbor_put_cstr(&w, "later");
        scitt_cbor_put_raw(&w, raw);
    }
    assert_int_equal(w.err, SCITT_OK);
}

static scitt_err decode(scitt_span in, char *why, size_t cap)
{
    audit_state s;
    audit_state_init(&s);
    scitt_err e = audit_state_decode(&s, in, why, cap);
    audit_state_clear(&s);
    return e;
}

static void test_valid_round_trip(void **state)
{
    (void)state;
    make_tree();
    scitt_dynbuf b;
    build(&b, -1, REPLACE, scitt_span_make(NULL, 0));
    audit_state s;
    audit_state_init(&s);
    char why[300] = "";
    assert_int_equal(audit_state_decode(&s, scitt_span_make(b.ptr, b.len), why, sizeof(why)),
                     SCITT_OK);
    assert_true(s.have);
    assert_int_equal(s.size, 3);
    assert_memory_equal(s.root, root, SCITT_HASH_LEN);
    assert_int_equal(s.compact.size, 3);
    assert_memory_equal(s.compact.nodes[0], compact.nodes[0], SCITT_HASH_LEN);
    assert_memory_equal(s.compact.nodes[1], compact.nodes[1], SCITT_HASH_LEN);
    assert_true(s.time_is_live);
    assert_true(s.have_policy);
    assert_int_equal(s.policy_index, 0);
    assert_int_equal(s.policy_text.len, strlen(POLICY_TEXT));
    assert_string_equal(s.issuer, "https://ts.example");
    assert_int_equal(s.edge_width[0], 3);
    assert_int_equal(s.reported, 1);
    assert_int_equal(s.nreported, 1);
    assert_int_equal(s.reported_entries[0], 2);
    /* What the encoder writes is what it read. */
    scitt_dynbuf again;
    scitt_dynbuf_init(&again, 0);
    assert_int_equal(audit_state_encode(&s, &again), SCITT_OK);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.ptr, b.ptr, b.len);
    audit_state_clear(&s);
    scitt_dynbuf_clear(&again);

    /* A field a later version adds is skipped (but must still be well-formed); optional fields
     * may be left out. */
    scitt_dynbuf_clear(&b);
    build(&b, -1, EXTRA, scitt_span_str("\xa1\x01\x80"));
    assert_int_equal(decode(scitt_span_make(b.ptr, b.len), why, sizeof(why)), SCITT_OK);
    scitt_dynbuf_clear(&b);
    build(&b, -1, EXTRA, scitt_span_str("\xa1\x01"));
    assert_int_not_equal(decode(scitt_span_make(b.ptr, b.len), why, sizeof(why)), SCITT_OK);
    unsigned optional[] = {F_TIME,    F_LIVE, F_ISSUER,   F_POLICIES,
                           F_ENTRIES, F_EDGE, F_REPORTED, F_REPORTED_ENTRIES};
    for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
        scitt_dynbuf_clear(&b);
        build(&b, (int)optional[i], DROP, scitt_span_make(NULL, 0));
        scitt_err e = decode(scitt_span_make(b.ptr, b.len), why, sizeof(why));
        if (optional[i] == F_REPORTED) {
            assert_int_equal(e, SCITT_ERR_MALFORMED); /* the list then says more than the count */
        } else if (e != SCITT_OK) {
            fail_msg("without \"%s\": %s (%s)", names[optional[i]], scitt_err_name(e), why);
        }
    }
    scitt_dynbuf_clear(&b);
}

/* Damaged files: each must be refused, with a reason naming the field. */
static void test_damaged_table(void **state)
{
    (void)state;
    make_tree();
    static const uint8_t h31[] = {0x58, 0x1f};
    uint8_t short_root[2 + 31];
    memcpy(short_root, h31, 2);
    memset(short_root + 2, 7, 31);
    uint8_t other_root[2 + 32] = {0x58, 0x20};
    memset(other_root + 2, 7, 32);
    uint8_t three_hashes[1 + 3 * 34];
    three_hashes[0] = 0x83;
    for (int i = 0; i < 3; i++) {
        three_hashes[1 + 34 * i] = 0x58;
        three_hashes[2 + 34 * i] = 0x20;
        memset(three_hashes + 3 + 34 * i, i, 32);
    }
    uint8_t long_issuer[3 + AUDIT_ISSUER_MAX + 1];
    long_issuer[0] = 0x79; /* text, 2-byte length */
    long_issuer[1] = (uint8_t)((AUDIT_ISSUER_MAX + 1) >> 8);
    long_issuer[2] = (uint8_t)(AUDIT_ISSUER_MAX + 1);
    memset(long_issuer + 3, 'i', AUDIT_ISSUER_MAX + 1);
    /* 65 compact hashes, 9 edge levels, 101 reported entries: each one over its bound */
    static uint8_t compact65[2 + 65 * 34], edge9[1 + 9 * 36], reported101[2 + 101];
    compact65[0] = 0x98;
    compact65[1] = 65;
    edge9[0] = 0x89;
    for (int i = 0; i < 65; i++) {
        memcpy(compact65 + 2 + 34 * i, "\x58\x20", 2);
    }
    for (int i = 0; i < 9; i++) {
        memcpy(edge9 + 1 + 36 * i, "\x82\x00\x58\x20", 4);
    }
    reported101[0] = 0x98;
    reported101[1] = 101;
    static uint8_t big_policy[5 + AUDIT_POLICY_MAX + 1] = {0x5a, 0, 0, 0, 0};
    big_policy[3] = (uint8_t)((AUDIT_POLICY_MAX + 1) >> 8);
    big_policy[4] = (uint8_t)(AUDIT_POLICY_MAX + 1);
    memset(big_policy + 5, '{', AUDIT_POLICY_MAX + 1);
    big_policy[2] = (uint8_t)((AUDIT_POLICY_MAX + 1) >> 16);
    /* edge with the three hashes under tile index 1, and with two of the three */
    uint8_t edge_index1[5 + 96], edge_width2[5 + 64];
    memcpy(edge_index1, "\x81\x82\x01\x58", 4);
    edge_index1[4] = 96;
    memcpy(edge_index1 + 5, leaves, 96);
    memcpy(edge_width2, "\x81\x82\x00\x58", 4);
    edge_width2[4] = 64;
    memcpy(edge_width2 + 5, leaves, 64);
    struct {
        int field;
        enum op op;
        const void *raw;
        size_t len;
        scitt_err err;
        const char *why; /* in the reason */
    } rows[] = {
#define RAW(s) s, sizeof(s) - 1
        {F_POLICY, REPLACE, RAW("\x05"), SCITT_ERR_BAD_TYPE, "\"policy\""},
        {F_POLICY, REPLACE,
         RAW("\x63"
             "abc"),
         SCITT_ERR_BAD_TYPE, "\"policy\""},
        {F_POLICY, REPLACE, RAW("\x80"), SCITT_ERR_BAD_TYPE, "\"policy\""},
        {F_POLICY, REPLACE, RAW("\xf6"), SCITT_ERR_BAD_TYPE, "\"policy\""},
        {F_POLICY, REPLACE, RAW("\x40"), SCITT_ERR_MALFORMED, "\"policy\""}, /* empty, index set */
        {F_POLICY, REPLACE, big_policy, sizeof(big_policy), SCITT_ERR_TOO_LARGE, "\"policy\""},
        {F_ROOT, REPLACE, short_root, sizeof(short_root), SCITT_ERR_MALFORMED, "\"root\""},
        {F_ROOT, REPLACE, RAW("\x61x"), SCITT_ERR_BAD_TYPE, "\"root\""},
        {F_COMPACT, REPLACE, RAW("\xa0"), SCITT_ERR_BAD_TYPE, "\"compact\""},
        {F_COMPACT, REPLACE, three_hashes, sizeof(three_hashes), SCITT_ERR_MALFORMED,
         "\"compact\""},
        {F_COMPACT, REPLACE, RAW("\x81\x01"), SCITT_ERR_BAD_TYPE, "\"compact\""},
        {F_COMPACT, REPLACE, compact65, sizeof(compact65), SCITT_ERR_MALFORMED, "\"compact\""},
        {F_SIZE, REPLACE, RAW("\x20"), SCITT_ERR_BAD_TYPE, "\"size\""},
        {F_SIZE, REPLACE, RAW("\x04"), SCITT_ERR_MALFORMED, "\"compact\""},
        {F_SIZE, REPLACE, RAW("\x05"), SCITT_ERR_MALFORMED, "\"edge\""},
        {F_ROOT, REPLACE, other_root, sizeof(other_root), SCITT_ERR_CORRUPT, "\"root\""},
        {F_SIZE, REPLACE, RAW("\x1b\xff\xff\xff\xff\xff\xff\xff\xff"), SCITT_ERR_RANGE, "\"size\""},
        {F_TIME, REPLACE, RAW("\x61t"), SCITT_ERR_BAD_TYPE, "\"time\""},
        {F_TIME, REPLACE, RAW("\x3b\xff\xff\xff\xff\xff\xff\xff\xff"), SCITT_ERR_RANGE, "\"time\""},
        {F_LIVE, REPLACE, RAW("\x80"), SCITT_ERR_BAD_TYPE, "\"live\""},
        {F_LIVE, REPLACE, RAW("\x01"), SCITT_ERR_BAD_TYPE, "\"live\""},
        {F_LIVE, REPLACE, RAW("\xf6"), SCITT_ERR_BAD_TYPE, "\"live\""},
        {F_POLICY_INDEX, REPLACE,
         RAW("\x61"
             "0"),
         SCITT_ERR_BAD_TYPE, "\"policy_index\""},
        {F_POLICY_INDEX, REPLACE, RAW("\x07"), SCITT_ERR_MALFORMED, "\"policy_index\""},
        {F_POLICY_INDEX, REPLACE, RAW("\xf6"), SCITT_ERR_MALFORMED, "\"policy_index\""},
        {F_ISSUER, REPLACE, RAW("\x41x"), SCITT_ERR_BAD_TYPE, "\"issuer\""},
        {F_ISSUER, REPLACE, long_issuer, sizeof(long_issuer), SCITT_ERR_TOO_LARGE, "\"issuer\""},
        {F_ISSUER, REPLACE, RAW("\x62\xc3\x28"), SCITT_ERR_UTF8, "UTF-8"},
        {F_ISSUER, REPLACE,
         RAW("\x63"
             "a\0b"),
         SCITT_ERR_MALFORMED, "\"issuer\""},
        {F_POLICIES, REPLACE, RAW("\x20"), SCITT_ERR_BAD_TYPE, "\"policies\""},
        {F_ENTRIES, REPLACE,
         RAW("\x61"
             "3"),
         SCITT_ERR_BAD_TYPE, "\"entries\""},
        {F_EDGE, REPLACE, RAW("\x01"), SCITT_ERR_BAD_TYPE, "\"edge\""},
        {F_EDGE, REPLACE, RAW("\x81\x82\x00\x40"), SCITT_ERR_MALFORMED, "\"edge\""},
        {F_EDGE, REPLACE, RAW("\x81\x81\x00"), SCITT_ERR_MALFORMED, "\"edge\""},
        {F_EDGE, REPLACE, RAW("\x81\x82\x00\x01"), SCITT_ERR_BAD_TYPE, "\"edge\""},
        {F_EDGE, REPLACE, RAW("\x81\x82\x61x\x40"), SCITT_ERR_BAD_TYPE, "\"edge\""},
        {F_EDGE, REPLACE, edge_index1, sizeof(edge_index1), SCITT_ERR_MALFORMED, "\"edge\""},
        {F_EDGE, REPLACE, edge_width2, sizeof(edge_width2), SCITT_ERR_MALFORMED, "\"edge\""},
        {F_EDGE, REPLACE, edge9, sizeof(edge9), SCITT_ERR_MALFORMED, "\"edge\""},
        {F_REPORTED, REPLACE,
         RAW("\x61"
             "1"),
         SCITT_ERR_BAD_TYPE, "\"reported\""},
        {F_REPORTED, REPLACE, RAW("\x00"), SCITT_ERR_MALFORMED, "\"reported"},
        {F_REPORTED_ENTRIES, REPLACE, RAW("\x81\x05"), SCITT_ERR_MALFORMED, "\"reported_entries\""},
        {F_REPORTED_ENTRIES, REPLACE, RAW("\x81\x20"), SCITT_ERR_BAD_TYPE, "\"reported_entries\""},
        {F_REPORTED_ENTRIES, REPLACE, reported101, sizeof(reported101), SCITT_ERR_MALFORMED,
         "\"reported_entries\""},
        {F_VERSION, REPLACE, RAW("\x02"), SCITT_ERR_UNSUPPORTED, "\"version\""},
        {F_VERSION, REPLACE,
         RAW("\x61"
             "1"),
         SCITT_ERR_BAD_TYPE, "\"version\""},
        {F_VERSION, DROP, NULL, 0, SCITT_ERR_MALFORMED, "\"version\" is missing"},
        {F_SIZE, DROP, NULL, 0, SCITT_ERR_MALFORMED, "\"size\" is missing"},
        {F_ROOT, DROP, NULL, 0, SCITT_ERR_MALFORMED, "\"root\" is missing"},
        {F_COMPACT, DROP, NULL, 0, SCITT_ERR_MALFORMED, "\"compact\" is missing"},
        {F_POLICY_INDEX, DROP, NULL, 0, SCITT_ERR_MALFORMED, "\"policy_index\""},
        {F_POLICY, TWICE, NULL, 0, SCITT_ERR_DUPLICATE_KEY, "duplicate"},
        {F_EDGE, TWICE, NULL, 0, SCITT_ERR_DUPLICATE_KEY, "duplicate"},
#undef RAW
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        scitt_dynbuf b;
        build(&b, rows[i].field, rows[i].op, scitt_span_make(rows[i].raw, rows[i].len));
        char why[300] = "";
        scitt_err e = decode(scitt_span_make(b.ptr, b.len), why, sizeof(why));
        if (e != rows[i].err || !strstr(why, rows[i].why)) {
            fail_msg("row %zu (%s): got %s \"%s\", want %s naming %s", i, names[rows[i].field],
                     scitt_err_name(e), why, scitt_err_name(rows[i].err), rows[i].why);
        }
        scitt_dynbuf_clear(&b);
    }
    /* Not a state file at all. */
    struct {
        const char *raw;
        size_t len;
        scitt_err err;
    } whole[] = {
        {"", 0, SCITT_ERR_TRUNCATED},
        {"\x80", 1, SCITT_ERR_BAD_TYPE},
        {"\xa1\x01\x02", 3, SCITT_ERR_BAD_TYPE},      /* a key that is not text */
        {"\xa0\x00", 2, SCITT_ERR_TRAILING},          /* bytes after the map */
        {"\xa1\x64size\x03", 7, SCITT_ERR_MALFORMED}, /* no version, root, compact */
    };
    for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++) {
        char why[300] = "";
        scitt_err e = decode(scitt_span_make(whole[i].raw, whole[i].len), why, sizeof(why));
        if (e != whole[i].err || !why[0]) {
            fail_msg("file %zu: got %s \"%s\"", i, scitt_err_name(e), why);
        }
    }
}

/* Every prefix fails; every bit flip either fails with a reason or decodes to a consistent state.
 */
static void test_prefixes_and_flips(void **state)
{
    (void)state;
    make_tree();
    scitt_dynbuf b;
    build(&b, -1, REPLACE, scitt_span_make(NULL, 0));
    char why[300];
    for (size_t n = 0; n < b.len; n++) {
        why[0] = 0;
        assert_int_not_equal(decode(scitt_span_make(b.ptr, n), why, sizeof(why)), SCITT_OK);
        assert_true(why[0] != 0);
    }
    size_t accepted = 0;
    for (size_t i = 0; i < b.len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            b.ptr[i] ^= (uint8_t)(1 << bit);
            audit_state s;
            audit_state_init(&s);
            why[0] = 0;
            scitt_err e = audit_state_decode(&s, scitt_span_make(b.ptr, b.len), why, sizeof(why));
            if (e == SCITT_OK) {
                uint8_t r[SCITT_HASH_LEN];
                scitt_merkle_compact_root(&s.compact, r);
                assert_memory_equal(r, s.root, SCITT_HASH_LEN);
                accepted++;
            } else {
                assert_true(why[0] != 0);
            }
            audit_state_clear(&s);
            b.ptr[i] ^= (uint8_t)(1 << bit);
        }
    }
    /* Flips inside the time or the policy text still decode: the sweep reached the accept path. */
    assert_true(accepted > 0);
    scitt_dynbuf_clear(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_round_trip),
        cmocka_unit_test(test_damaged_table),
        cmocka_unit_test(test_prefixes_and_flips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
