/*
 * scitt verify: a transparent statement, fully offline. Every receipt (RFC 9942 vds 1 from any
 * log, CCF vds 2 from Azure Code Transparency, 2023-era labels on request) against trusted service
 * keys, or against the receipt key a TEE-attested service bundle binds; the issuer signature over
 * the attached payload, a detached payload, or a hash envelope's digest (and its preimage when
 * given); the x5chain against issuer roots; the did:x509 issuer.
 */
#include "attestation.h"
#include "cli.h"
#include "oci_cmd.h"
#include "parsers.h"
#include "trust.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "scitt/receipt.h"
#include "scitt/witness.h"
#include "scitt/x509.h"

#include <openssl/evp.h>

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

#define MAX_RECEIPTS (2 * SCITT_LIMIT_RECEIPTS)

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

typedef struct check {
    char name[40];
    int status; /* 0 ok, 1 failed, 2 skipped */
    char detail[600];
} check;

typedef struct report {
    check c[MAX_RECEIPTS + 16];
    size_t n;
    int failed;
    char first[700];
} report;

static void note(report *r, const char *name, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void note(report *r, const char *name, int status, const char *fmt, ...)
{
    if (r->n == sizeof(r->c) / sizeof(r->c[0])) {
        return;
    }
    check *c = &r->c[r->n++];
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
    va_end(ap);
    if (status == 1 && !r->failed++) {
        snprintf(r->first, sizeof(r->first), "%s: %s", c->name, c->detail);
    }
}

typedef struct rinfo {
    const char *source;
    char src_buf[300];
    scitt_err err;
    int64_t vds, alg;
    char kid[160];
    const char *from;
    uint64_t tree_size, leaf_index;
    bool size_signed, legacy;
    char iss[200];
    uint8_t root[SCITT_HASH_LEN]; /* vds 1: the root the receipt's proof leads to */
    scitt_span carried;           /* the cosigned checkpoint the receipt carries, if any */
} rinfo;

/* The COSE hash algorithm a --digest value names by its prefix (0: none given); false for an
 * unknown prefix. */
static bool digest_alg_of(const char *arg, int64_t *alg)
{
    static const struct {
        const char *prefix;
        int64_t alg;
    } names[] = {{"sha256:", SCITT_COSE_ALG_SHA256},
                 {"sha384:", SCITT_COSE_ALG_SHA384},
                 {"sha512:", SCITT_COSE_ALG_SHA512}};
    int64_t a = 0;
    if (strchr(arg, ':')) {
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !a; i++) {
            a = strncasecmp(arg, names[i].prefix, strlen(names[i].prefix)) == 0 ? names[i].alg : 0;
        }
        if (!a) {
            return false;
        }
    }
    if (alg) {
        *alg = a;
    }
    return true;
}

static const char *hash_name(int64_t alg)
{
    return alg == SCITT_COSE_ALG_SHA256   ? "sha256"
           : alg == SCITT_COSE_ALG_SHA384 ? "sha384"
           : alg == SCITT_COSE_ALG_SHA512 ? "sha512"
                                          : NULL;
}

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
        case O_DIGEST:
            o->want_digest = optarg;
            break;
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
    if (o->want_digest && !digest_alg_of(o->want_digest, NULL)) {
        return cli_usage("--digest: the algorithm prefix must be sha256:, sha384: or sha512:");
    }
    return CLI_OK;
}

/* Does a receipt use the 2023 labels (vds at -111, no 395)? */
static bool is_legacy_receipt(scitt_span r)
{
    scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
    bool legacy = m && scitt_cose_sign1_decode(r, SCITT_SIGN1_LEGACY, m) == SCITT_OK &&
                  !(m->hdr.prot & SCITT_COSE_H_VDS) &&
                  scitt_cose_headers_find(&m->hdr, LEGACY_HDR_VDS) != NULL;
    scitt_free(m);
    return legacy;
}

/* A kid as text when it is printable ASCII (JWK-style kids), else as hex. */
static char *kid_text(scitt_span kid)
{
    bool printable = kid.len > 0;
    for (size_t i = 0; i < kid.len; i++) {
        printable = printable && kid.ptr[i] > 0x20 && kid.ptr[i] < 0x7f;
    }
    if (!printable) {
        return cli_hex(kid);
    }
    char *s = scitt_malloc(kid.len + 1);
    if (s) {
        memcpy(s, kid.ptr, kid.len);
        s[kid.len] = 0;
    }
    return s;
}

