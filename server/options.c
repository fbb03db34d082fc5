/*
 * scittd's option table and its parsers (options.h). Every option is one row below; the command
 * line, the configuration file, --help, --check-config and the defaults table of docs/deploy.md
 * are all made from the rows.
 */
#include "options.h"
#include "scittd.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define F(field) offsetof(scittd_config, field)
#define KB       (1ull << 10)
#define MB       (1ull << 20)
#define GB       (1ull << 30)
#define TB       (1ull << 40)
#define RESTART  SCITTD_OPT_RESTART
#define RELOAD   SCITTD_OPT_RELOAD
#define SECRET   SCITTD_OPT_SECRET
#define CLI      SCITTD_OPT_CLI

/* clang-format off */
static const scittd_option table[] = {
    /* where the ledger lives and how it is reached */
    {"data", SCITTD_OPT_STRING, F(data_dir), 0, "./data", NULL, 0, 0, NULL, RESTART, "DIR",
     "data directory"},
    {"listen", SCITTD_OPT_LIST, F(listen), F(nlisten), "127.0.0.1:8000", NULL, 0, 0, NULL, RESTART,
     "HOST:PORT", "listen address, repeatable (at most 8)"},
    {"tls-cert", SCITTD_OPT_STRING, F(tls_cert), 0, NULL, NULL, 0, 0, NULL, RELOAD, "FILE",
     "TLS certificate chain (PEM, leaf first) for every listener"},
    {"tls-key", SCITTD_OPT_STRING, F(tls_key), 0, NULL, NULL, 0, 0, NULL, RELOAD | SECRET, "FILE",
     "TLS private key (PEM)"},
    {"policy", SCITTD_OPT_STRING, F(policy_file), 0, NULL,
     "the development policy on a new log", 0, 0, NULL, RESTART, "FILE",
     "registration policy (JSON, docs/policy.md); the development policy accepts any issuer "
     "with an x5chain leaf; a log with another policy in force refuses to start without one"},
    {"issuer", SCITTD_OPT_STRING, F(issuer), 0, NULL, "scittd.local", 0, 0, NULL, RESTART, "NAME",
     "iss of receipts (fixed at the first start)"},
    {"origin", SCITTD_OPT_STRING, F(origin), 0, NULL, "the issuer", 0, 0, NULL, RESTART, "NAME",
     "checkpoint origin and receipt sub"},
    {"receipt-alg", SCITTD_OPT_CHOICE, F(receipt_alg), 0, NULL, "ES256", 0, 0, "ES256|ES384|EdDSA",
     RESTART, "ALG", "receipt key algorithm at the first start: ES256, ES384 or EdDSA"},
    {"rotate-receipt-key", SCITTD_OPT_FLAG, F(rotate_key), 0, NULL, NULL, 0, 0, NULL, RESTART,
     NULL, "add a new receipt key at this start; old keys stay published"},
    {"receipt-key", SCITTD_OPT_STRING, F(receipt_key), 0, NULL, "a key made in the keystore", 0,
     0, NULL, RESTART, "URI",
     "sign receipts with a key held in a PKCS#11 token (RFC 7512 pkcs11: URI, ES256, ES384 or "
     "Ed25519; the PIN from pin-source=file:... or $SCITT_PKCS11_PIN, never in the URI); not "
     "with a TEE platform (docs/deploy.md)"},
    /* the platform */
    {"platform", SCITTD_OPT_CHOICE, F(platform), 0, "auto", NULL, 0, 0, "auto|snp|tdx|virtual",
     RESTART, "P", "auto, snp, tdx or virtual"},
    {"dcap-collateral", SCITTD_OPT_STRING, F(dcap_collateral), 0, NULL, NULL, 0, 0, NULL, RESTART,
     "DIR", "Intel DCAP collateral served with TDX evidence (docs/tee.md)"},
    {"insecure-virtual", SCITTD_OPT_FLAG, F(insecure_virtual), 0, NULL, NULL, 0, 0, NULL, RESTART,
     NULL, "allow the INSECURE virtual platform (no TEE)"},
    {"snp-endorsements", SCITTD_OPT_STRING, F(snp_endorsements), 0, NULL,
     "the firmware's certificate table, then $UVM_SECURITY_CONTEXT_DIR", 0, 0, NULL, RESTART,
     "FILE", "PEM of the VCEK, ASK and ARK for SEV-SNP evidence"},
    {"keystore-key", SCITTD_OPT_STRING, F(keystore_key), 0, NULL, "not encrypted", 0, 0, NULL,
     RESTART, "FILE",
     "virtual platform: keep the service keys encrypted (AES-256-GCM) under the 32-byte key in "
     "FILE (raw or 64 hex digits, not readable by group or others); instances given the same "
     "keystore file and key share the service keys; a --witness-key file is sealed under it too"},
    {"key-release-policy", SCITTD_OPT_STRING, F(key_release_policy), 0, NULL, NULL, 0, 0, NULL,
     RESTART, "FILE",
     "serve the service keys to joining instances whose evidence this policy accepts (JSON: "
     "platform and measurements, docs/tee.md); with --join, the holder must meet it too"},
    {"join", SCITTD_OPT_STRING, F(join_url), 0, NULL, NULL, 0, 0, NULL, RESTART, "URL",
     "without service keys at start, obtain them from the running instance at URL by attested "
     "key release (needs --key-release-policy; docs/tee.md)"},
    {"tee-configfs", SCITTD_OPT_STRING, F(tee_configfs), 0, NULL, "/sys/kernel/config/tsm/report",
     0, 0, NULL, RESTART, "DIR", "configfs-tsm report directory"},
    {"sev-guest", SCITTD_OPT_STRING, F(sev_guest), 0, NULL, "/dev/sev-guest", 0, 0, NULL, RESTART,
     "PATH", "SEV guest device"},
    /* batching and storage */
    {"storage", SCITTD_OPT_STRING, F(storage), 0, NULL, "LMDB in --data", 0, 0, NULL,
     RESTART | SECRET, "URL",
     "keep the log in PostgreSQL (postgresql://...) instead of LMDB in --data, which then "
     "holds the service keys only (docs/ha.md); redacted: it may hold a password"},
    {"lease-ms", SCITTD_OPT_UNSIGNED, F(lease_ms), 0, "2000", NULL, 0, 60000, NULL, RESTART, "T",
     "with --storage: the sequencing instance's lease; when it stops renewing, another instance "
     "takes over within T + T/4 (docs/ha.md); 0: take the writer's token at start"},
    {"batch-max", SCITTD_OPT_UNSIGNED, F(batch_max), 0, "4096", NULL, 1, 1u << 20, NULL, RESTART,
     "N", "entries per batch"},
    {"batch-delay-ms", SCITTD_OPT_UNSIGNED, F(batch_delay_ms), 0, "0", NULL, 0, 10000, NULL,
     RESTART, "T",
     "let a batch fill for T ms after its first registration; 0: adaptive, no wait while "
     "sparse, 1 ms above 2,000/s"},
    {"map-size", SCITTD_OPT_BYTES64, F(map_size), 0, "1G", NULL, MB, UINT64_MAX, NULL, RESTART,
     "BYTES", "initial LMDB map size (suffixes K, M, G, T)"},
    {"map-size-max", SCITTD_OPT_BYTES64, F(map_size_max), 0, "1T", NULL, MB, UINT64_MAX, NULL,
     RESTART, "BYTES", "grow the map on demand up to this"},
    {"workers", SCITTD_OPT_UNSIGNED, F(workers), 0, NULL, "2 x cores", 1, 128, NULL, RESTART, "N",
     "threads checking statements"},
    {"read-workers", SCITTD_OPT_UNSIGNED, F(read_workers), 0, NULL, "2 x cores", 1,
     SCITTD_MAX_READ_WORKERS, NULL, RESTART, "N", "threads serving reads"},
    {"costly-read-workers", SCITTD_OPT_UNSIGNED, F(costly_read_workers), 0, "1", NULL, 1,
     SCITTD_MAX_READ_WORKERS, NULL, RESTART, "N",
     "low-priority threads for costly reads: /query, fresh attestation, entry bundles"},
    /* who may register, and how fast */
    {"auth-tokens", SCITTD_OPT_STRING, F(auth_tokens_file), 0, NULL, "none: anyone registers", 0,
     0, NULL, RELOAD, "FILE", "bearer tokens required to register, one per line"},
    {"rate-limit", SCITTD_OPT_RATE, F(http.rate_per_sec), 0, NULL, "off", 0, 0, NULL, RELOAD, "N/s",
     "per-address request rate (token bucket)"},
    {"rate-burst", SCITTD_OPT_COUNT, F(rate_burst), 0, NULL, "2 x the rate", 1, 1u << 30, NULL,
     RELOAD, "N", "per-address bucket size"},
    {"rate-table-entries", SCITTD_OPT_COUNT, F(http.rate_table_entries), 0, "16384", NULL, 4, 1u << 24,
     NULL, RESTART, "N", "client addresses the rate limit tracks at once"},
    {"rate-ipv6-prefix", SCITTD_OPT_UNSIGNED, F(http.rate_ipv6_prefix), 0, "64", NULL, 1, 128, NULL,
     RESTART, "BITS",
     "IPv6 clients are keyed by this prefix (rate limit, per-address connection cap)"},
    /* HTTP limits (docs/deploy.md) */
    {"max-body", SCITTD_OPT_BYTES, F(max_body), 0, NULL, "the policy's statement limit", 1,
     16 * MB, NULL, RESTART, "BYTES", "largest request body"},
    {"max-connections", SCITTD_OPT_COUNT, F(http.max_connections), 0, "4096", NULL, 1, 1u << 20, NULL,
     RESTART, "N", "open connections, all listeners together"},
    {"max-conns-per-ip", SCITTD_OPT_COUNT, F(http.max_conns_per_ip), 0, "256", NULL, 0, 1u << 20, NULL,
     RESTART, "N", "open connections per client address (IPv6: per prefix); 0 = no cap"},
    {"conn-buffer", SCITTD_OPT_BYTES, F(http.conn_buffer_bytes), 0, "256K", NULL, 16 * KB, GB, NULL, RESTART,
     "BYTES", "request and response bytes one connection holds before it waits for its "
              "answers to drain"},
    {"max-header-bytes", SCITTD_OPT_BYTES, F(http.max_header_bytes), 0, "16K", NULL, 1 * KB, MB, NULL,
     RESTART, "BYTES", "header field names and values of one request (431 beyond)"},
    {"max-headers", SCITTD_OPT_COUNT, F(http.max_headers), 0, "64", NULL, 8, 1024, NULL, RESTART, "N",
     "header fields of one request (431 beyond)"},
    {"max-url-bytes", SCITTD_OPT_BYTES, F(http.max_url_bytes), 0, "8K", NULL, 256, MB, NULL, RESTART,
     "BYTES", "request target (414 beyond)"},
    {"max-pipeline", SCITTD_OPT_UNSIGNED, F(http.max_pipeline), 0, "16", NULL, 1, 1024, NULL, RESTART,
     "N", "requests in flight per connection before reading pauses"},
    {"header-timeout-ms", SCITTD_OPT_U64, F(http.header_timeout_ms), 0, "10000", NULL, 100,
     3600000, NULL, RESTART, "T", "time to receive a request's headers"},
    {"body-timeout-ms", SCITTD_OPT_U64, F(http.body_timeout_ms), 0, "30000", NULL, 100, 3600000,
     NULL, RESTART, "T", "time to receive a request's body"},
    {"send-timeout-ms", SCITTD_OPT_U64, F(http.send_timeout_ms), 0, "60000", NULL, 100, 3600000,
     NULL, RESTART, "T", "total time to send one response to a client"},
    {"keepalive-timeout-ms", SCITTD_OPT_U64, F(http.keepalive_timeout_ms), 0, "60000", NULL, 100,
     3600000, NULL, RESTART, "T", "idle time between requests before a connection closes"},
    {"linger-ms", SCITTD_OPT_U64, F(http.linger_ms), 0, "2000", NULL, 0, 60000, NULL, RESTART, "T",
     "after an answer that closes a connection, input is read and dropped this long"},
    /* clients of earlier drafts (server/compat.c) */
    {"public-url", SCITTD_OPT_STRING, F(public_url), 0, NULL, "built from the Host each client sent",
     0, 0, NULL, RESTART, "URL",
     "the service's public base URL: the transparency configuration's jwks_uri is URL/jwks"},
    {"compat-operations", SCITTD_OPT_FLAG, F(compat_operations), 0, NULL, NULL, 0, 0, NULL,
     RESTART, NULL,
     "serve the older SCRAPI operation flow: POST /entries answers 202 with /operations/{id}"},
    /* witnesses */
    {"cosigned-checkpoint", SCITTD_OPT_STRING, F(cosigned_checkpoint), 0, NULL,
     "the newest signed head", 0, 0, NULL, RESTART, "FILE",
     "GET /checkpoint serves this cosigned checkpoint (what scitt witness collect writes) if "
     "the note key signed it; the newest head stays at /checkpoint/latest (docs/witness.md)"},
    {"witness", SCITTD_OPT_LIST, F(witness), F(nwitness), NULL, "none", 0, 0, NULL, RESTART,
     "URL=VKEY",
     "a witness to ask for cosignatures of each signed head (C2SP tlog-witness at URL, its "
     "cosignature vkey), repeatable (at most 8); GET /checkpoint then serves the newest "
     "checkpoint meeting the witness policy (docs/witness.md)"},
    {"witness-policy", SCITTD_OPT_STRING, F(witness_policy), 0, NULL, "every witness must cosign",
     0, 0, NULL, RESTART, "FILE",
     "the C2SP tlog-policy file whose quorum a checkpoint must meet to be served as witnessed"},
    {"witness-key", SCITTD_OPT_STRING, F(witness_key), 0, NULL, "not a witness", 0, 0, NULL,
     RESTART, "FILE",
     "act as a C2SP tlog-witness for the --witness-log logs: POST /add-checkpoint, "
     "GET /witness/vkey; FILE is a key from scitt witness keygen (0600; sealed in place on "
     "SEV-SNP and with --keystore-key); the latest cosigned checkpoint of each log is kept in DATA/witness-state "
     "(docs/witness.md)"},
    {"witness-log", SCITTD_OPT_LIST, F(witness_log), F(nwitness_log), NULL, "none", 0, 0, NULL,
     RESTART, "ORIGIN=VKEY",
     "with --witness-key: a log to witness, its origin and checkpoint verifier key (C2SP "
     "signed-note vkey), repeatable (at most 8)"},
    {"witness-interval-ms", SCITTD_OPT_UNSIGNED, F(witness_interval_ms), 0, "100", NULL, 0, 60000,
     NULL, RESTART, "T",
     "with --witness: the least time between two rounds of submissions; heads signed meanwhile "
     "are covered by the next round's newer head (0: a round as soon as the last one ended)"},
    {"receipts-wait-for-witnesses", SCITTD_OPT_FLAG, F(receipts_wait_for_witnesses), 0, NULL, NULL,
     0, 0, NULL, RESTART, NULL,
     "with --witness: POST /entries answers 201 once a checkpoint meeting the witness policy "
     "covers the entry, with a receipt carrying it (docs/witness.md); after "
     "--receipts-witness-timeout-ms the plain receipt"},
    {"receipts-witness-timeout-ms", SCITTD_OPT_UNSIGNED, F(receipts_witness_timeout_ms), 0, "5000",
     NULL, 1, 600000, NULL, RESTART, "T",
     "with --receipts-wait-for-witnesses: the longest a 201 waits for witnesses"},
    /* running */
    {"log-level", SCITTD_OPT_CHOICE, F(log_level), 0, "info", NULL, 0, 0,
     "error|warn|info|debug", RESTART, "L", "error, warn, info or debug"},
    {"print-ports", SCITTD_OPT_FLAG, F(print_ports), 0, NULL, NULL, 0, 0, NULL, RESTART, NULL,
     "once listening, print \"READY port=P[,P...]\" on stdout, one port per --listen in order "
     "(for supervisors and tests that listen on port 0)"},
    {"no-ui", SCITTD_OPT_FLAG, F(no_ui), 0, NULL, NULL, 0, 0, NULL, RESTART, NULL,
     "do not serve the explorer (/ui/)"},
    /* the command line only */
    {"config", SCITTD_OPT_CONFIG, 0, 0, NULL, SCITTD_CONFIG_FILE " when it exists", 0, 0, NULL,
     CLI, "FILE", "configuration file: \"key = value\" lines, a key per long option; a flag on "
                  "the command line overrides the file"},
    {"check-config", SCITTD_OPT_ACTION, 0, 0, NULL, NULL, 0, 0, NULL, CLI, NULL,
     "check the configuration, print the effective settings (secrets redacted) and exit"},
    {"help", SCITTD_OPT_ACTION, 0, 0, NULL, NULL, 0, 0, NULL, CLI, NULL, "this text"},
    {"version", SCITTD_OPT_ACTION, 0, 0, NULL, NULL, 0, 0, NULL, CLI, NULL, "the version"},
};
/* clang-format on */

