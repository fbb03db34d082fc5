/*
 * Strict JSON tokeniser. One pass, an explicit stack of open containers (so nesting costs no C
 * stack), and every limit from scitt/limits.h checked before it can be exceeded.
 */
#include "scitt/json.h"
#include "scitt/limits.h"

#include <string.h>

typedef struct {
    const uint8_t *s;
    size_t len;
    size_t pos;
    scitt_json_tok *toks;
    size_t ntoks;
    size_t cap;
} parser;

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        uint8_t c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            break;
        }
        p->pos++;
    }
}

static scitt_err push_tok(parser *p, scitt_json_type type, size_t start, size_t *idx)
{
    if (p->ntoks == p->cap) {
        if (p->cap >= SCITT_LIMIT_JSON_TOKENS) {
            return SCITT_ERR_TOO_LARGE;
        }
        size_t cap = p->cap ? p->cap * 2 : 64;
        if (cap > SCITT_LIMIT_JSON_TOKENS) {
            cap = SCITT_LIMIT_JSON_TOKENS;
        }
        scitt_json_tok *t = scitt_realloc(p->toks, cap * sizeof(*t));
        if (!t) {
            return SCITT_ERR_NOMEM;
        }
        p->toks = t;
        p->cap = cap;
    }
    *idx = p->ntoks++;
    scitt_json_tok *t = &p->toks[*idx];
    t->type = type;
    t->start = (uint32_t)start;
    t->end = (uint32_t)start;
    t->count = 0;
    t->next = (uint32_t)p->ntoks;
    return SCITT_OK;
}

static scitt_err scan_string(parser *p, size_t *idx)
{
    /* p->pos is at the opening quote */
    size_t start = ++p->pos;
    while (p->pos < p->len) {
        uint8_t c = p->s[p->pos];
        if (c == '"') {
            break;
        }
        if (c < 0x20) {
            return SCITT_ERR_JSON;
        }
        if (c == '\\') {
            if (p->pos + 1 >= p->len) {
                return SCITT_ERR_JSON;
            }
            uint8_t e = p->s[p->pos + 1];
            if (e == 'u') {
                if (p->len - p->pos < 6) {
                    return SCITT_ERR_JSON;
                }
                for (size_t k = 2; k < 6; k++) {
                    uint8_t h = p->s[p->pos + k];
                    bool ok =
                        (h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F');
                    if (!ok) {
                        return SCITT_ERR_JSON;
                    }
                }
                p->pos += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == 0) {
                return SCITT_ERR_JSON;
            }
            p->pos += 2;
            continue;
        }
        p->pos++;
    }
    if (p->pos >= p->len) {
        return SCITT_ERR_JSON;
    }
    if (!scitt_utf8_valid(scitt_span_make(p->s + start, p->pos - start))) {
        return SCITT_ERR_UTF8;
    }
    scitt_err e = push_tok(p, SCITT_JSON_STRING, start, idx);
    if (e) {
        return e;
    }
    p->toks[*idx].end = (uint32_t)p->pos;
    p->pos++;
    return SCITT_OK;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static scitt_err scan_number(parser *p, size_t *idx)
{
    size_t start = p->pos;
    const uint8_t *s = p->s;
    if (p->pos < p->len && s[p->pos] == '-') {
        p->pos++;
    }
    if (p->pos >= p->len || !is_digit(s[p->pos])) {
        return SCITT_ERR_JSON;
    }
    if (s[p->pos] == '0') {
        p->pos++;
    } else {
        while (p->pos < p->len && is_digit(s[p->pos])) {
            p->pos++;
        }
    }
    if (p->pos < p->len && s[p->pos] == '.') {
        p->pos++;
        if (p->pos >= p->len || !is_digit(s[p->pos])) {
            return SCITT_ERR_JSON;
        }
        while (p->pos < p->len && is_digit(s[p->pos])) {
            p->pos++;
        }
    }
    if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
        p->pos++;
        if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-')) {
            p->pos++;
        }
        if (p->pos >= p->len || !is_digit(s[p->pos])) {
            return SCITT_ERR_JSON;
        }
        while (p->pos < p->len && is_digit(s[p->pos])) {
            p->pos++;
        }
    }
    scitt_err e = push_tok(p, SCITT_JSON_NUMBER, start, idx);
    if (e) {
        return e;
    }
    p->toks[*idx].end = (uint32_t)p->pos;
    return SCITT_OK;
}

