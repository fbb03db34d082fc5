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
    "                   [--fail-on-policy-change] [--no-progress] [--json]\n"
    "\n"
    "Replays the log incrementally. The first audit pins the checkpoint key (from the\n"
    "service's /.well-known/transparency-configuration, or --vkey) in DIR; every audit then\n"
    "  - verifies the checkpoint's signature with the pinned key,\n"
    "  - proves it consistent with the last audited checkpoint (RFC 9162, from the tiles, and the\n"
    "    service's consistency receipt when it serves one),\n"
    "  - fetches the new tiles and entry bundles and recomputes every leaf hash, every stored "
    "tile\n"
    "    hash above them and the root,\n"
    "  - checks every new entry again with the registration policy in force when it was\n"
    "    registered (the issuer signature included), as the service did.\n"
    "Service keys are pinned only when the log proves them: a key that signed a policy statement\n"
    "in the log or the consistency receipt (or given with --keys). Keys the service serves but\n"
    "never used, and pinned keys it stopped serving, are reported as key churn.\n"
    "URL is the service, any static copy of its tiles (https://cdn.example/log), a directory or\n"
    "file:///path written by scitt export-tiles.\n"
    "  --from-scratch   replay from entry 0 (the pinned keys are kept)\n"
    "  --vkey VKEY      pin this checkpoint key (\"origin+hex+base64\") at the first audit\n"
    "  --keys FILE      pin these service keys (COSE_Key_Set) as well\n"
    "  --fail-on-policy-change\n"
    "                   exit 1 when a new policy entry changes the registration policy\n"
    "  --no-progress    no progress bar on a terminal\n" NET_OPTIONS_HELP "\n"
    "Exit status (\"result\" in --json):\n"
    "  0 ok               the log verified\n"
    "  1 discrepancy      the log or an entry in it is wrong (each is printed with its index);\n"
    "    policy_change    with --fail-on-policy-change, the registration policy changed\n"
    "  2 could_not_audit  network, missing files, a damaged state, usage\n"
    "A discrepancy in an entry of a tree that verified is reported once: the state moves past it.\n"
    "A discrepancy in the tree itself is reported until the service serves a consistent log.\n"
    "\n"
    "Example:\n"
    "  scitt audit --url https://scitt.example --state ~/.scitt-audit/scitt.example\n";

/* The checkpoint key, the service's issuer, and the service keys (audit_keys.c). */
static int pins(audit *a, const char *vkey_opt, const char *keys_opt, const char *pinned_vkey,
                scitt_dynbuf *pinned_keys)
{
    char why[600], vk[SCITT_NOTE_VKEY_MAX + 1] = "";
    scitt_dynbuf cfg;
    scitt_err e = source_get(&a->src, ".well-known/transparency-configuration", 1u << 16, &cfg, why,
                             sizeof(why));
    scitt_span c = scitt_span_make(cfg.ptr, cfg.len);
    if (e == SCITT_OK && !a->st.issuer[0]) {
        /* Kept whole or not at all (AUDIT_ISSUER_MAX): a cut issuer would never equal the iss of
         * the service's policy statements. */
        static char issuer[SCITT_LIMIT_ISS_CHARS * 4 + 1];
        if (scitt_client_config_text(c, "issuer", issuer, sizeof(issuer))) {
            size_t n = strlen(issuer);
            if (n <= AUDIT_ISSUER_MAX) {
                memcpy(a->st.issuer, issuer, n + 1);
            } else {
                a->issuer_too_long = true;
            }
        }
    }
    if (pinned_vkey[0]) {
        snprintf(vk, sizeof(vk), "%s", pinned_vkey);
        if (vkey_opt && strcmp(vkey_opt, pinned_vkey) != 0) {
            scitt_dynbuf_clear(&cfg);
            return audit_fail(a, "%s pins another checkpoint key (%s); use a new --state",
                              a->state_dir, pinned_vkey);
        }
    } else if (vkey_opt) {
        snprintf(vk, sizeof(vk), "%s", vkey_opt);
    } else if (e != SCITT_OK || !scitt_client_config_text(c, "checkpoint_vkey", vk, sizeof(vk))) {
        scitt_dynbuf_clear(&cfg);
        return audit_fail(a,
                          "no checkpoint key to pin: %s serves no transparency configuration with "
                          "checkpoint_vkey%s%s; give --vkey",
                          a->src.label, e != SCITT_OK ? ": " : "", e != SCITT_OK ? why : "");
    }
    scitt_dynbuf_clear(&cfg);
    if (scitt_note_vkey_parse(scitt_span_str(vk), &a->vkey) != SCITT_OK) {
        return audit_fail(a, "\"%s\" is not a checkpoint verifier key", vk);
    }
    snprintf(a->vkey_text, sizeof(a->vkey_text), "%s", vk);
    return audit_keys_load(a, scitt_span_make(pinned_keys->ptr, pinned_keys->len), keys_opt);
}

