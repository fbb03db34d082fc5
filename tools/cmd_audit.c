/*
 * scitt audit: incremental replay of a log. The checkpoint is verified with the note key pinned at
 * the first audit, proved consistent with the last audited one, and every entry added since is
 * fetched and checked: its leaf hash, every tile hash above it, the root, and its registration
 * decided again under the policy in force. Exit 1 on any discrepancy, naming the index and why.
 */
#include "audit.h"
#include "parsers.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "scitt/cbor.h"

static const char help[] =
    "usage: scitt audit --url URL --state DIR [--from-scratch] [--vkey VKEY] [--keys FILE]\n"
    "                   [--no-progress] [--json]\n"
    "\n"
    "Replays the log incrementally. The first audit pins the checkpoint key (from the\n"
    "service's /.well-known/transparency-configuration, or --vkey) and the service keys\n"
    "(.well-known/scitt-keys, or --keys) in DIR; every audit then\n"
    "  - verifies the checkpoint's signature with the pinned key,\n"
    "  - proves it consistent with the last audited checkpoint (RFC 9162, from the tiles, and the\n"
    "    service's consistency receipt when it serves one),\n"
    "  - fetches the new tiles and entry bundles and recomputes every leaf hash, every stored "
    "tile\n"
    "    hash above them and the root,\n"
    "  - checks every new entry again with the registration policy in force when it was\n"
    "    registered (the issuer signature included), as the service did.\n"
    "URL is the service, any static copy of its tiles (https://cdn.example/log), a directory or\n"
    "file:///path written by scitt export-tiles. State is saved only after a clean audit.\n"
    "  --from-scratch   replay from entry 0 (the pinned keys are kept)\n"
    "  --vkey VKEY      pin this checkpoint key (\"origin+hex+base64\") at the first audit\n"
    "  --keys FILE      add these service keys (COSE_Key_Set) to the pinned ones\n"
    "  --no-progress    no progress bar on a terminal\n" NET_OPTIONS_HELP
    "  --timeout S        give up on a request after S seconds (default 30)\n"
    "  --json           the summary as JSON: sizes, policies, discrepancies, undecidable checks\n"
    "\n"
    "Exit status: 0 no discrepancy, 1 a discrepancy (its index and reason are printed), 2 usage,\n"
    "network or state error.\n"
    "\n"
    "Example:\n"
    "  scitt audit --url https://scitt.example --state ~/.scitt-audit/scitt.example\n";

/* Adds the keys of @p cbor (a COSE_Key_Set) to a->keys; counts the new ones. */
static int merge_keys(audit *a, scitt_span cbor, const char *from, size_t *added)
{
    scitt_cose_keyset *s = NULL;
    scitt_err e = scitt_cose_keyset_from_cose(cbor, &s);
    if (e != SCITT_OK) {
        return cli_fail(CLI_USAGE, "%s is not a COSE_Key_Set: %s", from, scitt_err_str(e));
    }
    for (size_t i = 0; i < scitt_cose_keyset_count(s); i++) {
        scitt_cose_key *k = (scitt_cose_key *)scitt_cose_keyset_at(s, i);
        if (scitt_cose_keyset_find(a->keys, scitt_cose_key_kid(k))) {
            continue;
        }
        e = scitt_cose_keyset_add(a->keys, k);
        if (e != SCITT_OK) {
            scitt_cose_keyset_free(s);
            return cli_fail(CLI_USAGE, "%s: %s", from, scitt_err_str(e));
        }
        (*added)++;
    }
    scitt_cose_keyset_free(s);
    return CLI_OK;
}