#define NOPT (sizeof(table) / sizeof(table[0]))
/* getopt_long's value of row i: past every character, so that no row is read as ':' (58) or
 * '?' (63) once the table has that many rows. */
#define VAL0 256

const scittd_option *scittd_options(size_t *n)
{
    *n = NOPT;
    return table;
}

const scittd_option *scittd_option_find(const char *name)
{
    for (size_t i = 0; i < NOPT; i++) {
        if (strcmp(table[i].name, name) == 0) {
            return &table[i];
        }
    }
    return NULL;
}

static void set_reason(char *reason, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_reason(char *reason, size_t cap, const char *fmt, ...)
{
    if (cap == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, cap, fmt, ap);
    va_end(ap);
}

/* ---- values ---- */

static bool parse_u64(const char *s, bool suffix, uint64_t *out)
{
    if (*s < '0' || *s > '9') {
        return false; /* no sign, no blank */
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) {
        return false;
    }
    uint64_t mul = 1;
    if (suffix && *end) {
        const char *units = "KMGT";
        const char *u = strchr(units, end[0] & ~0x20);
        if (!u || end[0] == 0) {
            return false;
        }
        mul = 1ull << (10 * (1 + (u - units)));
        end++;
    }
    if (*end || v > UINT64_MAX / mul) {
        return false;
    }
    *out = v * mul;
    return true;
}

/* A size as the help shows it: 16K, 1G, or the number. */
static void fmt_size(uint64_t v, bool suffix, char *out, size_t cap)
{
    static const char units[] = "KMGT";
    int u = -1;
    while (suffix && v && u < 3 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    if (u >= 0) {
        snprintf(out, cap, "%llu%c", (unsigned long long)v, units[u]);
    } else {
        snprintf(out, cap, "%llu", (unsigned long long)v);
    }
}

static bool has_bounds(const scittd_option *o)
{
    return o->min != 0 || o->max != 0;
}

static void fmt_bounds(const scittd_option *o, char *out, size_t cap)
{
    bool sfx = o->type == SCITTD_OPT_BYTES || o->type == SCITTD_OPT_BYTES64;
    char lo[32], hi[32];
    fmt_size(o->min, sfx, lo, sizeof(lo));
    if (o->max == UINT64_MAX) {
        snprintf(out, cap, "at least %s", lo);
        return;
    }
    fmt_size(o->max, sfx, hi, sizeof(hi));
    snprintf(out, cap, "%s..%s", lo, hi);
}

static bool choice_ok(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == n && n && memcmp(p, v, n) == 0) {
            return true;
        }
        p += l + (bar != NULL);
    }
    return false;
}

