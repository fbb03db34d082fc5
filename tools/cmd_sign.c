/* scitt sign: a SCITT Signed Statement (tagged COSE_Sign1) from a payload or a digest. */
#include "oci_cmd.h"
#include "scitt_pkcs11.h"
#include "sign.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scitt/limits.h"
#include "scitt/receipt.h"
#include "scitt/x509.h"

static const char help[] =
    "usage: scitt sign --key KEY [--cert CERT | --chain CHAIN.pem] --iss ISS [--sub SUB]\n"
    "                  --out FILE SOURCE [options]\n"
    "\n"
    "Signs a SCITT Signed Statement: protected {alg, CWT claims {iss, sub, iat}, x5chain (with\n"
    "--cert/--chain) or kid}. SOURCE is exactly one of:\n"
    "  --payload FILE [--content-type CT] [--detached]   the statement itself\n"
    "  --image REF [--index]   a COSE hash envelope for a container image: payload = the\n"
    "                       manifest digest, 258 SHA-256, 259 the OCI manifest (or index)\n"
    "                       media type, 260 oci://REF@sha256:HEX; --sub defaults to the\n"
    "                       repository. REF is normalised (nginx: docker.io/library/nginx);\n"
    "                       without @sha256:HEX the digest is resolved in the registry (the\n"
    "                       registry options below; --index is then taken from it)\n"
    "  --oci-layout DIR | --docker-archive FILE [--ref NAME] [--image-name REPO]\n"
    "                       the same, reading the manifest digest from an OCI image layout or a\n"
    "                       docker save archive (Docker 25+); no registry access\n"
    "  --measurement snp|tdx|sgx:HEX | --snp-report FILE   an enclave measurement (hash envelope,\n"
    "                       SHA-384 for SNP and TDX, SHA-256 for SGX); extra claims:\n"
    "                       --host-data HEX, --policy-file FILE (host_data = SHA-256 of the\n"
    "                       Confidential ACI policy), --svn N; tdx:MRTD,rtmr0=HEX,... adds\n"
    "                       RTMR claims\n"
    "  --tdx-quote FILE | --sgx-quote FILE   the same from a DCAP quote (not verified): MRTD\n"
    "                       and RTMR0-3; MRENCLAVE, MRSIGNER, ISV product ID and SVN;\n"
    "                       --collateral DIR carries the quote and the DCAP collateral in the\n"
    "                       protected header (dcap_quote, dcap_collateral) for a registration\n"
    "                       policy that verifies them at iat (docs/policy.md)\n"
    "  --attest-quote FILE --collateral DIR   with any SOURCE: carries a TDX or SGX quote whose\n"
    "                       REPORTDATA names the signing key, and its collateral (the policy's\n"
    "                       tee attested_issuer rule)\n"
    "  --hash-envelope FILE --preimage-content-type CT [--location URI] [--hash-alg ALG]\n"
    "                       a hash envelope of any file (sha256, sha384 or sha512)\n"
    "\n"
    "  --key KEY            signing key (PEM, DER, COSE_Key or JWK with the private part), or\n"
    "                       a PKCS#11 URI (RFC 7512) of a key in a token: pkcs11:token=T;\n"
    "                       object=L?module-path=M&pin-source=file:F (module and PIN also\n"
    "                       from $SCITT_PKCS11_MODULE, $SCITT_PKCS11_PIN); P-256/384/521, Ed25519\n"
    "  --cert CERT          its certificate (PEM or DER): x5chain with one certificate\n"
    "  --chain CHAIN.pem    leaf first, then intermediates: x5chain with all of them\n"
    "  --iss ISS --sub SUB  CWT issuer and subject (iss must be a URI with a certificate)\n"
    "  --alg ALG            signature algorithm (default: the key's, e.g. ES256)\n"
    "  --iat T | --no-iat   issued-at time (Unix seconds; default now), or none\n"
    "  --out FILE           where to write the statement (- for stdout)\n"
    "  --json               print a summary as JSON (entry_id: what the log will call "
    "it)\n" OCI_OPTIONS_HELP "\n"
    "Example:\n"
    "  scitt sign --key ci.key --cert ci.crt --iss https://ci.example/app \\\n"
    "      --image registry.example/app@sha256:<64 hex> --out app.statement\n";

