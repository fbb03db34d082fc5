/*
 * The LMDB backend of the storage seam (storage.h): the log environment (durable at every commit)
 * and the index environment (committed without fsync, rebuilt from the log when in doubt), in the
 * data directory. docs/storage.md describes the layout.
 */
#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "scitt/file.h"

#include <lmdb.h>

/*
 * The LMDB backend keeps two environments. The main one is the log and is durable at every
 * commit: everything in it is appended in index order, so a batch writes mostly new pages. The
 * index environment holds the entry-ID and auditor postings: random keys that would dirty pages
 * all over a B-tree, so it is committed without fsync and treated as derived data: a watermark
 * says how many entries it covers, and it is caught up (or rebuilt) from the log whenever it lags
 * or cannot be opened.
 */
struct scitt__lmdb {
    MDB_env *env;
    MDB_env *ienv;
    MDB_dbi dbi[SCITT__T_COUNT];
    char *dir;
    /* Readers hold it shared for the life of a snapshot so the map can grow safely. */
    pthread_rwlock_t grow;
    bool grow_init;
};

/* Maps an LMDB or errno code to scitt_err (the one adapter for LMDB codes). */
static scitt_err scitt__mdb_err(int rc);

void *scitt__lmdb_env(const scitt__store *s, bool index)
{
    return s->lmdb ? (index ? s->lmdb->ienv : s->lmdb->env) : NULL;
}

static void lmdb_close(scitt__store *s);

static scitt_err scitt__mdb_err(int rc)
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
        scitt_err pe = scitt__mdb_err(mdb_put(txn, s->lmdb->dbi[SCITT__T_RECENT], &k, &v, 0));
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
    scitt_err e = scitt__mdb_err(mdb_cursor_open(txn, s->lmdb->dbi[SCITT__T_BUNDLES], &c));
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
        e = scitt__mdb_err(mdb_put(txn, s->lmdb->dbi[SCITT__T_META], &vk, &vv, 0));
    }
    return e;
}

scitt_err scitt__lmdb_open(scitt__store *s, const char *dir, uint64_t map_size,
                           uint64_t map_size_max, bool read_only)
{
    memset(s, 0, sizeof(*s));
    s->ops = &scitt__lmdb_ops;
    s->read_only = read_only;
    s->map_size = map_size ? map_size : (UINT64_C(1) << 30);
    s->map_size_max = map_size_max > s->map_size ? map_size_max : s->map_size;
    s->lmdb = scitt_calloc(1, sizeof(*s->lmdb));
    scitt_err early = !s->lmdb                                                 ? SCITT_ERR_NOMEM
                      : !read_only && mkdir(dir, 0700) != 0 && errno != EEXIST ? SCITT_ERR_IO
                      : pthread_rwlock_init(&s->lmdb->grow, NULL) != 0         ? SCITT_ERR_NOMEM
                                                                               : SCITT_OK;
    if (early != SCITT_OK) {
        scitt_free(s->lmdb);
        s->lmdb = NULL;
        return early;
    }
    char data_path[4200];
    struct stat st;
    snprintf(data_path, sizeof(data_path), "%s/data.mdb", dir);
    bool fresh = !read_only && stat(data_path, &st) != 0;
    int rc = mdb_env_create(&s->lmdb->env);
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_set_maxdbs(s->lmdb->env, 16);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_set_mapsize(s->lmdb->env, (size_t)s->map_size);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_set_maxreaders(s->lmdb->env, 512);
    }
    if (rc == MDB_SUCCESS) {
        /* MDB_NOTLS: read transactions are used from worker threads, not one per thread.
         * MDB_NORDAHEAD: reads of a large log land on random pages, and a fault on a page not in
         * memory would otherwise read the device's whole read-ahead window around it (8 MB on
         * some virtual disks); entry bundles, the one multi-page value read whole, are asked for
         * explicitly (scitt__entry_get). */
        unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | (read_only ? MDB_RDONLY : 0);
        rc = mdb_env_open(s->lmdb->env, dir, flags, 0600);
    }
    if (rc != MDB_SUCCESS) {
        scitt_err e = rc == ENOENT ? SCITT_ERR_NOT_FOUND : scitt__mdb_err(rc);
        lmdb_close(s);
        return e;
    }
    /* A read-only opener sees the map size the writer set. */
    MDB_envinfo info;
    if (mdb_env_info(s->lmdb->env, &info) == MDB_SUCCESS && info.me_mapsize > s->map_size) {
        s->map_size = info.me_mapsize;
    }

    MDB_txn *txn;
    rc = mdb_txn_begin(s->lmdb->env, NULL, read_only ? MDB_RDONLY : 0, &txn);
    if (rc != MDB_SUCCESS) {
        lmdb_close(s);
        return scitt__mdb_err(rc);
    }
    unsigned c = read_only ? 0 : MDB_CREATE;
    scitt_err e = open_dbi(txn, "meta", c, &s->lmdb->dbi[SCITT__T_META]);
    e = e ? e : open_dbi(txn, "heads", c, &s->lmdb->dbi[SCITT__T_HEADS]);
    e = e ? e : open_dbi(txn, "times", c, &s->lmdb->dbi[SCITT__T_TIMES]);
    e = e ? e : open_dbi(txn, "tiles", c, &s->lmdb->dbi[SCITT__T_TILES]);
    e = e ? e : open_dbi(txn, "bundles", c, &s->lmdb->dbi[SCITT__T_BUNDLES]);
    /* a read-only opener of a version-1 store finds no `recent`: every entry is in `bundles` */
    if (e == SCITT_OK && open_dbi(txn, "recent", c, &s->lmdb->dbi[SCITT__T_RECENT]) != SCITT_OK) {
        s->lmdb->dbi[SCITT__T_RECENT] = s->lmdb->dbi[SCITT__T_BUNDLES];
    }
    /* a read-only opener of a store written before `boffsets` walks every bundle */
    if (e == SCITT_OK) {
        scitt_err oe = open_dbi(txn, "boffsets", c, &s->lmdb->dbi[SCITT__T_BOFFSETS]);
        s->has_boffsets = oe == SCITT_OK;
        e = read_only ? SCITT_OK : oe;
    }
    if (e == SCITT_OK && !read_only) {
        /* Record the schema version once; refuse a store written by another version. */
        MDB_val k = {7, "version"}, v;
        uint8_t ver = SCHEMA_VERSION;
        int g = mdb_get(txn, s->lmdb->dbi[SCITT__T_META], &k, &v);
        if (g == MDB_NOTFOUND) {
            v.mv_size = 1;
            v.mv_data = &ver;
            e = scitt__mdb_err(mdb_put(txn, s->lmdb->dbi[SCITT__T_META], &k, &v, 0));
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
        s->lmdb->dir = scitt_malloc(n + 1);
        if (s->lmdb->dir) {
            memcpy(s->lmdb->dir, dir, n + 1);
        }
        e = s->lmdb->dir ? scitt__lmdb_index_open(s, false) : SCITT_ERR_NOMEM;
    }
    if (e != SCITT_OK) {
        lmdb_close(s);
    }
    return e;
}

