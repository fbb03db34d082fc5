/*
 * scitt mirror: a verified static copy of a log (checkpoint, hash tiles, entry bundles and the
 * service's .well-known files) in a folder that any static web server can serve. Each run is a
 * scitt audit pass whose reads are staged: the files are published into the copy only when the
 * tree verified (the checkpoint with the pinned key, its consistency with the last mirrored one,
 * every new leaf and tile hash and the root), the checkpoint last; a fork, a rollback or a bad
 * tile publishes nothing.
 */
#include "audit.h"
#include "cli.h"
#include "net.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scitt/file.h"

static const char help[] =
    "usage: scitt mirror --url LOG --out DIR [--vkey VKEY] [--keys FILE] [--json]\n"
    "\n"
    "Keeps a verified static copy of a log in DIR: its checkpoint, hash tiles, entry bundles and\n"
    "the service's .well-known files, as scitt export-tiles writes them, for a CDN or any static\n"
    "web server (and for scitt audit --url DIR). Each run is an incremental scitt audit (the\n"
    "checkpoint key pinned at the first run, the new checkpoint proved consistent with the last\n"
    "mirrored one, every new leaf, tile hash and the root recomputed) whose reads are staged;\n"
    "only when the tree verified are they published into DIR, the checkpoint last. A fork, a\n"
    "rollback or a tile that does not verify publishes nothing and exits 1. The audit state is\n"
    "kept in DIR/.scitt-mirror.\n"
    "  --out DIR        the copy\n"
    "  --vkey VKEY      pin this checkpoint key at the first run\n"
    "  --keys FILE      pin these service keys (COSE_Key_Set) as well\n" NET_OPTIONS_HELP "\n"
    "Exit status: 0 mirrored, 1 the log did not verify (nothing published), 2 usage, network.\n"
    "\n"
    "Example:\n"
    "  scitt mirror --url https://scitt.example --out /srv/www/scitt-mirror\n";

static const net_spec mirror_net = {help,
                                    "the log: the service, a static copy or a directory",
                                    "give up on a request after S seconds",
                                    30,
                                    1,
                                    3600,
                                    "the summary as JSON: result, old and new size, files"};

typedef struct mirror {
    const char *out;
    char stage[4200];
    size_t files;
    bool failed;
    char why[600];
} mirror;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static mirror *publishing; /* nftw passes no context */

/* Moves one staged file into the copy (the checkpoint is left for last). */
static int publish_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    mirror *m = publishing;
    if (flag != FTW_F || !S_ISREG(st->st_mode)) {
        return 0;
    }
    const char *rel = path + strlen(m->stage) + 1;
    if (strcmp(rel, "checkpoint") == 0) {
        return 0;
    }
    char dst[4608];
    snprintf(dst, sizeof(dst), "%s/%s", m->out, rel);
    char *slash = strrchr(dst, '/');
    *slash = 0;
    scitt_err e = cli_mkdirs(dst, 0755);
    *slash = '/';
    if (e != SCITT_OK || rename(path, dst) != 0) {
        snprintf(m->why, sizeof(m->why), "cannot publish %.400s: %s", dst, strerror(errno));
        m->failed = true;
        return 1;
    }
    m->files++;
    return 0;
}

/* The tree verified (audit_pass, before the state moves on): publish what was read. */
static void on_verified(audit *a)
{
    mirror *m = a->user;
    publishing = m;
    struct stat st;
    if (stat(m->stage, &st) == 0) {
        nftw(m->stage, publish_one, 16, FTW_PHYS);
    }
    char cp_from[4300], cp_to[4200];
    snprintf(cp_from, sizeof(cp_from), "%s/checkpoint", m->stage);
    snprintf(cp_to, sizeof(cp_to), "%s/checkpoint", m->out);
    if (!m->failed && scitt_dir_sync(m->out) != SCITT_OK) {
        snprintf(m->why, sizeof(m->why), "cannot sync %.400s: %s", m->out, strerror(errno));
        m->failed = true;
    }
    if (!m->failed && stat(cp_from, &st) == 0) {
        if (rename(cp_from, cp_to) != 0 || scitt_dir_sync(m->out) != SCITT_OK) {
            snprintf(m->why, sizeof(m->why), "cannot publish %.400s: %s", cp_to, strerror(errno));
            m->failed = true;
        } else {
            m->files++;
        }
    }
    if (m->failed) {
        audit_cannot(a, "%s", m->why); /* the state does not move: the next run publishes */
    }
}

