/*
 * The index environment: entry-ID and auditor postings in their own LMDB environment, committed
 * without fsync. It is derived from the log: its watermark says how many entries it covers, the
 * sequencer catches it up from the log when it lags, and a copy that cannot be opened is thrown
 * away and rebuilt. See store.h for why it is separate.
 */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scitt/file.h"

static const char watermark_key[] = "indexed";

static scitt_err index_path(const scitt__store *s, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/index", s->dir);
    return n > 0 && (size_t)n < cap ? SCITT_OK : SCITT_ERR_TOO_LARGE;
}

static void index_remove(const scitt__store *s)
{
    char dir[4096], f[4200];
    if (index_path(s, dir, sizeof(dir)) != SCITT_OK) {
        return;
    }
    snprintf(f, sizeof(f), "%s/data.mdb", dir);
    unlink(f);
    snprintf(f, sizeof(f), "%s/lock.mdb", dir);
    unlink(f);
}

void scitt__index_close(scitt__store *s)
{
    if (s->ienv) {
        mdb_env_close(s->ienv);
        s->ienv = NULL;
    }
}

static scitt_err try_open(scitt__store *s, const char *dir)
{
    int rc = mdb_env_create(&s->ienv);
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_set_maxdbs(s->ienv, 8);
    }
    if (rc == MDB_SUCCESS) {
        /*
         * Write-mapped environments cannot grow while other threads read them, so the index gets
         * the map ceiling at once. The file is sparse: only what is written takes disk space.
         */
        rc = mdb_env_set_mapsize(s->ienv, (size_t)s->map_size_max);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_set_maxreaders(s->ienv, 512);
    }
    if (rc == MDB_SUCCESS) {
        /* No fsync at commit: the index is rebuilt from the durable log whenever in doubt.
         * No read-ahead: lookups land on random pages (see scitt__store_open). */
        unsigned flags =
            MDB_NOTLS | MDB_NORDAHEAD |
            (s->read_only ? MDB_RDONLY
                          : (MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP | MDB_MAPASYNC));
        rc = mdb_env_open(s->ienv, dir, flags, 0600);
    }
    if (rc != MDB_SUCCESS) {
        scitt__index_close(s);
        return rc == ENOENT ? SCITT_ERR_NOT_FOUND : scitt__mdb_err(rc);
    }

    MDB_txn *txn;
    rc = mdb_txn_begin(s->ienv, NULL, s->read_only ? MDB_RDONLY : 0, &txn);
    if (rc != MDB_SUCCESS) {
        scitt__index_close(s);
        return scitt__mdb_err(rc);
    }
    unsigned c = s->read_only ? 0 : MDB_CREATE;
    unsigned dup = c | MDB_DUPSORT | MDB_DUPFIXED;
    scitt_err e = scitt__mdb_err(mdb_dbi_open(txn, "meta", c, &s->imeta));
    e = e ? e : scitt__mdb_err(mdb_dbi_open(txn, "ids", dup, &s->ids));
    e = e ? e : scitt__mdb_err(mdb_dbi_open(txn, "iss", dup, &s->iss));
    e = e ? e : scitt__mdb_err(mdb_dbi_open(txn, "sub", dup, &s->sub));
    e = e ? e : scitt__mdb_err(mdb_dbi_open(txn, "dig", dup, &s->dig));
    if (e == SCITT_OK) {
        e = scitt__mdb_err(mdb_txn_commit(txn));
    } else {
        mdb_txn_abort(txn);
    }
    if (e != SCITT_OK) {
        scitt__index_close(s);
    }
    return e;
}

scitt_err scitt__index_open(scitt__store *s, bool reset)
{
    char dir[4096];
    scitt_err e = index_path(s, dir, sizeof(dir));
    if (e != SCITT_OK) {
        return e;
    }
    scitt__index_close(s);
    char file[4200];
    struct stat st;
    snprintf(file, sizeof(file), "%s/data.mdb", dir);
    bool fresh = !s->read_only && (reset || stat(file, &st) != 0);
    if (!s->read_only) {
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            return SCITT_ERR_IO;
        }
        if (reset) {
            index_remove(s);
        }
    }
    e = try_open(s, dir);
    if (e != SCITT_OK && e != SCITT_ERR_NOMEM && !s->read_only && !reset) {
        /* A copy that does not open (a crash with unflushed pages can do that) is rebuilt. */
        index_remove(s);
        e = try_open(s, dir);
        fresh = true;
    }
    if (e == SCITT_OK && fresh) {
        /* Name a new index durably (its directory, its file): without it, a power cut soon after
         * would lose the whole index and force a rebuild of it from the log. */
        e = scitt_dir_sync(s->dir);
        e = e ? e : scitt_dir_sync(dir);
    }
    return e;
}

