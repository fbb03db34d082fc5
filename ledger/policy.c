/*
 * The registration policy: parsing the JSON document and the admission check. See
 * include/scitt/policy.h for the contract and docs/policy.md for the document.
 */
#include "policy_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "scitt/dcap.h"
#include "scitt/json.h"
#include "scitt/limits.h"
#include "scitt/x509.h"

/* The built-in development policy: any issuer, keys from self-signed (or any) x5chain leaves. */
static const char development_text[] =
    "{\n"
    "  \"version\": 1,\n"
    "  \"development\": true,\n"
    "  \"issuers\": [{\"iss_prefix\": \"\", \"self_signed\": true}]\n"
    "}\n";

/* Declared in policy_int.h: shared by the parser and the checks. */
void scitt__policy_say(char *out, size_t cap, const char *fmt, ...)
{
    if (!out || !cap) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    /* A reason is one line of text even when it quotes a name from the input. */
    for (char *c = out; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            *c = '?';
        }
    }
}

void scitt_policy_free(scitt_policy *p)
{
    if (!p) {
        return;
    }
    for (size_t i = 0; i < p->nrules; i++) {
        scitt_free(p->rules[i].iss);
        scitt_free(p->rules[i].iss_prefix);
        scitt_cose_keyset_free(p->rules[i].keys);
        scitt_x509_roots_free(p->rules[i].roots);
        for (size_t k = 0; k < p->rules[i].nekus; k++) {
            scitt_free(p->rules[i].ekus[k]);
        }
        endorsement_rule *en = &p->rules[i].endorse;
        for (size_t k = 0; k < en->nissuers; k++) {
            scitt_free(en->issuers[k]);
        }
        scitt_cose_keyset_free(en->issuer_keys);
        scitt_cose_keyset_free(en->receipt_keys);
    }
    for (size_t i = 0; i < p->nctypes; i++) {
        scitt_free(p->ctypes[i]);
    }
    for (size_t i = 0; i < p->nptypes; i++) {
        scitt_free(p->ptypes[i]);
    }
    scitt_free(p->text);
    scitt_free(p);
}

static scitt_err string_list(const scitt_json *j, long tok, char **out, size_t cap, size_t *n,
                             const char *what, char *reason, size_t rcap)
{
    if (tok < 0 || j->toks[tok].type != SCITT_JSON_ARRAY || j->toks[tok].count > cap) {
        scitt__policy_say(reason, rcap, "\"%s\" must be an array of at most %zu strings", what,
                          cap);
        return SCITT_ERR_POLICY;
    }
    for (size_t i = 0; i < j->toks[tok].count; i++) {
        long t = scitt_json_at(j, (size_t)tok, i);
        if (scitt_json_strdup(j, (size_t)t, &out[*n]) != SCITT_OK) {
            scitt__policy_say(reason, rcap, "\"%s\"[%zu] must be a string", what, i);
            return SCITT_ERR_POLICY;
        }
        (*n)++;
    }
    return SCITT_OK;
}

/* An array of JWK objects or PEM strings into a key set; @p what names it in messages. */
static scitt_err parse_keyset(const scitt_json *j, long tok, scitt_cose_keyset **out,
                              const char *what, size_t ri, char *reason, size_t cap)
{
    if (j->toks[tok].type != SCITT_JSON_ARRAY || j->toks[tok].count == 0) {
        scitt__policy_say(reason, cap, "issuers[%zu].%s must be a non-empty array", ri, what);
        return SCITT_ERR_POLICY;
    }
    scitt_err e = scitt_cose_keyset_new(out);
    for (size_t i = 0; e == SCITT_OK && i < j->toks[tok].count; i++) {
        long t = scitt_json_at(j, (size_t)tok, i);
        scitt_cose_key *k = NULL;
        if (j->toks[t].type == SCITT_JSON_OBJECT) {
            scitt_span raw =
                scitt_span_make(j->text.ptr + j->toks[t].start, j->toks[t].end - j->toks[t].start);
            e = scitt_cose_key_from_jwk(raw, &k);
        } else {
            char *pem = NULL;
            e = scitt_json_strdup(j, (size_t)t, &pem);
            if (e == SCITT_OK) {
                e = scitt_cose_key_from_pem(scitt_span_str(pem), &k);
            }
            scitt_free(pem);
        }
        if (e == SCITT_OK) {
            e = scitt_cose_keyset_add(*out, k);
        }
        scitt_cose_key_free(k);
        if (e != SCITT_OK) {
            scitt__policy_say(reason, cap, "issuers[%zu].%s[%zu]: %s", ri, what, i,
                              scitt_err_str(e));
        }
    }
    return e == SCITT_OK ? SCITT_OK : SCITT_ERR_POLICY;
}