static void verify_one(const trust *t, scitt_span receipt, scitt_span entry, bool legacy, rinfo *ri)
{
    char *kid = NULL;
    if (scitt_receipt_checkpoint(receipt, &ri->carried) != SCITT_OK) {
        ri->carried = scitt_span_make(NULL, 0);
    }
    if (legacy && is_legacy_receipt(receipt)) {
        legacy_info li;
        ri->legacy = true;
        ri->vds = 1;
        ri->err = legacy_verify_receipt(receipt, entry, t->keys, &li);
        if (ri->err == SCITT_OK) {
            ri->alg = li.alg;
            ri->tree_size = li.tree_size;
            ri->leaf_index = li.leaf_index;
            kid = kid_text(li.kid);
            ri->from = trust_origin(t, trust_pick(t, li.kid));
            scitt_client_printable(li.iss, ri->iss, sizeof(ri->iss));
        }
    } else {
        scitt_receipt_info info;
        ri->err = scitt_receipt_verify_inclusion(receipt, entry, t->keys, 0, &info);
        if (ri->err == SCITT_OK) {
            ri->vds = info.vds;
            ri->alg = info.alg;
            ri->tree_size = info.tree_size;
            ri->leaf_index = info.leaf_index;
            ri->size_signed = info.size_signed;
            memcpy(ri->root, info.root, SCITT_HASH_LEN);
            kid = kid_text(info.kid);
            ri->from = trust_origin(t, trust_pick(t, info.kid));
            scitt_client_printable(info.iss, ri->iss, sizeof(ri->iss));
        }
    }
    if (ri->err != SCITT_OK) {
        /* Say which key would have been used, so a wrong trust file is easy to see. */
        scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
        if (m && scitt_cose_sign1_decode(receipt, SCITT_SIGN1_LEGACY, m) == SCITT_OK) {
            ri->vds = m->hdr.vds;
            kid = kid_text(m->hdr.kid);
            const scitt_cose_key *k = trust_pick(t, m->hdr.kid);
            ri->from = k ? trust_origin(t, k) : NULL;
        }
        scitt_free(m);
    }
    snprintf(ri->kid, sizeof(ri->kid), "%s", kid ? kid : "");
    scitt_free(kid);
}

static const char *vds_name(int64_t vds, bool legacy)
{
    if (legacy) {
        return "RFC 9162 SHA-256 (2023 labels)";
    }
    return vds == 1 ? "RFC 9162 SHA-256" : (vds == 2 ? "CCF ledger" : "unknown vds");
}

/* --witness-policy: the cosigned checkpoint meets the quorum, and each verified RFC 9162 receipt
 * is of its tree (same root at the same size, or a prefix proven by --consistency). */