typedef struct opts {
    const char *key, *cert, *chain, *iss, *sub, *out, *alg;
    const char *payload, *ctype, *image, *oci, *docker, *ref, *image_name;
    const char *measurement, *snp_report, *host_data, *policy_file, *tdx_quote, *sgx_quote;
    const char *hash_file, *ptype, *location, *hash_alg, *collateral, *attest_quote;
    bool detached, index, no_iat, json, has_iat, has_svn;
    uint64_t iat, svn;
    oci_client_opts reg;
} opts;

static int parse(int argc, char **argv, opts *o)
{
    enum {
        O_KEY = 1,
        O_CERT,
        O_CHAIN,
        O_ISS,
        O_SUB,
        O_OUT,
        O_ALG,
        O_PAYLOAD,
        O_CT,
        O_DETACHED,
        O_IMAGE,
        O_INDEX,
        O_OCI,
        O_DOCKER,
        O_REF,
        O_IMGNAME,
        O_MEAS,
        O_SNP,
        O_HOSTDATA,
        O_POLICY,
        O_SVN,
        O_HASH,
        O_PTYPE,
        O_LOC,
        O_HALG,
        O_IAT,
        O_NOIAT,
        O_JSON,
        O_HELP,
        O_TDXQ,
        O_SGXQ,
        O_COLL,
        O_AQUOTE
    };
    static const struct option lo[] = {{"key", 1, 0, O_KEY},
                                       {"cert", 1, 0, O_CERT},
                                       {"chain", 1, 0, O_CHAIN},
                                       {"iss", 1, 0, O_ISS},
                                       {"sub", 1, 0, O_SUB},
                                       {"out", 1, 0, O_OUT},
                                       {"alg", 1, 0, O_ALG},
                                       {"payload", 1, 0, O_PAYLOAD},
                                       {"content-type", 1, 0, O_CT},
                                       {"detached", 0, 0, O_DETACHED},
                                       {"image", 1, 0, O_IMAGE},
                                       {"index", 0, 0, O_INDEX},
                                       {"oci-layout", 1, 0, O_OCI},
                                       {"docker-archive", 1, 0, O_DOCKER},
                                       {"ref", 1, 0, O_REF},
                                       {"image-name", 1, 0, O_IMGNAME},
                                       {"measurement", 1, 0, O_MEAS},
                                       {"snp-report", 1, 0, O_SNP},
                                       {"tdx-quote", 1, 0, O_TDXQ},
                                       {"sgx-quote", 1, 0, O_SGXQ},
                                       {"collateral", 1, 0, O_COLL},
                                       {"attest-quote", 1, 0, O_AQUOTE},
                                       {"host-data", 1, 0, O_HOSTDATA},
                                       {"policy-file", 1, 0, O_POLICY},
                                       {"svn", 1, 0, O_SVN},
                                       {"hash-envelope", 1, 0, O_HASH},
                                       {"preimage-content-type", 1, 0, O_PTYPE},
                                       {"location", 1, 0, O_LOC},
                                       {"hash-alg", 1, 0, O_HALG},
                                       {"iat", 1, 0, O_IAT},
                                       {"no-iat", 0, 0, O_NOIAT},
                                       {"json", 0, 0, O_JSON},
                                       OCI_LONG_OPTIONS,
                                       {"help", 0, 0, O_HELP},
                                       {0, 0, 0, 0}};
    memset(o, 0, sizeof(*o));
    optind = 1;
    opterr = 0;
    int c;
    const char **str[] = {
        NULL,           &o->key,       &o->cert,        &o->chain, &o->iss,        &o->sub,
        &o->out,        &o->alg,       &o->payload,     &o->ctype, NULL,           &o->image,
        NULL,           &o->oci,       &o->docker,      &o->ref,   &o->image_name, &o->measurement,
        &o->snp_report, &o->host_data, &o->policy_file, NULL,      &o->hash_file,  &o->ptype,
        &o->location,   &o->hash_alg};
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c > 0 && c < (int)(sizeof(str) / sizeof(str[0])) && str[c]) {
            *str[c] = optarg;
            continue;
        }
        switch (c) {
        case O_DETACHED:
            o->detached = true;
            break;
        case O_TDXQ:
            o->tdx_quote = optarg;
            break;
        case O_SGXQ:
            o->sgx_quote = optarg;
            break;
        case O_COLL:
            o->collateral = optarg;
            break;
        case O_AQUOTE:
            o->attest_quote = optarg;
            break;
        case O_INDEX:
            o->index = true;
            break;
        case O_NOIAT:
            o->no_iat = true;
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_SVN:
            if (!cli_parse_u64(optarg, 0, INT64_MAX, &o->svn)) {
                return cli_usage("--svn must be a non-negative integer");
            }
            o->has_svn = true;
            break;
        case O_IAT:
            if (!cli_parse_u64(optarg, 0, INT64_MAX, &o->iat)) {
                return cli_usage("--iat must be Unix seconds");
            }
            o->has_iat = true;
            break;
        case O_HELP:
            return -1;
        default:
            if (oci_option(&o->reg, c, optarg)) {
                break;
            }
            return cli_usage("unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return cli_usage("unexpected argument \"%s\"", argv[optind]);
    }
    int sources = !!o->payload + !!o->image + !!o->oci + !!o->docker + !!o->measurement +
                  !!o->snp_report + !!o->hash_file + !!o->tdx_quote + !!o->sgx_quote;
    if (!o->key || !o->iss || !o->out) {
        return cli_usage("--key, --iss and --out are required");
    }
    if (sources != 1) {
        return cli_usage("give exactly one of --payload, --image, --oci-layout, --docker-archive, "
                         "--measurement, --snp-report, --tdx-quote, --sgx-quote, "
                         "--hash-envelope");
    }
    if (o->cert && o->chain) {
        return cli_usage("--cert and --chain exclude each other");
    }
    if (o->collateral && !o->tdx_quote && !o->sgx_quote && !o->attest_quote) {
        return cli_usage("--collateral goes with --tdx-quote, --sgx-quote or --attest-quote");
    }
    if (o->attest_quote && (!o->collateral || o->tdx_quote || o->sgx_quote)) {
        return cli_usage("--attest-quote needs --collateral DIR, and not --tdx-quote or "
                         "--sgx-quote (which carry their own quote)");
    }
    if ((o->ctype || o->detached) && !o->payload) {
        return cli_usage("--content-type and --detached go with --payload");
    }
    if ((o->host_data || o->policy_file || o->has_svn) && !o->measurement && !o->snp_report) {
        return cli_usage("--host-data, --policy-file and --svn go with --measurement or "
                         "--snp-report");
    }
    if (o->host_data && o->policy_file) {
        return cli_usage("--host-data and --policy-file exclude each other");
    }
    if ((o->ref || o->image_name) && !o->oci && !o->docker) {
        return cli_usage("--ref and --image-name go with --oci-layout or --docker-archive");
    }
    if (o->no_iat && o->has_iat) {
        return cli_usage("--iat and --no-iat exclude each other");
    }
    return CLI_OK;
}

