/*
 * server/options.h — scittd's options as one table (options.c): every long option, its type,
 * where it lives in scittd_config, its default, its bounds, whether a SIGHUP reloads it and
 * whether its value is secret, and its help text. The getopt rows, --help (and so the man page),
 * the configuration file's keys, --check-config's listing and the defaults table of
 * docs/deploy.md all come from it. Nothing here prints or exits: the parser returns a scitt_err
 * and a reason.
 *
 * Adding an option: a field in scittd_config (scittd.h), one row in the table in options.c.
 */
#ifndef SCITT_SCITTD_OPTIONS_H
#define SCITT_SCITTD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scitt/base.h"

struct scittd_config;

/* The configuration file read when --config names none (CMake sets it from SYSCONFDIR). */
#ifndef SCITTD_CONFIG_FILE
#define SCITTD_CONFIG_FILE "/etc/scittd/scittd.conf"
#endif

typedef enum scittd_opt_type {
    SCITTD_OPT_STRING,   /* const char * (owned by the config) */
    SCITTD_OPT_LIST,     /* const char *[SCITTD_MAX_LISTEN] with its count at `count_offset` */
    SCITTD_OPT_CHOICE,   /* const char *, one of `choices` ("a|b|c") */
    SCITTD_OPT_FLAG,     /* bool: no value on the command line, true/false in the file */
    SCITTD_OPT_UNSIGNED, /* unsigned, decimal */
    SCITTD_OPT_COUNT,    /* size_t, decimal */
    SCITTD_OPT_U64,      /* uint64_t, decimal */
    SCITTD_OPT_BYTES,    /* size_t, decimal with an optional K, M, G or T */
    SCITTD_OPT_BYTES64,  /* uint64_t, decimal with an optional K, M, G or T */
    SCITTD_OPT_RATE,     /* double, "N/s" (N > 0) */
    SCITTD_OPT_ACTION,   /* command line only, no field: --help, --version, --check-config */
    SCITTD_OPT_CONFIG,   /* command line only: the configuration file */
} scittd_opt_type;

enum {
    SCITTD_OPT_RESTART = 1u << 0, /* takes effect at start only (a reload logs that it waits) */
    SCITTD_OPT_RELOAD = 1u << 1,  /* SIGHUP applies a new value to the running daemon */
    SCITTD_OPT_SECRET = 1u << 2,  /* never printed: --check-config shows <redacted> */
    SCITTD_OPT_CLI = 1u << 3,     /* command line only: not a key of the configuration file */
};

typedef struct scittd_option {
    const char *name;      /* long option and file key, e.g. "batch-max" */
    scittd_opt_type type;  /* what the value is and where it goes */
    size_t offset;         /* of the field in scittd_config */
    size_t count_offset;   /* SCITTD_OPT_LIST: of its size_t count */
    const char *def;       /* the default, parsed like a value at start; NULL = none (0, NULL) */
    const char *def_shown; /* the default as documented when it is not `def` (NULL: `def`) */
    uint64_t min, max;     /* numeric bounds (inclusive); ignored when both are 0 */
    const char *choices;   /* SCITTD_OPT_CHOICE: "a|b|c" */
    unsigned flags;        /* SCITTD_OPT_* */
    const char *arg;       /* the value's name in --help, e.g. "DIR"; NULL for flags */
    const char *help;      /* one sentence or more; continuation lines are wrapped for --help */
} scittd_option;

/* The table and its number of rows. */
const scittd_option *scittd_options(size_t *n);
/* The row named @p name, or NULL. */
const scittd_option *scittd_option_find(const char *name);

/* What the command line asks for besides settings. */
typedef struct scittd_cli {
    bool help, version, check_config;
    const char *config_file; /* --config FILE (points into argv), or NULL */
} scittd_cli;

/* Fills @p c with every option's default. Free with scittd_config_free. */
SCITT_MUST_USE scitt_err scittd_config_init(struct scittd_config *c);
/* Frees the strings @p c owns and zeroes it. */
void scittd_config_free(struct scittd_config *c);

/*
 * Parses the command line over @p c (later settings win; the first --listen replaces the
 * default list, further ones add to it). @p cli gets the actions. SCITT_ERR_INVALID_ARG with
 * @p reason ("--batch-max must be 1..1048576, not \"0\"") on an unknown option, a missing or bad
 * value or a stray argument. Uses getopt_long (restarted: optind = 0), so it is not thread-safe.
 */
SCITT_MUST_USE scitt_err scittd_options_parse_args(int argc, char **argv, struct scittd_config *c,
                                                   scittd_cli *cli, char *reason, size_t cap);

/*
 * Parses configuration file text @p text (named @p path in reasons) over @p c: "key = value"
 * lines, '#' comments, blank lines; a list key may repeat (the first one replaces the default
 * list). SCITT_ERR_INVALID_ARG with "PATH:LINE: ..." on an unknown key, a bad value, a key given
 * twice or a line that is not a setting.
 */
SCITT_MUST_USE scitt_err scittd_options_parse_file(const char *path, scitt_span text,
                                                   struct scittd_config *c, char *reason,
                                                   size_t cap);

/*
 * The whole configuration: the defaults, then the file (--config FILE, which must exist, else
 * @p default_file when it exists; NULL = none), then the command line, then the checks that
 * span options (--tls-cert and --tls-key go together). SCITT_ERR_INVALID_ARG or SCITT_ERR_IO
 * with @p reason. @p c is initialised here (free it even on failure).
 */
SCITT_MUST_USE scitt_err scittd_options_load(int argc, char **argv, const char *default_file,
                                             struct scittd_config *c, scittd_cli *cli,
                                             const char **file_used, char *reason, size_t cap);

/* --help: the usage text made from the table. */
SCITT_MUST_USE scitt_err scittd_options_help(scitt_dynbuf *out);
/* --check-config: every file key with its effective value, one "key = value" line each;
 * secrets as <redacted>. */
SCITT_MUST_USE scitt_err scittd_options_dump(const struct scittd_config *c, scitt_dynbuf *out);
/* The value of option @p o in @p c as text (lists: comma-separated); "" when unset. */
void scittd_option_value(const struct scittd_config *c, const scittd_option *o, char *out,
                         size_t cap);
/* The Markdown table of every option and its default in docs/deploy.md. */
SCITT_MUST_USE scitt_err scittd_options_markdown(scitt_dynbuf *out);

#endif