static void lmdb_close(scitt__store *s)
{
    if (!s->lmdb) {
        return;
    }
    scitt__lmdb_index_close(s);
    if (s->lmdb->env) {
        mdb_env_close(s->lmdb->env);
        s->lmdb->env = NULL;
        pthread_rwlock_destroy(&s->lmdb->grow);
    }
    scitt_free(s->lmdb->dir);
    scitt_free(s->lmdb);
    s->lmdb = NULL;
}

static scitt_err lmdb_grow(scitt__store *s)
{
    if (s->map_size >= s->map_size_max) {
        return SCITT_ERR_MAP_FULL;
    }
    uint64_t next = s->map_size * 2;
    if (next > s->map_size_max) {
        next = s->map_size_max;
    }
    pthread_rwlock_wrlock(&s->lmdb->grow);
    int rc = mdb_env_set_mapsize(s->lmdb->env, (size_t)next);
    pthread_rwlock_unlock(&s->lmdb->grow);
    if (rc != MDB_SUCCESS) {
        return scitt__mdb_err(rc);
    }
    s->map_size = next;
    return SCITT_OK;
}

/**
 * The error of a failed commit. LMDB reports a short write as EIO, and a write cut short is
 * what a full file system gives: when the file system holding the log has (almost) no room
 * left, SCITT_ERR_IO becomes SCITT_ERR_NO_SPACE, so callers see a condition that passes.
 */