static void choice_list(const char *choices, char *out, size_t cap)
{
    /* "a|b|c" -> "a, b or c" */
    size_t at = 0, n = 1;
    for (const char *p = choices; *p; p++) {
        n += *p == '|';
    }
    size_t i = 0;
    for (const char *p = choices; *p && at + 8 < cap;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        const char *sep = i == 0 ? "" : (i + 1 == n ? " or " : ", ");
        at += (size_t)snprintf(out + at, cap - at, "%s%.*s", sep, (int)l, p);
        p += l + (bar != NULL);
        i++;
    }
}

static char **str_field(scittd_config *c, const scittd_option *o)
{
    return (char **)((uint8_t *)c + o->offset);
}

static void set_str(char **field, char *v)
{
    free(*field);
    *field = v;
}

/*
 * Stores @p v (NUL-terminated) into option @p o of @p c. @p fresh_list: the first setting of a
 * list in this source, which replaces the list. On failure @p why says what a value must be.
 */
static scitt_err set_value(scittd_config *c, const scittd_option *o, const char *v, bool fresh_list,
                           char *why, size_t cap)
{
    uint8_t *at = (uint8_t *)c + o->offset;
    char b[64];
    switch (o->type) {
    case SCITTD_OPT_STRING:
    case SCITTD_OPT_CHOICE: {
        if (*v == 0) {
            set_reason(why, cap, "must not be empty");
            return SCITT_ERR_INVALID_ARG;
        }
        if (o->type == SCITTD_OPT_CHOICE && !choice_ok(o->choices, v)) {
            choice_list(o->choices, b, sizeof(b));
            set_reason(why, cap, "must be %s", b);
            return SCITT_ERR_INVALID_ARG;
        }
        char *s = strdup(v);
        if (!s) {
            return SCITT_ERR_NOMEM;
        }
        set_str(str_field(c, o), s);
        return SCITT_OK;
    }
    case SCITTD_OPT_LIST: {
        size_t *n = (size_t *)((uint8_t *)c + o->count_offset);
        char **list = str_field(c, o);
        if (fresh_list) {
            for (size_t i = 0; i < *n; i++) {
                set_str(&list[i], NULL);
            }
            *n = 0;
        }
        if (*v == 0) {
            set_reason(why, cap, "must not be empty");
            return SCITT_ERR_INVALID_ARG;
        }
        if (*n == SCITTD_MAX_LISTEN) {
            set_reason(why, cap, "is given more than %d times", SCITTD_MAX_LISTEN);
            return SCITT_ERR_INVALID_ARG;
        }
        char *s = strdup(v);
        if (!s) {
            return SCITT_ERR_NOMEM;
        }
        list[(*n)++] = s;
        return SCITT_OK;
    }
    case SCITTD_OPT_FLAG:
        if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
            *(bool *)at = v[0] == 't';
            return SCITT_OK;
        }
        set_reason(why, cap, "must be true or false");
        return SCITT_ERR_INVALID_ARG;
    case SCITTD_OPT_UNSIGNED:
    case SCITTD_OPT_COUNT:
    case SCITTD_OPT_U64:
    case SCITTD_OPT_BYTES:
    case SCITTD_OPT_BYTES64: {
        bool sfx = o->type == SCITTD_OPT_BYTES || o->type == SCITTD_OPT_BYTES64;
        uint64_t x;
        uint64_t hi = o->type == SCITTD_OPT_UNSIGNED ? UINT_MAX : (uint64_t)SIZE_MAX;
        hi = o->type == SCITTD_OPT_BYTES64 || o->type == SCITTD_OPT_U64 ? UINT64_MAX : hi;
        if (!parse_u64(v, sfx, &x) || x > hi || (has_bounds(o) && (x < o->min || x > o->max))) {
            if (has_bounds(o)) {
                fmt_bounds(o, b, sizeof(b));
                set_reason(why, cap, "must be %s", b);
            } else {
                set_reason(why, cap, "must be a number%s", sfx ? " (suffixes K, M, G, T)" : "");
            }
            return SCITT_ERR_INVALID_ARG;
        }
        if (o->type == SCITTD_OPT_UNSIGNED) {
            *(unsigned *)at = (unsigned)x;
        } else if (o->type == SCITTD_OPT_BYTES64 || o->type == SCITTD_OPT_U64) {
            *(uint64_t *)at = x;
        } else {
            *(size_t *)at = (size_t)x;
        }
        return SCITT_OK;
    }
    case SCITTD_OPT_RATE: {
        char *end;
        errno = 0;
        double r = (*v >= '0' && *v <= '9') ? strtod(v, &end) : 0;
        if (!(r > 0) || errno || r > 1e9 || (*end && strcmp(end, "/s") != 0)) {
            set_reason(why, cap, "must look like 100/s");
            return SCITT_ERR_INVALID_ARG;
        }
        *(double *)at = r;
        return SCITT_OK;
    }
    case SCITTD_OPT_ACTION:
    case SCITTD_OPT_CONFIG:
        break;
    }
    return SCITT_ERR_INVALID_ARG;
}

