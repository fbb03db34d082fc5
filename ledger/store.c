/* The LMDB environment, record codecs and zero-copy readers shared by the ledger. */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "scitt/file.h"

scitt_err scitt__mdb_err(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return SCITT_OK;
    case MDB_NOTFOUND:
        return SCITT_ERR_NOT_FOUND;
    case MDB_MAP_FULL:
        return SCITT_ERR_MAP_FULL;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_PANIC:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
        return SCITT_ERR_CORRUPT;
    case MDB_READERS_FULL:
    case MDB_MAP_RESIZED:
        return SCITT_ERR_BUSY;
    case ENOSPC:
    case EDQUOT:
        return SCITT_ERR_NO_SPACE;
    case ENOMEM:
        return SCITT_ERR_NOMEM;
    default:
        return SCITT_ERR_IO;
    }
}

void scitt__be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

uint64_t scitt__get_be64(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | in[i];
    }
    return v;
}

void scitt__tile_key(uint8_t out[9], unsigned level, uint64_t index)
{
    out[0] = (uint8_t)level;
    scitt__be64(out + 1, index);
}

void scitt__tile_locate(unsigned level, uint64_t index, unsigned *tile_level, uint64_t *tile_index)
{
    unsigned r = level % SCITT_TILE_HEIGHT;
    *tile_level = level / SCITT_TILE_HEIGHT;
    *tile_index = r == 0 ? index / TILE_BASE : index >> (SCITT_TILE_HEIGHT - r);
}

/* Slot of a stored node inside its record: base hashes first, then levels 2..7 in order. */
static size_t tile_slot(unsigned level, uint64_t index)
{
    unsigned r = level % SCITT_TILE_HEIGHT;
    if (r == 0) {
        return (size_t)(index % TILE_BASE);
    }
    unsigned per_tile = TILE_BASE >> r;
    unsigned offset = TILE_BASE / 2 - (TILE_BASE >> (r - 1)); /* levels 2 .. r-1 before it */
    return TILE_BASE + offset + (size_t)(index & (per_tile - 1));
}

void scitt__tile_read(const uint8_t *tile, unsigned level, uint64_t index,
                      uint8_t out[SCITT_HASH_LEN])
{
    if (level % SCITT_TILE_HEIGHT == 1) {
        size_t left = tile_slot(level - 1, index * 2);
        scitt_merkle_node_hash(tile + left * SCITT_HASH_LEN, tile + (left + 1) * SCITT_HASH_LEN,
                               out);
        return;
    }
    memcpy(out, tile + tile_slot(level, index) * SCITT_HASH_LEN, SCITT_HASH_LEN);
}

bool scitt__tile_write(uint8_t *tile, unsigned level, uint64_t index,
                       const uint8_t hash[SCITT_HASH_LEN])
{
    if (level % SCITT_TILE_HEIGHT == 1) {
        return false;
    }
    memcpy(tile + tile_slot(level, index) * SCITT_HASH_LEN, hash, SCITT_HASH_LEN);
    return true;
}

static scitt_err open_dbi(MDB_txn *txn, const char *name, unsigned flags, MDB_dbi *dbi)
{
    return scitt__mdb_err(mdb_dbi_open(txn, name, flags, dbi));
}

/* Writes the entries of a be32-length-prefixed bundle, from bundle position 0, to `recent`. */
static scitt_err bundle_split(MDB_txn *txn, const scitt__store *s, uint64_t first,
                              scitt_span bundle)
{
    scitt_reader r;
    scitt_reader_init(&r, bundle);
    for (uint64_t i = first; r.err == SCITT_OK && scitt_reader_left(&r) > 0; i++) {
        uint32_t len = scitt_reader_be32(&r);
        scitt_span e = scitt_reader_take(&r, len);
        if (r.err != SCITT_OK) {
            break;
        }
        uint8_t kb[8];
        scitt__be64(kb, i);
        MDB_val k = {8, kb}, v = {e.len, (void *)e.ptr};
        scitt_err pe = scitt__mdb_err(mdb_put(txn, s->recent, &k, &v, 0));
        if (pe != SCITT_OK) {
            return pe;
        }
    }
    return r.err == SCITT_OK ? SCITT_OK : SCITT_ERR_CORRUPT;
}

