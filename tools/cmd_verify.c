/*
 * scitt verify: a transparent statement, fully offline. The checks are libscitt-client's
 * (scitt/verify.h: every receipt against the trusted service keys or the receipt key a
 * TEE-attested service bundle binds, the issuer signature, the x5chain, the did:x509 issuer);
 * this file parses the options, reads the files they name, and prints the results (a line per
 * check, or --json).
 */
#include "attestation.h"
#include "cli.h"
#include "oci_cmd.h"
#include "parsers.h"
#include "trust.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scitt/verify.h"
#include "scitt/witness.h"
#include "scitt/x509.h"

static const char help[] =
    "usage: scitt verify TRANSPARENT --trust FILE... [options]\n"
    "       scitt verify TRANSPARENT --service-bundle FILE --expect-measurement HEX [options]\n"

    "\n"
    "Verifies a transparent statement offline: each receipt against the trusted service keys,\n"
    "then the issuer's signature. Trust files (--trust, repeatable): a COSE_Key_Set (scitt keys,\n"
    "or /.well-known/scitt-keys), a COSE_Key, a JWKS or JWK, a PEM public key or certificate, or\n"
    "a CCF service trust store (a directory of service-parameter .json files, or one file).\n"
    "Receipts: RFC 9942 vds 1 (RFC 9162 SHA-256, any log) and vds 2 (CCF: Microsoft Signing\n"
    "Transparency, Azure Code Transparency).\n"
    "  --receipt FILE       also verify this receipt (TRANSPARENT may then be a plain statement)\n"
    "  --any                one verified receipt suffices (default: every receipt must verify)\n"
    "  --payload FILE       the detached payload; for a hash envelope, the preimage (hashed and\n"
    "                       compared with the signed digest); for an attached payload, compared.\n"
    "                       A payload that cannot be checked (detached, no issuer key) fails\n"
    "  --issuer-key FILE    the issuer's key (PEM, JWK, ...): the signature must verify with it,\n"
    "                       and it establishes the issuer\n"
    "  --issuer-roots PEM   validate the x5chain up to these roots (establishes the issuer)\n"
    "  --did-x509           require iss to be a did:x509 (a did:x509 iss is always resolved\n"
    "                       against the x5chain, and establishes the issuer)\n"
    "  --x509-time MODE     when certificates must be valid: iat (default, else --at), at, off\n"
    "  --at TIME            the instant of the checks (CWT exp and nbf, certificates with\n"
    "                       --x509-time at): Unix seconds or 2025-07-01T00:00:00Z (default now)\n"
    "  --legacy-labels      also accept 2023-era labels: CWT claims 13, receipts -333, vds -111,\n"
    "                       proofs -222\n"
    "  --digest [ALG:]HEX   require this signed digest (a hash envelope's payload, e.g. the\n"
    "                       image digest about to be deployed; else SHA-256 of the payload);\n"
    "                       ALG (sha256, sha384, sha512) must be the statement's algorithm\n"
    "  --iss ISS            require this issuer: the iss claim, and established by a did:x509\n"
    "                       iss, --issuer-roots or --issuer-key (a self-asserted x5chain fails)\n"
    "  --sub SUB            require this CWT sub\n"
    "  --json               every check, the key used (kid, trust file), tree size and index\n";

/* The second half of the help (C11 bounds one string literal). */
static const char help_bundle[] =
    "Trust from hardware roots instead of a trust store (see scitt attest verify --help):\n"
    "  --service-bundle FILE  a service bundle (scitt attest export): its TEE evidence is\n"
    "                       verified first (AMD's pinned roots, the binding of the identity),\n"
    "                       then receipts are checked with the receipt key it binds and must\n"
    "                       name its issuer. SEV-SNP bundles need --expect-measurement,\n"
    "                       TDX --expect-mrtd, SGX --expect-mrenclave or "
    "--expect-mrsigner\n" ATTEST_POLICY_HELP ATTEST_INTEL_HELP_SHORT "\n"
    "An issuer that nothing establishes is reported (\"verified, issuer not established\"),\n"
    "and is a failure with --iss.\n"
    "Exit status: 0 verified, 1 a check failed, 2 usage or unreadable input.\n"
    "\n"
    "Example:\n"
    "  scitt verify app.transparent --trust scitt-keys.cbor --issuer-roots release-ca.pem \\\n"
    "      --digest \"$IMAGE_DIGEST\"\n"
    "  scitt verify app.transparent --service-bundle scitt.bundle \\\n"
    "      --expect-measurement \"$LEDGER_MEASUREMENT\" --digest \"$IMAGE_DIGEST\"\n";