static scitt_err scan_literal(parser *p, size_t *idx)
{
    static const struct {
        const char *word;
        scitt_json_type type;
    } lits[] = {{"null", SCITT_JSON_NULL}, {"true", SCITT_JSON_TRUE}, {"false", SCITT_JSON_FALSE}};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(lits[i].word);
        if (p->len - p->pos >= n && memcmp(p->s + p->pos, lits[i].word, n) == 0) {
            scitt_err e = push_tok(p, lits[i].type, p->pos, idx);
            if (e) {
                return e;
            }
            p->pos += n;
            p->toks[*idx].end = (uint32_t)p->pos;
            return SCITT_OK;
        }
    }
    return SCITT_ERR_JSON;
}

/* Decodes string token text into out (NUL-terminated). cap 0 with out NULL only measures. */
static scitt_err unescape(const uint8_t *s, size_t len, char *out, size_t cap, size_t *olen)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        if (s[i] != '\\') {
            if (s[i] == 0) {
                return SCITT_ERR_MALFORMED;
            }
            if (out) {
                if (o + 1 >= cap) {
                    return SCITT_ERR_BUFFER_TOO_SMALL;
                }
                out[o] = (char)s[i];
            }
            o++;
            i++;
            continue;
        }
        uint8_t e = s[i + 1];
        i += 2;
        if (e != 'u') {
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            cp = (uint8_t)to[strchr(from, e) - from];
        } else {
            char hex[5] = {0};
            memcpy(hex, s + i, 4);
            cp = 0;
            for (size_t k = 0; k < 4; k++) {
                uint8_t h = (uint8_t)hex[k];
                cp = cp * 16 + (uint32_t)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
            }
            i += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                /* a high surrogate must be followed by an escaped low surrogate */
                if (len - i < 6 || s[i] != '\\' || s[i + 1] != 'u') {
                    return SCITT_ERR_UTF8;
                }
                uint32_t lo = 0;
                for (size_t k = 2; k < 6; k++) {
                    uint8_t h = s[i + k];
                    lo = lo * 16 + (uint32_t)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
                }
                if (lo < 0xdc00 || lo > 0xdfff) {
                    return SCITT_ERR_UTF8;
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                return SCITT_ERR_UTF8;
            }
        }
        if (cp == 0) {
            return SCITT_ERR_MALFORMED;
        }
        uint8_t enc[4];
        size_t n;
        if (cp < 0x80) {
            enc[0] = (uint8_t)cp, n = 1;
        } else if (cp < 0x800) {
            enc[0] = (uint8_t)(0xc0 | cp >> 6), enc[1] = (uint8_t)(0x80 | (cp & 0x3f)), n = 2;
        } else if (cp < 0x10000) {
            enc[0] = (uint8_t)(0xe0 | cp >> 12), enc[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            enc[2] = (uint8_t)(0x80 | (cp & 0x3f)), n = 3;
        } else {
            enc[0] = (uint8_t)(0xf0 | cp >> 18), enc[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
            enc[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)), enc[3] = (uint8_t)(0x80 | (cp & 0x3f));
            n = 4;
        }
        if (out) {
            if (o + n >= cap) {
                return SCITT_ERR_BUFFER_TOO_SMALL;
            }
            memcpy(out + o, enc, n);
        }
        o += n;
    }
    if (out) {
        out[o] = '\0';
    }
    if (olen) {
        *olen = o;
    }
    return SCITT_OK;
}

static bool keys_equal(const parser *p, const scitt_json_tok *a, const scitt_json_tok *b)
{
    const uint8_t *as = p->s + a->start, *bs = p->s + b->start;
    size_t al = a->end - a->start, bl = b->end - b->start;
    bool plain = !memchr(as, '\\', al) && !memchr(bs, '\\', bl);
    if (plain) {
        return al == bl && memcmp(as, bs, al) == 0;
    }
    /* Escaped keys: compare decoded forms; keys longer than this are compared raw. */
    char da[512], db[512];
    size_t la, lb;
    if (unescape(as, al, da, sizeof(da), &la) || unescape(bs, bl, db, sizeof(db), &lb)) {
        return al == bl && memcmp(as, bs, al) == 0;
    }
    return la == lb && memcmp(da, db, la) == 0;
}

static scitt_err check_duplicates(const parser *p, size_t obj)
{
    const scitt_json_tok *t = p->toks;
    size_t k1 = obj + 1;
    for (uint32_t i = 0; i < t[obj].count; i++) {
        size_t k2 = t[k1 + 1].next;
        for (uint32_t j = i + 1; j < t[obj].count; j++) {
            if (keys_equal(p, &t[k1], &t[k2])) {
                return SCITT_ERR_DUPLICATE_KEY;
            }
            k2 = t[k2 + 1].next;
        }
        k1 = t[k1 + 1].next;
    }
    return SCITT_OK;
}