/*
 * Version 1 kept the incomplete last bundle as a record of its own: move its entries to
 * `recent`, one record each, and drop the record, in the transaction that opens the store.
 */
static scitt_err upgrade_v1(MDB_txn *txn, const scitt__store *s)
{
    MDB_cursor *c = NULL;
    scitt_err e = scitt__mdb_err(mdb_cursor_open(txn, s->bundles, &c));
    MDB_val k, v;
    int rc = e == SCITT_OK ? mdb_cursor_get(c, &k, &v, MDB_LAST) : MDB_SUCCESS;
    if (e == SCITT_OK && rc == MDB_SUCCESS && k.mv_size == 8) {
        /* count its entries: fewer than BUNDLE_ENTRIES means incomplete */
        scitt_reader r;
        scitt_reader_init(&r, scitt_span_make(v.mv_data, v.mv_size));
        unsigned n = 0;
        while (r.err == SCITT_OK && scitt_reader_left(&r) > 0) {
            uint32_t len = scitt_reader_be32(&r);
            if (scitt_reader_take(&r, len).ptr) {
                n++;
            }
        }
        if (r.err != SCITT_OK) {
            e = SCITT_ERR_CORRUPT;
        } else if (n < BUNDLE_ENTRIES) {
            uint64_t first = scitt__get_be64(k.mv_data) * BUNDLE_ENTRIES;
            /* copy first: the record's pages are freed by the delete */
            scitt_dynbuf copy;
            scitt_dynbuf_init(&copy, 0);
            scitt_dynbuf_put(&copy, v.mv_data, v.mv_size);
            e = copy.err ? copy.err : scitt__mdb_err(mdb_cursor_del(c, 0));
            e = e ? e : bundle_split(txn, s, first, scitt_span_make(copy.ptr, copy.len));
            scitt_dynbuf_clear(&copy);
        }
    } else if (e == SCITT_OK && rc != MDB_NOTFOUND && rc != MDB_SUCCESS) {
        e = scitt__mdb_err(rc);
    }
    if (c) {
        mdb_cursor_close(c);
    }
    if (e == SCITT_OK) {
        uint8_t ver = SCHEMA_VERSION;
        MDB_val vk = {7, "version"}, vv = {1, &ver};
        e = scitt__mdb_err(mdb_put(txn, s->meta, &vk, &vv, 0));
    }
    return e;
}

