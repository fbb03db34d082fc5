/*
 * scitt attest: fetch a service's attestation bundle (export), and check TEE evidence offline
 * (verify): a service bundle against AMD's pinned roots and the binding of its identity document,
 * or a bare SEV-SNP report with its certificates.
 */
#include "attestation.h"
#include "cli.h"
#include "net.h"
#include "parsers.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char help[] =
    "usage: scitt attest export --url URL --out FILE [--nonce HEX] [--json]\n"
    "       scitt attest verify INPUT [--certs FILE... | --collateral DIR] [--expect-* ...]\n"
    "\n"
    "export fetches the service bundle of a scittd (GET /attestation: its identity document -\n"
    "receipt key, checkpoint key, issuer, origin - and the TEE evidence binding it) and writes it\n"
    "for offline use. verify checks a bundle, or a bare SEV-SNP report, against AMD's pinned\n"
    "roots. `scitt verify --service-bundle` then trusts receipts from that service.\n"
    "See scitt attest export --help and scitt attest verify --help.\n"
    "\n"
    "Example:\n"
    "  scitt attest export --url https://scitt.example --out scitt.bundle\n"
    "  scitt attest verify scitt.bundle --expect-measurement \"$MEASUREMENT\"\n";

static const char export_help[] =
    "usage: scitt attest export --url URL --out FILE [--nonce HEX] [--json]\n"
    "\n"
    "Fetches GET /attestation and writes the service bundle to FILE (atomically: a temporary\n"
    "file, then rename). The bundle's structure is checked (evidence, identity document, receipt\n"
    "key, endorsements parse); whether to trust it is for `scitt attest verify`. Nothing is\n"
    "written when the answer is not a bundle, and an existing FILE that is not a service bundle\n"
    "is never replaced.\n"
    "  --nonce HEX        ask for fresh evidence bound to this nonce (1 to 32 bytes); verify\n"
    "                     with the same --nonce\n" NET_OPTIONS_HELP "\n"
    "Exit status: 0 written, 1 the answer is not a service bundle, 2 usage, I/O or network.\n"
    "\n"
    "Example:\n"
    "  scitt attest export --url https://scitt.example --out scitt.bundle --nonce \"$(openssl "
    "rand -hex 16)\"\n";

static const char verify_help[] =
    "usage: scitt attest verify INPUT [--certs FILE...] [--expect-measurement HEX...]\n"
    "                           [--expect-host-data HEX...] [--min-tcb T] [--nonce HEX]\n"
    "                           [--collateral DIR] [--accept-tcb LIST] [--expect-mrtd HEX]\n"
    "                           [--expect-rtmr N=HEX] [--expect-mrenclave HEX]\n"
    "                           [--expect-mrsigner HEX] [--at TIME] [--allow-insecure-virtual]\n"
    "                           [--json]\n"
    "\n"
    "Verifies TEE evidence offline and prints what it says: measurement, host_data,\n"
    "report_data, guest policy, vmpl, TCB, chip id, product (SEV-SNP); MRTD, RTMR0-3, MRSEAM,\n"
    "FMSPC, TCB status and advisories (TDX); MRENCLAVE, MRSIGNER, ISV product ID and SVN (SGX);\n"
    "and for a service bundle the identity it binds (receipt key, checkpoint note key, issuer,\n"
    "origin), then the verdict. INPUT is a service bundle (scitt attest export), a bare SEV-SNP\n"
    "report (raw 1184 bytes, hex or base64) given with --certs, or a bare Intel DCAP quote (TDX\n"
    "v4, SGX v3, raw) given with --collateral. SEV-SNP: the VCEK must chain to the AMD root\n"
    "pinned for its product (Milan, Genoa, Turin) - a root inside the input is never trusted\n"
    "by itself -, the report signature must verify, debugging and migration agents must be\n"
    "off, vmpl 0. TDX/SGX: the quote must chain to Intel's pinned root with the collateral,\n"
    "the TCB status be accepted, DEBUG be off. REPORT_DATA must be SHA-256(identity document)\n"
    "|| nonce (or zeros). Virtual evidence is refused unless --allow-insecure-virtual, and\n"
    "then reported as INSECURE.\n"
    "  --certs FILE         endorsements: PEM (VCEK/ASK/ARK in any order), one DER certificate,\n"
    "                       THIM JSON (or its base64), or a GHCB certificate table; repeatable.\n"
    "                       Needed for a bare report; added to a bundle's own.\n" ATTEST_POLICY_HELP
        ATTEST_INTEL_HELP
    "  --expect-report-data HEX  a bare report's or quote's exact REPORT_DATA (64 bytes)\n"
    "  --at TIME            check certificate validity at TIME (Unix seconds or\n"
    "                       2025-07-01T00:00:00Z) instead of now\n"
    "  --json               the fields, the identity and the verdict as one JSON object\n"
    "\n"
    "Exit status: 0 verified (INSECURE virtual evidence only with the flag), 1 a check failed,\n"
    "2 usage or unreadable input.\n"
    "\n"
    "Examples:\n"
    "  scitt attest verify scitt.bundle --expect-measurement \"$MEASUREMENT\" \\\n"
    "      --min-tcb milan:bl=3,tee=0,snp=8,ucode=115\n"
    "  scitt attest verify report.bin --certs vcek.der --certs cert_chain.pem\n"
    "  scitt attest verify quote.bin --collateral collateral/ --expect-mrtd \"$MRTD\" \\\n"
    "      --expect-rtmr 1=\"$RTMR1\" --accept-tcb UpToDate,SWHardeningNeeded\n";