static scitt_err parse_roots(const scitt_json *j, long tok, rule *r, size_t ri, char *reason,
                             size_t cap)
{
    if (j->toks[tok].type != SCITT_JSON_ARRAY || j->toks[tok].count == 0) {
        scitt__policy_say(reason, cap,
                          "issuers[%zu].x509_roots must be a non-empty array of PEM strings", ri);
        return SCITT_ERR_POLICY;
    }
    scitt_err e = scitt_x509_roots_new(&r->roots);
    for (size_t i = 0; e == SCITT_OK && i < j->toks[tok].count; i++) {
        char *pem = NULL;
        e = scitt_json_strdup(j, (size_t)scitt_json_at(j, (size_t)tok, i), &pem);
        if (e == SCITT_OK) {
            e = scitt_x509_roots_add_pem(r->roots, scitt_span_str(pem), NULL);
        }
        scitt_free(pem);
        if (e != SCITT_OK) {
            scitt__policy_say(reason, cap, "issuers[%zu].x509_roots[%zu]: %s", ri, i,
                              scitt_err_str(e));
        }
    }
    return e == SCITT_OK ? SCITT_OK : SCITT_ERR_POLICY;
}

/* A dotted OID: at least two arcs of digits, the first 0..2, no empty arc, no leading zero. */
static bool dotted_oid(const char *s)
{
    size_t arcs = 0, len = strlen(s);
    if (len == 0 || len > 127 || s[0] < '0' || s[0] > '2' || s[1] != '.') {
        return false;
    }
    for (const char *c = s; *c;) {
        const char *start = c;
        while (*c >= '0' && *c <= '9') {
            c++;
        }
        if (c == start || (c - start > 1 && *start == '0')) {
            return false;
        }
        arcs++;
        if (*c == '.') {
            c++;
            if (!*c) {
                return false;
            }
        } else if (*c) {
            return false;
        }
    }
    return arcs >= 2;
}

static scitt_err parse_crls(const scitt_json *j, long tok, rule *r, size_t ri, char *reason,
                            size_t cap)
{
    if (j->toks[tok].type != SCITT_JSON_ARRAY || j->toks[tok].count == 0) {
        scitt__policy_say(reason, cap, "issuers[%zu].crls must be a non-empty array of PEM strings",
                          ri);
        return SCITT_ERR_POLICY;
    }
    scitt_err e = SCITT_OK;
    for (size_t i = 0; e == SCITT_OK && i < j->toks[tok].count; i++) {
        char *pem = NULL;
        e = scitt_json_strdup(j, (size_t)scitt_json_at(j, (size_t)tok, i), &pem);
        if (e == SCITT_OK) {
            e = scitt_x509_roots_add_crl_pem(r->roots, scitt_span_str(pem), NULL);
        }
        scitt_free(pem);
        if (e != SCITT_OK) {
            scitt__policy_say(reason, cap, "issuers[%zu].crls[%zu]: %s", ri, i, scitt_err_str(e));
        }
    }
    return e == SCITT_OK ? SCITT_OK : SCITT_ERR_POLICY;
}