/* Pins: the checkpoint key and the service keys. */
static int pins(audit *a, const char *vkey_opt, const char *keys_opt, const char *pinned_vkey,
                scitt_dynbuf *pinned_keys, size_t *new_keys)
{
    char why[600], vk[SCITT_NOTE_VKEY_MAX + 1] = "";
    scitt_dynbuf cfg;
    scitt_err e = source_get(&a->src, ".well-known/transparency-configuration", 1u << 16, &cfg, why,
                             sizeof(why));
    scitt_span c = scitt_span_make(cfg.ptr, cfg.len);
    if (e == SCITT_OK && !a->st.issuer[0] &&
        !wire_config_text(c, "issuer", a->st.issuer, sizeof(a->st.issuer))) {
        a->st.issuer[0] = 0;
    }
    if (pinned_vkey[0]) {
        snprintf(vk, sizeof(vk), "%s", pinned_vkey);
        if (vkey_opt && strcmp(vkey_opt, pinned_vkey) != 0) {
            scitt_dynbuf_clear(&cfg);
            return cli_fail(CLI_USAGE, "%s pins another checkpoint key (%s); use a new --state",
                            a->state_dir, pinned_vkey);
        }
    } else if (vkey_opt) {
        snprintf(vk, sizeof(vk), "%s", vkey_opt);
    } else if (e != SCITT_OK || !wire_config_text(c, "checkpoint_vkey", vk, sizeof(vk))) {
        scitt_dynbuf_clear(&cfg);
        return cli_fail(CLI_USAGE,
                        "no checkpoint key to pin: %s serves no transparency configuration with "
                        "checkpoint_vkey%s%s; give --vkey",
                        a->src.label, e != SCITT_OK ? ": " : "", e != SCITT_OK ? why : "");
    }
    scitt_dynbuf_clear(&cfg);
    if (scitt_note_vkey_parse(scitt_span_str(vk), &a->vkey) != SCITT_OK) {
        return cli_fail(CLI_USAGE, "\"%s\" is not a checkpoint verifier key", vk);
    }
    snprintf(a->vkey_text, sizeof(a->vkey_text), "%s", vk);
    if (scitt_cose_keyset_new(&a->keys) != SCITT_OK) {
        return cli_fail(CLI_USAGE, "out of memory");
    }
    size_t ignored = 0;
    int rc = pinned_keys->len ? merge_keys(a, scitt_span_make(pinned_keys->ptr, pinned_keys->len),
                                           "the pinned keys.cbor", &ignored)
                              : CLI_OK;
    if (rc == CLI_OK && keys_opt) {
        scitt_dynbuf b;
        rc = cli_slurp(keys_opt, SCITT_LIMIT_KEY_TEXT, &b);
        rc = rc ? rc : merge_keys(a, scitt_span_make(b.ptr, b.len), keys_opt, new_keys);
        scitt_dynbuf_clear(&b);
    }
    /* Keys the service publishes later (rotation) are added; old ones are never dropped. */
    scitt_dynbuf served;
    e = source_get(&a->src, ".well-known/scitt-keys", SCITT_LIMIT_KEY_TEXT, &served, why,
                   sizeof(why));
    if (rc == CLI_OK && e == SCITT_OK) {
        rc = merge_keys(a, scitt_span_make(served.ptr, served.len), "the served scitt-keys",
                        new_keys);
    }
    scitt_dynbuf_clear(&served);
    if (rc == CLI_OK && scitt_cose_keyset_count(a->keys) == 0) {
        rc = cli_fail(CLI_USAGE,
                      "no service keys (to recognise policy statements): %s serves "
                      "none; give --keys",
                      a->src.label);
    }
    return rc;
}

