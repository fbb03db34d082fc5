/*
 * Known-answer vectors: the RFC 9162 / RFC 6962 reference tree and all 196 transparency-dev probe
 * files (happy paths and wantErr mutations) from tests/data/vectors/merkle/.
 */
#include "testutil.h"
#include "memtree.h"

#include <dirent.h>
#include <sys/stat.h>

#include "scitt/json.h"
#include "scitt/limits.h"

static void json_load(const char *path, uint8_t **text, scitt_json *j)
{
    size_t len;
    *text = tu_read_file(path, &len);
    assert_int_equal(scitt_json_parse(scitt_span_make(*text, len), j), SCITT_OK);
}

/* Decodes a hex or base64 string member into out; returns the decoded length or -1. */
static long get_bytes(const scitt_json *j, long tok, bool b64, uint8_t *out, size_t cap)
{
    char text[1024];
    size_t tl, n;
    if (tok < 0 || scitt_json_string(j, (size_t)tok, text, sizeof(text), &tl) != SCITT_OK) {
        return -1;
    }
    scitt_span s = scitt_span_make(text, tl);
    scitt_err e = b64 ? scitt_base64_decode(s, out, cap, &n) : scitt_hex_decode(s, out, cap, &n);
    return e == SCITT_OK ? (long)n : -1;
}

static uint64_t get_u64(const scitt_json *j, long tok)
{
    uint64_t v;
    assert_true(tok >= 0);
    assert_int_equal(scitt_json_u64(j, (size_t)tok, &v), SCITT_OK);
    return v;
}

/* Reads an array of 32-byte hashes; false when any element is not exactly 32 bytes. */
static bool get_path(const scitt_json *j, long arr, bool b64, uint8_t path[][32], size_t *n)
{
    assert_true(arr >= 0);
    size_t count = j->toks[arr].count;
    assert_true(count <= SCITT_LIMIT_PROOF_HASHES + 4);
    bool ok = true;
    for (size_t i = 0; i < count; i++) {
        uint8_t buf[64];
        if (get_bytes(j, scitt_json_at(j, (size_t)arr, i), b64, buf, sizeof(buf)) != 32) {
            ok = false;
            continue;
        }
        memcpy(path[i], buf, 32);
    }
    *n = count;
    return ok;
}

static void test_rfc9162_reference_tree(void **state)
{
    (void)state;
    uint8_t *text;
    scitt_json j;
    json_load(tu_shared("vectors/merkle/rfc9162_sha256_vectors.json"), &text, &j);

    long leaves = scitt_json_get(&j, 0, "leaves_hex");
    long hashes = scitt_json_get(&j, 0, "leaf_hashes_hex");
    long roots = scitt_json_get(&j, 0, "roots_by_tree_size");
    assert_int_equal(j.toks[leaves].count, 8);

    memtree t;
    memtree_init(&t);
    uint8_t leaf_hashes[8][32];
    for (size_t i = 0; i < 8; i++) {
        uint8_t data[64], want[32];
        long dl = get_bytes(&j, scitt_json_at(&j, (size_t)leaves, i), false, data, sizeof(data));
        assert_true(dl >= 0);
        scitt_merkle_leaf_hash(scitt_span_make(data, (size_t)dl), leaf_hashes[i]);
        assert_int_equal(get_bytes(&j, scitt_json_at(&j, (size_t)hashes, i), false, want, 32), 32);
        assert_memory_equal(leaf_hashes[i], want, 32);
    }
    for (size_t n = 0; n <= 8; n++) {
        char key[4];
        snprintf(key, sizeof(key), "%zu", n);
        uint8_t want[32], got[32];
        assert_int_equal(get_bytes(&j, scitt_json_get(&j, (size_t)roots, key), false, want, 32),
                         32);
        scitt_merkle_compact_root(&t.compact, got);
        assert_memory_equal(got, want, 32);
        if (n < 8) {
            assert_int_equal(memtree_append(&t, leaf_hashes[n]), SCITT_OK);
        }
    }
    scitt_merkle_source src = memtree_source(&t);

    /* published and exhaustive inclusion proofs: generation reproduces them, and they verify */
    const char *incl_sets[] = {"inclusion_proofs", "all_inclusion_proofs_8_leaves"};
    unsigned incl = 0;
    for (size_t s = 0; s < 2; s++) {
        long arr = scitt_json_get(&j, 0, incl_sets[s]);
        for (size_t k = 0; k < j.toks[arr].count; k++) {
            long v = scitt_json_at(&j, (size_t)arr, k);
            uint64_t index = get_u64(&j, scitt_json_get(&j, (size_t)v, "leaf_index"));
            uint64_t size = get_u64(&j, scitt_json_get(&j, (size_t)v, "tree_size"));
            uint8_t want[64][32], got[64][32], root[32];
            size_t wn, gn;
            assert_true(
                get_path(&j, scitt_json_get(&j, (size_t)v, "inclusion_path"), false, want, &wn));
            assert_int_equal(scitt_merkle_inclusion_proof(&src, index, size, got, &gn), SCITT_OK);
            assert_int_equal(gn, wn);
            assert_memory_equal(got, want, wn * 32);
            char key[4];
            snprintf(key, sizeof(key), "%llu", (unsigned long long)size);
            assert_int_equal(get_bytes(&j, scitt_json_get(&j, (size_t)roots, key), false, root, 32),
                             32);
            assert_int_equal(scitt_merkle_inclusion_verify(index, size, leaf_hashes[index],
                                                           (const uint8_t(*)[32])want, wn, root),
                             SCITT_OK);
            incl++;
        }
    }
    const char *cons_sets[] = {"consistency_proofs", "all_consistency_proofs_8_leaves"};
    unsigned cons = 0;
    for (size_t s = 0; s < 2; s++) {
        long arr = scitt_json_get(&j, 0, cons_sets[s]);
        for (size_t k = 0; k < j.toks[arr].count; k++) {
            long v = scitt_json_at(&j, (size_t)arr, k);
            uint64_t m = get_u64(&j, scitt_json_get(&j, (size_t)v, "tree_size_1"));
            uint64_t n = get_u64(&j, scitt_json_get(&j, (size_t)v, "tree_size_2"));
            uint8_t want[65][32], got[65][32], r1[32], r2[32];
            size_t wn, gn;
            assert_true(
                get_path(&j, scitt_json_get(&j, (size_t)v, "consistency_path"), false, want, &wn));
            assert_int_equal(scitt_merkle_consistency_proof(&src, m, n, got, &gn), SCITT_OK);
            assert_int_equal(gn, wn);
            assert_memory_equal(got, want, wn * 32);
            char key[4];
            snprintf(key, sizeof(key), "%llu", (unsigned long long)m);
            assert_int_equal(get_bytes(&j, scitt_json_get(&j, (size_t)roots, key), false, r1, 32),
                             32);
            snprintf(key, sizeof(key), "%llu", (unsigned long long)n);
            assert_int_equal(get_bytes(&j, scitt_json_get(&j, (size_t)roots, key), false, r2, 32),
                             32);
            assert_int_equal(
                scitt_merkle_consistency_verify(m, n, r1, r2, (const uint8_t(*)[32])want, wn),
                SCITT_OK);
            cons++;
        }
    }
    print_message("rfc9162 reference: %u inclusion and %u consistency proofs\n", incl, cons);
    assert_true(incl >= 36 && cons >= 28);
    memtree_free(&t);
    scitt_json_clear(&j);
    free(text);
}