static scitt_err parse_endorsement(const scitt_json *j, long tok, endorsement_rule *en, size_t ri,
                                   char *reason, size_t cap)
{
    if (j->toks[tok].type != SCITT_JSON_OBJECT) {
        scitt__policy_say(reason, cap, "issuers[%zu].measurement_endorsement must be an object",
                          ri);
        return SCITT_ERR_POLICY;
    }
    en->required = true;
    for (size_t m = 0; m < j->toks[tok].count; m++) {
        long k = scitt_json_member(j, (size_t)tok, m), v = k + 1;
        scitt_err e;
        if (scitt_json_str_eq(j, (size_t)k, "issuers")) {
            e = string_list(j, v, en->issuers, MAX_ENDORSERS, &en->nissuers,
                            "measurement_endorsement.issuers", reason, cap);
        } else if (scitt_json_str_eq(j, (size_t)k, "issuer_keys")) {
            e = parse_keyset(j, v, &en->issuer_keys, "measurement_endorsement.issuer_keys", ri,
                             reason, cap);
        } else if (scitt_json_str_eq(j, (size_t)k, "receipt_keys")) {
            e = parse_keyset(j, v, &en->receipt_keys, "measurement_endorsement.receipt_keys", ri,
                             reason, cap);
        } else {
            scitt__policy_say(reason, cap, "issuers[%zu].measurement_endorsement: unknown member",
                              ri);
            return SCITT_ERR_POLICY;
        }
        if (e != SCITT_OK) {
            return e;
        }
    }
    if (!en->nissuers || !en->issuer_keys || !en->receipt_keys) {
        scitt__policy_say(
            reason, cap,
            "issuers[%zu].measurement_endorsement needs \"issuers\", \"issuer_keys\" and "
            "\"receipt_keys\"",
            ri);
        return SCITT_ERR_POLICY;
    }
    return SCITT_OK;
}

/* An array of 1..MAX_MEAS hex strings of @p want bytes each. */
static scitt_err parse_meas(const scitt_json *j, long tok, meas_list *l, size_t want,
                            const char *what, size_t ri, char *reason, size_t cap)
{
    if (j->toks[tok].type != SCITT_JSON_ARRAY || j->toks[tok].count == 0 ||
        j->toks[tok].count > MAX_MEAS) {
        scitt__policy_say(reason, cap, "issuers[%zu].tee.%s must be an array of 1..%d hex strings",
                          ri, what, MAX_MEAS);
        return SCITT_ERR_POLICY;
    }
    for (size_t i = 0; i < j->toks[tok].count; i++) {
        char hex[2 * 48 + 2];
        size_t hl = 0, n = 0;
        long t = scitt_json_at(j, (size_t)tok, i);
        if (scitt_json_string(j, (size_t)t, hex, sizeof(hex), &hl) != SCITT_OK ||
            scitt_hex_decode(scitt_span_make(hex, hl), l->v[i], sizeof(l->v[i]), &n) != SCITT_OK ||
            n != want) {
            scitt__policy_say(reason, cap, "issuers[%zu].tee.%s[%zu] must be %zu hex digits", ri,
                              what, i, 2 * want);
            return SCITT_ERR_POLICY;
        }
    }
    l->n = j->toks[tok].count;
    l->set = true;
    return SCITT_OK;
}

