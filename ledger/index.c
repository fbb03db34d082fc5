/*
 * The index: entry-ID and auditor postings in the index tables, which a backend may commit
 * lazily (LMDB: their own environment, without fsync). It is derived from the log: its watermark
 * says how many entries it covers, the sequencer catches it up from the log when it lags, and a
 * copy that cannot be trusted is thrown away and rebuilt. See store.h for why it is separate.
 */
#include "store.h"

#include <stdio.h>
#include <string.h>

static const char watermark_key[] = "indexed";

scitt_err scitt__index_mark_get(scitt__txn *txn, const scitt__store *s, char out[INDEX_MARK_MAX])
{
    out[0] = 0;
    scitt_span k = scitt_span_make((const uint8_t *)INDEX_MARK_KEY, sizeof(INDEX_MARK_KEY) - 1), v;
    scitt_err e = scitt__kv_get(s, txn, SCITT__T_META, k, &v);
    if (e == SCITT_ERR_NOT_FOUND) {
        return SCITT_OK;
    }
    if (e != SCITT_OK) {
        return e;
    }
    if (v.len >= INDEX_MARK_MAX) {
        return SCITT_ERR_CORRUPT;
    }
    memcpy(out, v.ptr, v.len);
    out[v.len] = 0;
    return SCITT_OK;
}

scitt_err scitt__index_mark_put(scitt__txn *txn, const scitt__store *s, const char *value)
{
    scitt_span k = scitt_span_make((const uint8_t *)INDEX_MARK_KEY, sizeof(INDEX_MARK_KEY) - 1);
    scitt_span v = scitt_span_make((const uint8_t *)value, strlen(value));
    return scitt__kv_put(s, txn, SCITT__T_META, k, v, 0);
}

void scitt__index_mark_open(char out[INDEX_MARK_MAX])
{
    char boot[64] = "";
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
    if (f) {
        if (!fgets(boot, sizeof(boot), f)) {
            boot[0] = 0;
        }
        fclose(f);
    }
    boot[strcspn(boot, "\n")] = 0;
    snprintf(out, INDEX_MARK_MAX, "open%s%s", boot[0] ? " " : "", boot);
}

scitt_err scitt__index_watermark(scitt__txn *itxn, const scitt__store *s, uint64_t *w)
{
    scitt_span k = scitt_span_make((const uint8_t *)watermark_key, sizeof(watermark_key) - 1), v;
    scitt_err e = scitt__kv_get(s, itxn, SCITT__T_IMETA, k, &v);
    if (e == SCITT_ERR_NOT_FOUND) {
        *w = 0;
        return SCITT_OK;
    }
    if (e != SCITT_OK) {
        return e;
    }
    if (v.len != 8) {
        return SCITT_ERR_CORRUPT;
    }
    *w = scitt__get_be64(v.ptr);
    return SCITT_OK;
}

scitt_err scitt__index_set_watermark(scitt__txn *itxn, const scitt__store *s, uint64_t w)
{
    uint8_t b[8];
    scitt__be64(b, w);
    scitt_span k = scitt_span_make((const uint8_t *)watermark_key, sizeof(watermark_key) - 1);
    return scitt__kv_put(s, itxn, SCITT__T_IMETA, k, scitt_span_make(b, 8), 0);
}

static scitt_err put_posting(scitt__txn *itxn, const scitt__store *s, scitt__table tb,
                             const uint8_t hash[8], uint64_t index)
{
    if (index > POSTING_INDEX_MAX) {
        return SCITT_ERR_RANGE;
    }
    uint8_t kb[POSTING_KEY_BYTES], vb[POSTING_BYTES];
    scitt__posting_make(hash, index, kb, vb);
    return scitt__kv_put(s, itxn, tb, scitt_span_make(kb, POSTING_KEY_BYTES),
                         scitt_span_make(vb, POSTING_BYTES), 0);
}

void scitt__postings_make(scitt__postings *p, uint64_t index, const uint8_t id[SCITT_HASH_LEN],
                          scitt_span iss, scitt_span sub, scitt_span digest)
{
    p->index = index;
    memcpy(p->id, id, SCITT_HASH_LEN);
    p->has_iss = iss.len > 0;
    p->has_sub = sub.len > 0;
    p->has_dig = digest.len > 0;
    if (p->has_iss) {
        scitt__posting_hash(iss, p->iss);
    }
    if (p->has_sub) {
        scitt__posting_hash(sub, p->sub);
    }
    if (p->has_dig) {
        scitt__posting_hash(digest, p->dig);
    }
}

scitt_err scitt__index_add(scitt__txn *itxn, const scitt__store *s, const scitt__postings *p)
{
    scitt_err e = put_posting(itxn, s, SCITT__T_IDS, p->id, p->index);
    if (e == SCITT_OK && p->has_iss) {
        e = put_posting(itxn, s, SCITT__T_ISS, p->iss, p->index);
    }
    if (e == SCITT_OK && p->has_sub) {
        e = put_posting(itxn, s, SCITT__T_SUB, p->sub, p->index);
    }
    if (e == SCITT_OK && p->has_dig) {
        e = put_posting(itxn, s, SCITT__T_DIG, p->dig, p->index);
    }
    return e;
}

scitt_err scitt__index_confirm(scitt__txn *txn, const scitt__store *s, uint64_t index,
                               uint64_t size, const uint8_t id[SCITT_HASH_LEN], bool *match)
{
    *match = false;
    if (index >= size) {
        return SCITT_OK; /* left over from a lost batch, or not in this snapshot */
    }
    scitt_span entry;
    scitt_err e = scitt__entry_get(txn, s, index, size, &entry);
    if (e != SCITT_OK) {
        return e;
    }
    uint8_t h[SCITT_HASH_LEN];
    scitt_sha256(entry.ptr, entry.len, h);
    *match = memcmp(h, id, SCITT_HASH_LEN) == 0;
    return SCITT_OK;
}

scitt_err scitt__index_find(scitt__txn *itxn, scitt__txn *txn, const scitt__store *s,
                            const uint8_t id[SCITT_HASH_LEN], uint64_t size, uint64_t *index)
{
    uint8_t kb[POSTING_KEY_BYTES], vb[POSTING_BYTES];
    scitt__posting_make(id, 0, kb, vb);
    scitt__cursor *c;
    scitt_err e = scitt__cursor_open(s, itxn, SCITT__T_IDS, &c);
    if (e != SCITT_OK) {
        return e;
    }
    scitt_span k = scitt_span_make(kb, POSTING_KEY_BYTES), v = scitt_span_make(vb, POSTING_BYTES);
    scitt_err rc = scitt__cursor_get(s, c, &k, &v, SCITT__OP_GET_BOTH_RANGE);
    e = SCITT_ERR_NOT_FOUND;
    while (rc == SCITT_OK && v.len == POSTING_BYTES && scitt__posting_matches(v.ptr, id)) {
        uint64_t cand = scitt__posting_index(v.ptr);
        bool match = false;
        scitt_err g = scitt__index_confirm(txn, s, cand, size, id, &match);
        if (g != SCITT_OK) {
            e = g;
            break;
        }
        if (match) {
            *index = cand;
            e = SCITT_OK;
            break;
        }
        rc = scitt__cursor_get(s, c, &k, &v, SCITT__OP_NEXT_DUP);
    }
    if (rc != SCITT_OK && rc != SCITT_ERR_NOT_FOUND && e == SCITT_ERR_NOT_FOUND) {
        e = rc;
    }
    scitt__cursor_close(s, c);
    return e;
}