static const char image_help[] =
    "\n"
    "Images in a registry (docs/oci.md): scitt verify --image REF --trust FILE... [options]\n"
    "  --image REF          verify the transparent statements attached to the image in its\n"
    "                       registry (OCI referrers, see scitt attach): each is checked as\n"
    "                       above with the image's manifest digest as the required --digest;\n"
    "                       exit 0 when one passes every check (--json: each one's "
    "checks)\n" OCI_OPTIONS_HELP "Example:\n"
    "  scitt verify --image ghcr.io/org/app:v1.4.2 --trust scitt-keys.cbor \\\n"
    "      --issuer-roots release-ca.crt --did-x509 --iss \"$ISS\"\n";
static const char help_witness[] =
    "\nWitnesses (docs/witness.md):\n"
    "  --witness-policy FILE  a C2SP tlog-policy: --checkpoint must be signed by one of its logs\n"
    "                       and cosigned per its quorum (the missing witnesses are named), and\n"
    "                       each RFC 9162 receipt must be of that tree: the same root at the\n"
    "                       same size, or an older tree proven a prefix by --consistency\n"
    "  --checkpoint FILE    the cosigned checkpoint (what scitt witness collect writes); without\n"
    "                       it, the one a witnessed receipt carries (scitt get --witnessed)\n"
    "  --consistency FILE   the log's consistency receipt from the receipt's tree size to the\n"
    "                       checkpoint's (GET /proofs/consistency?from=N&to=M), checked with\n"
    "                       the trusted keys\n";

typedef struct opts {
    const char *file, *payload, *issuer_key, *issuer_roots, *x509_time;
    const char *want_digest, *want_iss, *want_sub, *bundle;
    const char *witness_policy, *checkpoint, *consistency;
    int64_t at; /* --at, else now */
    attest_req att;
    bool att_given;
    const char *trust[TRUST_FILES_MAX];
    size_t ntrust;
    const char *receipt[SCITT_LIMIT_RECEIPTS];
    size_t nreceipt;
    bool any, did, legacy, json;
    const char *image; /* --image REF */
    oci_client_opts reg;
    char image_digest[OCI_DIGEST_STR];
} opts;

