/*
 * scitt export-tiles: the log's C2SP tlog-tiles read API as static files (checkpoint, hash tiles,
 * entry bundles) from an LMDB data directory opened read-only, so it can run while scittd writes.
 * Tiles and bundles are immutable once written (a partial tile's path names its width), so an
 * export into the same directory only adds files; the checkpoint is written last, after everything
 * it covers is on disk.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scitt/file.h"
#include "scitt/ledger.h"
#include "scitt/merkle.h"

static const char help[] =
    "usage: scitt export-tiles --data DIR --out DIR [--keys FILE] [--config FILE] [--force]\n"
    "                          [--json]\n"
    "\n"
    "Writes the log's checkpoint, hash tiles (tile/<L>/<N>[.p/<W>]) and entry bundles\n"
    "(tile/entries/<N>[.p/<W>]) as files for a CDN or a static web server, from scittd's data\n"
    "directory, opened read-only (scittd may keep running). Files that exist are kept: tiles\n"
    "never change; --force rewrites them. The checkpoint is written last.\n"
    "  --keys FILE     also publish the service keys (from scitt keys) as .well-known/scitt-keys\n"
    "  --config FILE   and the transparency configuration as\n"
    "                  .well-known/transparency-configuration, so an audit of the copy needs\n"
    "                  nothing else\n"
    "\n"
    "Example:\n"
    "  scitt export-tiles --data /var/lib/scittd --out /srv/www/log\n"
    "  scitt audit --url file:///srv/www/log --state ~/.scitt-audit\n";

typedef struct exporter {
    const char *out;
    bool force;
    uint64_t written, kept, bytes;
} exporter;

/*
 * Writes one file through a temporary file and rename (so a web server never serves half a tile),
 * without syncing it: an export writes thousands of files, and an fsync of each file and of its
 * directory would make it many times slower. One syncfs of the output at the end makes all of
 * them durable at once, before the checkpoint that covers them is written (durably, on its own).
 */
static int put(exporter *x, const char *rel, scitt_span data, bool immutable)
{
    char path[4608];
    snprintf(path, sizeof(path), "%s/%s", x->out, rel);
    struct stat st;
    if (immutable && !x->force && stat(path, &st) == 0 && (uint64_t)st.st_size == data.len) {
        x->kept++;
        return CLI_OK;
    }
    char dir[4608];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        if (cli_mkdirs(dir, 0755) != SCITT_OK) {
            return cli_fail(CLI_USAGE, "cannot create %s: %s", dir, strerror(errno));
        }
    }
    errno = 0;
    scitt_err e = scitt_file_replace(path, data, 0644, SCITT_FILE_NO_SYNC);
    if (e != SCITT_OK) {
        return cli_fail(CLI_USAGE, "cannot write %s: %s", path,
                        errno ? strerror(errno) : scitt_err_str(e));
    }
    x->written++;
    x->bytes += data.len;
    return CLI_OK;
}

static int copy_in(exporter *x, const char *from, const char *rel)
{
    scitt_dynbuf b;
    int rc = cli_slurp(from, CLI_FILE_MAX, &b);
    if (rc == CLI_OK) {
        rc = put(x, rel, scitt_span_make(b.ptr, b.len), false);
    }
    scitt_dynbuf_clear(&b);
    return rc;
}

/* Every tile (and, at level 0, entry bundle) of a tree of @p size. */
static int export_tiles(exporter *x, scitt_ledger *l, uint64_t size)
{
    scitt_ledger_read *r = NULL;
    unsigned since = 0;
    int rc = CLI_OK;
    for (unsigned level = 0; rc == CLI_OK && scitt_tile_width(level, 0, size) > 0; level++) {
        for (uint64_t t = 0; rc == CLI_OK; t++) {
            unsigned w = scitt_tile_width(level, t, size);
            if (w == 0) {
                break;
            }
            /* Short read snapshots: a long one would hold up the writer's map growth. Tiles only
             * grow at the right edge, so a later snapshot serves the same prefix. */
            if (!r || ++since == 256) {
                scitt_ledger_read_end(r);
                since = 0;
                scitt_err e = scitt_ledger_read_begin(l, &r);
                if (e != SCITT_OK) {
                    r = NULL;
                    rc = cli_fail(CLI_USAGE, "cannot read the ledger: %s", scitt_err_str(e));
                    break;
                }
            }
            char rel[SCITT_TILE_PATH_MAX];
            scitt_span tile;
            scitt_err e =
                scitt_tile_path(level, t, w == SCITT_TILE_WIDTH ? 0 : w, rel, sizeof(rel));
            e = e ? e : scitt_ledger_tile(r, level, t, w, &tile);
            if (e != SCITT_OK) {
                rc = cli_fail(CLI_USAGE, "tile %u/%llu: %s", level, (unsigned long long)t,
                              scitt_err_str(e));
                break;
            }
            rc = put(x, rel, tile, true);
            if (rc != CLI_OK || level != 0) {
                continue;
            }
            scitt_dynbuf b;
            scitt_dynbuf_init(&b, 0);
            e = scitt_tile_entries_path(t, w == SCITT_TILE_WIDTH ? 0 : w, rel, sizeof(rel));
            e = e ? e : scitt_ledger_entry_bundle(r, t, w, &b);
            if (e == SCITT_ERR_UNSUPPORTED) {
                rc = cli_fail(CLI_USAGE,
                              "entry bundle %llu holds an entry over 65,535 bytes: C2SP entry "
                              "bundles cannot carry it, so this log cannot be exported",
                              (unsigned long long)t);
            } else if (e != SCITT_OK) {
                rc = cli_fail(CLI_USAGE, "entry bundle %llu: %s", (unsigned long long)t,
                              scitt_err_str(e));
            } else {
                rc = put(x, rel, scitt_span_make(b.ptr, b.len), true);
            }
            scitt_dynbuf_clear(&b);
        }
    }
    scitt_ledger_read_end(r);
    return rc;
}

