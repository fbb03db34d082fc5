/*
 * scitt register, get and keys: the SCRAPI client side. Registration follows the -11 flow (201
 * with the receipt, or 202 and polling GET /entries/{id}: 204 while pending, Retry-After honoured
 * as a minimum), retries 429 and 503, and writes the transparent statement.
 */
#include "cli.h"
#include "net.h"
#include "oci_cmd.h"
#include "trust.h"

#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scitt/cbor.h"
#include "scitt/receipt.h"
#include "scitt/service.h"
#include "scitt/witness.h"

static const char register_help[] =
    "usage: scitt register --url URL STATEMENT [--out TRANSPARENT] [--async] [--timeout S]\n"
    "                      [--token T | --token-file F] [--receipt-out FILE] [--trust FILE]\n"
    "                      [--cacert FILE] [--attach IMAGE] [--api-version V] [--witnessed]\n"
    "                      [--json]\n"
    "\n"
    "Submits a Signed Statement (POST /entries), waits for its receipt and writes the transparent\n"
    "statement: the statement with the receipt added at 394 (receipts from other services are\n"
    "kept). It waits as the service says: 201 with the receipt; 202 and polling GET "
    "/entries/{id};\n"
    "202 and polling GET /operations/{id} (older SCRAPI drafts, scitt-ccf-ledger); a 303 or 302\n"
    "redirect, followed (at most 5; the token only to the service's own scheme, host and port;\n"
    "never from https to http). Polls honour Retry-After (seconds or an HTTP date), else back off\n"
    "exponentially with jitter, all within --timeout.\n"
    "  --out FILE         where to write it (default: STATEMENT.transparent; \"-\": standard\n"
    "                     output, then no --json). If it cannot be written, the message names\n"
    "                     the entry and the command that fetches it again\n"
    "  --async            ask for 202 (Prefer: respond-async) and poll\n"
    "  --witnessed        write a receipt against a witnessed checkpoint, carrying it: the 201's\n"
    "                     when it carries one (scittd --receipts-wait-for-witnesses), else GET\n"
    "                     /entries/{id}?witnessed=1, waiting within --timeout (docs/witness.md)\n"
    "  --token T          bearer token (or --token-file F, or $SCITT_TOKEN)\n"
    "  --receipt-out FILE also write the receipt alone\n"
    "  --trust FILE       verify the receipt against these service keys before "
    "writing\n"
    "  --attach IMAGE     then attach the transparent statement to the image in its registry\n"
    "                     (as scitt attach does; the registry options of scitt attach "
    "apply)\n"
    "  --api-version V    send api-version=V with every request to the service (Microsoft's\n"
    "                     Code Transparency: 2025-01-31-preview, 2026-03-26)\n" NET_OPTIONS_HELP
    "\n"
    "Exit status: 0 registered, 1 rejected (the service's problem details are printed) or the\n"
    "receipt does not verify with --trust, 2 usage, network or server error.\n"
    "\n"
    "Example:\n"
    "  scitt register --url https://scitt.example app.statement --out app.transparent\n";

static const char get_help[] =
    "usage: scitt get --url URL ENTRY_ID [--statement] [--witnessed] --out FILE|- [--force]\n"
    "                 [--timeout S] [--json]\n"
    "\n"
    "Fetches the receipt of an entry (GET /entries/{id}) or, with --statement, its transparent\n"
    "statement (GET /entries/{id}/statement). While the registration is pending (204) it polls\n"
    "until --timeout. --witnessed asks for the receipt against the newest witnessed checkpoint,\n"
    "carrying that cosigned checkpoint (?witnessed=1; docs/witness.md), waiting until --timeout\n"
    "while the entry is not witnessed yet.\n"
    "  --out FILE         where to write it; \"-\" writes it to standard output (then no --json)\n"
    "  --force            replace FILE if it exists (without it, an existing FILE is "
    "refused)\n" NET_OPTIONS_HELP "\n"
    "Example:\n"
    "  scitt get --url https://scitt.example 3f1c...e0 --statement --out app.transparent\n";