static int parse(int argc, char **argv, opts *o)
{
    enum {
        O_TRUST = 1,
        O_RECEIPT,
        O_ANY,
        O_PAYLOAD,
        O_IKEY,
        O_IROOTS,
        O_DID,
        O_XTIME,
        O_LEGACY,
        O_DIGEST,
        O_ISS,
        O_SUB,
        O_JSON,
        O_BUNDLE,
        O_AT,
        O_IMAGE,
        O_WPOLICY,
        O_CHECKPOINT,
        O_CONSISTENCY,
        O_HELP
    };
    static const struct option lo[] = {{"trust", 1, 0, O_TRUST},
                                       {"receipt", 1, 0, O_RECEIPT},
                                       {"any", 0, 0, O_ANY},
                                       {"payload", 1, 0, O_PAYLOAD},
                                       {"issuer-key", 1, 0, O_IKEY},
                                       {"issuer-roots", 1, 0, O_IROOTS},
                                       {"did-x509", 0, 0, O_DID},
                                       {"x509-time", 1, 0, O_XTIME},
                                       {"legacy-labels", 0, 0, O_LEGACY},
                                       {"digest", 1, 0, O_DIGEST},
                                       {"iss", 1, 0, O_ISS},
                                       {"sub", 1, 0, O_SUB},
                                       {"json", 0, 0, O_JSON},
                                       {"service-bundle", 1, 0, O_BUNDLE},
                                       {"at", 1, 0, O_AT},
                                       {"image", 1, 0, O_IMAGE},
                                       OCI_LONG_OPTIONS,
                                       {"witness-policy", 1, 0, O_WPOLICY},
                                       {"checkpoint", 1, 0, O_CHECKPOINT},
                                       {"consistency", 1, 0, O_CONSISTENCY},
                                       ATTEST_POLICY_OPTIONS,
                                       {"help", 0, 0, O_HELP},
                                       {0, 0, 0, 0}};
    memset(o, 0, sizeof(*o));
    attest_req_init(&o->att);
    o->at = (int64_t)time(NULL);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_TRUST:
            if (o->ntrust == TRUST_FILES_MAX) {
                return cli_usage("at most %u --trust files", TRUST_FILES_MAX);
            }
            o->trust[o->ntrust++] = optarg;
            break;
        case O_RECEIPT:
            if (o->nreceipt == SCITT_LIMIT_RECEIPTS) {
                return cli_usage("at most %u --receipt files", SCITT_LIMIT_RECEIPTS);
            }
            o->receipt[o->nreceipt++] = optarg;
            break;
        case O_ANY:
            o->any = true;
            break;
        case O_PAYLOAD:
            o->payload = optarg;
            break;
        case O_IKEY:
            o->issuer_key = optarg;
            break;
        case O_IROOTS:
            o->issuer_roots = optarg;
            break;
        case O_DID:
            o->did = true;
            break;
        case O_XTIME:
            o->x509_time = optarg;
            break;
        case O_LEGACY:
            o->legacy = true;
            break;
        case O_DIGEST: {
            /* a value that cannot be a digest is a usage error (exit 2), not a failed check */
            const char *hex = strchr(optarg, ':') ? strchr(optarg, ':') + 1 : optarg;
            uint8_t b[64];
            size_t n = 0;
            if (scitt_hex_decode(scitt_span_str(hex), b, sizeof(b), &n) != SCITT_OK || n == 0) {
                return cli_usage(
                    "--digest is [ALG:]HEX (e.g. sha256:<64 hex digits>), not \"%.80s\"", optarg);
            }
            o->want_digest = optarg;
            break;
        }
        case O_ISS:
            o->want_iss = optarg;
            break;
        case O_SUB:
            o->want_sub = optarg;
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_BUNDLE:
            o->bundle = optarg;
            break;
        case O_WPOLICY:
            o->witness_policy = optarg;
            break;
        case O_CHECKPOINT:
            o->checkpoint = optarg;
            break;
        case O_CONSISTENCY:
            o->consistency = optarg;
            break;
        case O_AT:
            if (!attest_parse_time(optarg, &o->at)) {
                return cli_usage(
                    "--at must be Unix seconds or RFC 3339 UTC (2025-07-01T00:00:00Z)");
            }
            /* the service bundle is checked at the same instant */
            o->att.now = o->at;
            o->att.has_now = true;
            break;
        case O_IMAGE:
            o->image = optarg;
            break;
        case O_HELP:
            return -1;
        default:
            if (oci_option(&o->reg, c, optarg)) {
                break;
            }
            if (c >= AO_MEAS && c < AO_END) {
                o->att_given = true;
                int rc = attest_option(&o->att, c, optarg);
                if (rc != CLI_OK) {
                    return rc;
                }
                break;
            }
            return cli_usage("unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (o->image) {
        if (argc - optind != 0) {
            return cli_usage("--image verifies the statements attached to the image: give no "
                             "TRANSPARENT file");
        }
        if (o->want_digest || o->nreceipt || o->payload) {
            return cli_usage("--digest, --receipt and --payload do not go with --image (the "
                             "image's manifest digest is the digest required)");
        }
    } else if (argc - optind != 1) {
        return cli_usage("give exactly one TRANSPARENT statement file");
    } else {
        o->file = argv[optind];
    }
    if (o->ntrust == 0 && !o->bundle) {
        return cli_usage("--trust or --service-bundle is required: the service keys to trust");
    }
    if (o->att_given && !o->bundle) {
        return cli_usage("--expect-measurement, --expect-host-data, --min-tcb, --nonce, "
                         "--allow-insecure-virtual and the TDX/SGX options apply to a "
                         "--service-bundle");
    }
    if (o->x509_time && strcmp(o->x509_time, "iat") && strcmp(o->x509_time, "now") &&
        strcmp(o->x509_time, "at") && strcmp(o->x509_time, "off")) {
        return cli_usage("--x509-time must be iat, at or off");
    }
    if (o->want_digest && !scitt_verify_digest_alg(o->want_digest, NULL)) {
        return cli_usage("--digest: the algorithm prefix must be sha256:, sha384: or sha512:");
    }
    return CLI_OK;
}

