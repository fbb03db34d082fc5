/*
 * What a service answers besides receipts, parsed for libscitt-client: RFC 9290 problem details,
 * the transparency configuration and pages of GET /query. All of it comes from the network, so
 * it goes through the strict CBOR reader and nothing is trusted beyond its shape.
 */
#include "scitt/client.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "scitt/cbor.h"

void scitt_client_printable(scitt_span s, char *out, size_t cap)
{
    if (cap == 0) {
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            if (cap - o < 2) {
                break;
            }
            out[o++] = (char)c;
        } else {
            if (cap - o < 5) {
                break;
            }
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        }
    }
    out[o] = 0;
}

/* Reads an RFC 9290 oltext: a text string or tag 38 [lang, text]. */
static bool read_oltext(scitt_cbor_reader *r, scitt_span *text)
{
    scitt_cbor_item it;
    if (scitt_cbor_peek(r, &it) != SCITT_OK) {
        return false;
    }
    if (it.type == SCITT_CBOR_TAG) {
        uint64_t tag;
        size_t n;
        scitt_span lang;
        /* [lang, text] or [lang, text, direction] */
        return scitt_cbor_read_tag(r, &tag) == SCITT_OK && tag == 38 &&
               scitt_cbor_read_array(r, &n) == SCITT_OK && (n == 2 || n == 3) &&
               scitt_cbor_read_text(r, &lang) == SCITT_OK &&
               scitt_cbor_read_text(r, text) == SCITT_OK &&
               (n == 2 || scitt_cbor_skip(r, NULL) == SCITT_OK);
    }
    return scitt_cbor_read_text(r, text) == SCITT_OK;
}

bool scitt_client_problem_parse(scitt_span body, scitt_span *title, scitt_span *detail)
{
    *title = *detail = scitt_span_make(NULL, 0);
    scitt_cbor_reader rd;
    scitt_cbor_reader_init(&rd, body);
    size_t n;
    if (body.len == 0 || scitt_cbor_read_map(&rd, &n) != SCITT_OK) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t key;
        scitt_cbor_item it;
        if (scitt_cbor_peek(&rd, &it) != SCITT_OK) {
            return false;
        }
        bool is_int = it.type == SCITT_CBOR_UINT || it.type == SCITT_CBOR_NEGINT;
        if (is_int ? scitt_cbor_read_int(&rd, &key) != SCITT_OK
                   : scitt_cbor_skip(&rd, NULL) != SCITT_OK) {
            return false;
        }
        if (is_int && (key == -1 || key == -2)) {
            if (!read_oltext(&rd, key == -1 ? title : detail)) {
                return false;
            }
            continue;
        }
        if (scitt_cbor_skip(&rd, NULL) != SCITT_OK) {
            return false;
        }
    }
    return title->len || detail->len;
}

/* A text member of the transparency configuration (a CBOR map with text keys). */
bool scitt_client_config_text(scitt_span cfg, const char *key, char *out, size_t cap)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, cfg);
    size_t n;
    if (scitt_cbor_read_map(&r, &n) != SCITT_OK) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        scitt_span k, v;
        scitt_cbor_item it;
        if (scitt_cbor_peek(&r, &it) != SCITT_OK) {
            return false;
        }
        bool text_key = it.type == SCITT_CBOR_TEXT && scitt_cbor_read_text(&r, &k) == SCITT_OK;
        if (!text_key && scitt_cbor_skip(&r, NULL) != SCITT_OK) {
            return false;
        }
        if (text_key && scitt_span_eq_str(k, key) && scitt_cbor_read_text(&r, &v) == SCITT_OK) {
            if (v.len >= cap) {
                return false;
            }
            memcpy(out, v.ptr, v.len);
            out[v.len] = 0;
            return true;
        }
        if (scitt_cbor_skip(&r, NULL) != SCITT_OK) {
            return false;
        }
    }
    return false;
}

/* Text value into a C string (truncated for display; only the service's own fields). */
static scitt_err text_field(scitt_cbor_reader *r, char *out, size_t cap)
{
    scitt_span t;
    scitt_err e = scitt_cbor_read_text(r, &t);
    if (e == SCITT_OK) {
        scitt_client_printable(t, out, cap);
    }
    return e;
}