static scitt_err commit_err(scitt__store *s, int rc)
{
    scitt_err e = scitt__mdb_err(rc);
    mdb_filehandle_t fd;
    struct statvfs vfs;
    if (e == SCITT_ERR_IO && mdb_env_get_fd(s->lmdb->env, &fd) == MDB_SUCCESS &&
        fstatvfs(fd, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < (UINT64_C(1) << 20)) {
        e = SCITT_ERR_NO_SPACE;
    }
    return e;
}

static scitt_err index_path(const scitt__store *s, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/index", s->lmdb->dir);
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

void scitt__lmdb_index_close(scitt__store *s)
{
    if (s->lmdb->ienv) {
        mdb_env_close(s->lmdb->ienv);
        s->lmdb->ienv = NULL;
    }
}

static scitt_err try_open(scitt__store *s, const char *dir)
{
    int rc = mdb_env_create(&s->lmdb->ienv);
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_set_maxdbs(s->lmdb->ienv, 8);
    }
    if (rc == MDB_SUCCESS) {
        /*
         * Write-mapped environments cannot grow while other threads read them, so the index gets
         * the map ceiling at once. The file is sparse: only what is written takes disk space.
         */
        rc = mdb_env_set_mapsize(s->lmdb->ienv, (size_t)s->map_size_max);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_set_maxreaders(s->lmdb->ienv, 512);
    }
    if (rc == MDB_SUCCESS) {
        /* No fsync at commit: the index is rebuilt from the durable log whenever in doubt.
         * No read-ahead: lookups land on random pages (see scitt__store_open). */
        unsigned flags =
            MDB_NOTLS | MDB_NORDAHEAD |
            (s->read_only ? MDB_RDONLY
                          : (MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP | MDB_MAPASYNC));
        rc = mdb_env_open(s->lmdb->ienv, dir, flags, 0600);
    }
    if (rc != MDB_SUCCESS) {
        scitt__lmdb_index_close(s);
        return rc == ENOENT ? SCITT_ERR_NOT_FOUND : scitt__mdb_err(rc);
    }

    MDB_txn *txn;
    rc = mdb_txn_begin(s->lmdb->ienv, NULL, s->read_only ? MDB_RDONLY : 0, &txn);
    if (rc != MDB_SUCCESS) {
        scitt__lmdb_index_close(s);
        return scitt__mdb_err(rc);
    }
    unsigned c = s->read_only ? 0 : MDB_CREATE;
    unsigned dup = c | MDB_DUPSORT | MDB_DUPFIXED;
    scitt_err e = scitt__mdb_err(mdb_dbi_open(txn, "meta", c, &s->lmdb->dbi[SCITT__T_IMETA]));
    e = e ? e : scitt__mdb_err(mdb_dbi_open(txn, "ids", dup, &s->lmdb->dbi[SCITT__T_IDS]));
    e = e ? e : scitt__mdb_err(mdb_dbi_open(txn, "iss", dup, &s->lmdb->dbi[SCITT__T_ISS]));
    e = e ? e : scitt__mdb_err(mdb_dbi_open(txn, "sub", dup, &s->lmdb->dbi[SCITT__T_SUB]));
    e = e ? e : scitt__mdb_err(mdb_dbi_open(txn, "dig", dup, &s->lmdb->dbi[SCITT__T_DIG]));
    if (e == SCITT_OK) {
        e = scitt__mdb_err(mdb_txn_commit(txn));
    } else {
        mdb_txn_abort(txn);
    }
    if (e != SCITT_OK) {
        scitt__lmdb_index_close(s);
    }
    return e;
}

scitt_err scitt__lmdb_index_open(scitt__store *s, bool reset)
{
    char dir[4096];
    scitt_err e = index_path(s, dir, sizeof(dir));
    if (e != SCITT_OK) {
        return e;
    }
    scitt__lmdb_index_close(s);
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
        e = scitt_dir_sync(s->lmdb->dir);
        e = e ? e : scitt_dir_sync(dir);
    }
    return e;
}

scitt_err scitt__lmdb_peek_latest(const char *dir, scitt_tree_head *out, scitt_dynbuf *storage)
{
    storage->len = 0;
    storage->err = SCITT_OK;
    char path[4200];
    struct stat st;
    if (snprintf(path, sizeof(path), "%s/data.mdb", dir) >= (int)sizeof(path)) {
        return SCITT_ERR_TOO_LARGE;
    }
    if (stat(path, &st) != 0) {
        return errno == ENOENT ? SCITT_ERR_NOT_FOUND : SCITT_ERR_IO;
    }
    if (st.st_size == 0) {
        return SCITT_ERR_NOT_FOUND; /* created by a first start that stopped right there */
    }
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    int rc = mdb_env_create(&env);
    if (rc == MDB_SUCCESS) {
        rc = mdb_env_set_maxdbs(env, 16);
    }
    if (rc == MDB_SUCCESS) {
        /* no lock file: nothing else has the log open (the caller is about to open it) */
        rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS | MDB_NORDAHEAD, 0600);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    }
    scitt__store s;
    struct scitt__lmdb lm;
    memset(&s, 0, sizeof(s));
    memset(&lm, 0, sizeof(lm));
    s.ops = &scitt__lmdb_ops;
    s.lmdb = &lm;
    if (rc == MDB_SUCCESS) {
        rc = mdb_dbi_open(txn, "heads", 0, &s.lmdb->dbi[SCITT__T_HEADS]);
    }
    scitt_err e = rc == ENOENT ? SCITT_ERR_NOT_FOUND : scitt__mdb_err(rc);
    e = e ? e : scitt__head_latest_copy((scitt__txn *)txn, &s, out, storage);
    if (txn) {
        mdb_txn_abort(txn);
    }
    if (env) {
        mdb_env_close(env);
    }
    return e;
}