/* Prints the checks of one statement: a line each and the verdict, or JSON (into @p outer with
 * --json --image). */
static void output(const opts *o, const scitt_verify_result *r, const attest_view *av,
                   scitt_json_writer *outer)
{
    if (!o->json) {
        static const char *const mark[] = {"ok  ", "FAIL", "skip"};
        for (size_t i = 0; i < r->nchecks; i++) {
            printf("%s %s: %s\n", mark[r->checks[i].result], r->checks[i].name,
                   r->checks[i].detail);
        }
        char is[200], su[200];
        scitt_client_printable(r->iss, is, sizeof(is));
        scitt_client_printable(r->sub, su, sizeof(su));
        bool established = r->decoded && r->issuer_established;
        printf("%s%s: %s (%s %s, sub %s, entry %s)\n",
               r->failed            ? "NOT VERIFIED"
               : av && av->insecure ? "verified INSECURELY (service keys from virtual evidence)"
                                    : "verified",
               r->failed || established ? "" : ", issuer not established", o->file,
               established ? "iss" : "claimed iss", is, su, r->entry_id);
        return;
    }
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_json_writer j0;
    scitt_json_writer *j = outer ? outer : &j0;
    if (!outer) {
        scitt_json_writer_init(j, &b);
    }
    scitt_json_begin_object(j);
    scitt_json_put_key(j, "ok");
    scitt_json_put_bool(j, r->failed == 0);
    if (av) {
        scitt_json_put_key(j, "insecure");
        scitt_json_put_bool(j, av->insecure);
    }
    scitt_json_put_key(j, "file");
    scitt_json_put_cstr(j, o->file);
    scitt_json_put_key(j, "iss");
    scitt_json_put_text(j, r->iss);
    scitt_json_put_key(j, "sub");
    scitt_json_put_text(j, r->sub);
    scitt_json_put_key(j, "entry_id");
    scitt_json_put_cstr(j, r->entry_id);
    scitt_json_put_key(j, "issuer_established");
    scitt_json_put_bool(j, r->decoded && r->issuer_established);
    scitt_json_put_key(j, "issuer_established_by");
    if (r->decoded && r->established_by) {
        scitt_json_put_cstr(j, r->established_by);
    } else {
        scitt_json_put_null(j);
    }
    if (r->decoded) {
        scitt_json_put_key(j, "hash_envelope");
        scitt_json_put_bool(j, r->hash_envelope);
        if (r->digest.len) {
            scitt_json_put_key(j, "digest");
            scitt_json_put_hex(j, r->digest);
            const char *an = scitt_verify_hash_name(r->digest_alg);
            if (an) {
                scitt_json_put_key(j, "digest_alg");
                scitt_json_put_cstr(j, an);
            }
        }
        if (r->location.len) {
            scitt_json_put_key(j, "location");
            scitt_json_put_text(j, r->location);
        }
    }
    scitt_json_put_key(j, "checks");
    scitt_json_begin_array(j);
    static const char *const st[] = {"ok", "failed", "skipped"};
    for (size_t i = 0; i < r->nchecks; i++) {
        scitt_json_begin_object(j);
        scitt_json_put_key(j, "check");
        scitt_json_put_cstr(j, r->checks[i].name);
        scitt_json_put_key(j, "result");
        scitt_json_put_cstr(j, st[r->checks[i].result]);
        scitt_json_put_key(j, "detail");
        scitt_json_put_cstr(j, r->checks[i].detail);
        scitt_json_end_object(j);
    }
    scitt_json_end_array(j);
    scitt_json_put_key(j, "receipts");
    scitt_json_begin_array(j);
    const scitt_verify_receipt *ri = r->receipts;
    for (size_t i = 0; i < r->nreceipts; i++) {
        scitt_json_begin_object(j);
        scitt_json_put_key(j, "source");
        scitt_json_put_cstr(j, ri[i].source);
        scitt_json_put_key(j, "ok");
        scitt_json_put_bool(j, ri[i].err == SCITT_OK);
        if (ri[i].err != SCITT_OK) {
            scitt_json_put_key(j, "error");
            scitt_json_put_cstr(j, scitt_err_name(ri[i].err));
        }
        scitt_json_put_key(j, "vds");
        scitt_json_put_int(j, ri[i].vds);
        scitt_json_put_key(j, "legacy_labels");
        scitt_json_put_bool(j, ri[i].legacy);
        scitt_json_put_key(j, "kid");
        scitt_json_put_cstr(j, ri[i].kid);
        scitt_json_put_key(j, "trust_file");
        if (ri[i].from) {
            scitt_json_put_cstr(j, ri[i].from);
        } else {
            scitt_json_put_null(j);
        }
        if (ri[i].err == SCITT_OK && ri[i].vds != 2) {
            scitt_json_put_key(j, "tree_size");
            scitt_json_put_uint(j, ri[i].tree_size);
            scitt_json_put_key(j, "leaf_index");
            scitt_json_put_uint(j, ri[i].leaf_index);
            scitt_json_put_key(j, "size_signed");
            scitt_json_put_bool(j, ri[i].size_signed);
        }
        if (ri[i].iss[0]) {
            scitt_json_put_key(j, "service");
            scitt_json_put_cstr(j, ri[i].iss);
        }
        scitt_json_end_object(j);
    }
    scitt_json_end_array(j);
    if (av) {
        scitt_json_put_key(j, "service_bundle");
        attest_json(j, av, &o->att);
    }
    scitt_json_end_object(j);
    if (outer) {
        scitt_dynbuf_clear(&b);
    } else {
        cli_json_print(j);
    }
}