static scitt_err parse_tee(const scitt_json *j, long tok, tee_rule *t, size_t ri, char *reason,
                           size_t cap)
{
    if (j->toks[tok].type != SCITT_JSON_OBJECT) {
        scitt__policy_say(reason, cap, "issuers[%zu].tee must be an object", ri);
        return SCITT_ERR_POLICY;
    }
    t->required = true;
    t->platform = -1;
    t->accept = SCITT_DCAP_ACCEPT_DEFAULT;
    long mrtd = -1, mrenclave = -1, mrsigner = -1, rtmr[4] = {-1, -1, -1, -1}, accept = -1,
         root = -1;
    for (size_t m = 0; m < j->toks[tok].count; m++) {
        long k = scitt_json_member(j, (size_t)tok, m), v = k + 1;
        if (scitt_json_str_eq(j, (size_t)k, "platform")) {
            if (scitt_json_str_eq(j, (size_t)v, "tdx")) {
                t->platform = SCITT_DCAP_TEE_TDX;
            } else if (scitt_json_str_eq(j, (size_t)v, "sgx")) {
                t->platform = SCITT_DCAP_TEE_SGX;
            } else {
                scitt__policy_say(reason, cap,
                                  "issuers[%zu].tee.platform must be \"tdx\" or \"sgx\"", ri);
                return SCITT_ERR_POLICY;
            }
        } else if (scitt_json_str_eq(j, (size_t)k, "mrtd")) {
            mrtd = v;
        } else if (scitt_json_str_eq(j, (size_t)k, "mrenclave")) {
            mrenclave = v;
        } else if (scitt_json_str_eq(j, (size_t)k, "mrsigner")) {
            mrsigner = v;
        } else if (scitt_json_str_eq(j, (size_t)k, "rtmr0")) {
            rtmr[0] = v;
        } else if (scitt_json_str_eq(j, (size_t)k, "rtmr1")) {
            rtmr[1] = v;
        } else if (scitt_json_str_eq(j, (size_t)k, "rtmr2")) {
            rtmr[2] = v;
        } else if (scitt_json_str_eq(j, (size_t)k, "rtmr3")) {
            rtmr[3] = v;
        } else if (scitt_json_str_eq(j, (size_t)k, "evidence")) {
            if (j->toks[v].type != SCITT_JSON_TRUE && j->toks[v].type != SCITT_JSON_FALSE) {
                scitt__policy_say(reason, cap, "issuers[%zu].tee.evidence must be true or false",
                                  ri);
                return SCITT_ERR_POLICY;
            }
            t->evidence = j->toks[v].type == SCITT_JSON_TRUE;
        } else if (scitt_json_str_eq(j, (size_t)k, "attested_issuer")) {
            if (j->toks[v].type != SCITT_JSON_TRUE && j->toks[v].type != SCITT_JSON_FALSE) {
                scitt__policy_say(reason, cap,
                                  "issuers[%zu].tee.attested_issuer must be true or false", ri);
                return SCITT_ERR_POLICY;
            }
            t->attested_issuer = j->toks[v].type == SCITT_JSON_TRUE;
        } else if (scitt_json_str_eq(j, (size_t)k, "accept_tcb")) {
            accept = v;
        } else if (scitt_json_str_eq(j, (size_t)k, "root_sha256")) {
            root = v;
        } else {
            scitt__policy_say(reason, cap, "issuers[%zu].tee: unknown member", ri);
            return SCITT_ERR_POLICY;
        }
    }
    bool tdx = t->platform == SCITT_DCAP_TEE_TDX;
    if (t->platform < 0) {
        scitt__policy_say(reason, cap, "issuers[%zu].tee needs \"platform\": \"tdx\" or \"sgx\"",
                          ri);
        return SCITT_ERR_POLICY;
    }
    if (tdx ? (mrenclave >= 0 || mrsigner >= 0)
            : (mrtd >= 0 || rtmr[0] >= 0 || rtmr[1] >= 0 || rtmr[2] >= 0 || rtmr[3] >= 0)) {
        scitt__policy_say(
            reason, cap,
            "issuers[%zu].tee: \"mrtd\" and \"rtmr0\"..\"rtmr3\" are for tdx, \"mrenclave\" and "
            "\"mrsigner\" for sgx",
            ri);
        return SCITT_ERR_POLICY;
    }
    static const char *const rn[4] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
    if (mrtd >= 0 && parse_meas(j, mrtd, &t->payload, 48, "mrtd", ri, reason, cap) != SCITT_OK) {
        return SCITT_ERR_POLICY;
    }
    if (mrenclave >= 0 &&
        parse_meas(j, mrenclave, &t->payload, 32, "mrenclave", ri, reason, cap) != SCITT_OK) {
        return SCITT_ERR_POLICY;
    }
    if (mrsigner >= 0 &&
        parse_meas(j, mrsigner, &t->mrsigner, 32, "mrsigner", ri, reason, cap) != SCITT_OK) {
        return SCITT_ERR_POLICY;
    }
    for (size_t i = 0; i < 4; i++) {
        if (rtmr[i] >= 0 &&
            parse_meas(j, rtmr[i], &t->rtmr[i], 48, rn[i], ri, reason, cap) != SCITT_OK) {
            return SCITT_ERR_POLICY;
        }
    }
    if ((accept >= 0 || root >= 0 || t->attested_issuer) && !t->evidence) {
        scitt__policy_say(
            reason, cap,
            "issuers[%zu].tee: \"accept_tcb\", \"root_sha256\" and \"attested_issuer\" need "
            "\"evidence\": true",
            ri);
        return SCITT_ERR_POLICY;
    }
    if (accept >= 0) {
        /* The same names as `scitt attest verify --accept-tcb`, as an array. */
        char list[512];
        size_t len = 0;
        bool ok = j->toks[accept].type == SCITT_JSON_ARRAY && j->toks[accept].count > 0;
        for (size_t i = 0; ok && i < j->toks[accept].count; i++) {
            size_t nl = 0;
            if (len + 2 >= sizeof(list) ||
                scitt_json_string(j, (size_t)scitt_json_at(j, (size_t)accept, i), list + len,
                                  sizeof(list) - len - 1, &nl) != SCITT_OK ||
                memchr(list + len, ',', nl) != NULL) {
                ok = false;
                break;
            }
            len += nl;
            list[len++] = ',';
        }
        if (!ok ||
            scitt_dcap_accept_parse(scitt_span_make(list, len - 1), &t->accept) != SCITT_OK) {
            scitt__policy_say(
                reason, cap,
                "issuers[%zu].tee.accept_tcb must be a non-empty array of TCB status names "
                "(UpToDate, SWHardeningNeeded, ConfigurationNeeded, "
                "ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded)",
                ri);
            return SCITT_ERR_POLICY;
        }
    }
    if (root >= 0) {
        char hex[2 * SCITT_SHA256_LEN + 2];
        size_t hl = 0, n = 0;
        if (scitt_json_string(j, (size_t)root, hex, sizeof(hex), &hl) != SCITT_OK ||
            scitt_hex_decode(scitt_span_make(hex, hl), t->root, sizeof(t->root), &n) != SCITT_OK ||
            n != SCITT_SHA256_LEN) {
            scitt__policy_say(reason, cap, "issuers[%zu].tee.root_sha256 must be 64 hex digits",
                              ri);
            return SCITT_ERR_POLICY;
        }
        t->has_root = true;
    }
    return SCITT_OK;
}

