/*
 * tools/cli.h — shared pieces of the scitt command-line tool: exit codes, one-line messages, file
 * I/O with size caps, JSON output, key loading and option helpers. Internal to tools/.
 *
 * Every subcommand is `int cmd_<name>(int argc, char **argv)` (argv[0] is the subcommand name) and
 * returns one of the exit codes below. Messages go to stderr as one line:
 *   "scitt <command>: <what failed>: <why>"
 * Machine-readable output (--json) goes to stdout.
 */
#ifndef SCITT_TOOLS_CLI_H
#define SCITT_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "scitt/base.h"
#include "scitt/client.h"
#include "scitt/cose.h"
#include "scitt/json.h"

#define CLI_OK    0 /* success */
#define CLI_FAIL  1 /* verification failed, statement rejected, discrepancy found */
#define CLI_USAGE 2 /* usage, input/output or network error */

/* Largest file any subcommand reads whole (statements, keys, trust files, receipts). */
#define CLI_FILE_MAX (16u << 20)

int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_register(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_mirror(int argc, char **argv);
int cmd_export_tiles(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_attest(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_witness(int argc, char **argv);
int cmd_refresh(int argc, char **argv);

/* ---- messages ------------------------------------------------------------------------------ */

/** The subcommand running (for messages); set by main. */
extern const char *cli_cmd;

/** Set once cli_json_print wrote a JSON document to stdout. */
extern bool cli_json_printed;

/**
 * With --json, a failed command's stdout is still JSON: unless it printed a document of its own,
 * {"error": the last message, "command": cli_cmd, "exit_status": @p code}. Called by main.
 */
void cli_json_error(int code);

/** Prints "scitt <cmd>: <message>\n" to stderr. */
void cli_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** cli_msg, then returns @p code (for `return cli_fail(CLI_USAGE, ...)`). */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Prints @p help to stdout and returns CLI_OK. */
int cli_help(const char *help);
/** "unknown option" / "missing argument" style usage error; returns CLI_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- options ------------------------------------------------------------------------------- */

/**
 * Parses a non-negative decimal within [min, max] into *out; false for anything else (sign,
 * spaces, trailing characters, overflow).
 */
bool cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* ---- files --------------------------------------------------------------------------------- */

/**
 * Reads the whole of @p path ("-" = stdin) into @p out, failing with SCITT_ERR_TOO_LARGE past
 * @p max bytes. @p out is initialised here; release it with scitt_dynbuf_clear. errno is kept.
 */
scitt_err cli_read_file(const char *path, size_t max, scitt_dynbuf *out);
/** cli_read_file with a one-line message on failure ("cannot read F: why"); CLI_OK or CLI_USAGE. */
int cli_slurp(const char *path, size_t max, scitt_dynbuf *out);
/**
 * Writes @p data to @p path through a temporary file in the same directory, fsync and rename, so a
 * reader never sees a partial file. "-" writes to stdout. @p mode applies to a new file.
 */
scitt_err cli_write_file(const char *path, scitt_span data, mode_t mode);
/** cli_write_file with a one-line message on failure; CLI_OK or CLI_USAGE. */
int cli_save(const char *path, scitt_span data, mode_t mode);
/** Creates @p dir and its missing parents (mode 0755 unless it exists). */
scitt_err cli_mkdirs(const char *dir, mode_t mode);

/* ---- JSON output --------------------------------------------------------------------------- */

/**
 * Prints what @p w wrote, with a final newline, to stdout, or a message when the writer failed
 * (scitt_json_writer_finish); then clears its buffer.
 */
void cli_json_print(scitt_json_writer *w);

/* ---- keys and text ------------------------------------------------------------------------- */

/**
 * Loads a key from a file holding PEM (private or public key, or a certificate's key), DER, a
 * COSE_Key or a JWK. With @p need_private, a public key is an error. On failure @p why gets a
 * reason. Free the key with scitt_cose_key_free.
 */
scitt_err cli_load_key(const char *path, bool need_private, scitt_cose_key **out, char *why,
                       size_t cap);

/** Lowercase hex of @p s into a heap string (free with scitt_free); NULL on allocation failure. */
char *cli_hex(scitt_span s);
/* Text from input for messages: scitt_client_printable (scitt/client.h). */
/** "2026-01-02T03:04:05Z" for Unix seconds @p t. */
void cli_time(int64_t t, char out[32]);

#endif