/* The trust file a service key came from; a service bundle's receipt key is attested. */
static const char *key_origin(void *ctx, const scitt_cose_key *k, bool *attested)
{
    const char *from = trust_origin(ctx, k);
    *attested = strncmp(from, "service bundle ", 15) == 0;
    return from;
}

/* What the checks are given: the options, with the files they name read (a file that cannot be
 * read is handed over with the reason, and becomes a failed check). */
typedef struct inputs {
    scitt_verify_opts vo;
    scitt_dynbuf payload, policy, checkpoint, consistency;
    scitt_cose_key *issuer_key;
    char issuer_key_error[512];
    scitt_x509_roots *roots;
    char bundle_issuer[200];
} inputs;

static void input_read(scitt_verify_input *in, const char *path, size_t max, scitt_dynbuf *b)
{
    scitt_dynbuf_init(b, 0);
    if (!path) {
        return;
    }
    in->name = path;
    in->err = cli_read_file(path, max, b);
    in->data = in->err == SCITT_OK ? scitt_span_make(b->ptr, b->len) : scitt_span_make(NULL, 0);
}

static void inputs_init(inputs *in, const opts *o, const trust *t, const attest_view *av,
                        const scitt_dynbuf *files)
{
    memset(in, 0, sizeof(*in));
    scitt_verify_opts *v = &in->vo;
    v->keys = t->keys;
    v->origin = key_origin;
    v->origin_ctx = (void *)t;
    for (size_t i = 0; i < o->nreceipt; i++) {
        v->receipts[i].name = o->receipt[i];
        v->receipts[i].data = scitt_span_make(files[i].ptr, files[i].len);
    }
    v->nreceipts = o->nreceipt;
    v->any = o->any;
    v->did_x509 = o->did;
    v->legacy_labels = o->legacy;
    v->x509_time = !o->x509_time || !strcmp(o->x509_time, "iat") ? SCITT_VERIFY_X509_IAT
                   : !strcmp(o->x509_time, "off")                ? SCITT_VERIFY_X509_OFF
                                                                 : SCITT_VERIFY_X509_AT;
    v->at = o->at;
    /* a preimage is only hashed, so it may be larger than a payload checked as signed bytes */
    input_read(&v->payload, o->payload, CLI_FILE_MAX * 64, &in->payload);
    v->payload_max = CLI_FILE_MAX * 4;
    if (o->issuer_key) {
        v->issuer_key_name = o->issuer_key;
        if (cli_load_key(o->issuer_key, false, &in->issuer_key, in->issuer_key_error,
                         sizeof(in->issuer_key_error)) != SCITT_OK) {
            in->issuer_key = NULL;
            v->issuer_key_error = in->issuer_key_error;
        }
        v->issuer_key = in->issuer_key;
    }
    if (o->issuer_roots) {
        scitt_dynbuf pem;
        v->issuer_roots_name = o->issuer_roots;
        scitt_err e = scitt_x509_roots_new(&in->roots);
        if (e == SCITT_OK && cli_read_file(o->issuer_roots, CLI_FILE_MAX, &pem) == SCITT_OK) {
            e = scitt_x509_roots_add_pem(in->roots, scitt_span_make(pem.ptr, pem.len), NULL);
            scitt_dynbuf_clear(&pem);
        } else if (e == SCITT_OK) {
            e = SCITT_ERR_IO;
        }
        if (e != SCITT_OK) {
            scitt_x509_roots_free(in->roots);
            in->roots = NULL;
            v->issuer_roots_err = e;
        }
        v->issuer_roots = in->roots;
    }
    v->want_digest = o->want_digest;
    v->want_iss = o->want_iss;
    v->want_sub = o->want_sub;
    if (o->witness_policy) { /* without --checkpoint: the one a witnessed receipt carries */
        input_read(&v->witness_policy, o->witness_policy, SCITT_POLICY_MAX_BYTES, &in->policy);
        input_read(&v->checkpoint, o->checkpoint, SCITT_LIMIT_NOTE_BYTES, &in->checkpoint);
        input_read(&v->consistency, o->consistency, CLI_FILE_MAX, &in->consistency);
    } else {
        v->witness_policy.name = o->witness_policy; /* the check says what is missing */
    }
    if (o->bundle && av->err == SCITT_OK) {
        scitt_client_printable(av->identity.issuer, in->bundle_issuer, sizeof(in->bundle_issuer));
        v->bundle_issuer = in->bundle_issuer;
    }
}