/* Checks that @p body is a service bundle whose parts parse; @p why says what is wrong. */
static bool bundle_ok(scitt_span body, const uint8_t *nonce, size_t nonce_len,
                      scitt_attest_bundle *b, scitt_identity *id, char *why, size_t cap)
{
    if (scitt_attest_bundle_parse(body, b) != SCITT_OK) {
        snprintf(why, cap, "not a service bundle (a CBOR map of evidence, identity, platform)");
        return false;
    }
    scitt_cose_key *k = NULL;
    if (scitt_identity_parse(b->identity, id) != SCITT_OK ||
        scitt_cose_key_from_cose(id->receipt_key, &k) != SCITT_OK) {
        snprintf(why, cap, "the identity document does not parse");
        return false;
    }
    scitt_cose_key_free(k);
    const uint8_t *rd = NULL;
    scitt_attest_virtual virt;
    scitt_snp_report *rep = scitt_malloc(sizeof(*rep));
    scitt_tee_reason rs = SCITT_TEE_OK;
    bool ok = rep != NULL;
    if (ok && scitt_span_eq_str(b->platform, "virtual")) {
        ok = scitt_attest_virtual_parse(b->evidence, &virt) == SCITT_OK;
        rd = virt.report_data;
        snprintf(why, cap, "the virtual evidence does not parse");
    } else if (ok && scitt_span_eq_str(b->platform, "snp")) {
        scitt_snp_certs c;
        scitt_snp_certs_init(&c);
        ok = scitt_snp_report_parse(b->evidence, rep, &rs) == SCITT_OK &&
             scitt_snp_certs_add_pem(&c, b->endorsements, &rs) == SCITT_OK;
        scitt_snp_certs_clear(&c);
        rd = rep->report_data;
        snprintf(why, cap, "the SNP evidence does not parse: %s", scitt_tee_reason_str(rs));
    } else if (ok &&
               (scitt_span_eq_str(b->platform, "tdx") || scitt_span_eq_str(b->platform, "sgx"))) {
        scitt_dcap_quote *q = scitt_malloc(sizeof(*q));
        scitt_dcap_collateral *c = NULL;
        ok = q && scitt_dcap_quote_parse(b->evidence, q, &rs) == SCITT_OK &&
             scitt_dcap_collateral_new(&c) == SCITT_OK &&
             (!b->endorsements.len ||
              scitt_attest_collateral_load(b->endorsements, c, &rs) == SCITT_OK);
        if (ok) {
            memcpy(rep->report_data,
                   q->tee == SCITT_DCAP_TEE_TDX ? q->td.report_data : q->enclave.report_data,
                   sizeof(rep->report_data));
            rd = rep->report_data;
        }
        scitt_dcap_collateral_free(c);
        scitt_free(q);
        snprintf(why, cap, "the DCAP evidence does not parse: %s", scitt_tee_reason_str(rs));
    } else if (ok) {
        ok = false;
        snprintf(why, cap, "unknown platform (not snp, tdx, sgx or virtual)");
    }
    uint8_t want[32] = {0};
    if (ok && nonce_len) {
        /* Not trust, only a sanity check: a cache that ignored ?nonce= would serve old evidence. */
        memcpy(want, nonce, nonce_len);
        ok = memcmp(rd + 32, want, 32) == 0;
        snprintf(why, cap, "the evidence does not carry the nonce asked for (a cached answer?)");
    }
    scitt_free(rep);
    return ok;
}

