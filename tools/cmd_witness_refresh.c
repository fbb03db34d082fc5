/*
 * scitt refresh: a transparent statement's receipt replaced by a fresh one from the service (by
 * default against the newest witnessed checkpoint, carrying it), after checking offline that the
 * old receipt's tree is a prefix of the new one, so a relying party holding an old statement moves
 * forward without trusting the service again (docs/witness.md, "Refreshing receipts").
 */
#include "cli.h"
#include "net.h"
#include "trust.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scitt/cbor.h"
#include "scitt/client.h"
#include "scitt/json.h"
#include "scitt/receipt.h"
#include "scitt/service.h"
#include "scitt/witness.h"

static const char refresh_help[] =
    "usage: scitt refresh --url URL TRANSPARENT_STATEMENT --trust FILE --out FILE [--latest]\n"
    "                     [--witness-policy FILE] [--timeout S] [--json]\n"
    "\n"
    "Fetches a fresh receipt for the statement's entry (GET /entries/{id}?witnessed=1: against "
    "the\n"
    "newest witnessed checkpoint, carrying it; --latest: against the newest head) and writes the\n"
    "statement with it in place of the receipts the trusted keys verify (receipts of other\n"
    "services are kept). Before anything is written: the old and the new receipt verify with the\n"
    "--trust keys (repeatable), the new tree is not smaller, the same size has the same root, and\n"
    "a larger one is proven an extension of the old by the service's consistency receipt\n"
    "(GET /proofs/consistency), checked with the same keys. --witness-policy: the new receipt's\n"
    "carried checkpoint must also meet that C2SP tlog-policy (missing witnesses are "
    "named).\n" NET_OPTIONS_HELP "\n"
    "Example:\n"
    "  scitt refresh --url https://scitt.example app.transparent --trust scitt-keys.cbor \\\n"
    "      --witness-policy log.policy --out app.transparent\n";

static const net_spec refresh_net = {refresh_help,
                                     "the service",
                                     "wait S seconds for a witnessed receipt",
                                     30,
                                     1,
                                     3600,
                                     "print entry_id, old_size, new_size and out as JSON"};

/* The carried checkpoint of @p receipt meets the policy in file @p path and is its tree. */
static int check_policy(const char *path, scitt_span receipt, const scitt_receipt_info *ri)
{
    scitt_dynbuf pt;
    scitt_span note;
    int rc = cli_slurp(path, SCITT_POLICY_MAX_BYTES, &pt);
    if (rc != CLI_OK) {
        return rc;
    }
    scitt_tlog_policy *p = scitt_malloc(sizeof(*p));
    const char *why = "";
    size_t line = 0;
    char missing[512];
    scitt_checkpoint cp;
    scitt_err e = p ? scitt_tlog_policy_parse(scitt_span_make(pt.ptr, pt.len), p, &why, &line)
                    : SCITT_ERR_NOMEM;
    if (e != SCITT_OK) {
        rc = cli_fail(CLI_USAGE, "%s:%zu: %s", path, line,
                      e == SCITT_ERR_POLICY ? why : scitt_err_str(e));
    } else if (scitt_receipt_checkpoint(receipt, &note) != SCITT_OK) {
        rc = cli_fail(CLI_FAIL, "the new receipt carries no cosigned checkpoint");
    } else if ((e = scitt_tlog_policy_check(p, note, NULL, 0, &cp, missing, sizeof(missing))) !=
               SCITT_OK) {
        rc = e == SCITT_ERR_POLICY
                 ? cli_fail(CLI_FAIL,
                            "the new checkpoint does not meet the witness quorum; "
                            "missing: %s",
                            missing)
                 : cli_fail(CLI_FAIL, "the new checkpoint: %s", scitt_err_str(e));
    } else if (cp.size != ri->tree_size || memcmp(cp.root, ri->root, SCITT_HASH_LEN) != 0) {
        rc = cli_fail(CLI_FAIL, "the carried checkpoint is not the new receipt's tree");
    }
    scitt_free(p);
    scitt_dynbuf_clear(&pt);
    return rc;
}