static scitt_err parse_rule(const scitt_json *j, long tok, rule *r, size_t ri, char *reason,
                            size_t cap)
{
    if (j->toks[tok].type != SCITT_JSON_OBJECT) {
        scitt__policy_say(reason, cap, "issuers[%zu] must be an object", ri);
        return SCITT_ERR_POLICY;
    }
    int matchers = 0, bindings = 0;
    long crls = -1, ekus = -1, bind = -1;
    for (size_t m = 0; m < j->toks[tok].count; m++) {
        long k = scitt_json_member(j, (size_t)tok, m), v = k + 1;
        scitt_err e = SCITT_OK;
        if (scitt_json_str_eq(j, (size_t)k, "iss")) {
            e = scitt_json_strdup(j, (size_t)v, &r->iss);
            matchers++;
        } else if (scitt_json_str_eq(j, (size_t)k, "iss_prefix")) {
            e = scitt_json_strdup(j, (size_t)v, &r->iss_prefix);
            matchers++;
        } else if (scitt_json_str_eq(j, (size_t)k, "did_x509")) {
            r->did_x509 = j->toks[v].type == SCITT_JSON_TRUE;
            e = r->did_x509 ? SCITT_OK : SCITT_ERR_POLICY;
            matchers++;
        } else if (scitt_json_str_eq(j, (size_t)k, "keys")) {
            e = parse_keyset(j, v, &r->keys, "keys", ri, reason, cap);
            bindings++;
            if (e) {
                return e;
            }
        } else if (scitt_json_str_eq(j, (size_t)k, "x509_roots")) {
            e = parse_roots(j, v, r, ri, reason, cap);
            bindings++;
            if (e) {
                return e;
            }
        } else if (scitt_json_str_eq(j, (size_t)k, "crls")) {
            crls = v; /* added to the roots once they are known */
        } else if (scitt_json_str_eq(j, (size_t)k, "eku")) {
            ekus = v;
        } else if (scitt_json_str_eq(j, (size_t)k, "bind_iss")) {
            bind = v;
        } else if (scitt_json_str_eq(j, (size_t)k, "measurement_endorsement")) {
            e = parse_endorsement(j, v, &r->endorse, ri, reason, cap);
            if (e) {
                return e;
            }
        } else if (scitt_json_str_eq(j, (size_t)k, "tee")) {
            e = parse_tee(j, v, &r->tee, ri, reason, cap);
            if (e) {
                return e;
            }
        } else if (scitt_json_str_eq(j, (size_t)k, "self_signed")) {
            r->self_signed = j->toks[v].type == SCITT_JSON_TRUE;
            e = r->self_signed ? SCITT_OK : SCITT_ERR_POLICY;
            bindings++;
        } else {
            char name[64];
            size_t nl;
            if (scitt_json_string(j, (size_t)k, name, sizeof(name), &nl) != SCITT_OK) {
                snprintf(name, sizeof(name), "?");
            }
            scitt__policy_say(reason, cap, "issuers[%zu]: unknown member \"%s\"", ri, name);
            return SCITT_ERR_POLICY;
        }
        if (e != SCITT_OK) {
            scitt__policy_say(reason, cap, "issuers[%zu]: a member has the wrong type", ri);
            return SCITT_ERR_POLICY;
        }
    }
    if (matchers != 1) {
        scitt__policy_say(reason, cap,
                          "issuers[%zu] needs exactly one of \"iss\", \"iss_prefix\", \"did_x509\"",
                          ri);
        return SCITT_ERR_POLICY;
    }
    if (!r->did_x509 && bindings != 1) {
        scitt__policy_say(
            reason, cap,
            "issuers[%zu] needs exactly one of \"keys\", \"x509_roots\", \"self_signed\"", ri);
        return SCITT_ERR_POLICY;
    }
    if (r->did_x509 && (r->keys || r->self_signed)) {
        scitt__policy_say(reason, cap, "issuers[%zu]: a did_x509 rule takes only \"x509_roots\"",
                          ri);
        return SCITT_ERR_POLICY;
    }
    if ((crls >= 0 || ekus >= 0 || bind >= 0) && !r->roots) {
        scitt__policy_say(
            reason, cap,
            "issuers[%zu]: \"crls\", \"eku\" and \"bind_iss\" apply to \"x509_roots\" rules", ri);
        return SCITT_ERR_POLICY;
    }
    if (crls >= 0 && parse_crls(j, crls, r, ri, reason, cap) != SCITT_OK) {
        return SCITT_ERR_POLICY;
    }
    if (ekus >= 0) {
        if (string_list(j, ekus, r->ekus, MAX_EKUS, &r->nekus, "eku", reason, cap) != SCITT_OK ||
            r->nekus == 0) {
            scitt__policy_say(reason, cap, "issuers[%zu].eku must be an array of 1..%d dotted OIDs",
                              ri, MAX_EKUS);
            return SCITT_ERR_POLICY;
        }
        for (size_t i = 0; i < r->nekus; i++) {
            if (!dotted_oid(r->ekus[i])) {
                scitt__policy_say(reason, cap, "issuers[%zu].eku[%zu] is not a dotted OID", ri, i);
                return SCITT_ERR_POLICY;
            }
        }
    }
    if (bind >= 0) {
        if (scitt_json_str_eq(j, (size_t)bind, "san_uri")) {
            r->bind = BIND_SAN_URI;
        } else if (scitt_json_str_eq(j, (size_t)bind, "did_x509")) {
            r->bind = BIND_DID_X509;
        } else {
            scitt__policy_say(reason, cap,
                              "issuers[%zu].bind_iss must be \"san_uri\" or \"did_x509\"", ri);
            return SCITT_ERR_POLICY;
        }
        if (r->did_x509) {
            scitt__policy_say(reason, cap,
                              "issuers[%zu]: a did_x509 rule binds iss already (no \"bind_iss\")",
                              ri);
            return SCITT_ERR_POLICY;
        }
    }
    scitt__policy_rule_digest(r);
    return SCITT_OK;
}

