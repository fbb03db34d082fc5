/*
 * scitt: the command-line tool of scittd for issuers (keygen, sign, register), relying parties
 * (verify, get, keys, inspect, query, attest) and auditors (audit, export-tiles).
 */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#ifndef SCITT_VERSION
#define SCITT_VERSION "0.1.0"
#endif

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"keygen", cmd_keygen, "make a signing key (and a certificate)"},
    {"sign", cmd_sign, "make a Signed Statement (payload, image digest, measurement, hash)"},
    {"register", cmd_register, "submit a statement and write the transparent statement"},
    {"verify", cmd_verify, "verify a transparent statement offline, or an image's in its registry"},
    {"attach", cmd_attach, "push a transparent statement next to its image in the registry"},
    {"get", cmd_get, "fetch the receipt or transparent statement of an entry"},
    {"refresh", cmd_refresh,
     "replace a statement's receipt by a fresh (witnessed), consistent one"},
    {"keys", cmd_keys, "fetch the service's keys once, to verify offline later"},
    {"inspect", cmd_inspect, "print a COSE/CBOR object in diagnostic notation"},
    {"query", cmd_query, "find entries by issuer, subject, digest or time"},
    {"audit", cmd_audit, "replay the log incrementally and check every entry"},
    {"mirror", cmd_mirror, "keep a verified static copy of a log (tiles, bundles, checkpoint)"},
    {"monitor", cmd_monitor, "follow the log and report new statements for an issuer or subject"},
    {"export-tiles", cmd_export_tiles, "write checkpoint, tiles and bundles as static files"},
    {"migrate", cmd_migrate, "copy an LMDB log into an empty PostgreSQL database and check it"},
    {"attest", cmd_attest, "export a service's TEE attestation bundle; verify TEE evidence"},
    {"witness", cmd_witness, "run a C2SP witness that cosigns consistent checkpoints"},
};

static const char usage_head[] =
    "usage: scitt <command> [options]\n"
    "\n"
    "Issuers sign and register statements, relying parties verify transparent statements\n"
    "offline, auditors replay the log. Every command has --help with an example.\n"
    "Exit status: 0 success, 1 verification failed or statement rejected, 2 usage or I/O error.\n"
    "With --json, a command that fails prints {\"error\", \"command\", \"exit_status\"} on stdout\n"
    "(unless it printed its own result, as verify does).\n"
    "\n"
    "commands:\n";

static void usage(FILE *f)
{
    fputs(usage_head, f);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].summary);
    }
    fputs(
        "\nscitt help COMMAND (or scitt COMMAND -h) shows a command's options; scitt version its\n"
        "version.\n"
        "\nExample: scitt verify app.transparent --trust scitt-keys.cbor\n",
        f);
}

static const command *find(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (!strcmp(name, commands[i].name)) {
            return &commands[i];
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "help") && argc >= 3) {
        const command *c = find(argv[2]);
        if (!c || argc > 3) {
            cli_msg("scitt help COMMAND: %s \"%s\" (see scitt --help)",
                    c ? "one command, not" : "no command", c ? argv[3] : argv[2]);
            return CLI_USAGE;
        }
        char *args[] = {argv[2], (char *)"--help", NULL};
        cli_cmd = c->name;
        return c->run(2, args);
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("scitt %s\n", SCITT_VERSION);
        return CLI_OK;
    }
    const command *c = find(argv[1]);
    if (!c) {
        cli_msg("unknown command \"%s\" (see scitt --help)", argv[1]);
        return CLI_USAGE;
    }
    /* -h is --help for every command, and --json makes a failure JSON too (before "--"). */
    bool json = false;
    for (int i = 2; i < argc && strcmp(argv[i], "--"); i++) {
        if (!strcmp(argv[i], "-h")) {
            argv[i] = (char *)"--help";
        }
        json = json || !strcmp(argv[i], "--json");
    }
    cli_cmd = c->name;
    int rc = c->run(argc - 1, argv + 1);
    if (rc != CLI_OK && json) {
        cli_json_error(rc);
    }
    return rc;
}