static scitt_err read_row(scitt_cbor_reader *r, scitt_client_row *w)
{
    size_t n;
    memset(w, 0, sizeof(*w));
    scitt_err e = scitt_cbor_read_map(r, &n);
    for (size_t i = 0; i < n && e == SCITT_OK; i++) {
        scitt_span k;
        e = scitt_cbor_read_text(r, &k);
        if (e != SCITT_OK) {
            break;
        }
        if (scitt_span_eq_str(k, "entry_id")) {
            e = text_field(r, w->entry_id, sizeof(w->entry_id));
        } else if (scitt_span_eq_str(k, "index")) {
            e = scitt_cbor_read_uint(r, &w->index);
        } else if (scitt_span_eq_str(k, "registered")) {
            e = scitt_cbor_read_int(r, &w->registered);
        } else if (scitt_span_eq_str(k, "iss")) {
            e = text_field(r, w->iss, sizeof(w->iss));
        } else if (scitt_span_eq_str(k, "sub")) {
            e = text_field(r, w->sub, sizeof(w->sub));
        } else if (scitt_span_eq_str(k, "content_type")) {
            e = text_field(r, w->content_type, sizeof(w->content_type));
        } else if (scitt_span_eq_str(k, "digest")) {
            e = text_field(r, w->digest, sizeof(w->digest));
        } else {
            e = scitt_cbor_skip(r, NULL); /* fields added later are ignored */
        }
    }
    return e;
}

scitt_err scitt_client_query_parse(scitt_span body, scitt_client_row *rows, size_t cap, size_t *n,
                                   uint64_t *next)
{
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, body);
    size_t pairs;
    *n = 0;
    *next = 0;
    scitt_err e = scitt_cbor_read_map(&r, &pairs);
    for (size_t i = 0; i < pairs && e == SCITT_OK; i++) {
        scitt_span k;
        e = scitt_cbor_read_text(&r, &k);
        if (e == SCITT_OK && scitt_span_eq_str(k, "next")) {
            scitt_cbor_item it;
            e = scitt_cbor_peek(&r, &it);
            e = e ? e
                  : (it.type == SCITT_CBOR_NULL ? scitt_cbor_read_null(&r)
                                                : scitt_cbor_read_uint(&r, next));
        } else if (e == SCITT_OK && scitt_span_eq_str(k, "entries")) {
            size_t count;
            e = scitt_cbor_read_array(&r, &count);
            if (e == SCITT_OK && count > cap) {
                e = SCITT_ERR_TOO_LARGE;
            }
            for (size_t j = 0; j < count && e == SCITT_OK; j++) {
                e = read_row(&r, &rows[(*n)++]);
            }
        } else if (e == SCITT_OK) {
            e = scitt_cbor_skip(&r, NULL);
        }
    }
    return e ? e : scitt_cbor_reader_finish(&r);
}

/* ---- the operation of SCRAPI drafts before -04 ------------------------------------------- */

static bool key_ieq(scitt_span k, const char *name)
{
    return k.len == strlen(name) && strncasecmp((const char *)k.ptr, name, k.len) == 0;
}

/* An identifier a service may name: 1..64 bytes of RFC 3986 unreserved characters. */
bool scitt_client_id_ok(scitt_span s)
{
    if (s.len == 0 || s.len > SCITT_CLIENT_ENTRY_ID_LEN) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '.' || c == '_' || c == '~')) {
            return false;
        }
    }
    return true;
}

static scitt_err id_field(scitt_cbor_reader *r, char out[SCITT_CLIENT_ENTRY_ID_LEN + 1])
{
    scitt_span t;
    scitt_err e = scitt_cbor_read_text(r, &t);
    if (e == SCITT_OK && !scitt_client_id_ok(t)) {
        e = SCITT_ERR_MALFORMED;
    }
    if (e == SCITT_OK) {
        memcpy(out, t.ptr, t.len);
        out[t.len] = 0;
    }
    return e;
}