static void witness_check(const opts *o, const trust *t, const rinfo *ri, size_t nri, report *r)
{
    if (o->witness_policy == NULL) {
        return;
    }
    scitt_dynbuf pt, cpb, cons;
    scitt_dynbuf_init(&pt, 0);
    scitt_dynbuf_init(&cpb, 0);
    scitt_dynbuf_init(&cons, 0);
    scitt_tlog_policy *p = scitt_malloc(sizeof(*p));
    for (size_t i = 0; o->checkpoint == NULL && i < nri && cpb.len == 0; i++) {
        if (ri[i].err == SCITT_OK && ri[i].carried.len > 0) { /* a witnessed receipt's own */
            scitt_dynbuf_put(&cpb, ri[i].carried.ptr, ri[i].carried.len);
        }
    }
    if (o->checkpoint == NULL && cpb.len == 0) {
        note(r, "witnesses", 1,
             "--witness-policy needs --checkpoint or a receipt carrying its cosigned checkpoint "
             "(scitt get --witnessed)");
        goto out;
    }
    if (p == NULL || cli_read_file(o->witness_policy, SCITT_POLICY_MAX_BYTES, &pt) != SCITT_OK ||
        (o->checkpoint && cli_read_file(o->checkpoint, SCITT_LIMIT_NOTE_BYTES, &cpb) != SCITT_OK)) {
        note(r, "witnesses", 1, "cannot read %s or %s (or over their size limits)",
             o->witness_policy, o->checkpoint ? o->checkpoint : "the carried checkpoint");
        goto out;
    }
    const char *why = "";
    size_t line = 0;
    scitt_err e = scitt_tlog_policy_parse(scitt_span_make(pt.ptr, pt.len), p, &why, &line);
    if (e != SCITT_OK) {
        note(r, "witnesses", 1, "%s:%zu: %s", o->witness_policy, line,
             e == SCITT_ERR_POLICY ? why : scitt_err_str(e));
        goto out;
    }
    scitt_checkpoint cp;
    char missing[512];
    e = scitt_tlog_policy_check(p, scitt_span_make(cpb.ptr, cpb.len), NULL, 0, &cp, missing,
                                sizeof(missing));
    if (e == SCITT_ERR_POLICY) {
        note(r, "witnesses", 1, "the checkpoint does not meet the witness quorum; missing: %s",
             missing);
        goto out;
    }
    if (e != SCITT_OK) {
        note(r, "witnesses", 1, "the checkpoint: %s", scitt_err_str(e));
        goto out;
    }
    note(r, "witnesses", 0, "checkpoint of size %llu cosigned per the policy's quorum",
         (unsigned long long)cp.size);
    for (size_t i = 0; i < nri; i++) {
        if (ri[i].err != SCITT_OK || ri[i].vds != 1 || ri[i].legacy) {
            continue;
        }
        if (ri[i].tree_size > cp.size) {
            note(r, "witnessed", 1,
                 "receipt %zu: tree size %llu is newer than the witnessed checkpoint (%llu)", i + 1,
                 (unsigned long long)ri[i].tree_size, (unsigned long long)cp.size);
        } else if (ri[i].tree_size == cp.size) {
            bool same = memcmp(ri[i].root, cp.root, SCITT_HASH_LEN) == 0;
            note(r, "witnessed", same ? 0 : 1, "receipt %zu: %s", i + 1,
                 same ? "the same root as the witnessed checkpoint"
                      : "another root than the witnessed checkpoint at the same size (split view)");
        } else if (o->consistency == NULL) {
            note(r, "witnessed", 1,
                 "receipt %zu: tree size %llu is older than the witnessed checkpoint (%llu): give "
                 "--consistency (GET /proofs/consistency?from=%llu&to=%llu)",
                 i + 1, (unsigned long long)ri[i].tree_size, (unsigned long long)cp.size,
                 (unsigned long long)ri[i].tree_size, (unsigned long long)cp.size);
        } else {
            scitt_receipt_info ci;
            if (cons.len == 0 && cli_read_file(o->consistency, CLI_FILE_MAX, &cons) != SCITT_OK) {
                note(r, "witnessed", 1, "cannot read %s", o->consistency);
                continue;
            }
            e = scitt_receipt_verify_consistency(scitt_span_make(cons.ptr, cons.len),
                                                 ri[i].tree_size, ri[i].root, t->keys, 0, &ci);
            bool ok = e == SCITT_OK && ci.tree_size == cp.size &&
                      memcmp(ci.root, cp.root, SCITT_HASH_LEN) == 0;
            note(r, "witnessed", ok ? 0 : 1, "receipt %zu: %s", i + 1,
                 ok ? "its tree is a prefix of the witnessed checkpoint (consistency verified)"
                 : e != SCITT_OK ? scitt_err_str(e)
                                 : "the consistency receipt does not lead to the witnessed root");
        }
    }
out:
    scitt_free(p);
    scitt_dynbuf_clear(&pt);
    scitt_dynbuf_clear(&cpb);
    scitt_dynbuf_clear(&cons);
}

static void receipts_check(const opts *o, const trust *t, const scitt_cose_sign1 *m,
                           scitt_span entry, rinfo *ri, size_t *nri, report *r, scitt_dynbuf *files)
{
    scitt_span list[MAX_RECEIPTS];
    size_t n = 0;
    for (size_t i = 0; i < m->hdr.nreceipts; i++) {
        ri[n].source = "394";
        list[n++] = m->hdr.receipts[i];
    }
    size_t nl = 0;
    scitt_span legacy_list[SCITT_LIMIT_RECEIPTS];
    if (o->legacy && legacy_receipts(m, legacy_list, SCITT_LIMIT_RECEIPTS, &nl) == SCITT_OK) {
        for (size_t i = 0; i < nl && n < MAX_RECEIPTS; i++) {
            ri[n].source = "-333";
            list[n++] = legacy_list[i];
        }
    }
    for (size_t i = 0; i < o->nreceipt && n < MAX_RECEIPTS; i++) {
        snprintf(ri[n].src_buf, sizeof(ri[n].src_buf), "%s", o->receipt[i]);
        ri[n].source = ri[n].src_buf;
        list[n++] = scitt_span_make(files[i].ptr, files[i].len);
    }
    *nri = n;
    if (n == 0) {
        note(r, "receipts", 1, "the statement carries no receipt%s (and no --receipt was given)",
             o->legacy ? " at 394 or -333" : " at 394");
        return;
    }
    size_t good = 0;
    for (size_t i = 0; i < n; i++) {
        verify_one(t, list[i], entry, o->legacy, &ri[i]);
        char name[40];
        snprintf(name, sizeof(name), "receipt %zu", i + 1);
        char where[400];
        snprintf(where, sizeof(where), "kid %.64s%s (%s)", ri[i].kid,
                 strlen(ri[i].kid) > 64 ? "..." : "",
                 ri[i].from ? ri[i].from : "no trusted key has this kid");
        if (ri[i].err == SCITT_OK) {
            good++;
            if (ri[i].vds == 2) {
                note(r, name, 0, "%s inclusion verified, %s", vds_name(2, false), where);
            } else {
                note(r, name, 0, "%s inclusion verified: index %llu in a tree of %llu%s, %s",
                     vds_name(ri[i].vds, ri[i].legacy), (unsigned long long)ri[i].leaf_index,
                     (unsigned long long)ri[i].tree_size, ri[i].size_signed ? " (size signed)" : "",
                     where);
            }
        } else {
            note(r, name, o->any ? 2 : 1, "%s: %s, %s", vds_name(ri[i].vds, false),
                 scitt_err_str(ri[i].err), where);
        }
    }
    if (o->any && good == 0) {
        note(r, "receipts", 1, "none of the %zu receipts verifies", n);
    }
}

