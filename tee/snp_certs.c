/*
 * Gathering the endorsement certificates of an SNP report from the three places they come from:
 * a PEM bundle (operator file, KDS cert_chain, /attestation output), the GHCB certificate table
 * (SNP_GET_EXT_REPORT, configfs-tsm auxblob) and the Confidential ACI THIM JSON. Every input is
 * parsed into a scratch set first and merged only when all of it is good, so a failed call leaves
 * the caller's set unchanged.
 */
#include "scitt/tee.h"

#include <string.h>

#include "scitt/json.h"
#include "scitt/limits.h"
#include "tee_internal.h"

/* GHCB specification GUIDs, in table byte order (the order of the RFC 4122 string form). */
const uint8_t scitt__snp_guid_vcek[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                          0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
const uint8_t scitt__snp_guid_vlek[16] = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                                          0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};
const uint8_t scitt__snp_guid_ask[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                         0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
const uint8_t scitt__snp_guid_ark[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                         0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

#define TABLE_ENTRY_LEN 24u

void scitt_snp_certs_init(scitt_snp_certs *c)
{
    memset(c, 0, sizeof(*c));
}

void scitt_snp_certs_clear(scitt_snp_certs *c)
{
    if (!c) {
        return;
    }
    for (int i = 0; i < SCITT_SNP_CERT_ROLES; i++) {
        scitt_free(c->der[i]);
    }
    memset(c, 0, sizeof(*c));
}

scitt_span scitt_snp_certs_get(const scitt_snp_certs *c, scitt_snp_cert_role role)
{
    if (!c || (int)role < 0 || role >= SCITT_SNP_CERT_ROLES || !c->der[role]) {
        return scitt_span_make(NULL, 0);
    }
    return scitt_span_make(c->der[role], c->len[role]);
}

/* Stores a copy of @p der under @p role; the same bytes twice are fine, different ones are not. */
static scitt_err put_role(scitt_snp_certs *c, scitt_snp_cert_role role, scitt_span der,
                          scitt_tee_reason *why)
{
    if (c->der[role]) {
        if (scitt_span_eq(scitt_span_make(c->der[role], c->len[role]), der)) {
            return SCITT_OK;
        }
        return scitt__tee_fail(why, SCITT_TEE_CERT_CONFLICT, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    uint8_t *copy = scitt_malloc(der.len);
    if (!copy) {
        return SCITT_ERR_NOMEM;
    }
    memcpy(copy, der.ptr, der.len);
    c->der[role] = copy;
    c->len[role] = der.len;
    return SCITT_OK;
}

/* Moves every certificate of @p src into @p dst if none conflicts; @p src ends empty. */
static scitt_err merge(scitt_snp_certs *dst, scitt_snp_certs *src, scitt_tee_reason *why)
{
    for (int i = 0; i < SCITT_SNP_CERT_ROLES; i++) {
        if (src->der[i] && dst->der[i] &&
            !scitt_span_eq(scitt_span_make(src->der[i], src->len[i]),
                           scitt_span_make(dst->der[i], dst->len[i]))) {
            scitt_snp_certs_clear(src);
            return scitt__tee_fail(why, SCITT_TEE_CERT_CONFLICT, SCITT_ERR_EVIDENCE_MALFORMED);
        }
    }
    for (int i = 0; i < SCITT_SNP_CERT_ROLES; i++) {
        if (src->der[i] && !dst->der[i]) {
            dst->der[i] = src->der[i];
            dst->len[i] = src->len[i];
            src->der[i] = NULL;
        }
    }
    scitt_snp_certs_clear(src);
    return scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The role a certificate plays, from its own content (see scitt_snp_certs_add_pem). */
static scitt_err classify(scitt_span der, scitt_snp_cert_role *role, scitt_tee_reason *why)
{
    scitt__x509 *x = NULL;
    scitt_err err = scitt__tee_x509_parse(der, &x);
    if (err != SCITT_OK) {
        return scitt__tee_fail(why, SCITT_TEE_CERT_PARSE, err);
    }
    scitt__x509_info info;
    err = scitt__x509_info_get(x, &info);
    if (err != SCITT_OK) {
        scitt__x509_free(x);
        return scitt__tee_fail(why, SCITT_TEE_CERT_PARSE, err);
    }
    err = SCITT_OK;
    if (info.key_type == SCITT__KEY_RSA && info.self_issued) {
        *role = SCITT_SNP_CERT_ARK;
    } else if (info.key_type == SCITT__KEY_RSA && has_prefix(info.subject_cn, "SEV-VLEK-")) {
        *role = SCITT_SNP_CERT_ASVK;
    } else if (info.key_type == SCITT__KEY_RSA && has_prefix(info.subject_cn, "SEV-")) {
        *role = SCITT_SNP_CERT_ASK;
    } else if (info.key_type == SCITT__KEY_EC_P384 && !info.self_issued) {
        scitt_snp_vcek_info v;
        err = scitt__snp_vcek_from_x509(x, &v, why);
        *role = v.is_vlek ? SCITT_SNP_CERT_VLEK : SCITT_SNP_CERT_VCEK;
    } else {
        err = scitt__tee_fail(why, SCITT_TEE_CERT_ROLE, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    scitt__x509_free(x);
    return err;
}

scitt_err scitt_snp_certs_add_der(scitt_snp_certs *c, scitt_snp_cert_role role, scitt_span der,
                                  scitt_tee_reason *why)
{
    if (!c || (int)role < 0 || role >= SCITT_SNP_CERT_ROLES || (!der.ptr && der.len)) {
        return SCITT_ERR_INVALID_ARG;
    }
    scitt__x509 *x = NULL;
    scitt_err err = scitt__tee_x509_parse(der, &x);
    scitt__x509_free(x);
    if (err != SCITT_OK) {
        return scitt__tee_fail(why, SCITT_TEE_CERT_PARSE, err);
    }
    return put_role(c, role, der, why);
}

/* ---- PEM ---- */

static bool is_space(uint8_t ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static bool is_b64(uint8_t ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '+' || ch == '/' || ch == '=';
}

/* Reads one line starting at *pos: returns its span without the line ending ("\n" or "\r\n");
 * *pos moves past the ending. A last line without an ending is allowed. */
static scitt_span next_line(scitt_span in, size_t *pos)
{
    size_t start = *pos, end = start;
    while (end < in.len && in.ptr[end] != '\n') {
        end++;
    }
    *pos = end < in.len ? end + 1 : end;
    if (end > start && in.ptr[end - 1] == '\r') {
        end--;
    }
    return scitt_span_make(in.ptr + start, end - start);
}

static scitt_err pem_into(scitt_span pem, scitt_snp_certs *set, scitt_tee_reason *why)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----";
    static const char end[] = "-----END CERTIFICATE-----";
    if (pem.len > SCITT_LIMIT_TEE_BLOB) {
        return scitt__tee_fail(why, SCITT_TEE_PEM, SCITT_ERR_TOO_LARGE);
    }
    scitt_err err = SCITT_OK;
    size_t pos = 0, blocks = 0;
    char *text = scitt_malloc(pem.len + 1);
    uint8_t *der = scitt_malloc(pem.len + 1);
    if (!text || !der) {
        err = SCITT_ERR_NOMEM;
        goto out;
    }
    for (;;) {
        while (pos < pem.len && is_space(pem.ptr[pos])) {
            pos++;
        }
        if (pos == pem.len) {
            break;
        }
        if (!scitt_span_eq_str(next_line(pem, &pos), begin)) {
            err = scitt__tee_fail(why, SCITT_TEE_PEM, SCITT_ERR_EVIDENCE_MALFORMED);
            goto out;
        }
        if (++blocks > SCITT_LIMIT_TEE_CERTS) {
            err = scitt__tee_fail(why, SCITT_TEE_CERT_TOO_MANY, SCITT_ERR_TOO_LARGE);
            goto out;
        }
        size_t tlen = 0;
        bool closed = false;
        while (pos < pem.len) {
            scitt_span line = next_line(pem, &pos);
            if (scitt_span_eq_str(line, end)) {
                closed = true;
                break;
            }
            for (size_t i = 0; i < line.len; i++) {
                if (!is_b64(line.ptr[i])) {
                    err = scitt__tee_fail(why, SCITT_TEE_PEM, SCITT_ERR_EVIDENCE_MALFORMED);
                    goto out;
                }
            }
            memcpy(text + tlen, line.ptr, line.len);
            tlen += line.len;
        }
        size_t dlen = 0;
        if (!closed || tlen == 0 ||
            scitt_base64_decode(scitt_span_make(text, tlen), der, pem.len + 1, &dlen) != SCITT_OK) {
            err = scitt__tee_fail(why, SCITT_TEE_PEM, SCITT_ERR_EVIDENCE_MALFORMED);
            goto out;
        }
        scitt_snp_cert_role role;
        err = classify(scitt_span_make(der, dlen), &role, why);
        if (err == SCITT_OK) {
            err = put_role(set, role, scitt_span_make(der, dlen), why);
        }
        if (err != SCITT_OK) {
            goto out;
        }
    }
    if (blocks == 0) {
        err = scitt__tee_fail(why, SCITT_TEE_PEM, SCITT_ERR_EVIDENCE_MALFORMED);
    }
out:
    scitt_free(text);
    scitt_free(der);
    return err;
}

scitt_err scitt_snp_certs_add_pem(scitt_snp_certs *c, scitt_span pem, scitt_tee_reason *why)
{
    if (!c || (!pem.ptr && pem.len)) {
        return SCITT_ERR_INVALID_ARG;
    }
    scitt_snp_certs tmp;
    scitt_snp_certs_init(&tmp);
    scitt_err err = pem_into(pem, &tmp, why);
    if (err != SCITT_OK) {
        scitt_snp_certs_clear(&tmp);
        return err;
    }
    return merge(c, &tmp, why);
}

/* ---- GHCB certificate table ---- */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static scitt_err table_into(scitt_span t, scitt_snp_certs *set, scitt_tee_reason *why)
{
    if (t.len > SCITT_LIMIT_TEE_BLOB) {
        return scitt__tee_fail(why, SCITT_TEE_CERT_TABLE, SCITT_ERR_TOO_LARGE);
    }
    struct {
        const uint8_t *guid;
        uint32_t off, len;
    } ent[SCITT_LIMIT_TEE_CERTS];
    size_t n = 0, pos = 0;
    static const uint8_t zero[TABLE_ENTRY_LEN] = {0};
    for (;;) {
        if (t.len - pos < TABLE_ENTRY_LEN) {
            /* The table must end with an all-zero entry inside the buffer. */
            return scitt__tee_fail(why, SCITT_TEE_CERT_TABLE, SCITT_ERR_EVIDENCE_MALFORMED);
        }
        const uint8_t *e = t.ptr + pos;
        pos += TABLE_ENTRY_LEN;
        if (memcmp(e, zero, TABLE_ENTRY_LEN) == 0) {
            break;
        }
        if (n == SCITT_LIMIT_TEE_CERTS) {
            return scitt__tee_fail(why, SCITT_TEE_CERT_TOO_MANY, SCITT_ERR_TOO_LARGE);
        }
        ent[n].guid = e;
        ent[n].off = le32(e + 16);
        ent[n].len = le32(e + 20);
        n++;
    }
    for (size_t i = 0; i < n; i++) {
        /* Certificates live after the entries (and their terminator), inside the buffer. */
        if (ent[i].len == 0 || ent[i].off < pos || ent[i].off > t.len ||
            ent[i].len > t.len - ent[i].off) {
            return scitt__tee_fail(why, SCITT_TEE_CERT_TABLE, SCITT_ERR_EVIDENCE_MALFORMED);
        }
        for (size_t j = 0; j < i; j++) {
            if (memcmp(ent[i].guid, ent[j].guid, 16) == 0) {
                return scitt__tee_fail(why, SCITT_TEE_CERT_TABLE, SCITT_ERR_EVIDENCE_MALFORMED);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        scitt_span der = scitt_span_make(t.ptr + ent[i].off, ent[i].len);
        bool vcek = memcmp(ent[i].guid, scitt__snp_guid_vcek, 16) == 0;
        bool vlek = memcmp(ent[i].guid, scitt__snp_guid_vlek, 16) == 0;
        bool ask = memcmp(ent[i].guid, scitt__snp_guid_ask, 16) == 0;
        bool ark = memcmp(ent[i].guid, scitt__snp_guid_ark, 16) == 0;
        if (!vcek && !vlek && !ask && !ark) {
            continue; /* e.g. a provider-specific blob; bounds were checked above */
        }
        /* The GUID says what the host claims it is; the certificate must agree. The ASK slot
         * carries the ASVK when the report is VLEK-signed. */
        scitt_snp_cert_role role;
        scitt_err err = classify(der, &role, why);
        if (err != SCITT_OK) {
            return err;
        }
        bool agrees = (vcek && role == SCITT_SNP_CERT_VCEK) ||
                      (vlek && role == SCITT_SNP_CERT_VLEK) ||
                      (ask && (role == SCITT_SNP_CERT_ASK || role == SCITT_SNP_CERT_ASVK)) ||
                      (ark && role == SCITT_SNP_CERT_ARK);
        if (!agrees) {
            return scitt__tee_fail(why, SCITT_TEE_CERT_ROLE, SCITT_ERR_EVIDENCE_MALFORMED);
        }
        err = put_role(set, role, der, why);
        if (err != SCITT_OK) {
            return err;
        }
    }
    return SCITT_OK;
}

scitt_err scitt_snp_certs_add_table(scitt_snp_certs *c, scitt_span table, scitt_tee_reason *why)
{
    if (!c || (!table.ptr && table.len)) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (table.len == 0) {
        return scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
    }
    scitt_snp_certs tmp;
    scitt_snp_certs_init(&tmp);
    scitt_err err = table_into(table, &tmp, why);
    if (err != SCITT_OK) {
        scitt_snp_certs_clear(&tmp);
        return err;
    }
    return merge(c, &tmp, why);
}

/* ---- Confidential ACI THIM JSON ---- */

static scitt_err thim_pem(const scitt_json *j, const char *key, scitt_snp_certs *set,
                          scitt_tee_reason *why)
{
    long t = scitt_json_get(j, 0, key);
    if (t < 0 || scitt_json_type_of(j, (size_t)t) != SCITT_JSON_STRING) {
        return scitt__tee_fail(why, SCITT_TEE_THIM_JSON, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    char *pem = NULL;
    if (scitt_json_strdup(j, (size_t)t, &pem) != SCITT_OK) {
        return scitt__tee_fail(why, SCITT_TEE_THIM_JSON, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    scitt_err err = pem_into(scitt_span_str(pem), set, why);
    scitt_free(pem);
    return err;
}

static scitt_err thim_into(scitt_span json, scitt_snp_certs *set, uint64_t *tcbm, bool *has_tcbm,
                           scitt_tee_reason *why)
{
    if (json.len > SCITT_LIMIT_TEE_BLOB) {
        return scitt__tee_fail(why, SCITT_TEE_THIM_JSON, SCITT_ERR_TOO_LARGE);
    }
    scitt_json j;
    if (scitt_json_parse(json, &j) != SCITT_OK) {
        return scitt__tee_fail(why, SCITT_TEE_THIM_JSON, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    scitt_err err;
    if (scitt_json_type_of(&j, 0) != SCITT_JSON_OBJECT) {
        err = scitt__tee_fail(why, SCITT_TEE_THIM_JSON, SCITT_ERR_EVIDENCE_MALFORMED);
        goto out;
    }
    err = thim_pem(&j, "vcekCert", set, why);
    if (err == SCITT_OK) {
        err = thim_pem(&j, "certificateChain", set, why);
    }
    if (err != SCITT_OK) {
        goto out;
    }
    long t = scitt_json_get(&j, 0, "tcbm");
    uint64_t v = 0;
    bool have = t >= 0;
    if (have) {
        char hex[17];
        size_t n = 0;
        uint8_t raw[8];
        size_t rn = 0;
        if (scitt_json_type_of(&j, (size_t)t) != SCITT_JSON_STRING ||
            scitt_json_string(&j, (size_t)t, hex, sizeof(hex), &n) != SCITT_OK || n != 16 ||
            scitt_hex_decode(scitt_span_make(hex, n), raw, sizeof(raw), &rn) != SCITT_OK) {
            err = scitt__tee_fail(why, SCITT_TEE_THIM_JSON, SCITT_ERR_EVIDENCE_MALFORMED);
            goto out;
        }
        for (size_t i = 0; i < 8; i++) {
            v = v << 8 | raw[i];
        }
    }
    if (tcbm) {
        *tcbm = v;
    }
    if (has_tcbm) {
        *has_tcbm = have;
    }
out:
    scitt_json_clear(&j);
    return err;
}

scitt_err scitt_snp_certs_add_thim(scitt_snp_certs *c, scitt_span json, uint64_t *tcbm,
                                   bool *has_tcbm, scitt_tee_reason *why)
{
    if (!c || (!json.ptr && json.len)) {
        return SCITT_ERR_INVALID_ARG;
    }
    scitt_snp_certs tmp;
    scitt_snp_certs_init(&tmp);
    scitt_err err = thim_into(json, &tmp, tcbm, has_tcbm, why);
    if (err != SCITT_OK) {
        scitt_snp_certs_clear(&tmp);
        return err;
    }
    return merge(c, &tmp, why);
}

/* ---- output and ACI files ---- */

scitt_err scitt_snp_certs_to_pem(const scitt_snp_certs *c, scitt_dynbuf *out)
{
    static const scitt_snp_cert_role order[] = {SCITT_SNP_CERT_VCEK, SCITT_SNP_CERT_VLEK,
                                                SCITT_SNP_CERT_ASK, SCITT_SNP_CERT_ASVK,
                                                SCITT_SNP_CERT_ARK};
    if (!c || !out) {
        return SCITT_ERR_INVALID_ARG;
    }
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        scitt_span der = scitt_snp_certs_get(c, order[i]);
        if (!der.len) {
            continue;
        }
        size_t cap = SCITT_BASE64_LEN(der.len);
        char *b64 = scitt_malloc(cap);
        if (!b64) {
            return SCITT_ERR_NOMEM;
        }
        scitt_err err = scitt_base64_encode(der, b64, cap);
        if (err != SCITT_OK) {
            scitt_free(b64);
            return err;
        }
        scitt_dynbuf_str(out, "-----BEGIN CERTIFICATE-----\n");
        size_t n = strlen(b64);
        for (size_t k = 0; k < n; k += 64) {
            scitt_dynbuf_put(out, b64 + k, n - k < 64 ? n - k : 64);
            scitt_dynbuf_u8(out, '\n');
        }
        scitt_dynbuf_str(out, "-----END CERTIFICATE-----\n");
        scitt_free(b64);
    }
    return out->err;
}

scitt_err scitt_tee_aci_decode(scitt_span text, scitt_dynbuf *out, scitt_tee_reason *why)
{
    if (!out || (!text.ptr && text.len)) {
        return SCITT_ERR_INVALID_ARG;
    }
    if (text.len > SCITT_LIMIT_TEE_FILE) {
        return scitt__tee_fail(why, SCITT_TEE_BASE64, SCITT_ERR_TOO_LARGE);
    }
    /* Line breaks anywhere (wrapped base64) and spaces at the ends are tolerated; nothing else. */
    size_t a = 0, b = text.len;
    while (a < b && is_space(text.ptr[a])) {
        a++;
    }
    while (b > a && is_space(text.ptr[b - 1])) {
        b--;
    }
    char *joined = scitt_malloc(b - a + 1);
    if (!joined) {
        return SCITT_ERR_NOMEM;
    }
    size_t n = 0;
    for (size_t i = a; i < b; i++) {
        if (text.ptr[i] != '\n' && text.ptr[i] != '\r') {
            joined[n++] = (char)text.ptr[i];
        }
    }
    size_t cap = n / 4 * 3 + 3;
    uint8_t *dst = scitt_dynbuf_reserve(out, cap);
    size_t got = 0;
    scitt_err err = dst ? SCITT_OK : out->err;
    if (err == SCITT_OK &&
        scitt_base64_decode(scitt_span_make(joined, n), dst, cap, &got) != SCITT_OK) {
        err = scitt__tee_fail(why, SCITT_TEE_BASE64, SCITT_ERR_EVIDENCE_MALFORMED);
    }
    scitt_free(joined);
    if (dst) {
        /* Give back the part of the reservation the decoded bytes did not use. */
        out->len -= cap - (err == SCITT_OK ? got : 0);
    }
    if (err == SCITT_OK) {
        scitt__tee_fail(why, SCITT_TEE_OK, SCITT_OK);
    }
    return err;
}