/* The error of a failed operation: a map keyed -1/-2 (RFC 9290), "title"/"detail" or
 * "code"/"message"; whatever it holds, printable, into @p out. */
static scitt_err op_error(scitt_cbor_reader *r, char *out, size_t cap)
{
    size_t n;
    scitt_span title = {NULL, 0}, detail = {NULL, 0};
    scitt_err e = scitt_cbor_read_map(r, &n);
    for (size_t i = 0; i < n && e == SCITT_OK; i++) {
        scitt_cbor_item it;
        e = scitt_cbor_peek(r, &it);
        int64_t ik = 0;
        scitt_span tk = {NULL, 0};
        if (e == SCITT_OK) {
            e = it.type == SCITT_CBOR_TEXT ? scitt_cbor_read_text(r, &tk)
                : it.type == SCITT_CBOR_UINT || it.type == SCITT_CBOR_NEGINT
                    ? scitt_cbor_read_int(r, &ik)
                    : scitt_cbor_skip(r, NULL);
        }
        if (e != SCITT_OK) {
            break;
        }
        bool is_title = ik == -1 || key_ieq(tk, "title") || key_ieq(tk, "code");
        bool is_detail = ik == -2 || key_ieq(tk, "detail") || key_ieq(tk, "message");
        if ((is_title || is_detail) && scitt_cbor_peek(r, &it) == SCITT_OK &&
            it.type == SCITT_CBOR_TEXT) {
            e = scitt_cbor_read_text(r, is_title ? &title : &detail);
        } else {
            e = scitt_cbor_skip(r, NULL);
        }
    }
    if (e == SCITT_OK) {
        char t[190], d[390];
        scitt_client_printable(title, t, sizeof(t));
        scitt_client_printable(detail, d, sizeof(d));
        snprintf(out, cap, "%s%s%s", t, t[0] && d[0] ? ": " : "", d);
    }
    return e;
}

scitt_err scitt_client_operation_parse(scitt_span body, scitt_client_operation *op)
{
    memset(op, 0, sizeof(*op));
    scitt_cbor_reader r;
    scitt_cbor_reader_init(&r, body);
    size_t pairs;
    bool has_status = false;
    scitt_err e = scitt_cbor_read_map(&r, &pairs);
    for (size_t i = 0; i < pairs && e == SCITT_OK; i++) {
        scitt_cbor_item it;
        scitt_span k = {NULL, 0};
        e = scitt_cbor_peek(&r, &it);
        e = e                            ? e
            : it.type == SCITT_CBOR_TEXT ? scitt_cbor_read_text(&r, &k)
                                         : scitt_cbor_skip(&r, NULL);
        if (e != SCITT_OK) {
            break;
        }
        scitt_span v;
        if (key_ieq(k, "status")) {
            e = scitt_cbor_read_text(&r, &v);
            has_status = e == SCITT_OK;
            op->status = !has_status               ? 0
                         : key_ieq(v, "running")   ? SCITT_CLIENT_OP_RUNNING
                         : key_ieq(v, "succeeded") ? SCITT_CLIENT_OP_SUCCEEDED
                         : key_ieq(v, "failed")    ? SCITT_CLIENT_OP_FAILED
                                                   : 0;
            if (e == SCITT_OK && op->status == 0) {
                e = SCITT_ERR_MALFORMED; /* a status this client does not know */
            }
        } else if (key_ieq(k, "operationid")) {
            e = id_field(&r, op->operation_id);
        } else if (key_ieq(k, "entryid")) {
            e = id_field(&r, op->entry_id);
        } else if (key_ieq(k, "error")) {
            e = op_error(&r, op->error, sizeof(op->error));
        } else {
            e = scitt_cbor_skip(&r, NULL);
        }
    }
    e = e ? e : scitt_cbor_reader_finish(&r);
    if (e == SCITT_OK &&
        (!has_status || (op->status == SCITT_CLIENT_OP_SUCCEEDED && !op->entry_id[0]))) {
        e = SCITT_ERR_MALFORMED;
    }
    if (e != SCITT_OK) {
        memset(op, 0, sizeof(*op));
    }
    return e;
}
