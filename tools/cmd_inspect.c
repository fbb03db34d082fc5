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
static void sign1_fields(scitt_span in, scitt_json_writer *j)
{
    scitt_cose_sign1 *m = scitt_malloc(sizeof(*m));
    if (!m ||
        scitt_cose_sign1_decode(in, SCITT_SIGN1_LEGACY | SCITT_SIGN1_UNTAGGED, m) != SCITT_OK) {
        scitt_free(m);
        return;
    }
    const scitt_cose_headers *h = &m->hdr;
    scitt_json_put_key(j, "alg");
    const char *an = scitt_cose_alg_name(h->alg);
    if (an) {
        scitt_json_put_cstr(j, an);
    } else {
        scitt_json_put_int(j, h->alg);
    }
    if (h->kid.len) {
        scitt_json_put_key(j, "kid");
        scitt_json_put_hex(j, h->kid);
    }
    scitt_span iss = h->cwt.iss, sub = h->cwt.sub;
    if (!h->cwt.has_iss && scitt__legacy_claims(m, &iss, &sub) != SCITT_OK) {
        iss = sub = scitt_span_make(NULL, 0);
    }
    if (iss.len) {
        scitt_json_put_key(j, "iss");
        scitt_json_put_text(j, iss);
    }
    if (sub.len) {
        scitt_json_put_key(j, "sub");
        scitt_json_put_text(j, sub);
    }
    if (h->cwt.has_iat) {
        scitt_json_put_key(j, "iat");
        scitt_json_put_int(j, h->cwt.iat);
    }
    scitt_json_put_key(j, "x5chain");
    scitt_json_put_uint(j, h->nx5chain);
    scitt_json_put_key(j, "detached");
    scitt_json_put_bool(j, m->detached);
    scitt_json_put_key(j, "payload_bytes");
    scitt_json_put_uint(j, m->payload.len);
    if (h->prot & SCITT_COSE_H_PAYLOAD_HASH_ALG) {
        scitt_json_put_key(j, "payload_hash_alg");
        scitt_json_put_int(j, h->payload_hash_alg);
    }
    if (h->prot & SCITT_COSE_H_VDS) {
        scitt_json_put_key(j, "vds");
        scitt_json_put_int(j, h->vds);
    }
    scitt_json_put_key(j, "receipts");
    scitt_json_put_uint(j, h->nreceipts);
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
    scitt_json_writer j;
    scitt_json_writer_init(&j, &b);
    if (json) {
        scitt_json_begin_object(&j);
        scitt_json_put_key(&j, "kind");
        scitt_json_put_cstr(&j, "checkpoint");
        scitt_json_put_key(&j, "origin");
        scitt_json_put_text(&j, cp.origin);
        scitt_json_put_key(&j, "size");
        scitt_json_put_uint(&j, cp.size);
        scitt_json_put_key(&j, "root");
        scitt_json_put_cstr(&j, root);
        scitt_json_put_key(&j, "signatures");
        scitt_json_begin_array(&j);
    } else {
        char o[300];
        scitt_client_printable(cp.origin, o, sizeof(o));
        printf("/ C2SP checkpoint (signed note) /\norigin: %s\nsize:   %llu\nroot:   %s\n", o,
               (unsigned long long)cp.size, root);
    }
    for (size_t i = 0; i < n.n_sigs; i++) {
        char name[300];
        scitt_client_printable(n.sigs[i].name, name, sizeof(name));
        if (json) {
            scitt_json_begin_object(&j);
            scitt_json_put_key(&j, "name");
            scitt_json_put_text(&j, n.sigs[i].name);
            scitt_json_put_key(&j, "key_id");
            char id[9];
            snprintf(id, sizeof(id), "%08x", n.sigs[i].key_id);
            scitt_json_put_cstr(&j, id);
            scitt_json_end_object(&j);
        } else {
            printf("signature: %s key ID %08x (%zu-byte signature, not verified)\n", name,
                   n.sigs[i].key_id, n.sigs[i].sig_len);
        }
    }
    if (json) {
        scitt_json_end_array(&j);
        scitt_json_end_object(&j);
        cli_json_print(&j);
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
    scitt_json_writer w;
    scitt_json_writer_init(&w, &b);
    scitt_json_begin_object(&w);
    scitt_json_put_key(&w, "kind");
    scitt_json_put_cstr(&w, set ? "JWKS" : "JSON");
    if (!json) {
        printf("/ %s /\n", set ? "JWKS" : "JSON");
    }
    if (set) {
        scitt_json_put_key(&w, "keys");
        scitt_json_begin_array(&w);
        for (size_t i = 0; i < scitt_cose_keyset_count(set); i++) {
            const scitt_cose_key *k = scitt_cose_keyset_at(set, i);
            const char *alg = scitt_cose_alg_name(scitt_cose_key_alg(k));
            scitt_json_begin_object(&w);
            scitt_json_put_key(&w, "kid");
            scitt_json_put_text(&w, scitt_cose_key_kid(k));
            scitt_json_put_key(&w, "alg");
            scitt_json_put_cstr(&w, alg ? alg : "?");
            scitt_json_end_object(&w);
            if (!json) {
                char kid[300];
                scitt_client_printable(scitt_cose_key_kid(k), kid, sizeof(kid));
                printf("key %zu: kid \"%s\", %s\n", i + 1, kid, alg ? alg : "?");
            }
        }
        scitt_json_end_array(&w);
        scitt_cose_keyset_free(set);
    } else if (!json) {
        fwrite(text.ptr, 1, text.len, stdout);
    }
    scitt_json_end_object(&w);
    if (json) {
        cli_json_print(&w);
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
        scitt_json_writer j;
        scitt_json_writer_init(&j, &b);
        scitt_json_begin_object(&j);
        scitt_json_put_key(&j, "kind");
        scitt_json_put_cstr(&j, diag_kind_name(kind));
        if (kind == DIAG_STATEMENT || kind == DIAG_TRANSPARENT || kind == DIAG_RECEIPT) {
            sign1_fields(s, &j);
        }
        scitt_json_put_key(&j, "diagnostic");
        scitt_json_put_text(&j, scitt_span_make(out.ptr, out.len));
        scitt_json_end_object(&j);
        cli_json_print(&j);
    } else {
        fwrite(out.ptr, 1, out.len, stdout);
    }
    scitt_dynbuf_clear(&out);
    scitt_dynbuf_clear(&in);
    return CLI_OK;
}
