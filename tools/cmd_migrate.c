/*
 * scitt migrate: moves an LMDB log (a stopped scittd's data directory) into an empty PostgreSQL
 * database, then checks the copy (scitt_ledger_migrate: every record read back, the entries
 * against every stored head's root, the tiles against the newest). docs/ha.md.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "scitt/ledger.h"

static const char help[] =
    "usage: scitt migrate --data DIR --storage postgresql://...\n"
    "\n"
    "Copies the log in scittd's data directory DIR (LMDB; stop scittd first) into the\n"
    "PostgreSQL database the URL names, which must hold no log, then checks the copy: every\n"
    "record read back equals the original, the entries hash to the root of every signed tree\n"
    "head, and the tiles to the newest head's root. Entry IDs, indexes and receipts stay valid.\n"
    "Afterwards copy DIR/service-keys to every instance and start scittd with --storage URL.\n"
    "Exit 0: copied and checked; 1: the copy does not match; 2: usage, a database that already\n"
    "holds a log, or an I/O error.\n"
    "\n"
    "Example:\n"
    "  scitt migrate --data /var/lib/scittd --storage postgresql://scitt@db/scitt\n";

int cmd_migrate(int argc, char **argv)
{
    enum { O_DATA = 1, O_STORAGE, O_HELP };
    static const struct option lo[] = {
        {"data", 1, 0, O_DATA}, {"storage", 1, 0, O_STORAGE}, {"help", 0, 0, O_HELP}, {0, 0, 0, 0}};
    const char *data = NULL, *url = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_DATA:
            data = optarg;
            break;
        case O_STORAGE:
            url = optarg;
            break;
        case O_HELP:
            return cli_help(help);
        default:
            return cli_usage("unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (optind != argc || !data || !url) {
        return cli_usage("--data DIR and --storage URL are required");
    }
    struct stat st;
    char mdb[4200];
    snprintf(mdb, sizeof(mdb), "%s/data.mdb", data);
    if (stat(mdb, &st) != 0) {
        return cli_fail(CLI_USAGE, "%s is not a scittd data directory (no data.mdb)", data);
    }
    uint64_t entries = 0;
    char reason[512];
    scitt_err e = scitt_ledger_migrate(data, url, &entries, reason, sizeof(reason));
    if (e != SCITT_OK) {
        /* never print the URL: it may carry a password */
        return cli_fail(e == SCITT_ERR_INTEGRITY ? CLI_FAIL : CLI_USAGE, "migrate: %s", reason);
    }
    printf("migrated %llu entries into the PostgreSQL database; copy checked\n",
           (unsigned long long)entries);
    return CLI_OK;
}