static const net_spec export_net = {export_help,
                                    "the service",
                                    "give up after S seconds",
                                    30,
                                    1,
                                    3600,
                                    "{ok, out, platform, insecure, bytes, nonce, issuer, origin,\n"
                                    "                     identity_sha256}"};

static int do_export(int argc, char **argv)
{
    enum { O_OUT = 1, O_NONCE };
    static const struct option lo[] = {
        {"out", 1, 0, O_OUT}, {"nonce", 1, 0, O_NONCE}, NET_OPTIONS, {0, 0, 0, 0}};
    const char *out = NULL;
    uint8_t nonce[32];
    size_t nonce_len = 0;
    net_opts net;
    net_opts_init(&net, &export_net);
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_OUT:
            out = optarg;
            break;
        case O_NONCE:
            if (scitt_hex_decode(scitt_span_str(optarg), nonce, sizeof(nonce), &nonce_len) !=
                    SCITT_OK ||
                nonce_len == 0) {
                return cli_usage("--nonce must be 2 to 64 hex digits (1 to 32 bytes)");
            }
            break;
        default:
            if ((c = net_option(&net, &export_net, c, argv)) != CLI_OK) {
                return c == NET_HELP_SHOWN ? CLI_OK : c;
            }
            break;
        }
    }
    if (optind != argc || !out) {
        return cli_usage("--url URL and --out FILE are required");
    }
    /* Refuse before the request: a typo in --out must not replace somebody's key file. */
    scitt_dynbuf old;
    scitt_attest_bundle b;
    scitt_identity id;
    if (strcmp(out, "-") != 0) {
        scitt_err re = cli_read_file(out, ATTEST_FILE_MAX, &old);
        bool replace = re == SCITT_ERR_NOT_FOUND ||
                       (re == SCITT_OK && scitt_attest_bundle_parse(
                                              scitt_span_make(old.ptr, old.len), &b) == SCITT_OK);
        scitt_dynbuf_clear(&old);
        if (!replace) {
            return cli_fail(CLI_USAGE,
                            "%s exists and is not a service bundle: not replacing it (remove it "
                            "or choose another --out)",
                            out);
        }
    }
    scitt_client *cl = NULL;
    int rc = net_client_open(&net, NULL, &cl);
    if (rc != CLI_OK) {
        return rc;
    }
    char path[100], hex[65] = "", why[600];
    scitt_dynbuf got;
    scitt_dynbuf_init(&got, ATTEST_FILE_MAX);
    scitt_err e = scitt_hex_encode(scitt_span_make(nonce, nonce_len), hex, sizeof(hex));
    snprintf(path, sizeof(path), "/attestation%s%s", nonce_len ? "?nonce=" : "", hex);
    e = e ? e : scitt_client_attestation(cl, nonce, nonce_len, &got, why, sizeof(why));
    int status = scitt_client_last(cl)->status;
    if (e != SCITT_OK && status != 0 && status != 200) {
        rc = cli_fail(CLI_USAGE, "GET %s%s: %s", net.url, path, scitt_client_last(cl)->problem);
    } else if (e != SCITT_OK) {
        rc = cli_fail(CLI_USAGE, "%s", why);
    }
    scitt_client_free(cl);
    if (rc != CLI_OK) {
        scitt_dynbuf_clear(&got);
        return rc;
    }
    scitt_span body = scitt_span_make(got.ptr, got.len);
    if (!bundle_ok(body, nonce, nonce_len, &b, &id, why, sizeof(why))) {
        scitt_dynbuf_clear(&got);
        return cli_fail(CLI_FAIL, "%s%s: %s; nothing written", net.url, path, why);
    }
    bool insecure = scitt_span_eq_str(b.platform, "virtual");
    rc = cli_save(out, body, 0644);
    if (rc == CLI_OK && net.json) {
        scitt_dynbuf jb;
        scitt_dynbuf_init(&jb, 0);
        scitt_json_writer j;
        scitt_json_writer_init(&j, &jb);
        scitt_json_begin_object(&j);
        scitt_json_put_key(&j, "ok");
        scitt_json_put_bool(&j, true);
        scitt_json_put_key(&j, "out");
        scitt_json_put_cstr(&j, out);
        scitt_json_put_key(&j, "platform");
        scitt_json_put_text(&j, b.platform);
        scitt_json_put_key(&j, "insecure");
        scitt_json_put_bool(&j, insecure);
        scitt_json_put_key(&j, "bytes");
        scitt_json_put_uint(&j, body.len);
        scitt_json_put_key(&j, "nonce");
        if (nonce_len) {
            scitt_json_put_cstr(&j, hex);
        } else {
            scitt_json_put_null(&j);
        }
        scitt_json_put_key(&j, "issuer");
        scitt_json_put_text(&j, id.issuer);
        scitt_json_put_key(&j, "origin");
        scitt_json_put_text(&j, id.origin);
        uint8_t h[32];
        scitt_sha256(b.identity.ptr, b.identity.len, h);
        scitt_json_put_key(&j, "identity_sha256");
        scitt_json_put_hex(&j, scitt_span_make(h, sizeof(h)));
        scitt_json_end_object(&j);
        cli_json_print(&j);
    } else if (rc == CLI_OK && strcmp(out, "-") != 0) {
        char iss[300];
        scitt_client_printable(id.issuer, iss, sizeof(iss));
        char plat[16];
        scitt_client_printable(b.platform, plat, sizeof(plat));
        printf("wrote %s: service bundle of %s, platform %s%s, %zu bytes%s%s\n", out, iss, plat,
               insecure ? " (INSECURE: unsigned evidence, refused by verifiers unless told "
                          "--allow-insecure-virtual)"
                        : "",
               body.len, nonce_len ? ", nonce " : "", hex);
    }
    scitt_dynbuf_clear(&got);
    return rc;
}