static const char keys_help[] =
    "usage: scitt keys --url URL --out FILE|- [--force] [--jwks] [--config FILE] [--timeout S]\n"
    "                  [--json]\n"
    "\n"
    "Fetches the service's receipt keys once (GET /.well-known/scitt-keys, a COSE_Key_Set; with\n"
    "--jwks, GET /jwks), checks that they parse, and writes them for offline verification\n"
    "(scitt verify --trust FILE). --config also saves the transparency configuration (CBOR: "
    "issuer,\n"
    "origin, checkpoint_vkey), for audits of a static copy.\n"
    "  --out FILE         where to write them; \"-\" writes them to standard output (then no\n"
    "                     --json)\n"
    "  --force            replace FILE (and --config FILE) if it exists (without it, "
    "refused)\n" NET_OPTIONS_HELP "\n"
    "Example:\n"
    "  scitt keys --url https://scitt.example --out scitt-keys.cbor\n";

static const net_spec register_net = {register_help,
                                      "the service",
                                      "give up after S seconds in all",
                                      60,
                                      1,
                                      86400,
                                      "print entry_id, location, tree size and index as JSON"};
static const net_spec get_net = {get_help,
                                 "the service",
                                 "wait S seconds for a pending entry (0: exit 2 at once)",
                                 0,
                                 0,
                                 86400,
                                 "print entry_id, out and bytes as JSON"};
static const net_spec keys_net = {keys_help,
                                  "the service",
                                  "give up after S seconds",
                                  30,
                                  1,
                                  3600,
                                  "print out and the keys (kid, alg) as JSON"};

/* The size and index of a receipt's first RFC 9162 proof (not verified; for reports). */
static void receipt_peek(scitt_span receipt, uint64_t *size, uint64_t *index)
{
    *size = *index = 0;
    scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
    if (m && scitt_cose_sign1_decode(receipt, 0, m) == SCITT_OK && m->hdr.vds == 1) {
        scitt_cbor_reader r;
        scitt_cbor_reader_init(&r, m->hdr.vdp);
        size_t n, k;
        int64_t key;
        scitt_span proof;
        if (scitt_cbor_read_map(&r, &n) == SCITT_OK && n >= 1 &&
            scitt_cbor_read_int(&r, &key) == SCITT_OK && key == -1 &&
            scitt_cbor_read_array(&r, &k) == SCITT_OK && k >= 1 &&
            scitt_cbor_read_bytes(&r, &proof) == SCITT_OK) {
            scitt_cbor_reader_init(&r, proof);
            if (scitt_cbor_read_array(&r, &n) != SCITT_OK || scitt_cbor_read_uint(&r, size) ||
                scitt_cbor_read_uint(&r, index)) {
                *size = *index = 0;
            }
        }
    }
    scitt_free(m);
}

typedef struct reg_opts {
    net_opts net;
    const char *statement, *out, *token, *token_file, *receipt_out, *trust, *api_version;
    bool async, witnessed;
    const char *attach; /* --attach IMAGE */
    oci_client_opts reg;
} reg_opts;

static int reg_parse(int argc, char **argv, reg_opts *o)
{
    enum { O_OUT = 1, O_ASYNC, O_TOKEN, O_TOKFILE, O_ROUT, O_TRUST, O_ATTACH, O_APIVER, O_WIT };
    static const struct option lo[] = {{"out", 1, 0, O_OUT},
                                       {"async", 0, 0, O_ASYNC},
                                       {"token", 1, 0, O_TOKEN},
                                       {"token-file", 1, 0, O_TOKFILE},
                                       {"receipt-out", 1, 0, O_ROUT},
                                       {"trust", 1, 0, O_TRUST},
                                       {"attach", 1, 0, O_ATTACH},
                                       {"api-version", 1, 0, O_APIVER},
                                       {"witnessed", 0, 0, O_WIT},
                                       OCI_LONG_OPTIONS,
                                       NET_OPTIONS,
                                       {0, 0, 0, 0}};
    memset(o, 0, sizeof(*o));
    net_opts_init(&o->net, &register_net);
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_OUT:
            o->out = optarg;
            break;
        case O_ASYNC:
            o->async = true;
            break;
        case O_TOKEN:
            o->token = optarg;
            break;
        case O_TOKFILE:
            o->token_file = optarg;
            break;
        case O_ROUT:
            o->receipt_out = optarg;
            break;
        case O_TRUST:
            o->trust = optarg;
            break;
        case O_ATTACH:
            o->attach = optarg;
            break;
        case O_APIVER:
            o->api_version = optarg;
            break;
        case O_WIT:
            o->witnessed = true;
            break;
        default:
            if (oci_option(&o->reg, c, optarg)) {
                break;
            }
            if ((c = net_option(&o->net, &register_net, c, argv)) != CLI_OK) {
                return c;
            }
            break;
        }
    }
    if (argc - optind != 1) {
        return cli_usage("give exactly one STATEMENT file");
    }
    if (o->out && strcmp(o->out, "-") == 0 && o->net.json) {
        return cli_usage("--out - and --json both write to standard output");
    }
    o->statement = argv[optind];
    if (o->token && o->token_file) {
        return cli_usage("--token and --token-file exclude each other");
    }
    return CLI_OK;
}