/* A receipt checked with a service bundle's key must name the issuer the bundle binds. */
static void bundle_issuer_check(const opts *o, const attest_view *av, const rinfo *ri, size_t nri,
                                report *r)
{
    if (!o->bundle || av->err != SCITT_OK) {
        return;
    }
    char want[200], label[40];
    scitt_client_printable(av->identity.issuer, want, sizeof(want));
    for (size_t i = 0; i < nri; i++) {
        if (ri[i].err == SCITT_OK && ri[i].from && !strncmp(ri[i].from, "service bundle ", 15)) {
            bool same = strcmp(ri[i].iss, want) == 0;
            snprintf(label, sizeof(label), "receipt %zu issuer", i + 1);
            note(r, label, same ? 0 : 1, "the receipt names \"%s\"%s\"%s\"", ri[i].iss,
                 same ? ", the service bundle's issuer " : ", not the service bundle's issuer ",
                 want);
        }
    }
}

/* Hash of the preimage file with the hash envelope's algorithm. */
static scitt_err hash_file(const char *path, int64_t alg, uint8_t *out, size_t *len)
{
    const EVP_MD *md = alg == SCITT_COSE_ALG_SHA256   ? EVP_sha256()
                       : alg == SCITT_COSE_ALG_SHA384 ? EVP_sha384()
                       : alg == SCITT_COSE_ALG_SHA512 ? EVP_sha512()
                                                      : NULL;
    if (!md) {
        return SCITT_ERR_UNSUPPORTED;
    }
    scitt_dynbuf b;
    scitt_err e = cli_read_file(path, CLI_FILE_MAX * 64, &b);
    unsigned n = 0;
    if (e == SCITT_OK && EVP_Digest(b.ptr, b.len, out, &n, md, NULL) != 1) {
        e = SCITT_ERR_CRYPTO;
    }
    *len = n;
    scitt_dynbuf_clear(&b);
    return e;
}

static scitt_x509_time when_of(const opts *o, const scitt_cose_sign1 *m)
{
    if (o->x509_time && !strcmp(o->x509_time, "off")) {
        return scitt_x509_time_none();
    }
    if ((!o->x509_time || !strcmp(o->x509_time, "iat")) && m->hdr.cwt.has_iat) {
        return scitt_x509_time_at(m->hdr.cwt.iat);
    }
    return scitt_x509_time_at(o->at);
}

/* What the issuer checks established, for the issuer identity, the digest and the verdict. */
typedef struct issuer_view {
    bool sig_ok;             /* the issuer signature verified... */
    bool sig_by_leaf;        /* ...with the protected x5chain leaf's key */
    bool sig_pinned;         /* ...with --issuer-key */
    bool chain_rooted;       /* the protected x5chain validates to --issuer-roots */
    bool did_tried;          /* iss was resolved as a did:x509... */
    bool did_ok;             /* ...and resolves against the protected x5chain */
    const char *established; /* how the issuer is established, or NULL */
    /* the signed digest: a hash envelope's payload, else SHA-256 of the payload (for a detached
     * one, of the --payload the signature verified); empty when there is none */
    scitt_span digest;
    int64_t digest_alg;
    uint8_t buf[64]; /* a SHA-256 computed here, or a detached envelope's digest */
} issuer_view;