scitt_err scittd_config_init(scittd_config *c)
{
    memset(c, 0, sizeof(*c));
    scitt_http_config_defaults(&c->http); /* its fields without an option keep these */
    char why[128];
    for (size_t i = 0; i < NOPT; i++) {
        if (table[i].def && table[i].type != SCITTD_OPT_ACTION &&
            table[i].type != SCITTD_OPT_CONFIG) {
            scitt_err e = set_value(c, &table[i], table[i].def, true, why, sizeof(why));
            if (e != SCITT_OK) {
                return e == SCITT_ERR_NOMEM ? e : SCITT_ERR_STATE; /* a bad row */
            }
        }
    }
    return SCITT_OK;
}

void scittd_config_free(scittd_config *c)
{
    for (size_t i = 0; i < NOPT; i++) {
        const scittd_option *o = &table[i];
        if (o->type == SCITTD_OPT_STRING || o->type == SCITTD_OPT_CHOICE) {
            set_str(str_field(c, o), NULL);
        } else if (o->type == SCITTD_OPT_LIST) {
            size_t *n = (size_t *)((uint8_t *)c + o->count_offset);
            for (size_t k = 0; k < *n; k++) {
                set_str(&str_field(c, o)[k], NULL);
            }
        }
    }
    memset(c, 0, sizeof(*c));
}