scitt_err scitt__store_open(scitt__store *s, const char *dir, uint64_t map_size,
                            uint64_t map_size_max, bool read_only)
{
    memset(s, 0, sizeof(*s));
    s->read_only = read_only;
    s->map_size = map_size ? map_size : (UINT64_C(1) << 30);
    s->map_size_max = map_size_max > s->map_size ? map_size_max : s->map_size;
    if (!read_only && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        return SCITT_ERR_IO;
    }
    if (pthread_rwlock_init(&s->grow, NULL) != 0) {
        return SCITT_ERR_NOMEM;
    }
    char data_path[4200];
    struct stat st;
    snprintf(data_path, sizeof(data_path), "%s/data.mdb", dir);
    bool fresh = !read_only && stat(data_path, &st) != 0;
    int rc = mdb_env_create(&s->env);
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_set_maxdbs(s->env, 16);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_set_mapsize(s->env, (size_t)s->map_size);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_set_maxreaders(s->env, 512);
    }
    if (rc == MDB_SUCCESS) {
        /* MDB_NOTLS: read transactions are used from worker threads, not one per thread.
         * MDB_NORDAHEAD: reads of a large log land on random pages, and a fault on a page not in
         * memory would otherwise read the device's whole read-ahead window around it (8 MB on
         * some virtual disks); entry bundles, the one multi-page value read whole, are asked for
         * explicitly (scitt__entry_get). */
        unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | (read_only ? MDB_RDONLY : 0);
        rc = mdb_env_open(s->env, dir, flags, 0600);
    }
    if (rc != MDB_SUCCESS) {
        scitt_err e = rc == ENOENT ? SCITT_ERR_NOT_FOUND : scitt__mdb_err(rc);
        scitt__store_close(s);
        return e;
    }
    /* A read-only opener sees the map size the writer set. */
    MDB_envinfo info;
    if (mdb_env_info(s->env, &info) == MDB_SUCCESS && info.me_mapsize > s->map_size) {
        s->map_size = info.me_mapsize;
    }

    MDB_txn *txn;
    rc = mdb_txn_begin(s->env, NULL, read_only ? MDB_RDONLY : 0, &txn);
    if (rc != MDB_SUCCESS) {
        scitt__store_close(s);
        return scitt__mdb_err(rc);
    }
    unsigned c = read_only ? 0 : MDB_CREATE;
    scitt_err e = open_dbi(txn, "meta", c, &s->meta);
    e = e ? e : open_dbi(txn, "heads", c, &s->heads);
    e = e ? e : open_dbi(txn, "times", c, &s->times);
    e = e ? e : open_dbi(txn, "tiles", c, &s->tiles);
    e = e ? e : open_dbi(txn, "bundles", c, &s->bundles);
    /* a read-only opener of a version-1 store finds no `recent`: every entry is in `bundles` */
    if (e == SCITT_OK && open_dbi(txn, "recent", c, &s->recent) != SCITT_OK) {
        s->recent = s->bundles;
    }
    /* a read-only opener of a store written before `boffsets` walks every bundle */
    if (e == SCITT_OK) {
        scitt_err oe = open_dbi(txn, "boffsets", c, &s->boffsets);
        s->has_boffsets = oe == SCITT_OK;
        e = read_only ? SCITT_OK : oe;
    }
    if (e == SCITT_OK && !read_only) {
        /* Record the schema version once; refuse a store written by another version. */
        MDB_val k = {7, "version"}, v;
        uint8_t ver = SCHEMA_VERSION;
        int g = mdb_get(txn, s->meta, &k, &v);
        if (g == MDB_NOTFOUND) {
            v.mv_size = 1;
            v.mv_data = &ver;
            e = scitt__mdb_err(mdb_put(txn, s->meta, &k, &v, 0));
        } else if (g != MDB_SUCCESS) {
            e = scitt__mdb_err(g);
        } else if (v.mv_size == 1 && *(uint8_t *)v.mv_data == 1) {
            e = upgrade_v1(txn, s);
        } else if (v.mv_size != 1 || *(uint8_t *)v.mv_data != SCHEMA_VERSION) {
            e = SCITT_ERR_UNSUPPORTED;
        }
    }
    if (e == SCITT_OK) {
        e = scitt__mdb_err(mdb_txn_commit(txn));
    } else {
        mdb_txn_abort(txn);
    }
    if (e == SCITT_OK && fresh) {
        /* A new log file is a new name in the data directory (which may be new itself): LMDB
         * syncs the file at every commit, never the directories that name it. */
        e = scitt_dir_sync(dir);
        e = e ? e : scitt_dir_sync_parent(dir);
    }
    if (e == SCITT_OK) {
        size_t n = strlen(dir);
        s->dir = scitt_malloc(n + 1);
        if (s->dir) {
            memcpy(s->dir, dir, n + 1);
        }
        e = s->dir ? scitt__index_open(s, false) : SCITT_ERR_NOMEM;
    }
    if (e != SCITT_OK) {
        scitt__store_close(s);
    }
    return e;
}

