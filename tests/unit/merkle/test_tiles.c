/* C2SP tlog-tiles addressing: paths, widths, node location, and the fold over a tile. */
#include "testutil.h"
#include "memtree.h"

static void test_paths(void **state)
{
    (void)state;
    char p[SCITT_TILE_PATH_MAX];
    assert_int_equal(scitt_tile_path(0, 1234067, 0, p, sizeof(p)), SCITT_OK);
    assert_string_equal(p, "tile/0/x001/x234/067");
    assert_int_equal(scitt_tile_path(0, 5, 256, p, sizeof(p)), SCITT_OK);
    assert_string_equal(p, "tile/0/005");
    assert_int_equal(scitt_tile_path(2, 1000, 17, p, sizeof(p)), SCITT_OK);
    assert_string_equal(p, "tile/2/x001/000.p/17");
    assert_int_equal(scitt_tile_entries_path(273, 112, p, sizeof(p)), SCITT_OK);
    assert_string_equal(p, "tile/entries/273.p/112");
    assert_int_equal(scitt_tile_path(63, UINT64_MAX, 255, p, sizeof(p)), SCITT_OK);
    assert_string_equal(p, "tile/63/x018/x446/x744/x073/x709/x551/615.p/255");
    assert_int_equal(scitt_tile_path(64, 0, 0, p, sizeof(p)), SCITT_ERR_INVALID_ARG);
    assert_int_equal(scitt_tile_path(0, 5, 0, p, 8), SCITT_ERR_BUFFER_TOO_SMALL);
}

static void test_parse_roundtrip(void **state)
{
    (void)state;
    const uint64_t idx[] = {0, 5, 999, 1000, 1234067, 1000000, UINT64_MAX / 3};
    const unsigned widths[] = {1, 17, 255, 256};
    for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
        for (size_t w = 0; w < 4; w++) {
            for (int entries = 0; entries < 2; entries++) {
                char p[SCITT_TILE_PATH_MAX];
                if (entries) {
                    assert_int_equal(scitt_tile_entries_path(idx[i], widths[w], p, sizeof(p)),
                                     SCITT_OK);
                } else {
                    assert_int_equal(scitt_tile_path(3, idx[i], widths[w], p, sizeof(p)), SCITT_OK);
                }
                bool e;
                unsigned lv, wd;
                uint64_t n;
                assert_int_equal(scitt_tile_parse_path(scitt_span_str(p), &e, &lv, &n, &wd),
                                 SCITT_OK);
                assert_int_equal(e, entries);
                assert_int_equal(n, idx[i]);
                assert_int_equal(wd, widths[w]);
                if (!entries) {
                    assert_int_equal(lv, 3);
                }
            }
        }
    }
}

static void test_parse_rejects(void **state)
{
    (void)state;
    /* each row is a path that is not in canonical form, with the reason */
    static const char *bad[] = {
        "tile/0/5",                                      /* index group not 3 digits */
        "tile/0/0005",                                   /* group too long */
        "tile/00/005",                                   /* level with a leading zero */
        "tile/64/005",                                   /* level out of range */
        "tile/0/x000/005",                               /* leading zero group */
        "tile/0/x001/05",                                /* short last group */
        "tile/0/x001",                                   /* x group without a final group */
        "tile/0/001/002",                                /* missing x prefix */
        "tile/0/005.p/0",                                /* width 0 */
        "tile/0/005.p/256",                              /* width 256 is a full tile, not partial */
        "tile/0/005.p/017",                              /* width with a leading zero */
        "tile/0/005.p/",                                 /* empty width */
        "tile/0/005/",                                   /* trailing slash */
        "tile/entries/",                                 /* no index */
        "tile/entry/005",                                /* wrong keyword */
        "/tile/0/005",                                   /* leading slash */
        "tile/0/-05",                                    /* sign */
        "tile/0/x1a3/005",                               /* non-digit */
        "tile/0/x001/x002/x003/x004/x005/x006/x007/008", /* more than 7 groups */
        "tile/0/x999/x999/x999/x999/x999/x999/999",      /* over 2^64 */
        "tile/0/005.p/12x",                              /* junk after width */
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bool e;
        unsigned lv, wd;
        uint64_t n;
        if (scitt_tile_parse_path(scitt_span_str(bad[i]), &e, &lv, &n, &wd) !=
            SCITT_ERR_MALFORMED) {
            fail_msg("accepted %s", bad[i]);
        }
    }
}

static void test_widths(void **state)
{
    (void)state;
    /* C2SP example: 70 000 leaves */
    const uint64_t s = 70000;
    assert_int_equal(scitt_tile_width(0, 272, s), 256);
    assert_int_equal(scitt_tile_width(0, 273, s), 112);
    assert_int_equal(scitt_tile_width(0, 274, s), 0);
    assert_int_equal(scitt_tile_width(1, 0, s), 256);
    assert_int_equal(scitt_tile_width(1, 1, s), 17);
    assert_int_equal(scitt_tile_width(2, 0, s), 1);
    assert_int_equal(scitt_tile_width(3, 0, s), 0);
    assert_int_equal(scitt_tile_width(0, 0, 0), 0);
}

static void test_locate_and_fold(void **state)
{
    (void)state;
    memtree t;
    memtree_init(&t);
    enum { LEAVES = 70000 };
    for (uint32_t i = 0; i < LEAVES; i++) {
        uint8_t h[32];
        scitt_merkle_leaf_hash(scitt_span_make(&i, sizeof(i)), h);
        assert_int_equal(memtree_append(&t, h), SCITT_OK);
    }
    /* every node at levels 0..16 for a spread of indices: fold the run of its tile */
    for (unsigned level = 0; level <= 16; level++) {
        uint64_t count_at_level = LEAVES >> level;
        for (uint64_t idx = 0; idx < count_at_level; idx += 1 + count_at_level / 37) {
            unsigned tl, first, count;
            uint64_t ti;
            scitt_tile_locate(level, idx, &tl, &ti, &first, &count);
            assert_int_equal(tl, level / 8);
            assert_true(first + count <= 256);
            uint64_t stored_index = ti * 256 + first;
            uint8_t got[32], want[32];
            scitt_merkle_fold((const uint8_t(*)[32])(t.levels[tl * 8] + stored_index), count, got);
            assert_int_equal(memtree_node(&t, level, idx, want), SCITT_OK);
            assert_memory_equal(got, want, 32);
        }
    }
    memtree_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),           cmocka_unit_test(test_parse_roundtrip),
        cmocka_unit_test(test_parse_rejects),   cmocka_unit_test(test_widths),
        cmocka_unit_test(test_locate_and_fold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