/* ---- the command line ---- */

scitt_err scittd_options_parse_args(int argc, char **argv, scittd_config *c, scittd_cli *cli,
                                    char *reason, size_t cap)
{
    if (cap) {
        reason[0] = 0;
    }
    struct option longopts[NOPT + 1];
    for (size_t i = 0; i < NOPT; i++) {
        const scittd_option *o = &table[i];
        bool arg = o->type != SCITTD_OPT_FLAG && o->type != SCITTD_OPT_ACTION;
        longopts[i] =
            (struct option){o->name, arg ? required_argument : no_argument, NULL, VAL0 + (int)i};
    }
    longopts[NOPT] = (struct option){NULL, 0, NULL, 0};
    bool listed[NOPT];
    memset(listed, 0, sizeof(listed));
    memset(cli, 0, sizeof(*cli));
    optind = 0; /* glibc: a full restart, so the parser can run again (tests, reloads) */
    opterr = 0;
    int o;
    char why[128];
    while ((o = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (o == '?' || o == ':') {
            const char *bad = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
            set_reason(reason, cap,
                       o == ':' ? "%s needs a value (see scittd --help)"
                                : "unknown option \"%s\" (see scittd --help)",
                       bad);
            return SCITT_ERR_INVALID_ARG;
        }
        const scittd_option *opt = &table[o - VAL0];
        switch (opt->type) {
        case SCITTD_OPT_ACTION:
            cli->help |= strcmp(opt->name, "help") == 0;
            cli->version |= strcmp(opt->name, "version") == 0;
            cli->check_config |= strcmp(opt->name, "check-config") == 0;
            continue;
        case SCITTD_OPT_CONFIG:
            cli->config_file = optarg;
            continue;
        case SCITTD_OPT_FLAG:
            *(bool *)((uint8_t *)c + opt->offset) = true;
            continue;
        default:
            break;
        }
        scitt_err e = set_value(c, opt, optarg, !listed[o - VAL0], why, sizeof(why));
        listed[o - VAL0] = true;
        if (e != SCITT_OK) {
            set_reason(reason, cap, "--%s %s, not \"%.200s\"", opt->name, why, optarg);
            return e;
        }
    }
    if (optind < argc) {
        set_reason(reason, cap, "unexpected argument \"%.200s\" (see scittd --help)", argv[optind]);
        return SCITT_ERR_INVALID_ARG;
    }
    return SCITT_OK;
}

/* ---- the configuration file ---- */

#define SCITTD_CONFIG_MAX_BYTES (1u << 20)

static bool blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

scitt_err scittd_options_parse_file(const char *path, scitt_span text, scittd_config *c,
                                    char *reason, size_t cap)
{
    if (cap) {
        reason[0] = 0;
    }
    if (text.len > SCITTD_CONFIG_MAX_BYTES) {
        set_reason(reason, cap, "%s: larger than %u bytes", path, SCITTD_CONFIG_MAX_BYTES);
        return SCITT_ERR_TOO_LARGE;
    }
    unsigned line_of[NOPT];
    memset(line_of, 0, sizeof(line_of));
    char line[4096], why[128];
    size_t pos = 0;
    unsigned lineno = 0;
    while (pos < text.len) {
        lineno++;
        const uint8_t *nl = memchr(text.ptr + pos, '\n', text.len - pos);
        size_t end = nl ? (size_t)(nl - text.ptr) : text.len;
        size_t len = end - pos;
        if (len >= sizeof(line)) {
            set_reason(reason, cap, "%s:%u: line longer than %zu bytes", path, lineno,
                       sizeof(line) - 1);
            return SCITT_ERR_INVALID_ARG;
        }
        memcpy(line, text.ptr + pos, len);
        line[len] = 0;
        pos = end + 1;
        if (memchr(line, 0, len)) {
            set_reason(reason, cap, "%s:%u: a NUL byte", path, lineno);
            return SCITT_ERR_INVALID_ARG;
        }
        char *s = line;
        while (blank(*s)) {
            s++;
        }
        if (*s == 0 || *s == '#') {
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            set_reason(reason, cap, "%s:%u: not a \"key = value\" line", path, lineno);
            return SCITT_ERR_INVALID_ARG;
        }
        char *k_end = eq;
        while (k_end > s && blank(k_end[-1])) {
            k_end--;
        }
        *k_end = 0;
        char *v = eq + 1;
        while (blank(*v)) {
            v++;
        }
        size_t vl = strlen(v);
        while (vl && blank(v[vl - 1])) {
            v[--vl] = 0;
        }
        const scittd_option *o = scittd_option_find(s);
        if (!o) {
            set_reason(reason, cap, "%s:%u: unknown key \"%.100s\"", path, lineno, s);
            return SCITT_ERR_INVALID_ARG;
        }
        if (o->flags & SCITTD_OPT_CLI) {
            set_reason(reason, cap, "%s:%u: \"%s\" can only be given on the command line", path,
                       lineno, s);
            return SCITT_ERR_INVALID_ARG;
        }
        size_t idx = (size_t)(o - table);
        if (line_of[idx] && o->type != SCITTD_OPT_LIST) {
            set_reason(reason, cap, "%s:%u: \"%s\" is set again (first on line %u)", path, lineno,
                       s, line_of[idx]);
            return SCITT_ERR_INVALID_ARG;
        }
        scitt_err e = set_value(c, o, v, line_of[idx] == 0, why, sizeof(why));
        if (e != SCITT_OK) {
            set_reason(reason, cap, "%s:%u: %s %s, not \"%.200s\"", path, lineno, o->name, why, v);
            return e;
        }
        line_of[idx] = lineno;
    }
    return SCITT_OK;
}

static scitt_err read_file(const char *path, scitt_dynbuf *out, char *reason, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_reason(reason, cap, "cannot open %s: %s", path, strerror(errno));
        return SCITT_ERR_IO;
    }
    uint8_t chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && out->len <= SCITTD_CONFIG_MAX_BYTES) {
        scitt_dynbuf_put(out, chunk, n);
    }
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad || out->err) {
        set_reason(reason, cap, "cannot read %s", path);
        return bad ? SCITT_ERR_IO : out->err;
    }
    return SCITT_OK;
}