/* The bearer token: --token, --token-file (first line) or $SCITT_TOKEN. */
static int load_token(const reg_opts *o, char *out, size_t cap)
{
    out[0] = 0;
    if (o->token) {
        snprintf(out, cap, "%s", o->token);
    } else if (o->token_file) {
        scitt_dynbuf b;
        int rc = cli_slurp(o->token_file, 4096, &b);
        if (rc != CLI_OK) {
            return rc;
        }
        size_t n = 0;
        while (n < b.len && n + 1 < cap && b.ptr[n] != '\n' && b.ptr[n] != '\r') {
            out[n] = (char)b.ptr[n];
            n++;
        }
        out[n] = 0;
        scitt_wipe(b.ptr, b.len);
        scitt_dynbuf_clear(&b);
    } else if (getenv("SCITT_TOKEN")) {
        snprintf(out, cap, "%s", getenv("SCITT_TOKEN"));
    }
    if (strpbrk(out, "\r\n")) {
        return cli_usage("the token holds a line break");
    }
    return CLI_OK;
}

/* Two receipts from one service: the same CWT issuer, or (without one) the same kid. */
static bool same_service(scitt_span a, scitt_span b)
{
    scitt_cose_sign1 *x = scitt_malloc(sizeof(*x)), *y = scitt_malloc(sizeof(*y));
    bool same = false;
    if (x && y && scitt_cose_sign1_decode(a, 0, x) == SCITT_OK &&
        scitt_cose_sign1_decode(b, 0, y) == SCITT_OK) {
        if (x->hdr.cwt.has_iss && y->hdr.cwt.has_iss) {
            same = scitt_span_eq(x->hdr.cwt.iss, y->hdr.cwt.iss);
        } else if (x->hdr.kid.len && y->hdr.kid.len) {
            same = scitt_span_eq(x->hdr.kid, y->hdr.kid);
        }
    }
    scitt_free(x);
    scitt_free(y);
    return same;
}

/* Whether the service already holds the statement (scittd names entries by their digest). A
 * service that names them otherwise answers 404 here; any failure means "not known". */
static bool already_held(scitt_client *cl, const scitt_cose_sign1 *m)
{
    uint8_t id[SCITT_SHA256_LEN];
    char hex[65];
    scitt_receipt_entry_digest(m, id);
    if (scitt_hex_encode(scitt_span_make(id, sizeof(id)), hex, sizeof(hex)) != SCITT_OK) {
        return false;
    }
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, SCITT_CLIENT_RECEIPT_MAX);
    char why[600];
    bool held = scitt_client_receipt(cl, hex, 0, &b, why, sizeof(why)) == SCITT_OK;
    scitt_dynbuf_clear(&b);
    return held;
}

/* POST /entries and the polling rules of libscitt-client, with the tool's messages. */
static int obtain_receipt(const reg_opts *o, scitt_client *cl, scitt_span stmt,
                          scitt_client_registration *reg)
{
    char why[600];
    scitt_err e = scitt_client_register(cl, stmt, o->async ? SCITT_CLIENT_ASYNC : 0,
                                        (uint32_t)o->net.timeout * 1000, reg, why, sizeof(why));
    if (e == SCITT_ERR_POLICY) {
        return cli_fail(CLI_FAIL, "%s was rejected: %s", o->statement,
                        scitt_client_last(cl)->problem);
    }
    if (e == SCITT_ERR_NOT_FOUND) {
        return cli_fail(CLI_USAGE, "%s is unknown to the service: %s", o->statement,
                        scitt_client_last(cl)->problem);
    }
    if (e != SCITT_OK && scitt_client_last(cl)->status == 413) {
        return cli_fail(CLI_USAGE,
                        "%s is larger than the service accepts: %s; sign a hash envelope instead "
                        "(scitt sign --hash-envelope FILE), which carries the payload's hash",
                        o->statement, scitt_client_last(cl)->problem);
    }
    return e == SCITT_OK ? CLI_OK : cli_fail(CLI_USAGE, "%s", why);
}