/* CWT exp and nbf against --at (RFC 8392: not accepted on or after exp, or before nbf). */
static void validity_check(const opts *o, const scitt_cose_sign1 *m, report *r)
{
    const scitt_cose_cwt *c = &m->hdr.cwt;
    if (!c->has_exp && !c->has_nbf) {
        return;
    }
    char at[32], t[32];
    cli_time(o->at, at);
    if (c->has_exp && c->exp <= o->at) {
        cli_time(c->exp, t);
        note(r, "validity", 1, "the statement expired at %s (CWT exp), before %s", t, at);
    } else if (c->has_nbf && c->nbf > o->at) {
        cli_time(c->nbf, t);
        note(r, "validity", 1, "the statement is not valid before %s (CWT nbf), after %s", t, at);
    } else {
        note(r, "validity", 0, "CWT %s%s%s %s at %s", c->has_nbf ? "nbf" : "",
             c->has_nbf && c->has_exp ? " and " : "", c->has_exp ? "exp" : "",
             c->has_nbf && c->has_exp ? "hold" : "holds", at);
    }
}

static bool is_did_x509(scitt_span iss)
{
    return iss.len > 9 && memcmp(iss.ptr, "did:x509:", 9) == 0;
}

static void issuer_check(const opts *o, const scitt_cose_sign1 *m, scitt_span iss, report *r,
                         issuer_view *v, char *key_desc, size_t cap)
{
    const scitt_cose_headers *h = &m->hdr;
    scitt_cose_key *key = NULL;
    char why[512];
    snprintf(key_desc, cap, "none");
    /* Only a protected x5chain is covered by the issuer's signature (and kept by a log). */
    bool chain = (h->prot & SCITT_COSE_H_X5CHAIN) && h->nx5chain > 0;
    if (!chain && h->nx5chain > 0) {
        note(r, "x5chain", 2, "only in the unprotected header, which no signature covers: ignored");
    }
    if (h->prot & SCITT_COSE_H_X5T) {
        scitt_err e = scitt_cose_check_x5t(m);
        note(r, "x5t", e ? 1 : 0, "%s",
             e == SCITT_OK                 ? "names the x5chain leaf"
             : e == SCITT_ERR_KEY_MISMATCH ? "names another certificate than the x5chain leaf"
             : e == SCITT_ERR_ALG          ? "its hash algorithm is not SHA-256, SHA-384 or SHA-512"
                                  : "there is no protected x5chain whose leaf it could name");
    }
    if (o->issuer_key) {
        /* A pinned key decides, whatever certificate the statement carries. */
        if (cli_load_key(o->issuer_key, false, &key, why, sizeof(why)) != SCITT_OK) {
            note(r, "issuer signature", 1, "%s", why);
            return;
        }
        snprintf(key_desc, cap, "%s", o->issuer_key);
    } else if (chain) {
        scitt_err e = scitt_cose_key_from_cert_der(h->x5chain[0], &key);
        if (e != SCITT_OK) {
            note(r, "issuer signature", 1, "the x5chain leaf's key cannot be used: %s",
                 scitt_err_str(e));
            return;
        }
        snprintf(key_desc, cap, "x5chain leaf");
    }
    /* The payload the signature covers, and what --payload is checked against. */
    scitt_dynbuf pl;
    scitt_dynbuf_init(&pl, 0);
    bool envelope = (h->prot & SCITT_COSE_H_PAYLOAD_HASH_ALG) != 0;
    if (o->payload && (!envelope || m->detached)) {
        if (cli_read_file(o->payload, CLI_FILE_MAX * 4, &pl) != SCITT_OK) {
            note(r, "payload", 1, "cannot read %s", o->payload);
            scitt_cose_key_free(key);
            return;
        }
        if (!m->detached) {
            bool same = scitt_span_eq(m->payload, scitt_span_make(pl.ptr, pl.len));
            note(r, "payload", same ? 0 : 1, "%s %s the attached payload", o->payload,
                 same ? "equals" : "differs from");
        }
    }
    if (envelope && o->payload && !m->detached) {
        uint8_t d[64];
        size_t dl = 0;
        scitt_err e = hash_file(o->payload, h->payload_hash_alg, d, &dl);
        bool same = e == SCITT_OK && scitt_span_eq(m->payload, scitt_span_make(d, dl));
        note(r, "preimage", same ? 0 : 1, "%s: %s", o->payload,
             e != SCITT_OK
                 ? scitt_err_str(e)
                 : (same ? "hashes to the signed digest" : "does not hash to the signed digest"));
    }
    if (!key) {
        note(r, "issuer signature", 2, "not checked: no x5chain and no --issuer-key");
        if (m->detached && o->payload) {
            /* Only the issuer signature covers a detached payload. */
            note(r, "payload", 1,
                 "%s cannot be checked: the payload is detached and no issuer key is known "
                 "(give --issuer-key)",
                 o->payload);
        }
    } else if (m->detached && !o->payload) {
        note(r, "issuer signature", 1, "the payload is detached: give it with --payload");
    } else {
        scitt_span dp = scitt_span_make(pl.ptr, pl.len);
        scitt_err e =
            scitt_cose_sign1_verify(m, key, scitt_span_make(NULL, 0), m->detached ? &dp : NULL);
        const char *alg = scitt_cose_alg_name(h->alg);
        note(r, "issuer signature", e ? 1 : 0, "%s with the %s%s%s",
             e ? scitt_err_str(e) : "verified", key_desc, alg ? ", " : "", alg ? alg : "");
        v->sig_ok = e == SCITT_OK;
        v->sig_pinned = v->sig_ok && o->issuer_key;
        v->sig_by_leaf = v->sig_ok && !o->issuer_key;
        if (v->sig_ok && m->detached && o->payload) {
            note(r, "payload", 0, "%s is the payload the issuer signed", o->payload);
        }
    }
    /* The signed digest. */
    scitt_span payload =
        m->detached ? (v->sig_ok ? scitt_span_make(pl.ptr, pl.len) : scitt_span_make(NULL, 0))
                    : m->payload;
    if (envelope) {
        v->digest = payload.len ? payload : scitt_span_make(NULL, 0);
        v->digest_alg = h->payload_hash_alg;
    } else if (!m->detached || v->sig_ok) {
        scitt_sha256(payload.ptr, payload.len, v->buf);
        v->digest = scitt_span_make(v->buf, SCITT_SHA256_LEN);
        v->digest_alg = SCITT_COSE_ALG_SHA256;
    }
    if (v->digest.len && v->digest.ptr == pl.ptr) {
        /* keep the digest past the payload buffer (a detached envelope's digest) */
        size_t n = v->digest.len < sizeof(v->buf) ? v->digest.len : sizeof(v->buf);
        memcpy(v->buf, pl.ptr, n);
        v->digest = scitt_span_make(v->buf, n);
    }
    scitt_dynbuf_clear(&pl);

    scitt_x509_time when = when_of(o, m);
    if (o->issuer_roots) {
        scitt_x509_roots *roots = NULL;
        scitt_dynbuf pem;
        const char *w = NULL;
        scitt_err e = scitt_x509_roots_new(&roots);
        if (e == SCITT_OK && cli_read_file(o->issuer_roots, CLI_FILE_MAX, &pem) == SCITT_OK) {
            e = scitt_x509_roots_add_pem(roots, scitt_span_make(pem.ptr, pem.len), NULL);
            scitt_dynbuf_clear(&pem);
        } else if (e == SCITT_OK) {
            e = SCITT_ERR_IO;
        }
        if (e != SCITT_OK) {
            note(r, "x5chain", 1, "%s: cannot load the roots: %s", o->issuer_roots,
                 scitt_err_str(e));
        } else if (!chain) {
            note(r, "x5chain", 1,
                 "--issuer-roots given, but the statement has no protected x5chain");
        } else {
            e = scitt_x509_verify_chain(roots, h->x5chain, h->nx5chain, &when, &w);
            note(r, "x5chain", e ? 1 : 0, "%s (%zu certificates, roots %s)",
                 e ? (w ? w : scitt_err_str(e)) : "validates", h->nx5chain, o->issuer_roots);
            v->chain_rooted = e == SCITT_OK;
        }
        scitt_x509_roots_free(roots);
    }
    /* A did:x509 iss is always resolved: it names the CA and the leaf, so it binds itself. */
    if (o->did || is_did_x509(iss)) {
        scitt_didx509_result res;
        const char *w = NULL;
        scitt_err e = chain ? scitt_didx509_resolve(iss, h->x5chain, h->nx5chain, &when, &res, &w)
                            : SCITT_ERR_CERT_CHAIN;
        note(r, "did:x509", e ? 1 : 0, "%s",
             e ? (w && chain ? w
                  : chain    ? scitt_err_str(e)
                             : "no protected x5chain to resolve against")
               : "iss resolves against the x5chain");
        v->did_tried = true;
        v->did_ok = e == SCITT_OK;
    }
    v->established = v->sig_pinned                 ? "the signature verifies with --issuer-key"
                     : v->sig_by_leaf && v->did_ok ? "did:x509 resolves against the x5chain "
                                                     "whose leaf signed"
                     : v->sig_by_leaf && v->chain_rooted ? "the x5chain whose leaf signed "
                                                           "validates to --issuer-roots"
                                                         : NULL;
    scitt_cose_key_free(key);
}