int cmd_export_tiles(int argc, char **argv)
{
    enum { O_DATA = 1, O_OUT, O_KEYS, O_CONFIG, O_FORCE, O_JSON, O_HELP };
    static const struct option lo[] = {{"data", 1, 0, O_DATA},   {"out", 1, 0, O_OUT},
                                       {"keys", 1, 0, O_KEYS},   {"config", 1, 0, O_CONFIG},
                                       {"force", 0, 0, O_FORCE}, {"json", 0, 0, O_JSON},
                                       {"help", 0, 0, O_HELP},   {0, 0, 0, 0}};
    const char *data = NULL, *keys = NULL, *config = NULL;
    exporter x = {NULL, false, 0, 0, 0};
    bool json = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_OUT:
            x.out = optarg;
            break;
        case O_KEYS:
            keys = optarg;
            break;
        case O_CONFIG:
            config = optarg;
            break;
        case O_FORCE:
            x.force = true;
            break;
        case O_JSON:
            json = true;
            break;
        case O_HELP:
            return cli_help(help);
        default:
            return cli_usage("unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (optind != argc || !data || !x.out) {
        return cli_usage("--data DIR and --out DIR are required");
    }
    struct stat st;
    char mdb[4200];
    snprintf(mdb, sizeof(mdb), "%s/data.mdb", data);
    if (stat(mdb, &st) != 0) {
        return cli_fail(CLI_USAGE, "%s is not a scittd data directory (no data.mdb)", data);
    }
    if (cli_mkdirs(x.out, 0755) != SCITT_OK) {
        return cli_fail(CLI_USAGE, "cannot create %s: %s", x.out, strerror(errno));
    }
    scitt_ledger_config lc;
    memset(&lc, 0, sizeof(lc));
    lc.dir = data;
    lc.read_only = true;
    scitt_ledger *l = NULL;
    scitt_err e = scitt_ledger_open(&lc, &l);
    if (e != SCITT_OK) {
        return cli_fail(CLI_USAGE, "cannot open the ledger in %s read-only: %s", data,
                        scitt_err_str(e));
    }
    /* The newest signed tree head fixes what this export covers. */
    scitt_ledger_read *r = NULL;
    scitt_tree_head h;
    scitt_dynbuf cp;
    scitt_dynbuf_init(&cp, 0);
    e = scitt_ledger_read_begin(l, &r);
    e = e ? e : scitt_ledger_latest(r, &h);
    if (e == SCITT_OK) {
        scitt_dynbuf_put(&cp, h.checkpoint.ptr, h.checkpoint.len);
    }
    uint64_t size = e == SCITT_OK ? h.size : 0;
    scitt_ledger_read_end(r);
    int rc = CLI_OK;
    if (e != SCITT_OK) {
        rc = cli_fail(CLI_USAGE, "%s has no signed tree head: %s", data, scitt_err_str(e));
    }
    rc = rc ? rc : export_tiles(&x, l, size);
    scitt_ledger_close(l);
    if (rc == CLI_OK && keys) {
        rc = copy_in(&x, keys, ".well-known/scitt-keys");
    }
    if (rc == CLI_OK && config) {
        rc = copy_in(&x, config, ".well-known/transparency-configuration");
    }
    if (rc == CLI_OK) {
        /* Everything the checkpoint covers is durable before the checkpoint appears. */
        int dfd = open(x.out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || syncfs(dfd) != 0) {
            rc = cli_fail(CLI_USAGE, "cannot sync %s: %s", x.out, strerror(errno));
        }
        if (dfd >= 0) {
            close(dfd);
        }
    }
    char cp_path[4200];
    snprintf(cp_path, sizeof(cp_path), "%s/checkpoint", x.out);
    rc = rc ? rc : cli_save(cp_path, scitt_span_make(cp.ptr, cp.len), 0644);
    scitt_dynbuf_clear(&cp);
    if (rc != CLI_OK) {
        return rc;
    }
    if (json) {
        printf("{\"tree_size\":%llu,\"written\":%llu,\"kept\":%llu,\"bytes\":%llu}\n",
               (unsigned long long)size, (unsigned long long)x.written, (unsigned long long)x.kept,
               (unsigned long long)x.bytes);
    } else {
        printf("exported tree size %llu to %s: %llu files written (%llu bytes), %llu kept\n",
               (unsigned long long)size, x.out, (unsigned long long)x.written,
               (unsigned long long)x.bytes, (unsigned long long)x.kept);
    }
    return CLI_OK;
}