int cmd_register(int argc, char **argv)
{
    reg_opts o;
    int rc = reg_parse(argc, argv, &o);
    if (rc == NET_HELP_SHOWN) {
        return CLI_OK;
    }
    if (rc != CLI_OK) {
        return rc;
    }
    scitt_client *cl = NULL;
    char token[SCITT_CLIENT_TOKEN_MAX + 1];
    rc = load_token(&o, token, sizeof(token));
    rc = rc ? rc : net_client_open(&o.net, token, &cl);
    scitt_wipe(token, sizeof(token));
    if (rc == CLI_OK && o.api_version &&
        scitt_client_set_api_version(cl, o.api_version) != SCITT_OK) {
        rc = cli_usage("--api-version is 1..64 letters, digits, '.', '-' or '_'");
    }
    scitt_dynbuf stmt, ts;
    scitt_client_registration reg;
    scitt_client_registration_init(&reg);
    scitt_dynbuf_init(&stmt, 0);
    scitt_dynbuf_init(&ts, CLI_FILE_MAX);
    rc = rc ? rc : cli_slurp(o.statement, CLI_FILE_MAX, &stmt);
    oci_image img;
    if (rc == CLI_OK && o.attach) {
        rc = oci_resolve(o.attach, &o.reg, &img); /* before registering: a wrong name fails now */
    }
    scitt_span st = scitt_span_make(stmt.ptr, stmt.len);
    scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
    if (rc == CLI_OK && (!m || scitt_cose_sign1_decode(st, 0, m) != SCITT_OK)) {
        rc = cli_fail(CLI_USAGE, "%s is not a tagged COSE_Sign1 statement", o.statement);
    }
    bool again = rc == CLI_OK && already_held(cl, m);
    rc = rc ? rc : obtain_receipt(&o, cl, st, &reg);
    const char *id = reg.entry_id;
    scitt_span rs = scitt_span_make(reg.receipt.ptr, reg.receipt.len), note;
    scitt_dynbuf wrec;
    scitt_dynbuf_init(&wrec, SCITT_CLIENT_RECEIPT_MAX);
    bool carried = rc == CLI_OK && scitt_receipt_checkpoint(rs, &note) == SCITT_OK;
    if (rc == CLI_OK && o.witnessed && !carried) {
        /* the 201 did not wait for witnesses: the receipt against the witnessed checkpoint */
        char path[128], why[600];
        snprintf(path, sizeof(path), "/entries/%s?witnessed=1", id);
        scitt_err e = cli_get_waiting(cl, path, o.net.timeout, &wrec, why, sizeof(why));
        if (e != SCITT_OK) {
            rc = cli_fail(CLI_USAGE,
                          "registered as entry %s, but no witnessed receipt within --timeout: %s "
                          "(scitt get --url %s %s --witnessed --statement fetches it later)",
                          id, why, o.net.url, id);
        } else if (scitt_receipt_checkpoint(scitt_span_make(wrec.ptr, wrec.len), &note) !=
                   SCITT_OK) {
            rc = cli_fail(CLI_USAGE, "the service's witnessed receipt carries no checkpoint");
        } else {
            rs = scitt_span_make(wrec.ptr, wrec.len);
        }
    }
    int verified = -1;
    size_t replaced = 0;
    if (rc == CLI_OK && o.trust) {
        trust t;
        rc = trust_init(&t);
        rc = rc ? rc : trust_load(&t, o.trust);
        scitt_dynbuf entry;
        scitt_dynbuf_init(&entry, 0);
        scitt_cbor_writer w;
        scitt_cbor_writer_init_dynbuf(&w, &entry);
        if (rc == CLI_OK && scitt_receipt_entry(m, &w) == SCITT_OK) {
            scitt_err e = scitt_receipt_verify_inclusion(rs, scitt_span_make(entry.ptr, entry.len),
                                                         t.keys, SCITT_RECEIPT_REQUIRE_SUB, NULL);
            verified = e == SCITT_OK;
            if (e != SCITT_OK) {
                rc = cli_fail(CLI_FAIL, "the receipt from %s does not verify with %s: %s",
                              o.net.url, o.trust, scitt_err_str(e));
            }
        }
        scitt_dynbuf_clear(&entry);
        trust_clear(&t);
    }
    if (rc == CLI_OK) {
        /* Keep receipts from other services; ours goes last, replacing any earlier receipt of
         * the same service (a statement registered again gets no second one). */
        scitt_span all[SCITT_LIMIT_RECEIPTS];
        size_t n = 0;
        for (size_t i = 0; i < m->hdr.nreceipts && n + 1 < SCITT_LIMIT_RECEIPTS; i++) {
            if (scitt_span_eq(m->hdr.receipts[i], rs) || same_service(m->hdr.receipts[i], rs)) {
                replaced++;
                continue;
            }
            all[n++] = m->hdr.receipts[i];
        }
        all[n++] = rs;
        scitt_cbor_writer w;
        scitt_cbor_writer_init_dynbuf(&w, &ts);
        scitt_err e = scitt_receipt_embed(st, all, n, &w);
        if (e != SCITT_OK) {
            rc = cli_fail(CLI_USAGE, "the service's answer is not a receipt: %s", scitt_err_str(e));
        }
    }
    char out[4200];
    snprintf(out, sizeof(out), "%s", o.out ? o.out : "");
    if (!o.out) {
        snprintf(out, sizeof(out), "%s.transparent", o.statement);
    }
    if (rc == CLI_OK) {
        /* Registered already: a file that cannot be written must not lose the entry. */
        const char *failed = NULL;
        errno = 0;
        scitt_err we = cli_write_file(out, scitt_span_make(ts.ptr, ts.len), 0644);
        failed = we != SCITT_OK ? out : NULL;
        if (!failed && o.receipt_out) {
            errno = 0;
            we = cli_write_file(o.receipt_out, rs, 0644);
            failed = we != SCITT_OK ? o.receipt_out : NULL;
        }
        if (failed) {
            rc = cli_fail(CLI_USAGE,
                          "registered as entry %s, but cannot write %s: %s; fetch it again with "
                          "scitt get --url %s %s --statement --out FILE (GET %s/entries/%s)",
                          id, failed, errno ? strerror(errno) : scitt_err_str(we), o.net.url, id,
                          o.net.url, id);
        }
    }
    char artifact[OCI_DIGEST_STR] = "";
    if (rc == CLI_OK && o.attach) {
        bool via_tag;
        rc = oci_attach(&img, &o.reg, scitt_span_make(ts.ptr, ts.len), artifact, &via_tag);
    }
    if (rc == CLI_OK) {
        uint64_t size, index;
        receipt_peek(rs, &size, &index);
        if (o.net.json) {
            scitt_dynbuf b;
            scitt_dynbuf_init(&b, 0);
            scitt_json_writer j;
            scitt_json_writer_init(&j, &b);
            scitt_json_begin_object(&j);
            scitt_json_put_key(&j, "entry_id");
            scitt_json_put_cstr(&j, id);
            scitt_json_put_key(&j, "location");
            char loc[128];
            snprintf(loc, sizeof(loc), "/entries/%s", id);
            scitt_json_put_cstr(&j, loc);
            scitt_json_put_key(&j, "tree_size");
            scitt_json_put_uint(&j, size);
            scitt_json_put_key(&j, "leaf_index");
            scitt_json_put_uint(&j, index);
            scitt_json_put_key(&j, "out");
            scitt_json_put_cstr(&j, out);
            if (artifact[0]) {
                scitt_json_put_key(&j, "attached");
                scitt_json_put_cstr(&j, artifact);
            }
            scitt_json_put_key(&j, "witnessed");
            scitt_json_put_bool(&j, scitt_receipt_checkpoint(rs, &note) == SCITT_OK);
            scitt_json_put_key(&j, "already_registered");
            scitt_json_put_bool(&j, again);
            scitt_json_put_key(&j, "replaced_receipts");
            scitt_json_put_uint(&j, replaced);
            scitt_json_put_key(&j, "receipt_verified");
            if (verified < 0) {
                scitt_json_put_null(&j);
            } else {
                scitt_json_put_bool(&j, verified == 1);
            }
            scitt_json_end_object(&j);
            cli_json_print(&j);
        } else {
            /* with --out -, stdout holds the statement: the summary goes to stderr */
            FILE *f = strcmp(out, "-") == 0 ? stderr : stdout;
            fprintf(f, "%s %s: entry %s, index %llu in a tree of %llu; wrote %s\n",
                    again ? "already registered" : "registered", o.statement, id,
                    (unsigned long long)index, (unsigned long long)size, out);
            if (replaced) {
                fprintf(f, "replaced the earlier receipt from this service (no second receipt)\n");
            }
            if (artifact[0]) {
                printf("attached it to %s/%s@%s as %s\n", img.ref.registry, img.ref.repo,
                       img.digest, artifact);
            }
        }
    }
    scitt_free(m);
    scitt_dynbuf_clear(&stmt);
    scitt_client_registration_clear(&reg);
    scitt_dynbuf_clear(&wrec);
    scitt_dynbuf_clear(&ts);
    scitt_client_free(cl);
    return rc;
}

