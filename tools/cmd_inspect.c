/* scitt inspect: any object of this domain in CBOR diagnostic notation, labels named. */
#include "cli.h"
#include "parsers.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "scitt/json.h"
#include "scitt/note.h"
#include "scitt/receipt.h"

static const char help[] =
    "usage: scitt inspect FILE [--full] [--json]\n"
    "\n"
    "Prints a signed statement, transparent statement, receipt (with its proof decoded),\n"
    "COSE_Key or COSE_Key_Set, problem details or transparency configuration in CBOR diagnostic\n"
    "notation, naming labels in comments (/ alg /, / CWT claims /, / vds /, ...). Byte strings\n"
    "that hold CBOR (protected headers, receipts, proofs) are shown decoded as <<...>>. A C2SP\n"
    "checkpoint (signed note) is shown field by field, a JWKS key by key. Nothing is verified:\n"
    "see scitt verify.\n"
    "  --full   print long byte strings whole (default: first 32 bytes past 4096)\n"
    "  --json   {\"kind\", \"diagnostic\", and the main fields of a COSE_Sign1}\n"
    "\n"
    "Example:\n"
    "  scitt inspect app.transparent\n";

/* The main fields of a COSE_Sign1, for --json. */
static void sign1_fields(scitt_span in, cli_json *j)
{
    scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
    if (!m ||
        scitt_cose_sign1_decode(in, SCITT_SIGN1_LEGACY | SCITT_SIGN1_UNTAGGED, m) != SCITT_OK) {
        scitt_free(m);
        return;
    }
    const scitt_cose_headers *h = &m->hdr;
    jw_key(j, "alg");
    const char *an = scitt_cose_alg_name(h->alg);
    if (an) {
        jw_str(j, an);
    } else {
        jw_int(j, h->alg);
    }
    if (h->kid.len) {
        jw_key(j, "kid");
        jw_hex(j, h->kid);
    }
    scitt_span iss = h->cwt.iss, sub = h->cwt.sub;
    if (!h->cwt.has_iss && legacy_claims(m, &iss, &sub) != SCITT_OK) {
        iss = sub = scitt_span_make(NULL, 0);
    }
    if (iss.len) {
        jw_key(j, "iss");
        jw_text(j, iss);
    }
    if (sub.len) {
        jw_key(j, "sub");
        jw_text(j, sub);
    }
    if (h->cwt.has_iat) {
        jw_key(j, "iat");
        jw_int(j, h->cwt.iat);
    }
    jw_key(j, "x5chain");
    jw_uint(j, h->nx5chain);
    jw_key(j, "detached");
    jw_bool(j, m->detached);
    jw_key(j, "payload_bytes");
    jw_uint(j, m->payload.len);
    if (h->prot & SCITT_COSE_H_PAYLOAD_HASH_ALG) {
        jw_key(j, "payload_hash_alg");
        jw_int(j, h->payload_hash_alg);
    }
    if (h->prot & SCITT_COSE_H_VDS) {
        jw_key(j, "vds");
        jw_int(j, h->vds);
    }
    jw_key(j, "receipts");
    jw_uint(j, h->nreceipts);
    scitt_free(m);
}

/* A C2SP checkpoint (signed note), field by field. */
static bool print_note(scitt_span text, bool json)
{
    scitt_note_parsed n;
    scitt_checkpoint cp;
    if (scitt_note_parse(text, &n) != SCITT_OK || scitt_checkpoint_parse(n.text, &cp) != SCITT_OK) {
        return false;
    }
    char root[SCITT_HEX_LEN(32)];
    if (scitt_hex_encode(scitt_span_make(cp.root, 32), root, sizeof(root)) != SCITT_OK) {
        return false;
    }
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    cli_json j;
    jw_init(&j, &b);
    if (json) {
        jw_obj(&j);
        jw_key(&j, "kind");
        jw_str(&j, "checkpoint");
        jw_key(&j, "origin");
        jw_text(&j, cp.origin);
        jw_key(&j, "size");
        jw_uint(&j, cp.size);
        jw_key(&j, "root");
        jw_str(&j, root);
        jw_key(&j, "signatures");
        jw_arr(&j);
    } else {
        char o[300];
        cli_printable(cp.origin, o, sizeof(o));
        printf("/ C2SP checkpoint (signed note) /\norigin: %s\nsize:   %llu\nroot:   %s\n", o,
               (unsigned long long)cp.size, root);
    }
    for (size_t i = 0; i < n.n_sigs; i++) {
        char name[300];
        cli_printable(n.sigs[i].name, name, sizeof(name));
        if (json) {
            jw_obj(&j);
            jw_key(&j, "name");
            jw_text(&j, n.sigs[i].name);
            jw_key(&j, "key_id");
            char id[9];
            snprintf(id, sizeof(id), "%08x", n.sigs[i].key_id);
            jw_str(&j, id);
            jw_end(&j);
        } else {
            printf("signature: %s key ID %08x (%zu-byte signature, not verified)\n", name,
                   n.sigs[i].key_id, n.sigs[i].sig_len);
        }
    }
    if (json) {
        jw_end_arr(&j);
        jw_end(&j);
        jw_print(&b);
    }
    scitt_dynbuf_clear(&b);
    return true;
}