/* ---- the operations ---------------------------------------------------------------------- */

static MDB_txn *txn_of(scitt__txn *t)
{
    return (MDB_txn *)t;
}

static scitt_err lmdb_txn_begin(scitt__store *s, scitt__txn_kind kind, scitt__txn **out)
{
    bool index = kind == SCITT__TXN_INDEX_READ || kind == SCITT__TXN_INDEX_WRITE;
    bool rd = kind == SCITT__TXN_LOG_READ || kind == SCITT__TXN_INDEX_READ;
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(index ? s->lmdb->ienv : s->lmdb->env, NULL, rd ? MDB_RDONLY : 0, &txn);
    *out = (scitt__txn *)txn;
    return scitt__mdb_err(rc);
}

static scitt_err lmdb_txn_commit(scitt__store *s, scitt__txn *t)
{
    MDB_txn *txn = txn_of(t);
    bool log = mdb_txn_env(txn) == s->lmdb->env;
    int rc = mdb_txn_commit(txn);
    return log ? commit_err(s, rc) : scitt__mdb_err(rc);
}

static void lmdb_txn_abort(scitt__store *s, scitt__txn *t)
{
    (void)s;
    mdb_txn_abort(txn_of(t));
}

static scitt_err lmdb_snapshot_begin(scitt__store *s, scitt__txn **log, scitt__txn **index)
{
    MDB_txn *txn = NULL, *itxn = NULL;
    pthread_rwlock_rdlock(&s->lmdb->grow);
    int rc = mdb_txn_begin(s->lmdb->env, NULL, MDB_RDONLY, &txn);
    if (rc == MDB_MAP_RESIZED) {
        /* another process grew the map: adopt its size and retry once */
        pthread_rwlock_unlock(&s->lmdb->grow);
        pthread_rwlock_wrlock(&s->lmdb->grow);
        mdb_env_set_mapsize(s->lmdb->env, 0);
        pthread_rwlock_unlock(&s->lmdb->grow);
        pthread_rwlock_rdlock(&s->lmdb->grow);
        rc = mdb_txn_begin(s->lmdb->env, NULL, MDB_RDONLY, &txn);
    }
    if (rc == MDB_SUCCESS) {
        rc = mdb_txn_begin(s->lmdb->ienv, NULL, MDB_RDONLY, &itxn);
        if (rc == MDB_MAP_RESIZED) {
            /* the writer grew the index map; adopt the new size as for the log */
            pthread_rwlock_unlock(&s->lmdb->grow);
            pthread_rwlock_wrlock(&s->lmdb->grow);
            mdb_env_set_mapsize(s->lmdb->ienv, 0);
            pthread_rwlock_unlock(&s->lmdb->grow);
            pthread_rwlock_rdlock(&s->lmdb->grow);
            rc = mdb_txn_begin(s->lmdb->ienv, NULL, MDB_RDONLY, &itxn);
        }
        if (rc != MDB_SUCCESS) {
            mdb_txn_abort(txn);
        }
    }
    if (rc != MDB_SUCCESS) {
        pthread_rwlock_unlock(&s->lmdb->grow);
        return scitt__mdb_err(rc);
    }
    *log = (scitt__txn *)txn;
    *index = (scitt__txn *)itxn;
    return SCITT_OK;
}

static void lmdb_snapshot_end(scitt__store *s, scitt__txn *log, scitt__txn *index)
{
    mdb_txn_abort(txn_of(index));
    mdb_txn_abort(txn_of(log));
    pthread_rwlock_unlock(&s->lmdb->grow);
}

static scitt_err lmdb_get(const scitt__store *s, scitt__txn *t, scitt__table tb, scitt_span key,
                          scitt_span *val)
{
    MDB_val k = {key.len, (void *)key.ptr}, v;
    int rc = mdb_get(txn_of(t), s->lmdb->dbi[tb], &k, &v);
    if (rc != MDB_SUCCESS) {
        return scitt__mdb_err(rc);
    }
    *val = scitt_span_make(v.mv_data, v.mv_size);
    return SCITT_OK;
}