/* The outcome a monitor acts on. */
typedef enum outcome { OUT_OK, OUT_DISCREPANCY, OUT_POLICY_CHANGE, OUT_CANNOT } outcome;
static const char *const outcome_names[] = {"ok", "discrepancy", "policy_change",
                                            "could_not_audit"};

static outcome outcome_of(const audit *a)
{
    if (a->discrepancies) {
        return OUT_DISCREPANCY; /* evidence outranks an audit that could not finish */
    }
    if (a->cannot) {
        return OUT_CANNOT;
    }
    return a->policy_changes && a->fail_on_policy_change ? OUT_POLICY_CHANGE : OUT_OK;
}

static int exit_of(outcome o)
{
    return o == OUT_OK ? CLI_OK : o == OUT_CANNOT ? CLI_USAGE : CLI_FAIL;
}

static void hex32(const uint8_t h[32], char out[65])
{
    if (scitt_hex_encode(scitt_span_make(h, 32), out, 65) != SCITT_OK) {
        out[0] = 0;
    }
}

static void text_summary(const audit *a, uint64_t old_size, outcome o, uint64_t earlier)
{
    const audit_keys *ks = &a->keys;
    char root[65];
    hex32(a->new_root, root);
    printf("audit of %s: origin %s, checkpoint key %s\n", a->src.label, a->vkey.name, a->vkey_text);
    /* Only what happened: a checkpoint line only when it verified, a range only of entries
     * actually replayed, "pinned" only once the state holding the pins was saved. */
    if (a->cp_verified) {
        printf("checkpoint: size %llu, root %s (signature verified)\n",
               (unsigned long long)a->new_size, root);
        if (a->consistency[0]) {
            printf("consistency: %s\n", a->consistency);
        }
        if (a->replayed) {
            printf("entries: %llu replayed (%llu..%llu): leaf hashes, tile hashes and root "
                   "recomputed, registrations checked again\n",
                   (unsigned long long)a->replayed, (unsigned long long)old_size,
                   (unsigned long long)(old_size + a->replayed - 1));
        } else if (a->new_size <= old_size) {
            printf("entries: none new since the audited size %llu\n", (unsigned long long)old_size);
        } else {
            printf("entries: none replayed (%llu..%llu not checked)\n",
                   (unsigned long long)old_size, (unsigned long long)(a->new_size - 1));
        }
    }
    printf("service keys: %zu %s", ks->pinned ? scitt_cose_keyset_count(ks->pinned) : 0,
           a->saved ? "pinned" : "known (not saved)");
    if (ks->served_known) {
        printf(", %zu served", ks->nserved);
    } else if (ks->served_why[0] && !ks->served_garbage) {
        printf(" (%s)", ks->served_why);
    }
    printf("\n");
    if (ks->served_garbage) {
        printf("KEY CHURN: %s\n", ks->served_why);
    }
    for (size_t i = 0; i < ks->nadded && i < AUDIT_KEYS_LISTED; i++) {
        printf("service key %s %s: it %s\n", ks->added[i].kid,
               a->saved ? "pinned" : "proven (not pinned: nothing saved)", ks->added[i].how);
    }
    if (a->first && a->saved) {
        printf("first audit: the checkpoint key and %zu service key(s) are pinned on first use in "
               "%s; later audits hold the log to them (compare them with what the service "
               "publishes)\n",
               ks->pinned ? scitt_cose_keyset_count(ks->pinned) : 0, a->state_dir);
    } else if (a->first) {
        printf("first audit: nothing pinned, the state was not saved\n");
    }
    if (ks->nunproven) {
        /* a few kids here, more in --json */
        printf("KEY CHURN: %zu served key(s) signed nothing the audited log holds and are not "
               "pinned:",
               ks->nunproven);
        for (size_t i = 0; i < ks->nunproven && i < 4; i++) {
            printf(" %.16s...", ks->unproven[i].kid);
        }
        printf("\n");
    }
    for (size_t i = 0; i < ks->nwithdrawn && i < AUDIT_KEYS_LISTED; i++) {
        printf("KEY CHURN: service key %s is %s\n", ks->withdrawn[i].kid, ks->withdrawn[i].how);
    }
    if (ks->served_bad) {
        printf("KEY CHURN: %zu element(s) of the served key set are no usable COSE_Key\n",
               ks->served_bad);
    }
    if (a->issuer_too_long) {
        printf("issuer: the configuration's issuer is over %u bytes; policy statements are "
               "recognised by the service's keys alone\n",
               AUDIT_ISSUER_MAX);
    }
    for (size_t i = 0; i < a->npol; i++) {
        const audit_policy *p = &a->pol[i];
        char h[65], was[65];
        hex32(p->sha256, h);
        hex32(p->replaced_sha256, was);
        if (p->replaces && !p->same_text) {
            printf("POLICY CHANGE: entry %llu replaces the policy of entry %llu (SHA-256 %s -> %s, "
                   "signed by %s)%s\n",
                   (unsigned long long)p->index, (unsigned long long)p->replaced_index, was, h,
                   p->kid, p->development ? " DEVELOPMENT: any issuer with an x5chain" : "");
        } else {
            printf("policy: entry %llu is a registration policy (SHA-256 %s, signed by %s)%s%s\n",
                   (unsigned long long)p->index, h, p->kid,
                   p->replaces ? ", the same text as the policy it follows" : "",
                   p->development ? " DEVELOPMENT: any issuer with an x5chain" : "");
        }
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
    if (earlier) {
        printf("earlier audits reported %llu discrepancies in entries (not repeated):",
               (unsigned long long)earlier);
        for (size_t i = 0; i < a->st.nreported && a->st.reported_entries[i] < old_size; i++) {
            printf(" %llu", (unsigned long long)a->st.reported_entries[i]);
        }
        printf("\n");
    }
    if (a->cannot) {
        printf("COULD NOT AUDIT: %s\n", a->cannot_why);
    }
    static const char *const verdict[] = {"OK", "FAILED", "POLICY CHANGED", "INCOMPLETE"};
    printf("%s: %llu discrepancies, %llu undecidable, %llu policy change(s)%s\n", verdict[o],
           (unsigned long long)a->discrepancies, (unsigned long long)a->undecidable,
           (unsigned long long)a->policy_changes, audit_keys_churned(a) ? ", key churn" : "");
}

static void key_list(scitt_json_writer *j, const char *name, const audit_key_item *l, size_t n,
                     bool how)
{
    scitt_json_put_key(j, name);
    scitt_json_begin_array(j);
    for (size_t i = 0; i < n && i < AUDIT_KEYS_LISTED; i++) {
        if (!how) {
            scitt_json_put_cstr(j, l[i].kid);
            continue;
        }
        scitt_json_begin_object(j);
        scitt_json_put_key(j, "kid");
        scitt_json_put_cstr(j, l[i].kid);
        scitt_json_put_key(j, "proof");
        scitt_json_put_cstr(j, l[i].how);
        scitt_json_end_object(j);
    }
    scitt_json_end_array(j);
}

static void json_summary(const audit *a, uint64_t old_size, outcome o, uint64_t earlier)
{
    const audit_keys *ks = &a->keys;
    char root[65];
    hex32(a->new_root, root);
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    scitt_json_writer j;
    scitt_json_writer_init(&j, &b);
    scitt_json_begin_object(&j);
    scitt_json_put_key(&j, "ok");
    scitt_json_put_bool(&j, o == OUT_OK);
    scitt_json_put_key(&j, "result");
    scitt_json_put_cstr(&j, outcome_names[o]);
    scitt_json_put_key(&j, "exit");
    scitt_json_put_uint(&j, (uint64_t)exit_of(o));
    scitt_json_put_key(&j, "could_not_audit");
    if (a->cannot) {
        scitt_json_put_cstr(&j, a->cannot_why);
    } else {
        scitt_json_put_null(&j);
    }
    scitt_json_put_key(&j, "source");
    scitt_json_put_cstr(&j, a->src.label);
    scitt_json_put_key(&j, "origin");
    scitt_json_put_cstr(&j, a->vkey.name);
    scitt_json_put_key(&j, "vkey");
    scitt_json_put_cstr(&j, a->vkey_text);
    scitt_json_put_key(&j, "old_size");
    scitt_json_put_uint(&j, old_size);
    scitt_json_put_key(&j, "tree_size");
    scitt_json_put_uint(&j, a->new_size);
    scitt_json_put_key(&j, "root");
    scitt_json_put_cstr(&j, root);
    scitt_json_put_key(&j, "consistency");
    scitt_json_put_cstr(&j, a->consistency);
    scitt_json_put_key(&j, "replayed");
    scitt_json_put_uint(&j, a->replayed);
    scitt_json_put_key(&j, "checkpoint_verified");
    scitt_json_put_bool(&j, a->cp_verified);
    scitt_json_put_key(&j, "first_audit");
    scitt_json_put_bool(&j, a->first);
    scitt_json_put_key(&j, "state_saved");
    scitt_json_put_bool(&j, a->saved);
    scitt_json_put_key(&j, "new_service_keys");
    scitt_json_put_uint(&j, ks->nadded - ks->not_pinned);
    scitt_json_put_key(&j, "service_keys");
    scitt_json_begin_object(&j);
    scitt_json_put_key(&j, "pinned");
    scitt_json_put_uint(&j, ks->pinned ? scitt_cose_keyset_count(ks->pinned) : 0);
    scitt_json_put_key(&j, "served");
    if (ks->served_known) {
        scitt_json_put_uint(&j, ks->nserved);
    } else {
        scitt_json_put_null(&j);
    }
    key_list(&j, "new", ks->added, ks->nadded, true);
    scitt_json_put_key(&j, "unproven");
    scitt_json_put_uint(&j, ks->nunproven);
    key_list(&j, "unproven_kids", ks->unproven, ks->nunproven, false);
    key_list(&j, "withdrawn", ks->withdrawn, ks->nwithdrawn, false);
    scitt_json_put_key(&j, "malformed");
    scitt_json_put_uint(&j, ks->served_bad + ks->served_garbage);
    scitt_json_put_key(&j, "not_pinned");
    scitt_json_put_uint(&j, ks->not_pinned);
    scitt_json_end_object(&j);
    scitt_json_put_key(&j, "key_churn");
    scitt_json_put_bool(&j, audit_keys_churned(a));
    scitt_json_put_key(&j, "policies");
    scitt_json_begin_array(&j);
    for (size_t i = 0; i < a->npol; i++) {
        const audit_policy *p = &a->pol[i];
        scitt_json_begin_object(&j);
        scitt_json_put_key(&j, "index");
        scitt_json_put_uint(&j, p->index);
        scitt_json_put_key(&j, "sha256");
        scitt_json_put_hex(&j, scitt_span_make(p->sha256, 32));
        scitt_json_put_key(&j, "kid");
        scitt_json_put_cstr(&j, p->kid);
        scitt_json_put_key(&j, "development");
        scitt_json_put_bool(&j, p->development);
        scitt_json_put_key(&j, "change");
        scitt_json_put_bool(&j, p->replaces && !p->same_text);
        scitt_json_put_key(&j, "replaces");
        if (p->replaces) {
            scitt_json_put_uint(&j, p->replaced_index);
        } else {
            scitt_json_put_null(&j);
        }
        scitt_json_end_object(&j);
    }
    scitt_json_end_array(&j);
    scitt_json_put_key(&j, "policy_changes");
    scitt_json_put_uint(&j, a->policy_changes);
    scitt_json_put_key(&j, "discrepancies");
    scitt_json_begin_array(&j);
    for (size_t i = 0; i < a->nbad; i++) {
        scitt_json_begin_object(&j);
        scitt_json_put_key(&j, "index");
        if (a->bad[i].has_index) {
            scitt_json_put_uint(&j, a->bad[i].index);
        } else {
            scitt_json_put_null(&j);
        }
        scitt_json_put_key(&j, "kind");
        scitt_json_put_cstr(&j, a->bad[i].entry ? "entry" : "tree");
        scitt_json_put_key(&j, "reason");
        scitt_json_put_cstr(&j, a->bad[i].what);
        scitt_json_end_object(&j);
    }
    scitt_json_end_array(&j);
    scitt_json_put_key(&j, "undecidable");
    scitt_json_begin_array(&j);
    for (size_t i = 0; i < a->nnotes; i++) {
        scitt_json_begin_object(&j);
        scitt_json_put_key(&j, "index");
        scitt_json_put_uint(&j, a->notes[i].index);
        scitt_json_put_key(&j, "reason");
        scitt_json_put_cstr(&j, a->notes[i].what);
        scitt_json_end_object(&j);
    }
    scitt_json_end_array(&j);
    scitt_json_put_key(&j, "discrepancy_count");
    scitt_json_put_uint(&j, a->discrepancies);
    scitt_json_put_key(&j, "undecidable_count");
    scitt_json_put_uint(&j, a->undecidable);
    scitt_json_put_key(&j, "reported_earlier");
    scitt_json_put_uint(&j, earlier);
    scitt_json_end_object(&j);
    cli_json_print(&j);
}

/* Entry discrepancies of this run join those the state remembers: reported once. */
static void remember_reported(audit *a)
{
    audit_state *s = &a->st;
    for (size_t i = 0; i < a->nbad; i++) {
        if (a->bad[i].entry && s->nreported < AUDIT_MAX_REPORTED) {
            s->reported_entries[s->nreported++] = a->bad[i].index;
        }
    }
    s->reported += a->discrepancies - a->tree_discrepancies;
}

int audit_pass(audit *a, const char *url, const char *cacert, uint64_t timeout, bool scratch,
               const char *vkey, const char *keys, uint64_t *old_size_out, uint64_t *earlier_out)
{
    audit_state_init(&a->st);
    scitt_dynbuf_init(&a->checkpoint, 0);
    char pinned_vkey[SCITT_NOTE_VKEY_MAX + 1] = "";
    scitt_dynbuf pinned_keys;
    scitt_dynbuf_init(&pinned_keys, 0);
    int rc = source_open(&a->src, url, cacert, (uint32_t)timeout * 1000);
    a->src.stage = a->stage_dir;
    if (rc != CLI_OK) {
        a->cannot = true; /* source_open printed why */
        snprintf(a->cannot_why, sizeof(a->cannot_why), "%s is not a usable source", url);
    }
    rc = rc ? rc : audit_state_load(a, scratch, pinned_vkey, sizeof(pinned_vkey), &pinned_keys);
    a->first = rc == CLI_OK && !pinned_vkey[0]; /* nothing pinned before: first use */
    rc = rc ? rc : pins(a, vkey, keys, pinned_vkey, &pinned_keys);
    scitt_dynbuf_clear(&pinned_keys);
    uint64_t old_size = a->st.size, earlier = a->st.reported;
    if (rc == CLI_OK) {
        char why[600];
        a->now = (int64_t)time(NULL);
        scitt_err e = source_get(&a->src, "checkpoint", SCITT_LIMIT_NOTE_BYTES, &a->checkpoint, why,
                                 sizeof(why));
        scitt_checkpoint cp;
        if (e != SCITT_OK) {
            audit_cannot(a, "checkpoint: %s", e == SCITT_ERR_TOO_LARGE ? "too large" : why);
        } else if ((e = scitt_checkpoint_open(scitt_span_make(a->checkpoint.ptr, a->checkpoint.len),
                                              &a->vkey, 1, scitt_span_str(a->vkey.name), &cp,
                                              NULL)) != SCITT_OK) {
            audit_bad(a, -1, "the checkpoint does not verify with the %s %s: %s",
                      a->first ? "checkpoint key the service names (not pinned yet)" : "pinned key",
                      a->vkey_text, scitt_err_str(e));
        } else {
            a->cp_verified = true;
            a->new_size = cp.size;
            memcpy(a->new_root, cp.root, 32);
            if (a->st.have && cp.size < a->st.size) {
                audit_bad(a, -1, "the log shrank: checkpoint size %llu < audited size %llu",
                          (unsigned long long)cp.size, (unsigned long long)a->st.size);
            } else if (a->st.have && cp.size == a->st.size &&
                       memcmp(cp.root, a->st.root, 32) != 0) {
                audit_bad(a, -1, "two checkpoints of size %llu with different roots (a fork)",
                          (unsigned long long)cp.size);
            } else {
                audit_consistency(a);
                audit_replay(a);
            }
        }
        audit_keys_churn(a);
    }
    if (rc == CLI_OK && !a->cannot && a->tree_discrepancies == 0) {
        /* The tree verified: move past it, entry discrepancies included (each reported once). */
        if (a->on_verified) {
            a->on_verified(a); /* before the state moves on: scitt monitor reports here */
        }
        remember_reported(a);
        a->st.time = a->now;
        a->st.time_is_live = a->src.is_http;
        if (audit_state_save(a) != CLI_OK) {
            audit_cannot(a, "the state could not be saved in %s", a->state_dir);
        } else {
            a->saved = true;
        }
    }
    *old_size_out = old_size;
    *earlier_out = earlier;
    return rc;
}

static const net_spec audit_net = {
    help,
    "the service, a static copy or a directory (above)",
    "give up on a request after S seconds",
    30,
    1,
    3600,
    "the summary as JSON: result, sizes, keys, policies, discrepancies"};

int cmd_audit(int argc, char **argv)
{
    enum { O_STATE = 1, O_SCRATCH, O_VKEY, O_KEYS, O_NOPROG, O_FAIL_POLICY };
    static const struct option lo[] = {{"state", 1, 0, O_STATE},
                                       {"from-scratch", 0, 0, O_SCRATCH},
                                       {"vkey", 1, 0, O_VKEY},
                                       {"keys", 1, 0, O_KEYS},
                                       {"no-progress", 0, 0, O_NOPROG},
                                       {"fail-on-policy-change", 0, 0, O_FAIL_POLICY},
                                       NET_OPTIONS,
                                       {0, 0, 0, 0}};
    const char *vkey = NULL, *keys = NULL;
    bool scratch = false, noprog = false;
    static audit a;
    memset(&a, 0, sizeof(a));
    net_opts net;
    net_opts_init(&net, &audit_net);
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
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
        case O_FAIL_POLICY:
            a.fail_on_policy_change = true;
            break;
        default:
            if ((c = net_option(&net, &audit_net, c, argv)) != CLI_OK) {
                return c == NET_HELP_SHOWN ? CLI_OK : c;
            }
            break;
        }
    }
    if (optind != argc || !net.url || !a.state_dir) {
        return cli_usage("--url URL and --state DIR are required");
    }
    a.progress = !noprog && !net.json && isatty(STDERR_FILENO);
    uint64_t old_size = 0, earlier = 0;
    int rc =
        audit_pass(&a, net.url, net.cacert, net.timeout, scratch, vkey, keys, &old_size, &earlier);
    outcome o = outcome_of(&a);
    if (rc == CLI_OK || net.json) {
        if (net.json) {
            json_summary(&a, old_size, o, earlier);
        } else {
            text_summary(&a, old_size, o, earlier);
        }
    }
    if (rc == CLI_OK) {
        rc = exit_of(o);
        if (o == OUT_DISCREPANCY) {
            const audit_item *f = &a.bad[0];
            if (f->has_index) {
                cli_msg("entry %llu: %s", (unsigned long long)f->index, f->what);
            } else {
                cli_msg("%s", f->what);
            }
        } else if (o == OUT_CANNOT) {
            cli_msg("could not audit: %s", a.cannot_why);
        } else if (o == OUT_POLICY_CHANGE) {
            for (size_t i = 0; i < a.npol; i++) {
                if (a.pol[i].replaces && !a.pol[i].same_text) {
                    cli_msg("entry %llu: the registration policy changed (replaces entry %llu); "
                            "--fail-on-policy-change",
                            (unsigned long long)a.pol[i].index,
                            (unsigned long long)a.pol[i].replaced_index);
                    break;
                }
            }
        }
    }
    scitt_policy_free(a.policy);
    source_close(&a.src);
    audit_keys_clear(&a.keys);
    scitt_dynbuf_clear(&a.checkpoint);
    audit_state_clear(&a.st);
    return rc;
}