/* --out of get and keys: "-" is stdout (not with --json, which goes there too); an existing
 * file is replaced only with --force. */
static int out_usable(const char *out, bool force, bool json)
{
    if (strcmp(out, "-") == 0) {
        return json ? cli_usage("--out - and --json both write to standard output") : CLI_OK;
    }
    struct stat st;
    if (!force && lstat(out, &st) == 0) {
        return cli_usage("%s exists: --force replaces it", out);
    }
    return CLI_OK;
}

/* ---- get ----------------------------------------------------------------------------------- */

/* GET /entries/{id}[/statement]?witnessed=1, waiting while it is not witnessed yet. */
static scitt_err witnessed_get(scitt_client *cl, const char *id, bool statement, unsigned timeout_s,
                               scitt_dynbuf *body, char *why, size_t cap)
{
    char path[128];
    snprintf(path, sizeof(path), "/entries/%s%s?witnessed=1", id, statement ? "/statement" : "");
    return cli_get_waiting(cl, path, timeout_s, body, why, cap);
}

int cmd_get(int argc, char **argv)
{
    enum { O_STMT = 1, O_OUT, O_FORCE, O_WITNESSED };
    static const struct option lo[] = {
        {"statement", 0, 0, O_STMT},      {"out", 1, 0, O_OUT}, {"force", 0, 0, O_FORCE},
        {"witnessed", 0, 0, O_WITNESSED}, NET_OPTIONS,          {0, 0, 0, 0}};
    const char *out = NULL;
    bool statement = false, force = false, witnessed = false;
    net_opts net;
    net_opts_init(&net, &get_net);
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_STMT:
            statement = true;
            break;
        case O_OUT:
            out = optarg;
            break;
        case O_FORCE:
            force = true;
            break;
        case O_WITNESSED:
            witnessed = true;
            break;
        default:
            if ((c = net_option(&net, &get_net, c, argv)) != CLI_OK) {
                return c == NET_HELP_SHOWN ? CLI_OK : c;
            }
            break;
        }
    }
    if (argc - optind != 1 || !out) {
        return cli_usage("give ENTRY_ID and --out FILE");
    }
    int orc = out_usable(out, force, net.json);
    if (orc != CLI_OK) {
        return orc;
    }
    const char *id = argv[optind];
    uint8_t bin[SCITT_HASH_LEN];
    if (scitt_entry_id_parse(scitt_span_str(id), bin) != SCITT_OK) {
        return cli_usage("an entry ID is 64 lowercase hex digits, not \"%s\"", id);
    }
    scitt_client *cl = NULL;
    int rc = cli_client_open(net.url, net.cacert, 0, NULL, &cl);
    if (rc != CLI_OK) {
        return rc;
    }
    char why[600];
    scitt_dynbuf body;
    scitt_dynbuf_init(&body, 0);
    scitt_err e =
        witnessed ? witnessed_get(cl, id, statement, (unsigned)net.timeout, &body, why, sizeof(why))
        : statement
            ? scitt_client_statement(cl, id, (uint32_t)net.timeout * 1000, &body, why, sizeof(why))
            : scitt_client_receipt(cl, id, (uint32_t)net.timeout * 1000, &body, why, sizeof(why));
    if (e != SCITT_OK) {
        rc = cli_fail(e == SCITT_ERR_POLICY ? CLI_FAIL : CLI_USAGE, "%s", why);
    }
    rc = rc ? rc : cli_save(out, scitt_span_make(body.ptr, body.len), 0644);
    if (rc == CLI_OK && net.json) {
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        scitt_json_writer j;
        scitt_json_writer_init(&j, &b);
        scitt_json_begin_object(&j);
        scitt_json_put_key(&j, "entry_id");
        scitt_json_put_cstr(&j, id);
        scitt_json_put_key(&j, "out");
        scitt_json_put_cstr(&j, out);
        scitt_json_put_key(&j, "bytes");
        scitt_json_put_uint(&j, body.len);
        scitt_json_end_object(&j);
        cli_json_print(&j);
    } else if (rc == CLI_OK && strcmp(out, "-") != 0) {
        printf("wrote %s (%zu bytes)\n", out, body.len);
    }
    scitt_dynbuf_clear(&body);
    scitt_client_free(cl);
    return rc;
}