scitt_err scittd_options_load(int argc, char **argv, const char *default_file, scittd_config *c,
                              scittd_cli *cli, const char **file_used, char *reason, size_t cap)
{
    if (cap) {
        reason[0] = 0;
    }
    *file_used = NULL;
    scitt_err e = scittd_config_init(c);
    if (e != SCITT_OK) {
        return e;
    }
    /* A first pass for --config (and to refuse a bad command line before any file is read). */
    scittd_config scratch;
    e = scittd_config_init(&scratch);
    if (e == SCITT_OK) {
        e = scittd_options_parse_args(argc, argv, &scratch, cli, reason, cap);
    }
    scittd_config_free(&scratch);
    if (e != SCITT_OK || cli->help || cli->version) {
        return e;
    }
    const char *file = cli->config_file;
    if (!file && default_file && access(default_file, F_OK) == 0) {
        file = default_file;
    }
    if (file) {
        scitt_dynbuf text;
        scitt_dynbuf_init(&text, SCITTD_CONFIG_MAX_BYTES + 8192);
        e = read_file(file, &text, reason, cap);
        if (e == SCITT_OK) {
            e = scittd_options_parse_file(file, scitt_span_make(text.ptr, text.len), c, reason,
                                          cap);
        }
        scitt_dynbuf_clear(&text);
        if (e != SCITT_OK) {
            return e;
        }
        *file_used = file;
    }
    e = scittd_options_parse_args(argc, argv, c, cli, reason, cap);
    if (e != SCITT_OK) {
        return e;
    }
    if (!c->tls_cert != !c->tls_key) {
        set_reason(reason, cap, "tls-cert and tls-key go together");
        return SCITT_ERR_INVALID_ARG;
    }
    if (c->map_size_max < c->map_size) {
        set_reason(reason, cap, "map-size-max must be at least map-size");
        return SCITT_ERR_INVALID_ARG;
    }
    return SCITT_OK;
}