int cmd_mirror(int argc, char **argv)
{
    enum { O_OUT = 1, O_VKEY, O_KEYS };
    static const struct option lo[] = {{"out", 1, 0, O_OUT},
                                       {"vkey", 1, 0, O_VKEY},
                                       {"keys", 1, 0, O_KEYS},
                                       NET_OPTIONS,
                                       {0, 0, 0, 0}};
    const char *vkey = NULL, *keys = NULL;
    mirror m = {0};
    net_opts net;
    net_opts_init(&net, &mirror_net);
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_OUT:
            m.out = optarg;
            break;
        case O_VKEY:
            vkey = optarg;
            break;
        case O_KEYS:
            keys = optarg;
            break;
        default:
            if ((c = net_option(&net, &mirror_net, c, argv)) != CLI_OK) {
                return c == NET_HELP_SHOWN ? CLI_OK : c;
            }
            break;
        }
    }
    if (optind != argc || !net.url || !m.out) {
        return cli_usage("--url LOG and --out DIR are required");
    }
    char state[4200];
    if (strlen(m.out) > 4000 || cli_mkdirs(m.out, 0755) != SCITT_OK) {
        return cli_fail(CLI_USAGE, "cannot create %s: %s", m.out, strerror(errno));
    }
    snprintf(state, sizeof(state), "%s/.scitt-mirror/state", m.out);
    snprintf(m.stage, sizeof(m.stage), "%s/.scitt-mirror/stage", m.out);
    rm_tree(m.stage); /* what an interrupted run staged is read again */
    if (cli_mkdirs(state, 0700) != SCITT_OK || cli_mkdirs(m.stage, 0755) != SCITT_OK) {
        return cli_fail(CLI_USAGE, "cannot create %s: %s", state, strerror(errno));
    }
    static audit a;
    memset(&a, 0, sizeof(a));
    a.state_dir = state;
    a.stage_dir = m.stage;
    a.on_verified = on_verified;
    a.user = &m;
    uint64_t old_size = 0, earlier = 0;
    int rc =
        audit_pass(&a, net.url, net.cacert, net.timeout, false, vkey, keys, &old_size, &earlier);
    bool published = rc == CLI_OK && a.saved && !m.failed;
    if (rc == CLI_OK) {
        if (a.tree_discrepancies > 0) {
            rc = cli_fail(CLI_FAIL, "%s did not verify, nothing published: %s", net.url,
                          a.bad[0].what);
        } else if (!published) {
            rc = cli_fail(CLI_USAGE, "could not mirror: %s", a.cannot ? a.cannot_why : m.why);
        }
    }
    if (published) {
        if (net.json) {
            printf("{\"result\":\"ok\",\"old_size\":%llu,\"size\":%llu,\"files\":%zu,"
                   "\"entry_discrepancies\":%llu}\n",
                   (unsigned long long)old_size, (unsigned long long)a.new_size, m.files,
                   (unsigned long long)(a.discrepancies - a.tree_discrepancies));
        } else {
            printf("mirrored %s into %s: size %llu -> %llu, %zu files\n", net.url, m.out,
                   (unsigned long long)old_size, (unsigned long long)a.new_size, m.files);
        }
        if (a.discrepancies > a.tree_discrepancies) {
            cli_msg("warning: %llu entries failed their checks (scitt audit names them)",
                    (unsigned long long)(a.discrepancies - a.tree_discrepancies));
        }
    }
    rm_tree(m.stage);
    scitt_policy_free(a.policy);
    source_close(&a.src);
    audit_keys_clear(&a.keys);
    scitt_dynbuf_clear(&a.checkpoint);
    audit_state_clear(&a.st);
    (void)earlier;
    return rc;
}