typedef struct {
    unsigned files, want_err, ok;
} probe_stats;

/*
 * One probe file. Proof elements and leaf hashes that are not 32 bytes cannot reach the verifier:
 * our decoders reject them first, which counts as the error the probe wants. Some probes use
 * short "don't care" roots where only their equality matters (equal sizes); those are mapped to
 * SHA-256 of their bytes, which keeps equal roots equal and distinct roots distinct.
 */
static bool get_root(const scitt_json *j, long tok, uint8_t out[32])
{
    uint8_t raw[64];
    long n = get_bytes(j, tok, true, raw, sizeof(raw));
    if (n < 0) {
        return false;
    }
    if (n == 32) {
        memcpy(out, raw, 32);
    } else {
        scitt_sha256(raw, (size_t)n, out);
    }
    return true;
}

static void run_probe(const char *path, probe_stats *st)
{
    uint8_t *text;
    scitt_json j;
    json_load(path, &text, &j);
    long want_tok = scitt_json_get(&j, 0, "wantErr");
    bool want_err = want_tok >= 0 && j.toks[want_tok].type == SCITT_JSON_TRUE;
    uint8_t proof[70][32];
    size_t n;
    bool decoded = get_path(&j, scitt_json_get(&j, 0, "proof"), true, proof, &n);
    scitt_err e;
    if (scitt_json_get(&j, 0, "leafIdx") >= 0) {
        uint64_t index = get_u64(&j, scitt_json_get(&j, 0, "leafIdx"));
        uint64_t size = get_u64(&j, scitt_json_get(&j, 0, "treeSize"));
        uint8_t root[32], leaf[64];
        decoded = decoded && get_root(&j, scitt_json_get(&j, 0, "root"), root) &&
                  get_bytes(&j, scitt_json_get(&j, 0, "leafHash"), true, leaf, 64) == 32;
        e = decoded ? scitt_merkle_inclusion_verify(index, size, leaf, (const uint8_t(*)[32])proof,
                                                    n, root)
                    : SCITT_ERR_MALFORMED;
    } else {
        uint64_t m = get_u64(&j, scitt_json_get(&j, 0, "size1"));
        uint64_t sz = get_u64(&j, scitt_json_get(&j, 0, "size2"));
        uint8_t r1[32], r2[32];
        decoded = decoded && get_root(&j, scitt_json_get(&j, 0, "root1"), r1) &&
                  get_root(&j, scitt_json_get(&j, 0, "root2"), r2);
        e = decoded ? scitt_merkle_consistency_verify(m, sz, r1, r2, (const uint8_t(*)[32])proof, n)
                    : SCITT_ERR_MALFORMED;
    }
    if (want_err != (e != SCITT_OK)) {
        fail_msg("%s: wantErr=%d but got %s", path, want_err, scitt_err_name(e));
    }
    st->files++;
    st->want_err += want_err;
    st->ok += (e == SCITT_OK);
    scitt_json_clear(&j);
    free(text);
}

static void walk(const char *dir, probe_stats *st)
{
    DIR *d = opendir(dir);
    if (!d) {
        fail_msg("cannot open %s", dir);
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat s;
        assert_int_equal(stat(path, &s), 0);
        if (S_ISDIR(s.st_mode)) {
            walk(path, st);
        } else if (strstr(e->d_name, ".json")) {
            run_probe(path, st);
        }
    }
    closedir(d);
}

static void test_transparency_dev_probes(void **state)
{
    (void)state;
    probe_stats st = {0};
    walk(tu_shared("vectors/merkle/transparency-dev-testdata"), &st);
    print_message("transparency-dev probes: %u files, %u want errors, %u verify\n", st.files,
                  st.want_err, st.ok);
    assert_int_equal(st.files, 196);
    assert_int_equal(st.ok + st.want_err, st.files);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc9162_reference_tree),
        cmocka_unit_test(test_transparency_dev_probes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