static scitt_err parse(parser *p)
{
    size_t stack[SCITT_LIMIT_JSON_DEPTH];
    size_t depth = 0;
    scitt_err e;
    /* state: expecting a value (after '[', ',' in array, ':' or at the root) */
    bool want_value = true;
    bool root_done = false;

    for (;;) {
        skip_ws(p);
        if (want_value) {
            if (root_done) {
                break;
            }
            if (p->pos >= p->len) {
                return SCITT_ERR_JSON;
            }
            uint8_t c = p->s[p->pos];
            size_t idx;
            if (c == '{' || c == '[') {
                if (depth == SCITT_LIMIT_JSON_DEPTH) {
                    return SCITT_ERR_TOO_DEEP;
                }
                e = push_tok(p, c == '{' ? SCITT_JSON_OBJECT : SCITT_JSON_ARRAY, p->pos, &idx);
                if (e) {
                    return e;
                }
                stack[depth++] = idx;
                p->pos++;
                skip_ws(p);
                if (p->pos < p->len && p->s[p->pos] == (c == '{' ? '}' : ']')) {
                    /* empty container: handled as a close below */
                    want_value = false;
                    continue;
                }
                if (c == '{') {
                    if (p->pos >= p->len || p->s[p->pos] != '"') {
                        return SCITT_ERR_JSON;
                    }
                    e = scan_string(p, &idx);
                    if (e) {
                        return e;
                    }
                    skip_ws(p);
                    if (p->pos >= p->len || p->s[p->pos] != ':') {
                        return SCITT_ERR_JSON;
                    }
                    p->pos++;
                }
                continue;
            }
            if (c == '"') {
                e = scan_string(p, &idx);
            } else if (c == '-' || is_digit(c)) {
                e = scan_number(p, &idx);
            } else {
                e = scan_literal(p, &idx);
            }
            if (e) {
                return e;
            }
            want_value = false;
            if (depth == 0) {
                root_done = true;
            }
            continue;
        }
        /* after a value: close, comma or end */
        if (depth == 0) {
            break;
        }
        if (p->pos >= p->len) {
            return SCITT_ERR_JSON;
        }
        size_t top = stack[depth - 1];
        scitt_json_tok *t = &p->toks[top];
        bool is_obj = t->type == SCITT_JSON_OBJECT;
        uint8_t c = p->s[p->pos];
        bool empty_close = p->toks[top].next == top + 1 && p->ntoks == top + 1;
        if (c == (is_obj ? '}' : ']')) {
            if (!empty_close) {
                t->count++;
            }
            p->pos++;
            t->end = (uint32_t)p->pos;
            t->next = (uint32_t)p->ntoks;
            if (is_obj) {
                if (t->count > SCITT_LIMIT_JSON_MEMBERS) {
                    return SCITT_ERR_TOO_LARGE;
                }
                e = check_duplicates(p, top);
                if (e) {
                    return e;
                }
            }
            depth--;
            if (depth == 0) {
                root_done = true;
                break;
            }
            continue;
        }
        if (c != ',' || empty_close) {
            return SCITT_ERR_JSON;
        }
        t->count++;
        p->pos++;
        if (is_obj) {
            skip_ws(p);
            size_t idx;
            if (p->pos >= p->len || p->s[p->pos] != '"') {
                return SCITT_ERR_JSON;
            }
            e = scan_string(p, &idx);
            if (e) {
                return e;
            }
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                return SCITT_ERR_JSON;
            }
            p->pos++;
        }
        want_value = true;
    }
    skip_ws(p);
    if (!root_done) {
        return SCITT_ERR_JSON;
    }
    return p->pos == p->len ? SCITT_OK : SCITT_ERR_TRAILING;
}

scitt_err scitt_json_parse(scitt_span text, scitt_json *out)
{
    memset(out, 0, sizeof(*out));
    if (text.len > SCITT_LIMIT_JSON_BYTES) {
        return SCITT_ERR_TOO_LARGE;
    }
    parser p = {text.ptr, text.len, 0, NULL, 0, 0};
    scitt_err e = parse(&p);
    if (e) {
        scitt_free(p.toks);
        return e;
    }
    out->toks = p.toks;
    out->ntoks = p.ntoks;
    out->text = text;
    return SCITT_OK;
}

void scitt_json_clear(scitt_json *j)
{
    scitt_free((void *)j->toks);
    memset(j, 0, sizeof(*j));
}

scitt_json_type scitt_json_type_of(const scitt_json *j, size_t tok)
{
    return j->toks[tok].type;
}

long scitt_json_member(const scitt_json *j, size_t obj, size_t i)
{
    if (obj >= j->ntoks || j->toks[obj].type != SCITT_JSON_OBJECT || i >= j->toks[obj].count) {
        return -1;
    }
    size_t k = obj + 1;
    while (i--) {
        k = j->toks[k + 1].next;
    }
    return (long)k;
}