/*
 * The issuer's identity: "ok" only when something the user trusts establishes it (a pinned
 * key, the roots, or a did:x509 that binds itself); never for a self-asserted x5chain.
 */
static void identity_check(const opts *o, scitt_span iss, const issuer_view *v, report *r)
{
    char have[200];
    scitt_client_printable(iss, have, sizeof(have));
    if (o->want_iss && !scitt_span_eq_str(iss, o->want_iss)) {
        note(r, "iss", 1, "iss is \"%s\", not the one required", have);
    } else if (v->established) {
        note(r, o->want_iss ? "iss" : "issuer", 0, "\"%s\", established: %s", have, v->established);
    } else if (v->did_tried && !v->did_ok) {
        note(r, o->want_iss ? "iss" : "issuer", o->want_iss ? 1 : 2,
             "\"%s\" is claimed but not established: the did:x509 does not resolve against the "
             "x5chain",
             have);
    } else {
        note(r, o->want_iss ? "iss" : "issuer", o->want_iss ? 1 : 2,
             "\"%s\" is claimed but not established: nothing you trust ties it to the signing "
             "key; give --issuer-roots PEM or --issuer-key FILE, or use a did:x509 issuer",
             have);
    }
}

/* --digest and --sub: what a deploy gate requires of the statement. */
static void expectations(const opts *o, const issuer_view *v, scitt_span sub, report *r)
{
    if (o->want_digest) {
        int64_t named = 0;
        (void)digest_alg_of(o->want_digest, &named);
        const char *colon = strchr(o->want_digest, ':');
        const char *hex = colon ? colon + 1 : o->want_digest;
        uint8_t want[64];
        size_t n = 0;
        const char *have_alg = hash_name(v->digest_alg);
        if (scitt_hex_decode(scitt_span_str(hex), want, sizeof(want), &n) != SCITT_OK || n == 0) {
            note(r, "digest", 1, "--digest %s is not hex", o->want_digest);
        } else if (v->digest.len == 0) {
            note(r, "digest", 1,
                 "the payload is detached and was not checked, so there is no signed digest to "
                 "compare (give --payload and the issuer's key)");
        } else if (named && named != v->digest_alg) {
            note(r, "digest", 1, "--digest names %s, but the statement's digest is %s",
                 hash_name(named), have_alg ? have_alg : "of another hash algorithm");
        } else {
            bool same = scitt_span_eq(v->digest, scitt_span_make(want, n));
            note(r, "digest", same ? 0 : 1, "the signed digest is%s %s", same ? "" : " not",
                 o->want_digest);
        }
    }
    if (o->want_sub) {
        bool same = scitt_span_eq_str(sub, o->want_sub);
        char h[200];
        scitt_client_printable(sub, h, sizeof(h));
        note(r, "sub", same ? 0 : 1, "sub is \"%s\"%s", h, same ? "" : ", not the one required");
    }
}