scitt_err scitt__index_mark_get(MDB_txn *txn, const scitt__store *s, char out[INDEX_MARK_MAX])
{
    out[0] = 0;
    MDB_val k = {sizeof(INDEX_MARK_KEY) - 1, (void *)INDEX_MARK_KEY}, v;
    int rc = mdb_get(txn, s->meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        return SCITT_OK;
    }
    if (rc != MDB_SUCCESS) {
        return scitt__mdb_err(rc);
    }
    if (v.mv_size >= INDEX_MARK_MAX) {
        return SCITT_ERR_CORRUPT;
    }
    memcpy(out, v.mv_data, v.mv_size);
    out[v.mv_size] = 0;
    return SCITT_OK;
}

scitt_err scitt__index_mark_put(MDB_txn *txn, const scitt__store *s, const char *value)
{
    MDB_val k = {sizeof(INDEX_MARK_KEY) - 1, (void *)INDEX_MARK_KEY};
    MDB_val v = {strlen(value), (void *)value};
    return scitt__mdb_err(mdb_put(txn, s->meta, &k, &v, 0));
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

scitt_err scitt__index_watermark(MDB_txn *itxn, const scitt__store *s, uint64_t *w)
{
    MDB_val k = {sizeof(watermark_key) - 1, (void *)watermark_key}, v;
    int rc = mdb_get(itxn, s->imeta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *w = 0;
        return SCITT_OK;
    }
    if (rc != MDB_SUCCESS) {
        return scitt__mdb_err(rc);
    }
    if (v.mv_size != 8) {
        return SCITT_ERR_CORRUPT;
    }
    *w = scitt__get_be64(v.mv_data);
    return SCITT_OK;
}

scitt_err scitt__index_set_watermark(MDB_txn *itxn, const scitt__store *s, uint64_t w)
{
    uint8_t b[8];
    scitt__be64(b, w);
    MDB_val k = {sizeof(watermark_key) - 1, (void *)watermark_key}, v = {8, b};
    return scitt__mdb_err(mdb_put(itxn, s->imeta, &k, &v, 0));
}

static scitt_err put_posting(MDB_txn *itxn, MDB_dbi dbi, const uint8_t hash[8], uint64_t index)
{
    if (index > POSTING_INDEX_MAX) {
        return SCITT_ERR_RANGE;
    }
    uint8_t kb[POSTING_KEY_BYTES], vb[POSTING_BYTES];
    scitt__posting_make(hash, index, kb, vb);
    MDB_val k = {POSTING_KEY_BYTES, kb}, v = {POSTING_BYTES, vb};
    return scitt__mdb_err(mdb_put(itxn, dbi, &k, &v, 0));
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

scitt_err scitt__index_add(MDB_txn *itxn, const scitt__store *s, const scitt__postings *p)
{
    scitt_err e = put_posting(itxn, s->ids, p->id, p->index);
    if (e == SCITT_OK && p->has_iss) {
        e = put_posting(itxn, s->iss, p->iss, p->index);
    }
    if (e == SCITT_OK && p->has_sub) {
        e = put_posting(itxn, s->sub, p->sub, p->index);
    }
    if (e == SCITT_OK && p->has_dig) {
        e = put_posting(itxn, s->dig, p->dig, p->index);
    }
    return e;
}

scitt_err scitt__index_confirm(MDB_txn *txn, const scitt__store *s, uint64_t index, uint64_t size,
                               const uint8_t id[SCITT_HASH_LEN], bool *match)
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

scitt_err scitt__index_find(MDB_txn *itxn, MDB_txn *txn, const scitt__store *s,
                            const uint8_t id[SCITT_HASH_LEN], uint64_t size, uint64_t *index)
{
    uint8_t kb[POSTING_KEY_BYTES], vb[POSTING_BYTES];
    scitt__posting_make(id, 0, kb, vb);
    MDB_cursor *c;
    scitt_err e = scitt__mdb_err(mdb_cursor_open(itxn, s->ids, &c));
    if (e != SCITT_OK) {
        return e;
    }
    MDB_val k = {POSTING_KEY_BYTES, kb}, v = {POSTING_BYTES, vb};
    int rc = mdb_cursor_get(c, &k, &v, MDB_GET_BOTH_RANGE);
    e = SCITT_ERR_NOT_FOUND;
    while (rc == MDB_SUCCESS && v.mv_size == POSTING_BYTES &&
           scitt__posting_matches(v.mv_data, id)) {
        uint64_t cand = scitt__posting_index(v.mv_data);
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
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
    }
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND && e == SCITT_ERR_NOT_FOUND) {
        e = scitt__mdb_err(rc);
    }
    mdb_cursor_close(c);
    return e;
}