void scitt__store_close(scitt__store *s)
{
    scitt__index_close(s);
    if (s->env) {
        mdb_env_close(s->env);
        s->env = NULL;
        pthread_rwlock_destroy(&s->grow);
    }
    scitt_free(s->dir);
    s->dir = NULL;
}

scitt_err scitt__store_grow(scitt__store *s)
{
    if (s->map_size >= s->map_size_max) {
        return SCITT_ERR_MAP_FULL;
    }
    uint64_t next = s->map_size * 2;
    if (next > s->map_size_max) {
        next = s->map_size_max;
    }
    pthread_rwlock_wrlock(&s->grow);
    int rc = mdb_env_set_mapsize(s->env, (size_t)next);
    pthread_rwlock_unlock(&s->grow);
    if (rc != MDB_SUCCESS) {
        return scitt__mdb_err(rc);
    }
    s->map_size = next;
    return SCITT_OK;
}

scitt_err scitt__store_commit_err(scitt__store *s, int rc)
{
    scitt_err e = scitt__mdb_err(rc);
    mdb_filehandle_t fd;
    struct statvfs vfs;
    if (e == SCITT_ERR_IO && mdb_env_get_fd(s->env, &fd) == MDB_SUCCESS &&
        fstatvfs(fd, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < (UINT64_C(1) << 20)) {
        e = SCITT_ERR_NO_SPACE;
    }
    return e;
}

/*
 * Head record: version u8, root[32], time_ms be64, policy be64, then three be32-length-prefixed
 * blobs: receipt protected header, receipt signature, checkpoint note.
 */
scitt_err scitt__head_encode(const scitt_tree_head *h, scitt_dynbuf *out)
{
    uint8_t n[8];
    scitt_dynbuf_u8(out, HEAD_VERSION);
    scitt_dynbuf_put(out, h->root, SCITT_HASH_LEN);
    scitt__be64(n, (uint64_t)h->time_ms);
    scitt_dynbuf_put(out, n, 8);
    scitt__be64(n, h->policy_index);
    scitt_dynbuf_put(out, n, 8);
    const scitt_span blobs[3] = {h->receipt_protected, h->receipt_signature, h->checkpoint};
    for (int i = 0; i < 3; i++) {
        if (blobs[i].len > UINT32_MAX) {
            return SCITT_ERR_TOO_LARGE;
        }
        uint8_t l[4] = {(uint8_t)(blobs[i].len >> 24), (uint8_t)(blobs[i].len >> 16),
                        (uint8_t)(blobs[i].len >> 8), (uint8_t)blobs[i].len};
        scitt_dynbuf_put(out, l, 4);
        scitt_dynbuf_put(out, blobs[i].ptr, blobs[i].len);
    }
    return out->err;
}

scitt_err scitt__head_decode(uint64_t size, scitt_span value, scitt_tree_head *out)
{
    scitt_reader r;
    scitt_reader_init(&r, value);
    if (scitt_reader_u8(&r) != HEAD_VERSION) {
        return SCITT_ERR_CORRUPT;
    }
    out->size = size;
    scitt_span root = scitt_reader_take(&r, SCITT_HASH_LEN);
    if (root.len == SCITT_HASH_LEN) {
        memcpy(out->root, root.ptr, SCITT_HASH_LEN);
    }
    out->time_ms = (int64_t)scitt_reader_be64(&r);
    out->policy_index = scitt_reader_be64(&r);
    scitt_span *blobs[3] = {&out->receipt_protected, &out->receipt_signature, &out->checkpoint};
    for (int i = 0; i < 3; i++) {
        uint32_t len = scitt_reader_be32(&r);
        *blobs[i] = scitt_reader_take(&r, len);
    }
    return scitt_reader_finish(&r) == SCITT_OK ? SCITT_OK : SCITT_ERR_CORRUPT;
}

scitt_err scitt__head_get(MDB_txn *txn, const scitt__store *s, uint64_t size, scitt_tree_head *out)
{
    uint8_t kb[8];
    scitt__be64(kb, size);
    MDB_val k = {8, kb}, v;
    int rc = mdb_get(txn, s->heads, &k, &v);
    if (rc != MDB_SUCCESS) {
        return scitt__mdb_err(rc);
    }
    return scitt__head_decode(size, scitt_span_make(v.mv_data, v.mv_size), out);
}

scitt_err scitt__head_latest(MDB_txn *txn, const scitt__store *s, scitt_tree_head *out)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, s->heads, &c);
    if (rc != MDB_SUCCESS) {
        return scitt__mdb_err(rc);
    }
    MDB_val k, v;
    rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
    mdb_cursor_close(c);
    if (rc != MDB_SUCCESS) {
        return scitt__mdb_err(rc);
    }
    if (k.mv_size != 8) {
        return SCITT_ERR_CORRUPT;
    }
    return scitt__head_decode(scitt__get_be64(k.mv_data), scitt_span_make(v.mv_data, v.mv_size),
                              out);
}