/* x5chain from --cert (PEM or DER) or --chain (PEM bundle, leaf first). */
static int load_chain(const opts *o, scitt_dynbuf *der, scitt_span *certs, size_t *n)
{
    const char *path = o->cert ? o->cert : o->chain;
    scitt_dynbuf text;
    int rc = cli_slurp(path, CLI_FILE_MAX, &text);
    if (rc != CLI_OK) {
        return rc;
    }
    scitt_span t = scitt_span_make(text.ptr, text.len);
    scitt_err e;
    if (memmem(t.ptr, t.len, "-----BEGIN", 10)) {
        e = scitt_x509_pem_decode(t, der, certs, SCITT_LIMIT_X5CHAIN_CERTS, n);
    } else {
        e = scitt_x509_check_der(t);
        if (e == SCITT_OK) {
            scitt_dynbuf_put(der, t.ptr, t.len);
            certs[0] = scitt_span_make(der->ptr, der->len);
            *n = 1;
        }
    }
    scitt_dynbuf_clear(&text);
    if (e != SCITT_OK) {
        return cli_fail(CLI_USAGE, "%s: not a certificate %s: %s", path,
                        o->cert ? "(PEM or DER)" : "chain (PEM)", scitt_err_str(e));
    }
    if (o->cert && *n != 1) {
        return cli_usage("%s holds %zu certificates; use --chain for a chain", path, *n);
    }
    return CLI_OK;
}