static void output(const opts *o, const report *r, const scitt_cose_sign1 *m, const issuer_view *v,
                   scitt_span iss, scitt_span sub, const char *entry_id, const rinfo *ri,
                   size_t nri, const attest_view *av, scitt_json_writer *outer)
{
    if (!o->json) {
        static const char *const mark[] = {"ok  ", "FAIL", "skip"};
        for (size_t i = 0; i < r->n; i++) {
            printf("%s %s: %s\n", mark[r->c[i].status], r->c[i].name, r->c[i].detail);
        }
        char is[200], su[200];
        scitt_client_printable(iss, is, sizeof(is));
        scitt_client_printable(sub, su, sizeof(su));
        bool established = m && v->established;
        printf("%s%s: %s (%s %s, sub %s, entry %s)\n",
               r->failed            ? "NOT VERIFIED"
               : av && av->insecure ? "verified INSECURELY (service keys from virtual evidence)"
                                    : "verified",
               r->failed || established ? "" : ", issuer not established", o->file,
               established ? "iss" : "claimed iss", is, su, entry_id);
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
    scitt_json_put_text(j, iss);
    scitt_json_put_key(j, "sub");
    scitt_json_put_text(j, sub);
    scitt_json_put_key(j, "entry_id");
    scitt_json_put_cstr(j, entry_id);
    scitt_json_put_key(j, "issuer_established");
    scitt_json_put_bool(j, m && v->established);
    scitt_json_put_key(j, "issuer_established_by");
    if (m && v->established) {
        scitt_json_put_cstr(j, v->sig_pinned ? "issuer-key"
                               : v->did_ok   ? "did:x509"
                                             : "issuer-roots");
    } else {
        scitt_json_put_null(j);
    }
    if (m) {
        bool envelope = (m->hdr.prot & SCITT_COSE_H_PAYLOAD_HASH_ALG) != 0;
        scitt_json_put_key(j, "hash_envelope");
        scitt_json_put_bool(j, envelope);
        if (v->digest.len) {
            scitt_json_put_key(j, "digest");
            scitt_json_put_hex(j, v->digest);
            const char *an = hash_name(v->digest_alg);
            if (an) {
                scitt_json_put_key(j, "digest_alg");
                scitt_json_put_cstr(j, an);
            }
        }
        if (envelope && m->hdr.payload_location.len) {
            scitt_json_put_key(j, "location");
            scitt_json_put_text(j, m->hdr.payload_location);
        }
    }
    scitt_json_put_key(j, "checks");
    scitt_json_begin_array(j);
    static const char *const st[] = {"ok", "failed", "skipped"};
    for (size_t i = 0; i < r->n; i++) {
        scitt_json_begin_object(j);
        scitt_json_put_key(j, "check");
        scitt_json_put_cstr(j, r->c[i].name);
        scitt_json_put_key(j, "result");
        scitt_json_put_cstr(j, st[r->c[i].status]);
        scitt_json_put_key(j, "detail");
        scitt_json_put_cstr(j, r->c[i].detail);
        scitt_json_end_object(j);
    }
    scitt_json_end_array(j);
    scitt_json_put_key(j, "receipts");
    scitt_json_begin_array(j);
    for (size_t i = 0; i < nri; i++) {
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

/*
 * Verifies one transparent statement @p in (labelled o->file) and prints its report (into
 * @p outer with --json --image). *ok is set when every check passed. CLI_OK unless memory ran out.
 */
static int verify_statement(const opts *o, const trust *t, const attest_view *av, scitt_span in,
                            scitt_dynbuf *files, scitt_json_writer *outer, bool *ok)
{
    int rc = CLI_OK;
    *ok = false;
    scitt_dynbuf entry;
    scitt_dynbuf_init(&entry, 0);
    report *r = scitt_calloc(1, sizeof(*r));
    scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
    rinfo *ri = scitt_calloc(MAX_RECEIPTS, sizeof(*ri));
    size_t nri = 0;
    if (!r || !m || !ri) {
        rc = cli_fail(CLI_USAGE, "out of memory");
        goto out;
    }
    if (o->bundle) {
        char sum[600];
        attest_summary(av, &o->att, sum, sizeof(sum));
        note(r, "service bundle", av->err ? 1 : 0, "%s: %s", o->bundle, av->err ? av->reason : sum);
    }
    scitt_err e = scitt_cose_sign1_decode(in, o->legacy ? SCITT_SIGN1_LEGACY : 0, m);
    bool decoded = e == SCITT_OK;
    char entry_id[65] = "";
    scitt_span iss = scitt_span_make(NULL, 0), sub = iss;
    issuer_view iv;
    memset(&iv, 0, sizeof(iv));
    if (e != SCITT_OK) {
        note(r, "decode", 1, "not a strict, tagged COSE_Sign1: %s", scitt_err_str(e));
    } else {
        iss = m->hdr.cwt.iss;
        sub = m->hdr.cwt.sub;
        if (o->legacy && !m->hdr.cwt.has_iss && legacy_claims(m, &iss, &sub) != SCITT_OK) {
            iss = sub = scitt_span_make(NULL, 0);
        }
        e = scitt_cose_check_statement(m);
        if (e != SCITT_OK && o->legacy) {
            note(r, "profile", 2, "not an RFC 9943 Signed Statement (%s): 2023 labels accepted",
                 scitt_err_str(e));
        } else {
            note(r, "profile", e ? 1 : 0, "%s", e ? scitt_err_str(e) : "RFC 9943 Signed Statement");
        }
        scitt_cbor_writer w;
        scitt_cbor_writer_init_dynbuf(&w, &entry);
        uint8_t id[SCITT_SHA256_LEN];
        scitt_receipt_entry_digest(m, id);
        if (scitt_receipt_entry(m, &w) != SCITT_OK ||
            scitt_hex_encode(scitt_span_make(id, sizeof(id)), entry_id, sizeof(entry_id))) {
            rc = cli_fail(CLI_USAGE, "out of memory");
            goto out;
        }
        receipts_check(o, t, m, scitt_span_make(entry.ptr, entry.len), ri, &nri, r, files);
        bundle_issuer_check(o, av, ri, nri, r);
        witness_check(o, t, ri, nri, r);
        char key_desc[300];
        validity_check(o, m, r);
        issuer_check(o, m, iss, r, &iv, key_desc, sizeof(key_desc));
        identity_check(o, iss, &iv, r);
        expectations(o, &iv, sub, r);
    }
    output(o, r, decoded ? m : NULL, &iv, iss, sub, entry_id, ri, nri, o->bundle ? av : NULL,
           outer);
    *ok = r->failed == 0;
    if (r->failed) {
        cli_msg("%s: %s", o->file, r->first);
    }
out:
    scitt_free(r);
    scitt_free(m);
    scitt_free(ri);
    scitt_dynbuf_clear(&entry);
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