scitt_err scitt__tile_get(MDB_txn *txn, const scitt__store *s, unsigned level, uint64_t index,
                          const uint8_t **hashes)
{
    uint8_t kb[9];
    scitt__tile_key(kb, level, index);
    MDB_val k = {9, kb}, v;
    int rc = mdb_get(txn, s->tiles, &k, &v);
    if (rc != MDB_SUCCESS) {
        return scitt__mdb_err(rc);
    }
    if (v.mv_size != TILE_BYTES) {
        return SCITT_ERR_CORRUPT;
    }
    *hashes = v.mv_data;
    return SCITT_OK;
}

/* Asks the kernel to read the pages of a value in the map at once, before a scan walks them one
 * fault at a time (the map has no read-ahead); only a hint, so its failure changes nothing. */
static void will_read(const void *p, size_t len)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)p & ~(page - 1), end = (uintptr_t)p + len;
    (void)madvise((void *)a, end - a, MADV_WILLNEED);
}

/* Entry @p pos of a bundle: at its recorded offset when @p offsets is not empty, else found by
 * walking the length prefixes from the start. */
static scitt_err bundle_pick(scitt_span bundle, scitt_span offsets, unsigned pos, scitt_span *entry)
{
    scitt_reader r;
    scitt_reader_init(&r, bundle);
    unsigned skip = pos;
    if (offsets.len) {
        if (offsets.len != 4u * BUNDLE_ENTRIES) {
            return SCITT_ERR_CORRUPT;
        }
        scitt_reader o;
        scitt_reader_init(&o, offsets);
        (void)scitt_reader_take(&o, 4u * pos);
        (void)scitt_reader_take(&r, scitt_reader_be32(&o)); /* fails past the end */
        skip = 0;
    } else {
        will_read(bundle.ptr, bundle.len);
    }
    for (unsigned i = 0;; i++) {
        uint32_t len = scitt_reader_be32(&r);
        scitt_span e = scitt_reader_take(&r, len);
        if (r.err != SCITT_OK) {
            return SCITT_ERR_CORRUPT;
        }
        if (i == skip) {
            *entry = e;
            return SCITT_OK;
        }
    }
}

scitt_err scitt__bundle_offsets_put(MDB_txn *txn, const scitt__store *s, uint64_t bundle,
                                    scitt_span bytes)
{
    uint8_t off[4u * BUNDLE_ENTRIES];
    scitt_writer w;
    scitt_writer_init(&w, off, sizeof(off));
    scitt_reader r;
    scitt_reader_init(&r, bytes);
    for (unsigned i = 0; i < BUNDLE_ENTRIES; i++) {
        scitt_writer_be32(&w, (uint32_t)(bytes.len - scitt_reader_left(&r)));
        uint32_t len = scitt_reader_be32(&r);
        (void)scitt_reader_take(&r, len);
    }
    if (r.err != SCITT_OK || scitt_reader_left(&r) != 0) {
        return SCITT_ERR_CORRUPT; /* not a complete bundle */
    }
    uint8_t kb[8];
    scitt__be64(kb, bundle);
    MDB_val k = {8, kb}, v = {sizeof(off), off};
    return scitt__mdb_err(mdb_put(txn, s->boffsets, &k, &v, 0));
}