/* The CWT claims map: iss, sub, iat, then the text-keyed claims, in deterministic order. */
static scitt_err claims_encode(const opts *o, const char *sub, const sign_plan *p, int64_t iat,
                               scitt_cbor_writer *w)
{
    size_t order[SIGN_CLAIMS_MAX];
    for (size_t i = 0; i < p->nclaims; i++) {
        order[i] = i;
    }
    /* Text keys sort by length, then bytes (their encodings' order). */
    for (size_t i = 1; i < p->nclaims; i++) {
        for (size_t j = i; j > 0; j--) {
            const char *a = p->claims[order[j - 1]].key, *b = p->claims[order[j]].key;
            if (strlen(a) < strlen(b) || (strlen(a) == strlen(b) && strcmp(a, b) < 0)) {
                break;
            }
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    }
    scitt_cbor_put_map(w, (o->no_iat ? 2u : 3u) + p->nclaims);
    scitt_cbor_put_uint(w, SCITT_CWT_ISS);
    scitt_cbor_put_cstr(w, o->iss);
    scitt_cbor_put_uint(w, SCITT_CWT_SUB);
    scitt_cbor_put_cstr(w, sub);
    if (!o->no_iat) {
        scitt_cbor_put_uint(w, SCITT_CWT_IAT);
        scitt_cbor_put_int(w, iat);
    }
    for (size_t k = 0; k < p->nclaims; k++) {
        const sign_claim *c = &p->claims[order[k]];
        scitt_cbor_put_cstr(w, c->key);
        if (c->kind == CLAIM_INT) {
            scitt_cbor_put_int(w, c->i);
        } else if (c->kind == CLAIM_BYTES) {
            scitt_cbor_put_bytes(w, scitt_span_make(c->b, c->blen));
        } else {
            scitt_cbor_put_cstr(w, c->t);
        }
    }
    return w->err;
}

static int make_source(const opts *o, sign_plan *p);

/* The source, then --attest-quote's evidence on whatever it is. */
static int make_plan(const opts *o, sign_plan *p)
{
    int rc = make_source(o, p);
    if (rc == CLI_OK && o->attest_quote) {
        rc = plan_dcap_evidence(p, o->attest_quote, o->collateral);
    }
    return rc;
}

static int make_source(const opts *o, sign_plan *p)
{
    int rc;
    if (o->payload) {
        return plan_payload(p, o->payload, o->ctype, o->detached);
    }
    if (o->image) {
        return plan_image_ref(p, o->image, o->index, &o->reg);
    }
    if (o->oci || o->docker) {
        return plan_oci(p, o->oci ? o->oci : o->docker, o->docker != NULL, o->ref, o->image_name);
    }
    if (o->hash_file) {
        return plan_hash_envelope(p, o->hash_file, o->ptype, o->location, o->hash_alg);
    }
    if (o->tdx_quote || o->sgx_quote) {
        const char *q = o->tdx_quote ? o->tdx_quote : o->sgx_quote;
        rc = plan_dcap_quote(p, q, o->tdx_quote != NULL);
        return rc == CLI_OK && o->collateral ? plan_dcap_evidence(p, q, o->collateral) : rc;
    }
    rc = o->measurement ? plan_measurement(p, o->measurement) : plan_snp_report(p, o->snp_report);
    if (rc == CLI_OK && (o->host_data || o->policy_file)) {
        rc = plan_host_data(p, o->host_data, o->policy_file);
    }
    if (rc == CLI_OK && o->has_svn) {
        rc = plan_svn(p, o->svn);
    }
    return rc;
}

static void print_summary(const opts *o, const sign_plan *p, const char *sub, scitt_span stmt,
                          int64_t alg, size_t ncerts, scitt_span kid)
{
    scitt_cose_sign1 m;
    uint8_t id[SCITT_SHA256_LEN];
    char idhex[65] = "";
    if (scitt_cose_sign1_decode(stmt, 0, &m) == SCITT_OK) {
        scitt_receipt_entry_digest(&m, id);
        if (scitt_hex_encode(scitt_span_make(id, sizeof(id)), idhex, sizeof(idhex)) != SCITT_OK) {
            idhex[0] = 0;
        }
    }
    uint8_t psha[SCITT_SHA256_LEN];
    scitt_sha256(p->payload.ptr, p->payload.len, psha);
    if (!o->json) {
        printf("wrote %s (%zu bytes, %s, %s): iss=%s sub=%s entry_id=%s\n", o->out, stmt.len,
               scitt_cose_alg_name(alg), p->kind, o->iss, sub, idhex);
        return;
    }
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_json_writer j;
    scitt_json_writer_init(&j, &b);
    scitt_json_begin_object(&j);
    scitt_json_put_key(&j, "out");
    scitt_json_put_cstr(&j, o->out);
    scitt_json_put_key(&j, "bytes");
    scitt_json_put_uint(&j, stmt.len);
    scitt_json_put_key(&j, "kind");
    scitt_json_put_cstr(&j, p->kind);
    scitt_json_put_key(&j, "alg");
    scitt_json_put_cstr(&j, scitt_cose_alg_name(alg));
    scitt_json_put_key(&j, "iss");
    scitt_json_put_cstr(&j, o->iss);
    scitt_json_put_key(&j, "sub");
    scitt_json_put_cstr(&j, sub);
    if (ncerts) {
        scitt_json_put_key(&j, "x5chain");
        scitt_json_put_uint(&j, ncerts);
    } else {
        scitt_json_put_key(&j, "kid");
        scitt_json_put_hex(&j, kid);
    }
    scitt_json_put_key(&j, "detached");
    scitt_json_put_bool(&j, p->detached);
    if (p->hash_alg) {
        scitt_json_put_key(&j, "digest");
        scitt_json_put_hex(&j, scitt_span_make(p->payload.ptr, p->payload.len));
        scitt_json_put_key(&j, "preimage_content_type");
        scitt_json_put_cstr(&j, p->preimage_type);
        if (p->location[0]) {
            scitt_json_put_key(&j, "location");
            scitt_json_put_cstr(&j, p->location);
        }
    } else {
        scitt_json_put_key(&j, "payload_sha256");
        scitt_json_put_hex(&j, scitt_span_make(psha, sizeof(psha)));
    }
    scitt_json_put_key(&j, "entry_id");
    scitt_json_put_cstr(&j, idhex);
    scitt_json_end_object(&j);
    cli_json_print(&j);
}

int cmd_sign(int argc, char **argv)
{
    opts o;
    int rc = parse(argc, argv, &o);
    if (rc == -1) {
        return cli_help(help);
    }
    if (rc != CLI_OK) {
        return rc;
    }
    char why[512];
    scitt_cose_key *key = NULL;
    scitt_p11 *hsm = NULL;
    if (scitt_p11_is_uri(o.key)) {
        /* the key stays in the token; its public half names and checks it */
        if (scitt_p11_open(o.key, 0, &hsm, why, sizeof(why)) != SCITT_OK) {
            return cli_fail(CLI_USAGE, "%s", why);
        }
        key = scitt_cose_key_ref(scitt_p11_public(hsm));
    } else if (cli_load_key(o.key, true, &key, why, sizeof(why)) != SCITT_OK) {
        return cli_fail(CLI_USAGE, "%s", why);
    }
    sign_plan p;
    plan_init(&p);
    scitt_dynbuf der, out;
    scitt_dynbuf_init(&der, 0);
    scitt_dynbuf_init(&out, CLI_FILE_MAX);
    scitt_span certs[SCITT_LIMIT_X5CHAIN_CERTS];
    size_t ncerts = 0;
    int64_t alg = scitt_cose_key_alg(key);
    if (o.alg) {
        alg = scitt_cose_alg_from_name(scitt_span_str(o.alg));
        if (!alg || !scitt_cose_key_allows(key, alg)) {
            rc = cli_usage("--alg %s cannot be used with this key", o.alg);
            goto done;
        }
    }
    if (o.cert || o.chain) {
        rc = load_chain(&o, &der, certs, &ncerts);
        if (rc != CLI_OK) {
            goto done;
        }
        /* The leaf must certify the signing key, or every verifier would reject the statement. */
        scitt_cose_key *leaf = NULL;
        uint8_t a[SCITT_SHA256_LEN], b[SCITT_SHA256_LEN];
        if (scitt_cose_key_from_cert_der(certs[0], &leaf) != SCITT_OK) {
            rc = cli_fail(CLI_USAGE, "the certificate's key cannot be used");
            goto done;
        }
        scitt_cose_key_thumbprint(leaf, a);
        scitt_cose_key_thumbprint(key, b);
        scitt_cose_key_free(leaf);
        if (memcmp(a, b, sizeof(a)) != 0) {
            rc = cli_fail(CLI_USAGE, "the certificate %s is not for the key %s",
                          o.cert ? o.cert : o.chain, o.key);
            goto done;
        }
    }
    rc = make_plan(&o, &p);
    if (rc != CLI_OK) {
        goto done;
    }
    const char *sub = o.sub ? o.sub : p.default_sub;
    if (!sub[0]) {
        rc = cli_usage("--sub is required (only images have a default: the repository)");
        goto done;
    }
    int64_t iat = o.has_iat ? (int64_t)o.iat : (int64_t)time(NULL);

    uint8_t cwt[4096];
    scitt_cbor_writer cw;
    scitt_cbor_writer_init(&cw, cwt, sizeof(cwt));
    scitt_span cwt_item;
    scitt_err e = claims_encode(&o, sub, &p, iat, &cw);
    e = e ? e : scitt_cbor_writer_finish(&cw, &cwt_item);
    scitt_cose_label l15 = {false, SCITT_COSE_HDR_CWT_CLAIMS, {NULL, 0}};
    scitt_cose_header_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.alg = alg;
    if (ncerts) {
        spec.x5chain = certs;
        spec.nx5chain = ncerts;
    } else {
        spec.kid = scitt_cose_key_kid(key);
    }
    if (p.content_type) {
        spec.content_type.present = spec.content_type.is_text = true;
        spec.content_type.text = scitt_span_str(p.content_type);
    }
    if (p.hash_alg) {
        spec.payload_hash_alg = p.hash_alg;
        spec.preimage_content_type.present = spec.preimage_content_type.is_text = true;
        spec.preimage_content_type.text = scitt_span_str(p.preimage_type);
        if (p.location[0]) {
            spec.payload_location = scitt_span_str(p.location);
        }
    }
    scitt_cose_label labels[3] = {l15};
    scitt_span values[3] = {cwt_item};
    spec.nextra = 1;
    if (p.dcap_quote.len) {
        labels[spec.nextra] = (scitt_cose_label){true, 0, scitt_span_str("dcap_quote")};
        values[spec.nextra++] = scitt_span_make(p.dcap_quote.ptr, p.dcap_quote.len);
        labels[spec.nextra] = (scitt_cose_label){true, 0, scitt_span_str("dcap_collateral")};
        values[spec.nextra++] = scitt_span_make(p.dcap_collateral.ptr, p.dcap_collateral.len);
    }
    spec.extra_labels = labels;
    spec.extra_values = values;
    scitt_dynbuf prot;
    scitt_dynbuf_init(&prot, 0);
    scitt_cbor_writer pw;
    scitt_cbor_writer_init_dynbuf(&pw, &prot);
    e = e ? e : scitt_cose_headers_encode(&spec, &pw);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &out);
    if (e == SCITT_OK && hsm) {
        e = scitt_p11_sign1(hsm, alg, scitt_span_make(prot.ptr, prot.len),
                            scitt_span_make(p.payload.ptr, p.payload.len), p.detached, &w, why,
                            sizeof(why));
        if (e != SCITT_OK) {
            scitt_dynbuf_clear(&prot);
            rc = cli_fail(CLI_USAGE, "%s", why);
            goto done;
        }
    } else if (e == SCITT_OK) {
        e = scitt_cose_sign1_sign(
            key, scitt_span_make(prot.ptr, prot.len), scitt_span_make(NULL, 0),
            scitt_span_make(p.payload.ptr, p.payload.len), scitt_span_make(NULL, 0),
            p.detached ? SCITT_SIGN1_DETACHED : 0, &w);
    }
    scitt_dynbuf_clear(&prot);
    /* Check what we made against the SCITT profile before anyone registers it. */
    scitt_cose_sign1 m;
    e = e ? e : scitt_cose_sign1_decode(scitt_span_make(out.ptr, out.len), 0, &m);
    e = e ? e : scitt_cose_check_statement(&m);
    if (e != SCITT_OK) {
        rc = cli_fail(CLI_USAGE, "cannot make the statement: %s%s", scitt_err_str(e),
                      e == SCITT_ERR_HEADER && ncerts ? " (with a certificate, --iss must be a URI)"
                                                      : "");
        goto done;
    }
    if (o.payload && !p.detached && out.len > SCITT_LIMIT_STATEMENT_DEFAULT) {
        cli_msg("warning: the statement is %zu bytes; a service with the default limit (%u "
                "bytes, scittd --max-body) refuses it: sign a hash envelope instead "
                "(--hash-envelope FILE) or --detached",
                out.len, SCITT_LIMIT_STATEMENT_DEFAULT);
    }
    rc = cli_save(o.out, scitt_span_make(out.ptr, out.len), 0644);
    if (rc == CLI_OK && strcmp(o.out, "-") != 0) {
        print_summary(&o, &p, sub, scitt_span_make(out.ptr, out.len), alg, ncerts,
                      scitt_cose_key_kid(key));
    }
done:
    plan_clear(&p);
    scitt_dynbuf_clear(&der);
    scitt_dynbuf_clear(&out);
    scitt_cose_key_free(key);
    scitt_p11_close(hsm);
    return rc;
}