static int do_verify(int argc, char **argv)
{
    enum { O_JSON = 1, O_HELP };
    static const struct option lo[] = {ATTEST_POLICY_OPTIONS,
                                       {"certs", 1, 0, AO_CERTS},
                                       {"at", 1, 0, AO_AT},
                                       {"expect-report-data", 1, 0, AO_REPORT_DATA},
                                       {"json", 0, 0, O_JSON},
                                       {"help", 0, 0, O_HELP},
                                       {0, 0, 0, 0}};
    attest_req req;
    attest_req_init(&req);
    bool json = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c >= AO_MEAS && c < AO_END) {
            int rc = attest_option(&req, c, optarg);
            if (rc != CLI_OK) {
                return rc;
            }
        } else if (c == O_JSON) {
            json = true;
        } else if (c == O_HELP) {
            return cli_help(verify_help);
        } else {
            return cli_usage("unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (argc - optind != 1) {
        return cli_usage("give exactly one INPUT: a service bundle or an SNP report");
    }
    const char *file = argv[optind];
    scitt_dynbuf in;
    int rc = cli_slurp(file, ATTEST_FILE_MAX, &in);
    if (rc != CLI_OK) {
        return rc;
    }
    attest_view v;
    rc = attest_run(&req, scitt_span_make(in.ptr, in.len), &v);
    scitt_dynbuf_clear(&in);
    if (rc != CLI_USAGE) {
        attest_print(&v, &req, file, json);
    }
    if (rc == CLI_FAIL) {
        cli_msg("%s: NOT VERIFIED: %s", file, v.reason);
    } else if (rc == CLI_OK && v.insecure) {
        attest_warn_insecure();
    }
    attest_view_clear(&v);
    return rc;
}

int cmd_attest(int argc, char **argv)
{
    if (argc < 2) {
        fputs(help, stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        return cli_help(help);
    }
    if (!strcmp(argv[1], "export")) {
        return do_export(argc - 1, argv + 1);
    }
    if (!strcmp(argv[1], "verify")) {
        return do_verify(argc - 1, argv + 1);
    }
    return cli_usage("unknown subcommand \"%s\": export or verify", argv[1]);
}