static void inputs_clear(inputs *in)
{
    scitt_dynbuf_clear(&in->payload);
    scitt_dynbuf_clear(&in->policy);
    scitt_dynbuf_clear(&in->checkpoint);
    scitt_dynbuf_clear(&in->consistency);
    scitt_cose_key_free(in->issuer_key);
    scitt_x509_roots_free(in->roots);
}

/*
 * Verifies one transparent statement @p in (labelled o->file) and prints its report (into
 * @p outer with --json --image). *ok is set when every check passed. CLI_OK unless memory ran out.
 */
static int verify_statement(const opts *o, const trust *t, const attest_view *av, scitt_span in,
                            scitt_dynbuf *files, scitt_json_writer *outer, bool *ok)
{
    int rc = CLI_OK;
    *ok = false;
    scitt_verify_result *r = scitt_malloc(sizeof(*r));
    inputs *ip = scitt_malloc(sizeof(*ip));
    if (!r || !ip) {
        scitt_free(r);
        scitt_free(ip);
        return cli_fail(CLI_USAGE, "out of memory");
    }
    scitt_verify_result_init(r);
    inputs_init(ip, o, t, av, files);
    if (o->bundle) {
        char sum[600];
        attest_summary(av, &o->att, sum, sizeof(sum));
        scitt_verify_note(r, "service bundle", av->err ? SCITT_CHECK_FAILED : SCITT_CHECK_OK,
                          "%s: %s", o->bundle, av->err ? av->reason : sum);
    }
    scitt_err e = scitt_verify_statement(in, &ip->vo, r);
    if (e != SCITT_OK) {
        rc = cli_fail(CLI_USAGE, "%s", e == SCITT_ERR_NOMEM ? "out of memory" : scitt_err_str(e));
        goto out;
    }
    output(o, r, o->bundle ? av : NULL, outer);
    *ok = r->failed == 0;
    if (r->failed) {
        cli_msg("%s: %s", o->file, r->first);
    }
out:
    inputs_clear(ip);
    scitt_free(ip);
    scitt_free(r);
    return rc;
}