static void summary(const audit *a, bool json, uint64_t old_size, size_t new_keys)
{
    char root[65];
    if (scitt_hex_encode(scitt_span_make(a->new_root, 32), root, sizeof(root)) != SCITT_OK) {
        root[0] = 0;
    }
    if (!json) {
        printf("audit of %s: origin %s, checkpoint key %s\n", a->src.label, a->vkey.name,
               a->vkey_text);
        printf("checkpoint: size %llu, root %s (signature verified)\n",
               (unsigned long long)a->new_size, root);
        printf("consistency: %s\n", a->consistency);
        printf("entries: %llu replayed (%llu..%llu): leaf hashes, tile hashes and root "
               "recomputed, registrations checked again\n",
               (unsigned long long)a->replayed, (unsigned long long)old_size,
               (unsigned long long)(a->new_size ? a->new_size - 1 : 0));
        if (new_keys) {
            printf("service keys: %zu new key(s) pinned\n", new_keys);
        }
        for (size_t i = 0; i < a->npol; i++) {
            char h[65];
            if (scitt_hex_encode(scitt_span_make(a->pol[i].sha256, 32), h, sizeof(h))) {
                h[0] = 0;
            }
            printf("policy: entry %llu is a registration policy (SHA-256 %s, signed by %s)%s\n",
                   (unsigned long long)a->pol[i].index, h, a->pol[i].kid,
                   a->pol[i].development ? " DEVELOPMENT: any issuer with an x5chain" : "");
        }
        for (size_t i = 0; i < a->nnotes; i++) {
            printf("undecidable: entry %llu: %s\n", (unsigned long long)a->notes[i].index,
                   a->notes[i].what);
        }
        for (size_t i = 0; i < a->nbad; i++) {
            if (a->bad[i].has_index) {
                printf("DISCREPANCY: entry %llu: %s\n", (unsigned long long)a->bad[i].index,
                       a->bad[i].what);
            } else {
                printf("DISCREPANCY: %s\n", a->bad[i].what);
            }
        }
        printf("%s: %llu discrepancies, %llu undecidable\n", a->discrepancies ? "FAILED" : "OK",
               (unsigned long long)a->discrepancies, (unsigned long long)a->undecidable);
        return;
    }
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    cli_json j;
    jw_init(&j, &b);
    jw_obj(&j);
    jw_key(&j, "ok");
    jw_bool(&j, a->discrepancies == 0);
    jw_key(&j, "source");
    jw_str(&j, a->src.label);
    jw_key(&j, "origin");
    jw_str(&j, a->vkey.name);
    jw_key(&j, "vkey");
    jw_str(&j, a->vkey_text);
    jw_key(&j, "old_size");
    jw_uint(&j, old_size);
    jw_key(&j, "tree_size");
    jw_uint(&j, a->new_size);
    jw_key(&j, "root");
    jw_str(&j, root);
    jw_key(&j, "consistency");
    jw_str(&j, a->consistency);
    jw_key(&j, "replayed");
    jw_uint(&j, a->replayed);
    jw_key(&j, "new_service_keys");
    jw_uint(&j, new_keys);
    jw_key(&j, "policies");
    jw_arr(&j);
    for (size_t i = 0; i < a->npol; i++) {
        jw_obj(&j);
        jw_key(&j, "index");
        jw_uint(&j, a->pol[i].index);
        jw_key(&j, "sha256");
        jw_hex(&j, scitt_span_make(a->pol[i].sha256, 32));
        jw_key(&j, "kid");
        jw_str(&j, a->pol[i].kid);
        jw_key(&j, "development");
        jw_bool(&j, a->pol[i].development);
        jw_end(&j);
    }
    jw_end_arr(&j);
    const audit_item *lists[2] = {a->bad, a->notes};
    size_t counts[2] = {a->nbad, a->nnotes};
    const char *names[2] = {"discrepancies", "undecidable"};
    for (int l = 0; l < 2; l++) {
        jw_key(&j, names[l]);
        jw_arr(&j);
        for (size_t i = 0; i < counts[l]; i++) {
            jw_obj(&j);
            jw_key(&j, "index");
            if (lists[l][i].has_index) {
                jw_uint(&j, lists[l][i].index);
            } else {
                jw_null(&j);
            }
            jw_key(&j, "reason");
            jw_str(&j, lists[l][i].what);
            jw_end(&j);
        }
        jw_end_arr(&j);
    }
    jw_key(&j, "discrepancy_count");
    jw_uint(&j, a->discrepancies);
    jw_key(&j, "undecidable_count");
    jw_uint(&j, a->undecidable);
    jw_end(&j);
    jw_print(&b);
}