/* ---- text made from the table ---- */

static void default_text(const scittd_option *o, char *out, size_t cap)
{
    const char *d = o->def_shown ? o->def_shown : o->def;
    snprintf(out, cap, "%s", d ? d : "");
}

/* Appends @p text wrapped at 100 columns, every line indented by @p indent. */
static void wrap(scitt_dynbuf *out, const char *text, size_t first_col, size_t indent)
{
    size_t col = first_col;
    const char *p = text;
    while (*p) {
        while (*p == ' ') {
            p++;
        }
        size_t w = strcspn(p, " ");
        if (w == 0) {
            break;
        }
        if (col > indent && col + 1 + w > 100) {
            scitt_dynbuf_printf(out, "\n%*s", (int)indent, "");
            col = indent;
        } else if (col > indent) {
            scitt_dynbuf_u8(out, ' ');
            col++;
        }
        scitt_dynbuf_put(out, p, w);
        col += w;
        p += w;
    }
    scitt_dynbuf_u8(out, '\n');
}

scitt_err scittd_options_help(scitt_dynbuf *out)
{
    scitt_dynbuf_str(out,
                     "usage: scittd [options]\n"
                     "\n"
                     "The scittd transparency service: registers COSE Signed Statements (SCRAPI), "
                     "appends them\n"
                     "to an RFC 9162 Merkle tree in LMDB and returns RFC 9942 receipts.\n"
                     "\n");
    for (size_t i = 0; i < NOPT; i++) {
        const scittd_option *o = &table[i];
        char head[64], d[160], text[1024];
        snprintf(head, sizeof(head), "  --%s%s%s", o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        default_text(o, d, sizeof(d));
        snprintf(text, sizeof(text), "%s%s%s%s%s", o->help, d[0] ? " (default: " : "", d,
                 d[0] ? ")" : "", o->flags & SCITTD_OPT_RELOAD ? "; SIGHUP reloads it" : "");
        size_t hl = strlen(head);
        scitt_dynbuf_str(out, head);
        if (hl + 2 > 26) { /* at least two blanks before the text (help2roff.awk) */
            scitt_dynbuf_printf(out, "\n%26s", "");
        } else {
            scitt_dynbuf_printf(out, "%*s", (int)(26 - hl), "");
        }
        wrap(out, text, 26, 26);
    }
    scitt_dynbuf_str(out, "\n"
                          "Every option except --config, --check-config, --help and --version "
                          "can also be set in the\n"
                          "configuration file as \"name = value\" (flags: \"name = true\").\n"
                          "\n"
                          "Example (no TEE on this machine):\n"
                          "  scittd --data ./data --listen 127.0.0.1:8000 --platform virtual "
                          "--insecure-virtual\n");
    return out->err;
}

void scittd_option_value(const scittd_config *c, const scittd_option *o, char *out, size_t cap)
{
    const uint8_t *at = (const uint8_t *)c + o->offset;
    out[0] = 0;
    switch (o->type) {
    case SCITTD_OPT_STRING:
    case SCITTD_OPT_CHOICE: {
        const char *s = *(const char *const *)at;
        snprintf(out, cap, "%s", s ? s : "");
        break;
    }
    case SCITTD_OPT_LIST: {
        size_t n = *(const size_t *)((const uint8_t *)c + o->count_offset);
        const char *const *l = (const char *const *)at;
        size_t used = 0;
        for (size_t i = 0; i < n && used < cap; i++) {
            used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "", l[i]);
        }
        break;
    }
    case SCITTD_OPT_FLAG:
        snprintf(out, cap, "%s", *(const bool *)at ? "true" : "false");
        break;
    case SCITTD_OPT_UNSIGNED:
        if (*(const unsigned *)at) {
            snprintf(out, cap, "%u", *(const unsigned *)at);
        } else if (!(o->min > 0)) {
            snprintf(out, cap, "0");
        }
        break;
    case SCITTD_OPT_COUNT:
    case SCITTD_OPT_BYTES:
        if (*(const size_t *)at || !(o->min > 0)) {
            fmt_size(*(const size_t *)at, o->type == SCITTD_OPT_BYTES, out, cap);
        }
        break;
    case SCITTD_OPT_BYTES64:
    case SCITTD_OPT_U64:
        fmt_size(*(const uint64_t *)at, o->type == SCITTD_OPT_BYTES64, out, cap);
        break;
    case SCITTD_OPT_RATE:
        if (*(const double *)at > 0) {
            snprintf(out, cap, "%g/s", *(const double *)at);
        }
        break;
    case SCITTD_OPT_ACTION:
    case SCITTD_OPT_CONFIG:
        break;
    }
}