int cmd_refresh(int argc, char **argv)
{
    enum { O_TRUST = 1, O_OUT, O_LATEST, O_POLICY };
    static const struct option lo[] = {
        {"trust", 1, 0, O_TRUST},           {"out", 1, 0, O_OUT}, {"latest", 0, 0, O_LATEST},
        {"witness-policy", 1, 0, O_POLICY}, NET_OPTIONS,          {0, 0, 0, 0}};
    const char *out = NULL, *policy = NULL, *trusts[TRUST_FILES_MAX];
    size_t ntrust = 0;
    bool latest = false;
    net_opts net;
    net_opts_init(&net, &refresh_net);
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_TRUST:
            if (ntrust == TRUST_FILES_MAX) {
                return cli_usage("at most %u --trust files", TRUST_FILES_MAX);
            }
            trusts[ntrust++] = optarg;
            break;
        case O_OUT:
            out = optarg;
            break;
        case O_LATEST:
            latest = true;
            break;
        case O_POLICY:
            policy = optarg;
            break;
        default:
            if ((c = net_option(&net, &refresh_net, c, argv)) != CLI_OK) {
                return c == NET_HELP_SHOWN ? CLI_OK : c;
            }
            break;
        }
    }
    if (argc - optind != 1 || !out || ntrust == 0) {
        return cli_usage("give TRANSPARENT_STATEMENT, --trust FILE and --out FILE");
    }
    if (latest && policy) {
        return cli_usage("--witness-policy checks a witnessed receipt: not with --latest");
    }
    const char *in = argv[optind];
    trust t;
    scitt_dynbuf ts, fresh, cons, result;
    scitt_dynbuf_init(&ts, 0);
    scitt_dynbuf_init(&fresh, 0);
    scitt_dynbuf_init(&cons, 0);
    scitt_dynbuf_init(&result, 0);
    scitt_client *cl = NULL;
    scitt_cose_sign1 m;
    scitt_span rs[SCITT_LIMIT_RECEIPTS], keep[SCITT_LIMIT_RECEIPTS];
    size_t nr = 0, nkeep = 0;
    uint8_t digest[SCITT_SHA256_LEN];
    char id[2 * SCITT_HASH_LEN + 1], why[600];
    scitt_receipt_info old = {0}, now = {0};
    bool have_old = false;
    int rc = trust_init(&t);
    for (size_t i = 0; rc == CLI_OK && i < ntrust; i++) {
        rc = trust_load(&t, trusts[i]);
    }
    rc = rc ? rc : cli_slurp(in, CLI_FILE_MAX, &ts);
    if (rc != CLI_OK) {
        goto out;
    }
    scitt_span tsv = scitt_span_make(ts.ptr, ts.len);
    scitt_err e = scitt_cose_sign1_decode(tsv, 0, &m);
    e = e ? e : scitt_receipt_extract(tsv, rs, &nr);
    if (e != SCITT_OK) {
        rc = cli_fail(CLI_FAIL, "%s: not a transparent statement: %s", in, scitt_err_str(e));
        goto out;
    }
    scitt_receipt_entry_digest(&m, digest);
    scitt_entry_id_hex(digest, id);
    /* the registered form, for the receipts' inclusion proofs */
    scitt_dynbuf entry;
    scitt_dynbuf_init(&entry, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &entry);
    e = scitt_receipt_entry(&m, &w);
    scitt_span ent = scitt_span_make(entry.ptr, entry.len);
    /* the old receipt of this service: the newest one the trusted keys verify */
    for (size_t i = 0; e == SCITT_OK && i < nr; i++) {
        scitt_receipt_info ri;
        if (scitt_receipt_verify_inclusion(rs[i], ent, t.keys, 0, &ri) == SCITT_OK && ri.vds == 1) {
            if (!have_old || ri.tree_size > old.tree_size) {
                old = ri;
            }
            have_old = true;
        } else {
            keep[nkeep++] = rs[i]; /* another service's, or one we cannot check: kept */
        }
    }
    if (e != SCITT_OK || !have_old) {
        rc = cli_fail(CLI_FAIL, "%s: no receipt of it verifies with the --trust keys%s", in,
                      e ? " (the registered form)" : "");
        scitt_dynbuf_clear(&entry);
        goto out;
    }
    rc = cli_client_open(net.url, net.cacert, 0, NULL, &cl);
    if (rc != CLI_OK) {
        scitt_dynbuf_clear(&entry);
        goto out;
    }
    char path[160];
    snprintf(path, sizeof(path), "/entries/%s%s", id, latest ? "" : "?witnessed=1");
    e = cli_get_waiting(cl, path, (unsigned)net.timeout, &fresh, why, sizeof(why));
    if (e != SCITT_OK) {
        rc = cli_fail(CLI_FAIL, "%s", why);
        scitt_dynbuf_clear(&entry);
        goto out;
    }
    scitt_span fr = scitt_span_make(fresh.ptr, fresh.len);
    e = scitt_receipt_verify_inclusion(fr, ent, t.keys, SCITT_RECEIPT_REQUIRE_SIZE, &now);
    scitt_dynbuf_clear(&entry);
    if (e != SCITT_OK || now.vds != 1) {
        rc = cli_fail(CLI_FAIL, "the service's new receipt does not verify: %s",
                      scitt_err_str(e ? e : SCITT_ERR_UNSUPPORTED));
        goto out;
    }
    if (now.tree_size < old.tree_size) {
        rc = cli_fail(CLI_FAIL, "the new receipt is of a smaller tree (%llu) than the old (%llu)",
                      (unsigned long long)now.tree_size, (unsigned long long)old.tree_size);
        goto out;
    }
    if (now.tree_size == old.tree_size && memcmp(now.root, old.root, SCITT_HASH_LEN) != 0) {
        rc =
            cli_fail(CLI_FAIL, "the new receipt has another root at the old size %llu (split view)",
                     (unsigned long long)old.tree_size);
        goto out;
    }
    if (now.tree_size > old.tree_size) {
        snprintf(path, sizeof(path), "/proofs/consistency?from=%llu&to=%llu",
                 (unsigned long long)old.tree_size, (unsigned long long)now.tree_size);
        scitt_receipt_info ci;
        e = scitt_client_get(cl, path, "application/cose", &cons, why, sizeof(why));
        if (e != SCITT_OK) {
            rc = cli_fail(CLI_FAIL, "the consistency receipt: %s", why);
            goto out;
        }
        e = scitt_receipt_verify_consistency(scitt_span_make(cons.ptr, cons.len), old.tree_size,
                                             old.root, t.keys, 0, &ci);
        if (e != SCITT_OK || ci.tree_size != now.tree_size ||
            memcmp(ci.root, now.root, SCITT_HASH_LEN) != 0) {
            rc = cli_fail(CLI_FAIL,
                          "the old tree (%llu) is not proven a prefix of the new one (%llu): %s",
                          (unsigned long long)old.tree_size, (unsigned long long)now.tree_size,
                          e ? scitt_err_str(e) : "the consistency receipt leads to another root");
            goto out;
        }
    }
    if (policy && (rc = check_policy(policy, fr, &now)) != CLI_OK) {
        goto out;
    }
    keep[nkeep++] = fr;
    scitt_cbor_writer_init_dynbuf(&w, &result);
    e = scitt_receipt_embed(tsv, keep, nkeep, &w);
    if (e != SCITT_OK) {
        rc = cli_fail(CLI_FAIL, "cannot write the statement: %s", scitt_err_str(e));
        goto out;
    }
    rc = cli_save(out, scitt_span_make(result.ptr, result.len), 0644);
    if (rc == CLI_OK && net.json) {
        scitt_dynbuf jb;
        scitt_dynbuf_init(&jb, 0);
        scitt_json_writer j;
        scitt_json_writer_init(&j, &jb);
        scitt_json_begin_object(&j);
        scitt_json_put_key(&j, "entry_id");
        scitt_json_put_cstr(&j, id);
        scitt_json_put_key(&j, "old_size");
        scitt_json_put_uint(&j, old.tree_size);
        scitt_json_put_key(&j, "new_size");
        scitt_json_put_uint(&j, now.tree_size);
        scitt_json_put_key(&j, "out");
        scitt_json_put_cstr(&j, out);
        scitt_json_end_object(&j);
        cli_json_print(&j);
    } else if (rc == CLI_OK) {
        printf("refreshed %s: tree %llu -> %llu%s; wrote %s\n", id,
               (unsigned long long)old.tree_size, (unsigned long long)now.tree_size,
               latest ? "" : " (witnessed)", out);
    }
out:
    scitt_client_free(cl);
    trust_clear(&t);
    scitt_dynbuf_clear(&ts);
    scitt_dynbuf_clear(&fresh);
    scitt_dynbuf_clear(&cons);
    scitt_dynbuf_clear(&result);
    return rc;
}