int cmd_audit(int argc, char **argv)
{
    enum {
        O_URL = 1,
        O_STATE,
        O_SCRATCH,
        O_VKEY,
        O_KEYS,
        O_NOPROG,
        O_CACERT,
        O_TIMEOUT,
        O_JSON,
        O_HELP
    };
    static const struct option lo[] = {{"url", 1, 0, O_URL},
                                       {"state", 1, 0, O_STATE},
                                       {"from-scratch", 0, 0, O_SCRATCH},
                                       {"vkey", 1, 0, O_VKEY},
                                       {"keys", 1, 0, O_KEYS},
                                       {"no-progress", 0, 0, O_NOPROG},
                                       {"cacert", 1, 0, O_CACERT},
                                       {"timeout", 1, 0, O_TIMEOUT},
                                       {"json", 0, 0, O_JSON},
                                       {"help", 0, 0, O_HELP},
                                       {0, 0, 0, 0}};
    const char *url = NULL, *vkey = NULL, *keys = NULL, *cacert = NULL;
    bool scratch = false, noprog = false, json = false;
    uint64_t timeout = 30;
    static audit a;
    memset(&a, 0, sizeof(a));
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_URL:
            url = optarg;
            break;
        case O_STATE:
            a.state_dir = optarg;
            break;
        case O_SCRATCH:
            scratch = true;
            break;
        case O_VKEY:
            vkey = optarg;
            break;
        case O_KEYS:
            keys = optarg;
            break;
        case O_NOPROG:
            noprog = true;
            break;
        case O_CACERT:
            cacert = optarg;
            break;
        case O_TIMEOUT:
            if (!cli_parse_u64(optarg, 1, 3600, &timeout)) {
                return cli_usage("--timeout must be 1..3600 seconds");
            }
            break;
        case O_JSON:
            json = true;
            break;
        case O_HELP:
            return cli_help(help);
        default:
            return cli_usage("unknown option or missing value: %s", argv[optind - 1]);
        }
    }
    if (optind != argc || !url || !a.state_dir) {
        return cli_usage("--url URL and --state DIR are required");
    }
    audit_state_init(&a.st);
    scitt_dynbuf_init(&a.checkpoint, 0);
    a.progress = !noprog && !json && isatty(STDERR_FILENO);
    char pinned_vkey[SCITT_NOTE_VKEY_MAX + 1];
    scitt_dynbuf pinned_keys;
    scitt_dynbuf_init(&pinned_keys, 0);
    size_t new_keys = 0;
    int rc = source_open(&a.src, url, cacert, (int)timeout * 1000);
    rc = rc ? rc : audit_state_load(&a, scratch, pinned_vkey, sizeof(pinned_vkey), &pinned_keys);
    rc = rc ? rc : pins(&a, vkey, keys, pinned_vkey, &pinned_keys, &new_keys);
    scitt_dynbuf_clear(&pinned_keys);
    uint64_t old_size = a.st.size;
    if (rc == CLI_OK) {
        char why[600];
        a.now = (int64_t)time(NULL);
        scitt_err e = source_get(&a.src, "checkpoint", SCITT_LIMIT_NOTE_BYTES, &a.checkpoint, why,
                                 sizeof(why));
        scitt_checkpoint cp;
        if (e != SCITT_OK) {
            rc = cli_fail(CLI_USAGE, "%s", why);
        } else if ((e = scitt_checkpoint_open(scitt_span_make(a.checkpoint.ptr, a.checkpoint.len),
                                              &a.vkey, 1, scitt_span_str(a.vkey.name), &cp,
                                              NULL)) != SCITT_OK) {
            audit_bad(&a, -1, "the checkpoint does not verify with the pinned key %s: %s",
                      a.vkey_text, scitt_err_str(e));
        } else {
            a.new_size = cp.size;
            memcpy(a.new_root, cp.root, 32);
            if (a.st.have && cp.size < a.st.size) {
                audit_bad(&a, -1, "the log shrank: checkpoint size %llu < audited size %llu",
                          (unsigned long long)cp.size, (unsigned long long)a.st.size);
            } else if (a.st.have && cp.size == a.st.size && memcmp(cp.root, a.st.root, 32) != 0) {
                audit_bad(&a, -1, "two checkpoints of size %llu with different roots (a fork)",
                          (unsigned long long)cp.size);
            } else {
                audit_consistency(&a);
                rc = audit_replay(&a);
            }
        }
    }
    if (rc == CLI_OK) {
        summary(&a, json, old_size, new_keys);
        if (a.discrepancies == 0) {
            a.st.time = a.now;
            a.st.time_is_live = a.src.is_http;
            rc = audit_state_save(&a);
        } else {
            const audit_item *f = &a.bad[0];
            if (f->has_index) {
                cli_msg("entry %llu: %s", (unsigned long long)f->index, f->what);
            } else {
                cli_msg("%s", f->what);
            }
            rc = CLI_FAIL;
        }
    }
    scitt_policy_free(a.policy);
    scitt_cose_keyset_free(a.keys);
    scitt_dynbuf_clear(&a.checkpoint);
    audit_state_clear(&a.st);
    return rc;
}