long scitt_json_get(const scitt_json *j, size_t obj, const char *key)
{
    if (obj >= j->ntoks || j->toks[obj].type != SCITT_JSON_OBJECT) {
        return -1;
    }
    size_t k = obj + 1;
    for (uint32_t i = 0; i < j->toks[obj].count; i++) {
        if (scitt_json_str_eq(j, k, key)) {
            return (long)(k + 1);
        }
        k = j->toks[k + 1].next;
    }
    return -1;
}

long scitt_json_at(const scitt_json *j, size_t arr, size_t i)
{
    if (arr >= j->ntoks || j->toks[arr].type != SCITT_JSON_ARRAY || i >= j->toks[arr].count) {
        return -1;
    }
    size_t k = arr + 1;
    while (i--) {
        k = j->toks[k].next;
    }
    return (long)k;
}

scitt_err scitt_json_string(const scitt_json *j, size_t tok, char *out, size_t cap, size_t *len)
{
    if (tok >= j->ntoks || j->toks[tok].type != SCITT_JSON_STRING) {
        return SCITT_ERR_BAD_TYPE;
    }
    const scitt_json_tok *t = &j->toks[tok];
    if (cap == 0) {
        return SCITT_ERR_BUFFER_TOO_SMALL;
    }
    return unescape(j->text.ptr + t->start, t->end - t->start, out, cap, len);
}

scitt_err scitt_json_strdup(const scitt_json *j, size_t tok, char **out)
{
    *out = NULL;
    if (tok >= j->ntoks || j->toks[tok].type != SCITT_JSON_STRING) {
        return SCITT_ERR_BAD_TYPE;
    }
    const scitt_json_tok *t = &j->toks[tok];
    size_t n;
    scitt_err e = unescape(j->text.ptr + t->start, t->end - t->start, NULL, 0, &n);
    if (e) {
        return e;
    }
    char *s = scitt_malloc(n + 1);
    if (!s) {
        return SCITT_ERR_NOMEM;
    }
    e = unescape(j->text.ptr + t->start, t->end - t->start, s, n + 1, &n);
    if (e) {
        scitt_free(s);
        return e;
    }
    *out = s;
    return SCITT_OK;
}

bool scitt_json_str_eq(const scitt_json *j, size_t tok, const char *s)
{
    if (tok >= j->ntoks || j->toks[tok].type != SCITT_JSON_STRING) {
        return false;
    }
    const scitt_json_tok *t = &j->toks[tok];
    const uint8_t *raw = j->text.ptr + t->start;
    size_t rl = t->end - t->start, sl = strlen(s);
    if (!memchr(raw, '\\', rl)) {
        return rl == sl && memcmp(raw, s, sl) == 0;
    }
    char buf[1024];
    size_t n;
    if (unescape(raw, rl, buf, sizeof(buf), &n)) {
        return false;
    }
    return n == sl && memcmp(buf, s, n) == 0;
}

/* Parses an integer token: sign and magnitude, SCITT_ERR_RANGE on fraction, exponent or overflow.
 */
static scitt_err int_token(const scitt_json *j, size_t tok, bool *neg, uint64_t *mag)
{
    if (tok >= j->ntoks || j->toks[tok].type != SCITT_JSON_NUMBER) {
        return SCITT_ERR_BAD_TYPE;
    }
    const scitt_json_tok *t = &j->toks[tok];
    const uint8_t *s = j->text.ptr + t->start;
    size_t n = t->end - t->start, i = 0;
    *neg = false;
    if (s[0] == '-') {
        *neg = true;
        i = 1;
    }
    uint64_t v = 0;
    for (; i < n; i++) {
        if (!is_digit(s[i])) {
            return SCITT_ERR_RANGE; /* fraction or exponent */
        }
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return SCITT_ERR_RANGE;
        }
        v = v * 10 + d;
    }
    *mag = v;
    return SCITT_OK;
}

scitt_err scitt_json_int(const scitt_json *j, size_t tok, int64_t *out)
{
    bool neg;
    uint64_t v;
    scitt_err e = int_token(j, tok, &neg, &v);
    if (e) {
        return e;
    }
    if ((!neg && v > INT64_MAX) || (neg && v > (uint64_t)INT64_MAX + 1)) {
        return SCITT_ERR_RANGE;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return SCITT_OK;
}

scitt_err scitt_json_u64(const scitt_json *j, size_t tok, uint64_t *out)
{
    bool neg;
    uint64_t v;
    scitt_err e = int_token(j, tok, &neg, &v);
    if (e) {
        return e;
    }
    if (neg && v != 0) {
        return SCITT_ERR_RANGE;
    }
    *out = v;
    return SCITT_OK;
}