static scitt_err lmdb_put(const scitt__store *s, scitt__txn *t, scitt__table tb, scitt_span key,
                          scitt_span val, unsigned flags)
{
    MDB_val k = {key.len, (void *)key.ptr}, v = {val.len, (void *)val.ptr};
    unsigned f = (flags & SCITT__PUT_APPEND) ? MDB_APPEND : 0;
    return scitt__mdb_err(mdb_put(txn_of(t), s->lmdb->dbi[tb], &k, &v, f));
}

static scitt_err lmdb_cursor_open(const scitt__store *s, scitt__txn *t, scitt__table tb,
                                  scitt__cursor **out)
{
    MDB_cursor *c = NULL;
    int rc = mdb_cursor_open(txn_of(t), s->lmdb->dbi[tb], &c);
    *out = (scitt__cursor *)c;
    return scitt__mdb_err(rc);
}

static scitt_err lmdb_cursor_get(scitt__cursor *c, scitt_span *key, scitt_span *val, scitt__op op)
{
    static const MDB_cursor_op ops[] = {
        [SCITT__OP_FIRST] = MDB_FIRST,         [SCITT__OP_LAST] = MDB_LAST,
        [SCITT__OP_NEXT] = MDB_NEXT,           [SCITT__OP_PREV] = MDB_PREV,
        [SCITT__OP_SET_RANGE] = MDB_SET_RANGE, [SCITT__OP_GET_BOTH_RANGE] = MDB_GET_BOTH_RANGE,
        [SCITT__OP_NEXT_DUP] = MDB_NEXT_DUP,
    };
    MDB_val k = {key->len, (void *)key->ptr}, v = {val->len, (void *)val->ptr};
    int rc = mdb_cursor_get((MDB_cursor *)c, &k, &v, ops[op]);
    if (rc != MDB_SUCCESS) {
        return scitt__mdb_err(rc);
    }
    *key = scitt_span_make(k.mv_data, k.mv_size);
    *val = scitt_span_make(v.mv_data, v.mv_size);
    return SCITT_OK;
}

static scitt_err lmdb_cursor_del(scitt__cursor *c)
{
    return scitt__mdb_err(mdb_cursor_del((MDB_cursor *)c, 0));
}

static void lmdb_cursor_close(scitt__cursor *c)
{
    mdb_cursor_close((MDB_cursor *)c);
}

static scitt_err lmdb_sync(scitt__store *s, bool index)
{
    if (index) {
        return scitt__mdb_err(mdb_env_sync(s->lmdb->ienv, 1));
    }
    if (!s->read_only) {
        return scitt__mdb_err(mdb_env_sync(s->lmdb->env, 1));
    }
    /* a read-only environment cannot be synced through LMDB: sync the file it maps */
    mdb_filehandle_t fd;
    if (mdb_env_get_fd(s->lmdb->env, &fd) != MDB_SUCCESS || fdatasync(fd) != 0) {
        return SCITT_ERR_IO;
    }
    return SCITT_OK;
}

static scitt_err lmdb_index_reset(scitt__store *s)
{
    return scitt__lmdb_index_open(s, true);
}

static uint64_t lmdb_bytes_used(scitt__store *s)
{
    uint64_t n = 0;
    MDB_envinfo info;
    MDB_stat st;
    if (mdb_env_info(s->lmdb->env, &info) == MDB_SUCCESS &&
        mdb_env_stat(s->lmdb->env, &st) == MDB_SUCCESS) {
        n = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
    }
    if (s->lmdb->ienv && mdb_env_info(s->lmdb->ienv, &info) == MDB_SUCCESS &&
        mdb_env_stat(s->lmdb->ienv, &st) == MDB_SUCCESS) {
        n += (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
    }
    return n;
}

const scitt__storage_ops scitt__lmdb_ops = {
    .name = "lmdb",
    .close = lmdb_close,
    .txn_begin = lmdb_txn_begin,
    .txn_commit = lmdb_txn_commit,
    .txn_abort = lmdb_txn_abort,
    .snapshot_begin = lmdb_snapshot_begin,
    .snapshot_end = lmdb_snapshot_end,
    .get = lmdb_get,
    .put = lmdb_put,
    .cursor_open = lmdb_cursor_open,
    .cursor_get = lmdb_cursor_get,
    .cursor_del = lmdb_cursor_del,
    .cursor_close = lmdb_cursor_close,
    .grow = lmdb_grow,
    .sync = lmdb_sync,
    .index_reset = lmdb_index_reset,
    .bytes_used = lmdb_bytes_used,
};
