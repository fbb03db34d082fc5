/* scitt keygen: a signing key, and optionally a certificate for it (self-signed, CA, or issued). */
#include "certs.h"
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "scitt/x509.h"

static const char help[] =
    "usage: scitt keygen --out PREFIX [--alg ALG] [--self-signed-cert --subject CN [--ca]]\n"
    "                    [--issuer CA_PREFIX --subject CN] [--eku OID] [--days N] [--force]\n"
    "                    [--json]\n"
    "\n"
    "Makes a signing key: PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub (public key PEM).\n"
    "With a certificate, statements can carry it in x5chain (33), which scittd's development\n"
    "policy requires:\n"
    "  --alg ALG            ES256 (default), ES384, ES512, EdDSA or PS256 (RSA-3072)\n"
    "  --self-signed-cert   write PREFIX.crt, a self-signed certificate for the key\n"
    "  --ca                 make that certificate a CA (to issue leaves with --issuer)\n"
    "  --issuer CA_PREFIX   write PREFIX.crt issued by CA_PREFIX.key/.crt, and PREFIX.chain.pem\n"
    "                       (leaf, then the CA's chain); the output names the did:x509 of it\n"
    "  --subject CN         the certificate's subject common name\n"
    "  --eku OID            add an extendedKeyUsage (for did:x509 ::eku: predicates)\n"
    "  --days N             validity in days (default 365)\n"
    "  --force              overwrite existing files\n"
    "  --json               print what was written as JSON\n"
    "\n"
    "Examples:\n"
    "  scitt keygen --out ci --self-signed-cert --subject \"CI signer\"\n"
    "  scitt keygen --out ca --alg ES384 --self-signed-cert --ca --subject \"Release CA\"\n"
    "  scitt keygen --out release --issuer ca --subject release-signer\n";

typedef struct opts {
    const char *out, *alg, *subject, *issuer, *eku;
    bool self_signed, ca, force, json;
    uint64_t days;
} opts;

static int parse(int argc, char **argv, opts *o)
{
    enum {
        O_OUT = 1,
        O_ALG,
        O_SELF,
        O_CA,
        O_ISSUER,
        O_SUBJECT,
        O_EKU,
        O_DAYS,
        O_FORCE,
        O_JSON,
        O_HELP
    };
    static const struct option lo[] = {
        {"out", 1, 0, O_OUT},   {"alg", 1, 0, O_ALG},       {"self-signed-cert", 0, 0, O_SELF},
        {"ca", 0, 0, O_CA},     {"issuer", 1, 0, O_ISSUER}, {"subject", 1, 0, O_SUBJECT},
        {"eku", 1, 0, O_EKU},   {"days", 1, 0, O_DAYS},     {"force", 0, 0, O_FORCE},
        {"json", 0, 0, O_JSON}, {"help", 0, 0, O_HELP},     {0, 0, 0, 0}};
    memset(o, 0, sizeof(*o));
    o->days = 365;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_OUT:
            o->out = optarg;
            break;
        case O_ALG:
            o->alg = optarg;
            break;
        case O_SELF:
            o->self_signed = true;
            break;
        case O_CA:
            o->ca = true;
            break;
        case O_ISSUER:
            o->issuer = optarg;
            break;
        case O_SUBJECT:
            o->subject = optarg;
            break;
        case O_EKU:
            o->eku = optarg;
            break;
        case O_DAYS:
            if (!cli_parse_u64(optarg, 1, 36500, &o->days)) {
                return cli_usage("--days must be 1..36500, not \"%s\"", optarg);
            }
            break;
        case O_FORCE:
            o->force = true;
            break;
        case O_JSON:
            o->json = true;
            break;
        case O_HELP:
            return -1;
        default:
            return cli_usage("unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return cli_usage("unexpected argument \"%s\"", argv[optind]);
    }
    if (!o->out) {
        return cli_usage("--out PREFIX is required");
    }
    if (o->self_signed && o->issuer) {
        return cli_usage("--self-signed-cert and --issuer exclude each other");
    }
    if ((o->self_signed || o->issuer) && !o->subject) {
        return cli_usage("a certificate needs --subject CN");
    }
    if (!o->self_signed && !o->issuer && (o->subject || o->ca || o->eku)) {
        return cli_usage("--subject, --ca and --eku need --self-signed-cert or --issuer");
    }
    if (o->ca && o->issuer) {
        return cli_usage("--ca is for self-signed roots; issued certificates are leaves");
    }
    return CLI_OK;
}