void scitt__policy_rule_digest(rule *r)
{
    static const char tag[] = "scittd policy rule v1";
    uint8_t roots[SCITT_SHA256_LEN];
    scitt_x509_roots_digest(r->roots, roots);
    uint8_t flags[4] = {r->did_x509, (uint8_t)r->bind, r->roots != NULL, (uint8_t)r->nekus};
    scitt_span parts[3 + 2 * MAX_EKUS];
    uint8_t lens[MAX_EKUS];
    size_t np = 0;
    parts[np++] = scitt_span_make(tag, sizeof(tag));
    parts[np++] = scitt_span_make(roots, sizeof(roots));
    parts[np++] = scitt_span_make(flags, sizeof(flags));
    for (size_t i = 0; i < r->nekus; i++) {
        size_t len = strlen(r->ekus[i]); /* a dotted OID of at most 127 characters */
        lens[i] = (uint8_t)len;
        parts[np++] = scitt_span_make(&lens[i], 1);
        parts[np++] = scitt_span_make(r->ekus[i], len);
    }
    scitt_sha256_v(parts, np, r->digest);
}

static scitt_err parse_doc(scitt_policy *p, const scitt_json *j, char *reason, size_t cap)
{
    if (j->toks[0].type != SCITT_JSON_OBJECT) {
        scitt__policy_say(reason, cap, "the policy must be a JSON object");
        return SCITT_ERR_POLICY;
    }
    bool have_version = false, have_issuers = false;
    for (size_t m = 0; m < j->toks[0].count; m++) {
        long k = scitt_json_member(j, 0, m), v = k + 1;
        int64_t n;
        if (scitt_json_str_eq(j, (size_t)k, "version")) {
            if (scitt_json_int(j, (size_t)v, &n) != SCITT_OK || n != 1) {
                scitt__policy_say(reason, cap, "\"version\" must be 1");
                return SCITT_ERR_POLICY;
            }
            have_version = true;
        } else if (scitt_json_str_eq(j, (size_t)k, "development")) {
            p->development = j->toks[v].type == SCITT_JSON_TRUE;
        } else if (scitt_json_str_eq(j, (size_t)k, "algorithms")) {
            char *names[MAX_ALGS] = {0};
            size_t nn = 0;
            scitt_err e = string_list(j, v, names, MAX_ALGS, &nn, "algorithms", reason, cap);
            for (size_t i = 0; e == SCITT_OK && i < nn; i++) {
                int64_t alg = scitt_cose_alg_from_name(scitt_span_str(names[i]));
                if (alg == 0) {
                    scitt__policy_say(reason, cap, "\"algorithms\": unknown algorithm \"%s\"",
                                      names[i]);
                    e = SCITT_ERR_POLICY;
                }
                p->algs[p->nalgs++] = alg;
            }
            for (size_t i = 0; i < nn; i++) {
                scitt_free(names[i]);
            }
            if (e) {
                return e;
            }
        } else if (scitt_json_str_eq(j, (size_t)k, "max_statement_bytes")) {
            if (scitt_json_int(j, (size_t)v, &n) != SCITT_OK || n < 64 ||
                (uint64_t)n > SCITT_LIMIT_STATEMENT_MAX) {
                scitt__policy_say(reason, cap, "\"max_statement_bytes\" must be 64..%u",
                                  SCITT_LIMIT_STATEMENT_MAX);
                return SCITT_ERR_POLICY;
            }
            p->max_bytes = (size_t)n;
        } else if (scitt_json_str_eq(j, (size_t)k, "clock_skew_seconds")) {
            if (scitt_json_int(j, (size_t)v, &n) != SCITT_OK || n < 0 || n > CLOCK_SKEW_MAX) {
                scitt__policy_say(reason, cap, "\"clock_skew_seconds\" must be 0..%d",
                                  CLOCK_SKEW_MAX);
                return SCITT_ERR_POLICY;
            }
            p->clock_skew = n;
        } else if (scitt_json_str_eq(j, (size_t)k, "x509_time")) {
            if (scitt_json_str_eq(j, (size_t)v, "registration")) {
                p->tmode = TIME_REGISTRATION;
                p->clock_skew = CLOCK_SKEW_DEFAULT;
            } else if (scitt_json_str_eq(j, (size_t)v, "iat")) {
                p->tmode = TIME_IAT;
            } else if (scitt_json_str_eq(j, (size_t)v, "off")) {
                p->tmode = TIME_OFF;
            } else {
                scitt__policy_say(reason, cap,
                                  "\"x509_time\" must be \"registration\", \"iat\" or \"off\"");
                return SCITT_ERR_POLICY;
            }
        } else if (scitt_json_str_eq(j, (size_t)k, "required_claims")) {
            char *names[8] = {0};
            size_t nn = 0;
            scitt_err e = string_list(j, v, names, 8, &nn, "required_claims", reason, cap);
            for (size_t i = 0; e == SCITT_OK && i < nn; i++) {
                if (!strcmp(names[i], "iat")) {
                    p->need_iat = true;
                } else if (!strcmp(names[i], "nbf")) {
                    p->need_nbf = true;
                } else if (!strcmp(names[i], "exp")) {
                    p->need_exp = true;
                } else if (strcmp(names[i], "iss") != 0 && strcmp(names[i], "sub") != 0) {
                    scitt__policy_say(reason, cap, "\"required_claims\": unknown claim \"%s\"",
                                      names[i]);
                    e = SCITT_ERR_POLICY;
                }
            }
            for (size_t i = 0; i < nn; i++) {
                scitt_free(names[i]);
            }
            if (e) {
                return e;
            }
        } else if (scitt_json_str_eq(j, (size_t)k, "content_types")) {
            p->have_ctypes = true;
            scitt_err e =
                string_list(j, v, p->ctypes, MAX_TYPES, &p->nctypes, "content_types", reason, cap);
            if (e) {
                return e;
            }
        } else if (scitt_json_str_eq(j, (size_t)k, "preimage_content_types")) {
            p->have_ptypes = true;
            scitt_err e = string_list(j, v, p->ptypes, MAX_TYPES, &p->nptypes,
                                      "preimage_content_types", reason, cap);
            if (e) {
                return e;
            }
        } else if (scitt_json_str_eq(j, (size_t)k, "issuers")) {
            if (j->toks[v].type != SCITT_JSON_ARRAY || j->toks[v].count == 0 ||
                j->toks[v].count > MAX_RULES) {
                scitt__policy_say(reason, cap, "\"issuers\" must be an array of 1..%d rules",
                                  MAX_RULES);
                return SCITT_ERR_POLICY;
            }
            for (size_t i = 0; i < j->toks[v].count; i++) {
                scitt_err e = parse_rule(j, scitt_json_at(j, (size_t)v, i), &p->rules[p->nrules++],
                                         i, reason, cap);
                if (e) {
                    return e;
                }
            }
            have_issuers = true;
        } else {
            char name[64];
            size_t nl;
            if (scitt_json_string(j, (size_t)k, name, sizeof(name), &nl) != SCITT_OK) {
                snprintf(name, sizeof(name), "?");
            }
            scitt__policy_say(reason, cap, "unknown member \"%s\"", name);
            return SCITT_ERR_POLICY;
        }
    }
    if (!have_version || !have_issuers) {
        scitt__policy_say(reason, cap, "the policy needs \"version\": 1 and \"issuers\"");
        return SCITT_ERR_POLICY;
    }
    return SCITT_OK;
}

