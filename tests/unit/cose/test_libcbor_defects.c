/*
 * Pins the two defects of Debian 12's libcbor 0.8.0 that the strict reader contains, by showing
 * that libcbor itself still has them and that our reader does not:
 *  1. cbor_stream_decode (and cbor_load) reject every tag 6..20 written in its one-byte form
 *     (0xc6..0xd4), COSE_Sign1's tag 18 (0xd2) included.
 *  2. cbor_load allocates a declared array size before reading one element: six bytes ask for
 *     4.4 GB.
 * If a libcbor upgrade fixes one of them, its "libcbor still has it" assertion fails, so the
 * workaround gets reviewed instead of silently outliving its reason.
 *
 * Observing the allocation without making it: libcbor's own allocations go through cbor_set_allocs
 * when it is built with CBOR_CUSTOM_ALLOC. Debian builds it without, so cbor_set_allocs does not
 * exist there; instead this executable defines libcbor's exported helper _cbor_alloc_multiple,
 * through which cbor_new_definite_array allocates. libcbor calls it through its PLT, so the
 * dynamic linker binds that call to the executable's definition (ordinary ELF symbol
 * interposition). Either hook records the size asked for and refuses anything over 1 MiB.
 */
#include "testutil.h"

#include <cbor.h>

#include "scitt/cbor.h"

#define REFUSE_ABOVE ((size_t)1 << 20)

static size_t largest_request;
static size_t requests;

static void *observe(size_t n)
{
    requests++;
    if (n > largest_request) {
        largest_request = n;
    }
    return n > REFUSE_ABOVE ? NULL : malloc(n ? n : 1);
}

#if CBOR_CUSTOM_ALLOC
static void *observe_malloc(size_t n)
{
    return observe(n);
}
static void install_hook(void)
{
    cbor_set_allocs(observe_malloc, realloc, free);
}
#else
void *_cbor_alloc_multiple(size_t item_size, size_t item_count);
void *_cbor_alloc_multiple(size_t item_size, size_t item_count)
{
    if (item_count != 0 && item_size > SIZE_MAX / item_count) {
        return NULL; /* what libcbor's own version does on overflow */
    }
    return observe(item_size * item_count);
}
static void install_hook(void)
{
}
#endif

static size_t our_allocations;

static void *count_alloc(void *ctx, size_t n)
{
    (void)ctx;
    our_allocations++;
    return malloc(n);
}
static void *count_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    our_allocations++;
    return realloc(p, n);
}
static void count_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static void test_one_byte_tags(void **state)
{
    (void)state;
    for (unsigned t = 0; t < 24; t++) {
        uint8_t in[2] = {(uint8_t)(0xc0 | t), 0x80}; /* tag t wrapping [] */
        struct cbor_decoder_result res =
            cbor_stream_decode(in, sizeof(in), &cbor_empty_callbacks, NULL);
        struct cbor_load_result lr;
        cbor_item_t *item = cbor_load(in, sizeof(in), &lr);
        bool defect = t >= 6 && t <= 20;
        if (defect) {
            /* libcbor still refuses these; if this fails, libcbor was fixed: review the reader. */
            assert_int_not_equal(res.status, CBOR_DECODER_FINISHED);
            assert_null(item);
        } else {
            assert_int_equal(res.status, CBOR_DECODER_FINISHED);
            assert_int_equal(res.read, 1);
            assert_non_null(item);
            cbor_decref(&item);
        }
        /* Our reader decodes every one of them. */
        scitt_cbor_reader r;
        scitt_cbor_reader_init(&r, scitt_span_make(in, sizeof(in)));
        uint64_t tag;
        size_t n;
        assert_int_equal(scitt_cbor_read_tag(&r, &tag), SCITT_OK);
        assert_int_equal(tag, t);
        assert_int_equal(scitt_cbor_read_array(&r, &n), SCITT_OK);
        assert_int_equal(scitt_cbor_reader_finish(&r), SCITT_OK);
    }
    /* The two-byte form of tag 18 works in libcbor, which is why the defect went unnoticed. */
    static const uint8_t two[] = {0xd8, 0x12, 0x80};
    struct cbor_decoder_result res =
        cbor_stream_decode(two, sizeof(two), &cbor_empty_callbacks, NULL);
    assert_int_equal(res.status, CBOR_DECODER_FINISHED);
}

static void test_declared_size_allocation(void **state)
{
    (void)state;
    install_hook();
    /* An array head declaring 0x20c49ba6 (549,755,814) elements, and one element. */
    static const uint8_t in[] = {0x9a, 0x20, 0xc4, 0x9b, 0xa6, 0x00};
    largest_request = 0;
    requests = 0;
    struct cbor_load_result lr;
    cbor_item_t *item = cbor_load(in, sizeof(in), &lr);
    assert_null(item);
    /* libcbor asked for the whole declared array up front: 4,398,046,512 bytes on 64-bit. */
    assert_int_equal(largest_request, (size_t)0x20c49ba6 * sizeof(cbor_item_t *));
    assert_true(largest_request > (size_t)4000000000u);

    /* Our reader rejects the head from the bytes that remain, allocating nothing at all. */
    requests = 0;
    scitt_allocator counting = {count_alloc, count_realloc, count_free, NULL};
    scitt_set_allocator(&counting);
    our_allocations = 0;
    assert_int_equal(scitt_cbor_validate(scitt_span_make(in, sizeof(in))), SCITT_ERR_TRUNCATED);
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, scitt_span_make(in, sizeof(in)));
    size_t n;
    assert_int_equal(scitt_cbor_read_array(&r, &n), SCITT_ERR_TRUNCATED);
    scitt_set_allocator(NULL);
    assert_int_equal(our_allocations, 0);
    assert_int_equal(requests, 0); /* and libcbor's allocator was never reached */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_byte_tags),
        cmocka_unit_test(test_declared_size_allocation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