/* did:x509:0:sha256:<b64url CA fingerprint>::subject:CN:<pct-encoded CN> for an issued leaf. */
static void leaf_did(scitt_span ca_der, const char *cn, char *out, size_t cap)
{
    uint8_t fp[SCITT_X509_FINGERPRINT_MAX];
    size_t fl;
    char b64[SCITT_BASE64URL_LEN(64)], pct[1024];
    out[0] = 0;
    if (scitt_x509_fingerprint(ca_der, SCITT_X509_SHA256, fp, &fl) == SCITT_OK &&
        scitt_base64url_encode(scitt_span_make(fp, fl), b64, sizeof(b64)) == SCITT_OK &&
        scitt_didx509_pct_encode(scitt_span_str(cn), pct, sizeof(pct)) == SCITT_OK) {
        snprintf(out, cap, "did:x509:0:sha256:%s::subject:CN:%s", b64, pct);
    }
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int cmd_keygen(int argc, char **argv)
{
    opts o;
    int rc = parse(argc, argv, &o);
    if (rc == -1) {
        return cli_help(help);
    }
    if (rc != CLI_OK) {
        return rc;
    }
    int64_t alg = o.alg ? scitt_cose_alg_from_name(scitt_span_str(o.alg)) : SCITT_COSE_ALG_ES256;
    if (alg != SCITT_COSE_ALG_ES256 && alg != SCITT_COSE_ALG_ES384 && alg != SCITT_COSE_ALG_ES512 &&
        alg != SCITT_COSE_ALG_EDDSA && alg != SCITT_COSE_ALG_PS256) {
        return cli_usage("--alg must be ES256, ES384, ES512, EdDSA or PS256, not \"%s\"", o.alg);
    }
    char key_path[4096], pub_path[4096], crt_path[4096], chain_path[4096];
    snprintf(key_path, sizeof(key_path), "%s.key", o.out);
    snprintf(pub_path, sizeof(pub_path), "%s.pub", o.out);
    snprintf(crt_path, sizeof(crt_path), "%s.crt", o.out);
    snprintf(chain_path, sizeof(chain_path), "%s.chain.pem", o.out);
    if (!o.force && exists(key_path)) {
        return cli_fail(CLI_USAGE, "%s exists; use --force to replace it", key_path);
    }

    /* The issuing CA, when there is one: its key and certificate (and chain, if it has one). */
    scitt_cose_key *ca_key = NULL;
    scitt_dynbuf ca_pem, ca_der, ca_chain;
    scitt_dynbuf_init(&ca_pem, 0);
    scitt_dynbuf_init(&ca_der, 0);
    scitt_dynbuf_init(&ca_chain, 0);
    char why[512];
    if (o.issuer) {
        char p[4096];
        snprintf(p, sizeof(p), "%s.key", o.issuer);
        if (cli_load_key(p, true, &ca_key, why, sizeof(why)) != SCITT_OK) {
            return cli_fail(CLI_USAGE, "the issuing CA's key: %s", why);
        }
        snprintf(p, sizeof(p), "%s.crt", o.issuer);
        rc = cli_slurp(p, SCITT_LIMIT_KEY_TEXT, &ca_pem);
        scitt_span certs[1];
        size_t n = 0;
        if (rc == CLI_OK && scitt_x509_pem_decode(scitt_span_make(ca_pem.ptr, ca_pem.len), &ca_der,
                                                  certs, 1, &n) != SCITT_OK) {
            rc = cli_fail(CLI_USAGE, "%s is not one PEM certificate", p);
        }
        snprintf(p, sizeof(p), "%s.chain.pem", o.issuer);
        if (rc == CLI_OK && exists(p)) {
            rc = cli_slurp(p, CLI_FILE_MAX, &ca_chain);
        } else if (rc == CLI_OK) {
            scitt_dynbuf_put(&ca_chain, ca_pem.ptr, ca_pem.len);
        }
        if (rc != CLI_OK) {
            scitt_cose_key_free(ca_key);
            scitt_dynbuf_clear(&ca_pem);
            scitt_dynbuf_clear(&ca_der);
            scitt_dynbuf_clear(&ca_chain);
            return rc;
        }
    }

    scitt_cose_key *k = NULL;
    scitt_dynbuf priv, pub, cpem, cder;
    scitt_dynbuf_init(&priv, 0);
    scitt_dynbuf_init(&pub, 0);
    scitt_dynbuf_init(&cpem, 0);
    scitt_dynbuf_init(&cder, 0);
    scitt_err e = scitt_cose_key_generate(alg, &k);
    e = e ? e : scitt_cose_key_encode_pem(k, true, &priv);
    e = e ? e : scitt_cose_key_encode_pem(k, false, &pub);
    if (e != SCITT_OK) {
        rc = cli_fail(CLI_USAGE, "cannot generate the key: %s", scitt_err_str(e));
        goto out;
    }
    if (o.self_signed || o.issuer) {
        cert_request rq = {k,    o.subject,        ca_key, scitt_span_make(ca_der.ptr, ca_der.len),
                           o.ca, (unsigned)o.days, o.eku};
        if (cert_make(&rq, &cpem, &cder, why, sizeof(why)) != SCITT_OK) {
            rc = cli_fail(CLI_USAGE, "%s", why);
            goto out;
        }
    }
    rc = cli_save(key_path, scitt_span_make(priv.ptr, priv.len), 0600);
    if (rc == CLI_OK) {
        rc = cli_save(pub_path, scitt_span_make(pub.ptr, pub.len), 0644);
    }
    if (rc == CLI_OK && cpem.len) {
        rc = cli_save(crt_path, scitt_span_make(cpem.ptr, cpem.len), 0644);
    }
    char did[2048] = "";
    if (rc == CLI_OK && o.issuer) {
        scitt_dynbuf chain;
        scitt_dynbuf_init(&chain, 0);
        scitt_dynbuf_put(&chain, cpem.ptr, cpem.len);
        scitt_dynbuf_put(&chain, ca_chain.ptr, ca_chain.len);
        rc = cli_save(chain_path, scitt_span_make(chain.ptr, chain.len), 0644);
        scitt_dynbuf_clear(&chain);
        leaf_did(scitt_span_make(ca_der.ptr, ca_der.len), o.subject, did, sizeof(did));
    }
    if (rc != CLI_OK) {
        goto out;
    }
    scitt_span kid = scitt_cose_key_kid(k);
    char *kid_hex = cli_hex(kid);
    if (o.json) {
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        scitt_json_writer j;
        scitt_json_writer_init(&j, &b);
        scitt_json_begin_object(&j);
        scitt_json_put_key(&j, "alg");
        scitt_json_put_cstr(&j, scitt_cose_alg_name(alg));
        scitt_json_put_key(&j, "kid");
        scitt_json_put_cstr(&j, kid_hex);
        scitt_json_put_key(&j, "key");
        scitt_json_put_cstr(&j, key_path);
        scitt_json_put_key(&j, "public_key");
        scitt_json_put_cstr(&j, pub_path);
        if (cpem.len) {
            scitt_json_put_key(&j, "certificate");
            scitt_json_put_cstr(&j, crt_path);
        }
        if (o.issuer) {
            scitt_json_put_key(&j, "chain");
            scitt_json_put_cstr(&j, chain_path);
            scitt_json_put_key(&j, "did_x509");
            scitt_json_put_cstr(&j, did);
        }
        scitt_json_end_object(&j);
        cli_json_print(&j);
    } else {
        printf("wrote %s and %s (%s, kid %s)\n", key_path, pub_path, scitt_cose_alg_name(alg),
               kid_hex ? kid_hex : "");
        if (cpem.len) {
            printf("wrote %s (CN=%s%s)\n", crt_path, o.subject, o.ca ? ", CA" : "");
        }
        if (o.issuer) {
            printf("wrote %s; its did:x509: %s\n", chain_path, did);
        }
    }
    scitt_free(kid_hex);
out:
    scitt_wipe(priv.ptr, priv.len);
    scitt_dynbuf_clear(&priv);
    scitt_dynbuf_clear(&pub);
    scitt_dynbuf_clear(&cpem);
    scitt_dynbuf_clear(&cder);
    scitt_dynbuf_clear(&ca_pem);
    scitt_dynbuf_clear(&ca_der);
    scitt_dynbuf_clear(&ca_chain);
    scitt_cose_key_free(k);
    scitt_cose_key_free(ca_key);
    return rc;
}