/* JSON inputs: a JWKS is listed key by key; any other JSON is shown as it is. */
static bool print_json(scitt_span text, bool json)
{
    scitt_json j;
    if (scitt_json_parse(text, &j) != SCITT_OK) {
        return false;
    }
    bool is_jwks =
        scitt_json_type_of(&j, 0) == SCITT_JSON_OBJECT && scitt_json_get(&j, 0, "keys") >= 0;
    scitt_json_clear(&j);
    scitt_cose_keyset *set = NULL;
    if (is_jwks && scitt_cose_keyset_from_jwks(text, &set) != SCITT_OK) {
        set = NULL;
    }
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    cli_json w;
    jw_init(&w, &b);
    jw_obj(&w);
    jw_key(&w, "kind");
    jw_str(&w, set ? "JWKS" : "JSON");
    if (!json) {
        printf("/ %s /\n", set ? "JWKS" : "JSON");
    }
    if (set) {
        jw_key(&w, "keys");
        jw_arr(&w);
        for (size_t i = 0; i < scitt_cose_keyset_count(set); i++) {
            const scitt_cose_key *k = scitt_cose_keyset_at(set, i);
            const char *alg = scitt_cose_alg_name(scitt_cose_key_alg(k));
            jw_obj(&w);
            jw_key(&w, "kid");
            jw_text(&w, scitt_cose_key_kid(k));
            jw_key(&w, "alg");
            jw_str(&w, alg ? alg : "?");
            jw_end(&w);
            if (!json) {
                char kid[300];
                cli_printable(scitt_cose_key_kid(k), kid, sizeof(kid));
                printf("key %zu: kid \"%s\", %s\n", i + 1, kid, alg ? alg : "?");
            }
        }
        jw_end_arr(&w);
        scitt_cose_keyset_free(set);
    } else if (!json) {
        fwrite(text.ptr, 1, text.len, stdout);
    }
    jw_end(&w);
    if (json) {
        jw_print(&b);
    } else {
        scitt_dynbuf_clear(&b);
    }
    return true;
}

int cmd_inspect(int argc, char **argv)
{
    enum { O_FULL = 1, O_JSON, O_HELP };
    static const struct option lo[] = {
        {"full", 0, 0, O_FULL}, {"json", 0, 0, O_JSON}, {"help", 0, 0, O_HELP}, {0, 0, 0, 0}};
    bool full = false, json = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c == O_FULL) {
            full = true;
        } else if (c == O_JSON) {
            json = true;
        } else if (c == O_HELP) {
            return cli_help(help);
        } else {
            return cli_usage("unknown option: %s", argv[optind - 1]);
        }
    }
    if (argc - optind != 1) {
        return cli_usage("give exactly one FILE");
    }
    const char *path = argv[optind];
    scitt_dynbuf in;
    int rc = cli_slurp(path, CLI_FILE_MAX, &in);
    if (rc != CLI_OK) {
        return rc;
    }
    scitt_span s = scitt_span_make(in.ptr, in.len);
    scitt_dynbuf out;
    scitt_dynbuf_init(&out, 0);
    diag_kind kind = DIAG_CBOR;
    scitt_err e = diag_print(s, full, &out, &kind);
    if (e != SCITT_OK) {
        scitt_dynbuf_clear(&out);
        if (scitt_utf8_valid(s) && (print_note(s, json) || print_json(s, json))) {
            scitt_dynbuf_clear(&in);
            return CLI_OK;
        }
        scitt_dynbuf_clear(&in);
        return cli_fail(CLI_USAGE, "%s is neither strict CBOR, a checkpoint nor JSON: %s", path,
                        scitt_err_str(e));
    }
    if (json) {
        scitt_dynbuf b;
        scitt_dynbuf_init(&b, 0);
        cli_json j;
        jw_init(&j, &b);
        jw_obj(&j);
        jw_key(&j, "kind");
        jw_str(&j, diag_kind_name(kind));
        if (kind == DIAG_STATEMENT || kind == DIAG_TRANSPARENT || kind == DIAG_RECEIPT) {
            sign1_fields(s, &j);
        }
        jw_key(&j, "diagnostic");
        jw_text(&j, scitt_span_make(out.ptr, out.len));
        jw_end(&j);
        jw_print(&b);
    } else {
        fwrite(out.ptr, 1, out.len, stdout);
    }
    scitt_dynbuf_clear(&out);
    scitt_dynbuf_clear(&in);
    return CLI_OK;
}