/*
 * --image: the transparent statements attached to the image, each verified as above with the
 * image's manifest digest required as the signed digest; one that passes everything suffices.
 */
static int verify_image(opts *o, const trust *t, const attest_view *av, scitt_dynbuf *files)
{
    oci_image img;
    int rc = oci_resolve(o->image, &o->reg, &img);
    if (rc != CLI_OK) {
        return rc;
    }
    oci_candidate *cs = scitt_calloc(OCI_CANDIDATES_MAX, sizeof(*cs));
    size_t n = 0;
    bool via_tag = false;
    if (!cs) {
        return cli_fail(CLI_USAGE, "out of memory");
    }
    rc = oci_collect(&img, &o->reg, cs, &n, &via_tag);
    if (rc != CLI_OK) {
        scitt_free(cs);
        return rc;
    }
    char name[700], label[800];
    oci_ref_format(&img.ref, name, sizeof(name));
    snprintf(o->image_digest, sizeof(o->image_digest), "%s", img.digest);
    o->want_digest = o->image_digest; /* the subject must be this very manifest */
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_json_writer j;
    scitt_json_writer_init(&j, &b);
    if (o->json) {
        scitt_json_begin_object(&j);
        scitt_json_put_key(&j, "image");
        scitt_json_put_cstr(&j, name);
        scitt_json_put_key(&j, "digest");
        scitt_json_put_cstr(&j, img.digest);
        scitt_json_put_key(&j, "referrers");
        scitt_json_put_cstr(&j, via_tag ? "tag" : "api");
        scitt_json_put_key(&j, "statements");
        scitt_json_begin_array(&j);
    }
    size_t good = 0;
    const char *good_artifact = NULL;
    for (size_t i = 0; rc == CLI_OK && i < n; i++) {
        snprintf(label, sizeof(label), "%s referrer %s", name, cs[i].artifact);
        o->file = label;
        if (o->json) {
            scitt_json_begin_object(&j);
            scitt_json_put_key(&j, "artifact");
            scitt_json_put_cstr(&j, cs[i].artifact);
            scitt_json_put_key(&j, "fetched");
            scitt_json_put_bool(&j, cs[i].reason[0] == 0);
        }
        bool ok = false;
        if (cs[i].reason[0]) {
            cli_msg("%s: %s", label, cs[i].reason);
            if (o->json) {
                scitt_json_put_key(&j, "ok");
                scitt_json_put_bool(&j, false);
                scitt_json_put_key(&j, "reason");
                scitt_json_put_cstr(&j, cs[i].reason);
            } else {
                printf("FAIL %s: %s\n", label, cs[i].reason);
            }
        } else {
            if (o->json) {
                scitt_json_put_key(&j, "verification");
            }
            rc = verify_statement(o, t, av,
                                  scitt_span_make(cs[i].statement.ptr, cs[i].statement.len), files,
                                  o->json ? &j : NULL, &ok);
            if (o->json) {
                scitt_json_put_key(&j, "ok");
                scitt_json_put_bool(&j, ok);
            }
        }
        if (o->json) {
            scitt_json_end_object(&j);
        }
        if (ok && !good++) {
            good_artifact = cs[i].artifact;
        }
    }
    if (o->json) {
        scitt_json_end_array(&j);
        scitt_json_put_key(&j, "ok");
        scitt_json_put_bool(&j, good > 0);
        scitt_json_put_key(&j, "verified_by");
        if (good_artifact) {
            scitt_json_put_cstr(&j, good_artifact);
        } else {
            scitt_json_put_null(&j);
        }
        scitt_json_end_object(&j);
        cli_json_print(&j);
    } else {
        scitt_dynbuf_clear(&b);
        if (good) {
            printf("verified: %s (%s): %zu of %zu attached transparent statements verified\n", name,
                   img.digest, good, n);
        } else {
            printf("NOT VERIFIED: %s (%s): %zu transparent statements attached, none verified\n",
                   name, img.digest, n);
        }
    }
    if (rc == CLI_OK && !good) {
        rc = cli_fail(CLI_FAIL, "%s (%s): %s", name, img.digest,
                      n ? "no attached transparent statement satisfies every check"
                        : "no transparent statement is attached to this image");
    }
    oci_candidates_clear(cs, n);
    scitt_free(cs);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    opts o;
    int rc = parse(argc, argv, &o);
    if (rc == -1) {
        fputs(help, stdout);
        fputs(help_bundle, stdout);
        fputs(help_witness, stdout);
        return cli_help(image_help);
    }
    if (rc != CLI_OK) {
        return rc;
    }
    trust t;
    rc = trust_init(&t);
    for (size_t i = 0; rc == CLI_OK && i < o.ntrust; i++) {
        rc = trust_load(&t, o.trust[i]);
    }
    attest_view av;
    memset(&av, 0, sizeof(av));
    if (rc == CLI_OK && o.bundle) {
        rc = attest_trust_bundle(o.bundle, &o.att, &t, &av);
    }
    scitt_dynbuf in, files[SCITT_LIMIT_RECEIPTS];
    scitt_dynbuf_init(&in, 0);
    for (size_t i = 0; i < SCITT_LIMIT_RECEIPTS; i++) {
        scitt_dynbuf_init(&files[i], 0);
    }
    if (rc == CLI_OK && o.image) {
        rc = verify_image(&o, &t, &av, files);
    } else {
        if (rc == CLI_OK) {
            rc = cli_slurp(o.file, CLI_FILE_MAX, &in);
        }
        for (size_t i = 0; rc == CLI_OK && i < o.nreceipt; i++) {
            scitt_dynbuf_clear(&files[i]);
            rc = cli_slurp(o.receipt[i], CLI_FILE_MAX, &files[i]); /* unreadable input: exit 2 */
        }
        bool ok = false;
        if (rc == CLI_OK) {
            rc = verify_statement(&o, &t, &av, scitt_span_make(in.ptr, in.len), files, NULL, &ok);
        }
        if (rc == CLI_OK && !ok) {
            rc = CLI_FAIL;
        }
    }
    if (rc == CLI_OK && o.bundle && av.insecure) {
        attest_warn_insecure();
    }
    attest_view_clear(&av);
    for (size_t i = 0; i < SCITT_LIMIT_RECEIPTS; i++) {
        scitt_dynbuf_clear(&files[i]);
    }
    scitt_dynbuf_clear(&in);
    trust_clear(&t);
    return rc;
}