scitt_err scitt__entry_get(MDB_txn *txn, const scitt__store *s, uint64_t index, uint64_t size,
                           scitt_span *entry)
{
    if (index >= size) {
        return SCITT_ERR_NOT_FOUND;
    }
    uint8_t kb[8];
    scitt__be64(kb, index / BUNDLE_ENTRIES);
    MDB_val k = {8, kb}, v;
    scitt_err e = scitt__mdb_err(mdb_get(txn, s->bundles, &k, &v));
    if (e == SCITT_OK) {
        MDB_val ov = {0, NULL};
        if (s->has_boffsets) {
            int rc = mdb_get(txn, s->boffsets, &k, &ov);
            if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
                return scitt__mdb_err(rc);
            }
            if (rc == MDB_NOTFOUND) {
                ov.mv_size = 0;
            }
        }
        e = bundle_pick(scitt_span_make(v.mv_data, v.mv_size),
                        scitt_span_make(ov.mv_data, ov.mv_size), (unsigned)(index % BUNDLE_ENTRIES),
                        entry);
    } else if (e == SCITT_ERR_NOT_FOUND) {
        /* not in a complete bundle: one of the last, incomplete bundle's entries */
        scitt__be64(kb, index);
        e = scitt__mdb_err(mdb_get(txn, s->recent, &k, &v));
        *entry = scitt_span_make(v.mv_data, v.mv_size);
    }
    if (e == SCITT_ERR_NOT_FOUND) {
        return SCITT_ERR_CORRUPT; /* below the tree size, so it must exist */
    }
    if (e != SCITT_OK) {
        return e;
    }
    /* LMDB keeps no checksums: the stored leaf hash is the check. */
    const uint8_t *tile;
    e = scitt__tile_get(txn, s, 0, index / TILE_BASE, &tile);
    if (e != SCITT_OK) {
        return e == SCITT_ERR_NOT_FOUND ? SCITT_ERR_CORRUPT : e;
    }
    uint8_t leaf[SCITT_HASH_LEN];
    scitt_merkle_leaf_hash(*entry, leaf);
    if (memcmp(leaf, tile + (index % TILE_BASE) * SCITT_HASH_LEN, SCITT_HASH_LEN) != 0) {
        return SCITT_ERR_CORRUPT;
    }
    return SCITT_OK;
}

void scitt__posting_hash(scitt_span value, uint8_t out[8])
{
    uint8_t h[SCITT_SHA256_LEN];
    scitt_sha256(value.ptr, value.len, h);
    memcpy(out, h, 8);
}

void scitt__posting_make(const uint8_t hash[8], uint64_t index, uint8_t key[POSTING_KEY_BYTES],
                         uint8_t val[POSTING_BYTES])
{
    memcpy(key, hash, POSTING_KEY_BYTES);
    memcpy(val, hash + POSTING_KEY_BYTES, POSTING_HASH_BYTES);
    for (unsigned i = 0; i < POSTING_INDEX_BYTES; i++) {
        val[POSTING_HASH_BYTES + i] = (uint8_t)(index >> (8 * (POSTING_INDEX_BYTES - 1 - i)));
    }
}

uint64_t scitt__posting_index(const uint8_t val[POSTING_BYTES])
{
    uint64_t v = 0;
    for (unsigned i = 0; i < POSTING_INDEX_BYTES; i++) {
        v = (v << 8) | val[POSTING_HASH_BYTES + i];
    }
    return v;
}

bool scitt__posting_matches(const uint8_t val[POSTING_BYTES], const uint8_t hash[8])
{
    return memcmp(val, hash + POSTING_KEY_BYTES, POSTING_HASH_BYTES) == 0;
}