scitt_err scittd_options_dump(const scittd_config *c, scitt_dynbuf *out)
{
    for (size_t i = 0; i < NOPT; i++) {
        const scittd_option *o = &table[i];
        if (o->flags & SCITTD_OPT_CLI) {
            continue;
        }
        char v[2048];
        scittd_option_value(c, o, v, sizeof(v));
        if (!v[0]) {
            char d[160];
            default_text(o, d, sizeof(d));
            scitt_dynbuf_printf(out, "# %s: not set (%s)\n", o->name, d[0] ? d : "none");
        } else if (o->flags & SCITTD_OPT_SECRET) {
            scitt_dynbuf_printf(out, "%s = <redacted>\n", o->name);
        } else if (strstr(v, "pin-value=")) {
            /* a PIN written into a PKCS#11 URI (refused at start) is not shown either */
            char *p = strstr(v, "pin-value=") + 10;
            scitt_dynbuf_printf(out, "%s = %.*s<redacted>%s\n", o->name, (int)(p - v), v,
                                p + strcspn(p, "&;"));
        } else if (o->type == SCITTD_OPT_LIST) {
            /* one line per item, as the file takes them */
            size_t k = *(const size_t *)((const uint8_t *)c + o->count_offset);
            const char *const *l = (const char *const *)((const uint8_t *)c + o->offset);
            for (size_t j = 0; j < k; j++) {
                scitt_dynbuf_printf(out, "%s = %s\n", o->name, l[j]);
            }
        } else {
            scitt_dynbuf_printf(out, "%s = %s\n", o->name, v);
        }
    }
    return out->err;
}

scitt_err scittd_options_markdown(scitt_dynbuf *out)
{
    scitt_dynbuf_str(out, "| Option | Default | Values | SIGHUP |\n|---|---|---|---|\n");
    for (size_t i = 0; i < NOPT; i++) {
        const scittd_option *o = &table[i];
        if (o->flags & SCITTD_OPT_CLI) {
            continue;
        }
        char d[160], vals[96] = "";
        default_text(o, d, sizeof(d));
        if (o->type == SCITTD_OPT_CHOICE) {
            choice_list(o->choices, vals, sizeof(vals));
        } else if (o->type == SCITTD_OPT_FLAG) {
            snprintf(vals, sizeof(vals), "true, false");
        } else if (has_bounds(o)) {
            fmt_bounds(o, vals, sizeof(vals));
        } else if (o->type == SCITTD_OPT_RATE) {
            snprintf(vals, sizeof(vals), "N/s");
        } else if (o->arg) {
            snprintf(vals, sizeof(vals), "%s", o->arg);
        }
        scitt_dynbuf_printf(out, "| `--%s` | %s | %s | %s |\n", o->name,
                            d[0] ? d : (o->type == SCITTD_OPT_FLAG ? "false" : "none"), vals,
                            o->flags & SCITTD_OPT_RELOAD ? "reloaded" : "restart");
    }
    return out->err;
}