scitt_err scitt_policy_parse(scitt_span json, scitt_policy **out, char *reason, size_t cap)
{
    *out = NULL;
    scitt__policy_say(reason, cap, "ok");
    scitt_policy *p = scitt_calloc(1, sizeof(*p));
    if (!p) {
        return SCITT_ERR_NOMEM;
    }
    p->max_bytes = SCITT_LIMIT_STATEMENT_DEFAULT;
    p->tmode = TIME_REGISTRATION;
    p->clock_skew = CLOCK_SKEW_DEFAULT;
    p->text = scitt_malloc(json.len ? json.len : 1);
    if (!p->text) {
        scitt_free(p);
        return SCITT_ERR_NOMEM;
    }
    if (json.len) {
        memcpy(p->text, json.ptr, json.len);
    }
    p->text_len = json.len;
    scitt_json j;
    scitt_err e = scitt_json_parse(scitt_span_make(p->text, p->text_len), &j);
    if (e != SCITT_OK) {
        scitt__policy_say(reason, cap, "the policy is not valid JSON: %s", scitt_err_str(e));
        scitt_policy_free(p);
        return SCITT_ERR_POLICY;
    }
    e = parse_doc(p, &j, reason, cap);
    scitt_json_clear(&j);
    if (e != SCITT_OK) {
        scitt_policy_free(p);
        return e;
    }
    if (p->nalgs == 0) {
        static const int64_t defaults[] = {
            SCITT_COSE_ALG_ES256,  SCITT_COSE_ALG_ES384,   SCITT_COSE_ALG_ES512,
            SCITT_COSE_ALG_ESP256, SCITT_COSE_ALG_ESP384,  SCITT_COSE_ALG_ESP512,
            SCITT_COSE_ALG_EDDSA,  SCITT_COSE_ALG_ED25519, SCITT_COSE_ALG_PS256,
            SCITT_COSE_ALG_PS384,  SCITT_COSE_ALG_PS512};
        memcpy(p->algs, defaults, sizeof(defaults));
        p->nalgs = sizeof(defaults) / sizeof(defaults[0]);
    }
    *out = p;
    return SCITT_OK;
}

scitt_err scitt_policy_development(scitt_policy **out)
{
    return scitt_policy_parse(scitt_span_make(development_text, sizeof(development_text) - 1), out,
                              NULL, 0);
}

scitt_span scitt_policy_text(const scitt_policy *p)
{
    return scitt_span_make(p->text, p->text_len);
}

bool scitt_policy_is_development(const scitt_policy *p)
{
    return p->development;
}

size_t scitt_policy_max_bytes(const scitt_policy *p)
{
    return p->max_bytes;
}