/* ---- keys ---------------------------------------------------------------------------------- */

int cmd_keys(int argc, char **argv)
{
    enum { O_OUT = 1, O_JWKS, O_CONFIG, O_FORCE };
    static const struct option lo[] = {{"out", 1, 0, O_OUT},
                                       {"force", 0, 0, O_FORCE},
                                       {"jwks", 0, 0, O_JWKS},
                                       {"config", 1, 0, O_CONFIG},
                                       NET_OPTIONS,
                                       {0, 0, 0, 0}};
    const char *out = NULL, *config = NULL;
    bool jwks = false, force = false;
    net_opts net;
    net_opts_init(&net, &keys_net);
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_OUT:
            out = optarg;
            break;
        case O_JWKS:
            jwks = true;
            break;
        case O_FORCE:
            force = true;
            break;
        case O_CONFIG:
            config = optarg;
            break;
        default:
            if ((c = net_option(&net, &keys_net, c, argv)) != CLI_OK) {
                return c == NET_HELP_SHOWN ? CLI_OK : c;
            }
            break;
        }
    }
    if (optind != argc || !out) {
        return cli_usage("--url URL and --out FILE are required");
    }
    int orc = out_usable(out, force, net.json);
    orc = orc ? orc : config ? out_usable(config, force, false) : CLI_OK;
    if (orc != CLI_OK) {
        return orc;
    }
    scitt_client *cl = NULL;
    int rc = net_client_open(&net, NULL, &cl);
    if (rc != CLI_OK) {
        return rc;
    }
    char why[600];
    scitt_dynbuf doc;
    scitt_dynbuf_init(&doc, SCITT_LIMIT_KEY_TEXT);
    scitt_cose_keyset *set = NULL;
    scitt_err e = scitt_client_keys(cl, jwks ? SCITT_CLIENT_JWKS : 0, &doc, &set, why, sizeof(why));
    rc = e == SCITT_OK ? cli_save(out, scitt_span_make(doc.ptr, doc.len), 0644)
                       : cli_fail(CLI_USAGE, "%s", why);
    if (rc == CLI_OK && config) {
        e = scitt_client_configuration(cl, &doc, why, sizeof(why));
        rc = e == SCITT_OK ? cli_save(config, scitt_span_make(doc.ptr, doc.len), 0644)
                           : cli_fail(CLI_USAGE, "%s", why);
    }
    scitt_dynbuf_clear(&doc);
    scitt_client_free(cl);
    if (rc == CLI_OK) {
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        scitt_json_writer j;
        scitt_json_writer_init(&j, &b);
        scitt_json_begin_object(&j);
        scitt_json_put_key(&j, "out");
        scitt_json_put_cstr(&j, out);
        scitt_json_put_key(&j, "keys");
        scitt_json_begin_array(&j);
        for (size_t i = 0; i < scitt_cose_keyset_count(set); i++) {
            const scitt_cose_key *k = scitt_cose_keyset_at(set, i);
            scitt_json_begin_object(&j);
            scitt_json_put_key(&j, "kid");
            scitt_json_put_hex(&j, scitt_cose_key_kid(k));
            scitt_json_put_key(&j, "alg");
            scitt_json_put_cstr(&j, scitt_cose_alg_name(scitt_cose_key_alg(k)));
            scitt_json_end_object(&j);
            if (!net.json && strcmp(out, "-") != 0) {
                char *h = cli_hex(scitt_cose_key_kid(k));
                printf("key %s %s\n", scitt_cose_alg_name(scitt_cose_key_alg(k)), h ? h : "");
                scitt_free(h);
            }
        }
        scitt_json_end_array(&j);
        scitt_json_end_object(&j);
        if (net.json) {
            cli_json_print(&j);
        } else {
            if (strcmp(out, "-") != 0) {
                printf("wrote %s (%zu keys)\n", out, scitt_cose_keyset_count(set));
            }
            scitt_dynbuf_clear(&b);
        }
    }
    scitt_cose_keyset_free(set);
    return rc;
}
