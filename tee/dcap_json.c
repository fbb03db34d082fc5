/*
 * The signed JSON collateral of DCAP: TCB info (version 3, "TDX" or "SGX") and QE identity
 * (version 2, "TD_QE" or "QE"), in the response-body form of Intel's PCS:
 * {"tcbInfo": {...}, "signature": "<r||s hex>"}. The signature covers the exact bytes of the
 * tcbInfo (enclaveIdentity) value as they stand in the file, so the parsed document keeps that
 * span of its own copy; nothing is ever re-serialised. Members verification relies on must be
 * present and well-typed; other members inside the signed value are Intel's to add and are
 * ignored; nothing but the two members may stand beside it, since no signature would cover it.
 */
#include "scitt/dcap.h"

#include <string.h>

#include "scitt/json.h"
#include "tee_internal.h"

/* ---- status names, accept lists, times ---- */

static const char *const status_names[] = {
    [SCITT_DCAP_TCB_UNKNOWN] = "Unknown",
    [SCITT_DCAP_TCB_UP_TO_DATE] = "UpToDate",
    [SCITT_DCAP_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
    [SCITT_DCAP_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
    [SCITT_DCAP_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
    [SCITT_DCAP_TCB_OUT_OF_DATE] = "OutOfDate",
    [SCITT_DCAP_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
    [SCITT_DCAP_TCB_REVOKED] = "Revoked",
    [SCITT_DCAP_TCB_NOT_SUPPORTED] = "TcbNotSupported",
};
#define N_STATUS (sizeof(status_names) / sizeof(status_names[0]))

const char *scitt_dcap_tcb_status_name(scitt_dcap_tcb_status s)
{
    return (unsigned)s < N_STATUS ? status_names[s] : "Unknown";
}

scitt_err scitt_dcap_tcb_status_from_name(scitt_span name, scitt_dcap_tcb_status *out)
{
    for (size_t i = 1; i < N_STATUS; i++) {
        if (scitt_span_eq_str(name, status_names[i])) {
            *out = (scitt_dcap_tcb_status)i;
            return SCITT_OK;
        }
    }
    return SCITT_ERR_NOT_FOUND;
}

scitt_err scitt_dcap_accept_parse(scitt_span list, uint32_t *out)
{
    uint32_t mask = 0;
    size_t pos = 0;
    if (!out || (!list.ptr && list.len)) {
        return SCITT_ERR_INVALID_ARG;
    }
    for (;;) {
        size_t end = pos;
        while (end < list.len && list.ptr[end] != ',') {
            end++;
        }
        scitt_dcap_tcb_status s;
        if (end == pos ||
            scitt_dcap_tcb_status_from_name(scitt_span_make(list.ptr + pos, end - pos), &s) ||
            s == SCITT_DCAP_TCB_REVOKED || s == SCITT_DCAP_TCB_NOT_SUPPORTED) {
            return SCITT_ERR_INVALID_ARG;
        }
        mask |= SCITT_DCAP_ACCEPT(s);
        if (end == list.len) {
            break;
        }
        pos = end + 1;
    }
    *out = mask;
    return SCITT_OK;
}

scitt_err scitt_dcap_time_parse(scitt_span t, int64_t *out)
{
    return scitt_utc_parse(t, out);
}

/* ---- documents ---- */

typedef struct ctx {
    scitt_json j;
    scitt__dcap_doc *d;
    bool bad;
} ctx;

static long member(ctx *c, size_t obj, const char *key, scitt_json_type type)
{
    long t = c->bad ? -1 : scitt_json_get(&c->j, obj, key);
    if (t < 0 || scitt_json_type_of(&c->j, (size_t)t) != type) {
        c->bad = true;
        return -1;
    }
    return t;
}

/* The raw text of a string token: no escapes allowed (every string used here is ASCII). */
static scitt_span raw_string(ctx *c, long tok)
{
    if (tok < 0) {
        c->bad = true;
        return scitt_span_make(NULL, 0);
    }
    const scitt_json_tok *t = &c->j.toks[tok];
    scitt_span s = scitt_span_make(c->j.text.ptr + t->start, t->end - t->start);
    if (memchr(s.ptr, '\\', s.len)) {
        c->bad = true;
    }
    return s;
}

/* A string of exactly 2 * @p n hex digits, either case. */
static void hex_member(ctx *c, size_t obj, const char *key, uint8_t *out, size_t n)
{
    scitt_span s = raw_string(c, member(c, obj, key, SCITT_JSON_STRING));
    size_t got = 0;
    if (c->bad || s.len != 2 * n || scitt_hex_decode(s, out, n, &got) != SCITT_OK || got != n) {
        c->bad = true;
    }
}

static uint64_t uint_value(ctx *c, long tok, uint64_t max)
{
    uint64_t v = 0;
    if (tok < 0 || scitt_json_u64(&c->j, (size_t)tok, &v) != SCITT_OK || v > max) {
        c->bad = true;
        return 0;
    }
    return v;
}

static uint64_t uint_member(ctx *c, size_t obj, const char *key, uint64_t max)
{
    return uint_value(c, member(c, obj, key, SCITT_JSON_NUMBER), max);
}

static int64_t time_member(ctx *c, size_t obj, const char *key)
{
    int64_t t = 0;
    scitt_span s = raw_string(c, member(c, obj, key, SCITT_JSON_STRING));
    if (!c->bad && scitt_dcap_time_parse(s, &t) != SCITT_OK) {
        c->bad = true;
    }
    return t;
}

/* An array of exactly @p n {"svn": 0..255, ...} objects. */
static void components(ctx *c, size_t obj, const char *key, uint8_t out[16])
{
    long arr = member(c, obj, key, SCITT_JSON_ARRAY);
    if (c->bad || c->j.toks[arr].count != 16) {
        c->bad = true;
        return;
    }
    for (size_t i = 0; i < 16 && !c->bad; i++) {
        long e = scitt_json_at(&c->j, (size_t)arr, i);
        if (e < 0 || scitt_json_type_of(&c->j, (size_t)e) != SCITT_JSON_OBJECT) {
            c->bad = true;
            return;
        }
        out[i] = (uint8_t)uint_member(c, (size_t)e, "svn", 255);
    }
}

/* One tcbLevels entry; @p what: 0 platform (TCB info), 1 isvsvn (QE identity, TDX module). */
static void level(ctx *c, size_t obj, int what, bool tdx)
{
    scitt__dcap_doc *d = c->d;
    if (d->n_levels == SCITT__DCAP_LEVELS_MAX) {
        c->bad = true;
        return;
    }
    scitt__dcap_level *l = &d->levels[d->n_levels];
    memset(l, 0, sizeof(*l));
    long tcb = member(c, obj, "tcb", SCITT_JSON_OBJECT);
    if (c->bad) {
        return;
    }
    if (what == 0) {
        components(c, (size_t)tcb, "sgxtcbcomponents", l->sgx);
        l->pcesvn = (uint16_t)uint_member(c, (size_t)tcb, "pcesvn", 65535);
        if (tdx) {
            components(c, (size_t)tcb, "tdxtcbcomponents", l->tdx);
            l->has_tdx = true;
        }
    } else {
        l->isvsvn = (uint16_t)uint_member(c, (size_t)tcb, "isvsvn", 65535);
    }
    l->date = time_member(c, obj, "tcbDate");
    scitt_span st = raw_string(c, member(c, obj, "tcbStatus", SCITT_JSON_STRING));
    if (c->bad || scitt_dcap_tcb_status_from_name(st, &l->status) != SCITT_OK ||
        l->status == SCITT_DCAP_TCB_NOT_SUPPORTED) {
        c->bad = true;
        return;
    }
    l->adv_first = (uint32_t)d->n_adv;
    long adv = scitt_json_get(&c->j, obj, "advisoryIDs");
    if (adv >= 0) {
        if (scitt_json_type_of(&c->j, (size_t)adv) != SCITT_JSON_ARRAY) {
            c->bad = true;
            return;
        }
        for (size_t i = 0; i < c->j.toks[adv].count; i++) {
            long e = scitt_json_at(&c->j, (size_t)adv, i);
            if (e < 0 || scitt_json_type_of(&c->j, (size_t)e) != SCITT_JSON_STRING ||
                d->n_adv == SCITT__DCAP_ADV_MAX) {
                c->bad = true;
                return;
            }
            scitt_span id = raw_string(c, e);
            if (c->bad || id.len == 0 || id.len >= SCITT_DCAP_ADVISORY_MAX) {
                c->bad = true;
                return;
            }
            for (size_t k = 0; k < id.len; k++) {
                if (id.ptr[k] <= 0x20 || id.ptr[k] >= 0x7f) {
                    c->bad = true;
                    return;
                }
            }
            d->adv[d->n_adv++] = id;
        }
    }
    l->adv_n = (uint32_t)(d->n_adv - l->adv_first);
    d->n_levels++;
}

/* Appends every entry of the tcbLevels array under @p obj; returns the first index. */
static void levels(ctx *c, size_t obj, int what, bool tdx, uint32_t *first, uint32_t *n)
{
    long arr = member(c, obj, "tcbLevels", SCITT_JSON_ARRAY);
    *first = (uint32_t)c->d->n_levels;
    if (c->bad || c->j.toks[arr].count == 0) {
        c->bad = true;
        return;
    }
    for (size_t i = 0; i < c->j.toks[arr].count && !c->bad; i++) {
        long e = scitt_json_at(&c->j, (size_t)arr, i);
        if (e < 0 || scitt_json_type_of(&c->j, (size_t)e) != SCITT_JSON_OBJECT) {
            c->bad = true;
            return;
        }
        level(c, (size_t)e, what, tdx);
    }
    *n = (uint32_t)c->d->n_levels - *first;
}

static int hex_digit(uint8_t ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    return -1;
}

static void tdx_module(ctx *c, size_t obj, uint8_t mrsigner[48], uint8_t attr[8], uint8_t mask[8])
{
    hex_member(c, obj, "mrsigner", mrsigner, 48);
    hex_member(c, obj, "attributes", attr, 8);
    hex_member(c, obj, "attributesMask", mask, 8);
}

static void tcb_info(ctx *c, size_t body)
{
    scitt__dcap_doc *d = c->d;
    bool tdx = strcmp(d->id, "TDX") == 0;
    hex_member(c, body, "fmspc", d->fmspc, 6);
    hex_member(c, body, "pceId", d->pce_id, 2);
    long mod = scitt_json_get(&c->j, body, "tdxModule");
    if (tdx && mod >= 0) {
        if (scitt_json_type_of(&c->j, (size_t)mod) != SCITT_JSON_OBJECT) {
            c->bad = true;
            return;
        }
        tdx_module(c, (size_t)mod, d->module_mrsigner, d->module_attributes,
                   d->module_attributes_mask);
        d->has_module = true;
    }
    long ids = scitt_json_get(&c->j, body, "tdxModuleIdentities");
    if (tdx && ids >= 0) {
        if (scitt_json_type_of(&c->j, (size_t)ids) != SCITT_JSON_ARRAY ||
            c->j.toks[ids].count > SCITT__DCAP_MODULES_MAX) {
            c->bad = true;
            return;
        }
        for (size_t i = 0; i < c->j.toks[ids].count && !c->bad; i++) {
            long e = scitt_json_at(&c->j, (size_t)ids, i);
            if (e < 0 || scitt_json_type_of(&c->j, (size_t)e) != SCITT_JSON_OBJECT) {
                c->bad = true;
                return;
            }
            scitt__dcap_module *m = &d->modules[d->n_modules];
            memset(m, 0, sizeof(*m));
            /* "TDX_" and two hex digits: the module's major version. */
            scitt_span id = raw_string(c, member(c, (size_t)e, "id", SCITT_JSON_STRING));
            if (c->bad || id.len != 6 || memcmp(id.ptr, "TDX_", 4) != 0 ||
                hex_digit(id.ptr[4]) < 0 || hex_digit(id.ptr[5]) < 0) {
                c->bad = true;
                return;
            }
            m->version = (uint8_t)(hex_digit(id.ptr[4]) * 16 + hex_digit(id.ptr[5]));
            for (size_t k = 0; k < d->n_modules; k++) {
                if (d->modules[k].version == m->version) {
                    c->bad = true; /* two identities for one version */
                    return;
                }
            }
            tdx_module(c, (size_t)e, m->mrsigner, m->attributes, m->attributes_mask);
            levels(c, (size_t)e, 1, false, &m->level_first, &m->level_n);
            d->n_modules++;
        }
    }
    levels(c, body, 0, tdx, &d->level_first, &d->level_n);
}

static void qe_identity(ctx *c, size_t body)
{
    scitt__dcap_doc *d = c->d;
    hex_member(c, body, "miscselect", d->miscselect, 4);
    hex_member(c, body, "miscselectMask", d->miscselect_mask, 4);
    hex_member(c, body, "attributes", d->attributes, 16);
    hex_member(c, body, "attributesMask", d->attributes_mask, 16);
    hex_member(c, body, "mrsigner", d->mrsigner, 32);
    d->isvprodid = (uint16_t)uint_member(c, body, "isvprodid", 65535);
    levels(c, body, 1, false, &d->level_first, &d->level_n);
}

void scitt__dcap_doc_free(scitt__dcap_doc *d)
{
    if (d) {
        scitt_free(d->bytes);
        scitt_free(d);
    }
}

scitt_err scitt__dcap_doc_parse(scitt__dcap_doc_kind kind, scitt_span bytes, scitt__dcap_doc **out,
                                scitt_tee_reason *why)
{
    *out = NULL;
    bool tcb = kind == SCITT__DCAP_DOC_TCB_INFO;
    scitt_tee_reason bad = tcb ? SCITT_TEE_DCAP_TCB_INFO_FORMAT : SCITT_TEE_DCAP_QE_IDENTITY_FORMAT;
    if (bytes.len > SCITT_DCAP_COLLATERAL_FILE_MAX) {
        return scitt__tee_fail(why, bad, SCITT_ERR_TOO_LARGE);
    }
    scitt_err err = SCITT_OK;
    ctx c;
    memset(&c, 0, sizeof(c));
    scitt__dcap_doc *d = scitt_calloc(1, sizeof(*d));
    if (!d || !(d->bytes = scitt_malloc(bytes.len ? bytes.len : 1))) {
        err = SCITT_ERR_NOMEM;
        goto out;
    }
    c.d = d;
    d->kind = kind;
    d->len = bytes.len;
    if (bytes.len) {
        memcpy(d->bytes, bytes.ptr, bytes.len);
    }
    if (scitt_json_parse(scitt_span_make(d->bytes, d->len), &c.j) != SCITT_OK ||
        scitt_json_type_of(&c.j, 0) != SCITT_JSON_OBJECT || c.j.toks[0].count != 2) {
        err = scitt__tee_fail(why, bad, SCITT_ERR_EVIDENCE_MALFORMED);
        goto out;
    }
    long body = member(&c, 0, tcb ? "tcbInfo" : "enclaveIdentity", SCITT_JSON_OBJECT);
    scitt_span sig = raw_string(&c, member(&c, 0, "signature", SCITT_JSON_STRING));
    size_t got = 0;
    if (c.bad || sig.len != 128 || scitt_hex_decode(sig, d->sig, 64, &got) != SCITT_OK) {
        err = scitt__tee_fail(why, bad, SCITT_ERR_EVIDENCE_MALFORMED);
        goto out;
    }
    const scitt_json_tok *bt = &c.j.toks[body];
    d->body = scitt_span_make(d->bytes + bt->start, bt->end - bt->start);

    scitt_span id = raw_string(&c, member(&c, (size_t)body, "id", SCITT_JSON_STRING));
    d->version = (uint32_t)uint_member(&c, (size_t)body, "version", UINT32_MAX);
    if (c.bad) {
        err = scitt__tee_fail(why, bad, SCITT_ERR_EVIDENCE_MALFORMED);
        goto out;
    }
    const char *ids[2] = {tcb ? "TDX" : "TD_QE", tcb ? "SGX" : "QE"};
    if (!scitt_span_eq_str(id, ids[0]) && !scitt_span_eq_str(id, ids[1])) {
        err = scitt__tee_fail(why, SCITT_TEE_DCAP_COLLATERAL_VERSION, SCITT_ERR_UNSUPPORTED);
        goto out;
    }
    memcpy(d->id, id.ptr, id.len);
    if (d->version != (tcb ? 3u : 2u)) {
        err = scitt__tee_fail(why, SCITT_TEE_DCAP_COLLATERAL_VERSION, SCITT_ERR_UNSUPPORTED);
        goto out;
    }
    d->issue_date = time_member(&c, (size_t)body, "issueDate");
    d->next_update = time_member(&c, (size_t)body, "nextUpdate");
    d->eval_number = uint_member(&c, (size_t)body, "tcbEvaluationDataNumber", UINT32_MAX);
    if (tcb) {
        /* tcbType 0 is the only way of comparing components Intel has defined. */
        if (!c.bad && uint_member(&c, (size_t)body, "tcbType", UINT32_MAX) != 0 && !c.bad) {
            err = scitt__tee_fail(why, SCITT_TEE_DCAP_COLLATERAL_VERSION, SCITT_ERR_UNSUPPORTED);
            goto out;
        }
        tcb_info(&c, (size_t)body);
    } else {
        qe_identity(&c, (size_t)body);
    }
    if (c.bad) {
        err = scitt__tee_fail(why, bad, SCITT_ERR_EVIDENCE_MALFORMED);
        goto out;
    }
    err = scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
out:
    scitt_json_clear(&c.j);
    if (err != SCITT_OK) {
        scitt__dcap_doc_free(d);
        d = NULL;
    }
    *out = d;
    return err;
}
