/*
 * The registration policy's "tee" rule (docs/policy.md): Intel TDX and SGX measurement
 * statements admitted only when their measurements are listed and, with "evidence", when the DCAP
 * quote and collateral they carry in the protected header verify at the statement's iat, with an
 * accepted TCB status, both CRLs, no DEBUG, and the claims agreeing with the quote.
 *
 * Real quotes and collateral come from tests/data/dcap (PROVENANCE.md); the synthetic DCAP world
 * (tests/unit/tee/dcap_synth.c, its own root pinned with "root_sha256") reaches what no real sample
 * shows (a DEBUG TD). Every check is tried by an attacker's statement, and a statement that passes
 * shows the check is not vacuous; every field the rule reads is tried as an unprotected twin
 * through the registration path (scitt_service_check), which must refuse it as it refuses the
 * statement without it. Replays (the same function at a later instant, as `scitt audit` calls it)
 * reach the same decisions after the collateral has expired.
 */
#include "testutil.h"
#include "unit/ledger/ledger_util.h"
#include "unit/tee/dcap_synth.h"
#include "unit/tee/dcap_test.h"

#include <openssl/obj_mac.h>
#include <time.h>

#include "scitt/policy.h"
#include "scitt/service.h"

#define ISS "https://builder.example"

typedef struct evidence {
    uint8_t *quote;
    size_t quote_len;
    uint8_t *file[SCITT_DCAP_ITEMS];
    size_t file_len[SCITT_DCAP_ITEMS];
} evidence;

static struct {
    scitt_cose_key *key;
    char jwk[1024];
    char *dir;
    char ks_path[4200];
    scitt_keystore ks;
    scitt_service *s;
    evidence gcp, tdx_ood, sgx;     /* tdx-gcp (UpToDate), tdx-automata (OutOfDate), sgx-automata */
    scitt_dcap_result gcp_r, sgx_r; /* what they verify to */
    int64_t t_tdx, t_sgx;           /* their pinned times */
    ds_world dbg, nodbg;            /* synthetic TDX worlds with and without DEBUG */
    ds_world att, att_other;        /* REPORTDATA = the thumbprint of our key, of another key */
    scitt_dcap_result nodbg_r;
    int64_t t_syn;
} W;

/* ---- evidence ------------------------------------------------------------------------------ */

static void load_evidence(evidence *ev, const char *quote, const char *dir)
{
    ev->quote = dt_load(quote, &ev->quote_len);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        char rel[512];
        snprintf(rel, sizeof(rel), "%s/%s", dir, scitt_dcap_item_file((scitt_dcap_item)i));
        FILE *f = fopen(dt_path(rel), "rb");
        if (f) {
            fclose(f);
            ev->file[i] = dt_load(rel, &ev->file_len[i]);
        }
    }
}

static void free_evidence(evidence *ev)
{
    free(ev->quote);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        free(ev->file[i]);
    }
}

static void from_world(evidence *ev, const ds_world *w)
{
    memset(ev, 0, sizeof(*ev));
    ev->quote = w->quote;
    ev->quote_len = w->quote_len;
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        ev->file[i] = w->file[i];
        ev->file_len[i] = w->file_len[i];
    }
}

static void verify_at(const evidence *ev, int64_t t, const uint8_t *root, uint32_t accept,
                      scitt_dcap_result *r)
{
    scitt_dcap_collateral *c = NULL;
    assert_int_equal(scitt_dcap_collateral_new(&c), SCITT_OK);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        if (ev->file[i]) {
            assert_int_equal(
                scitt_dcap_collateral_set(c, (scitt_dcap_item)i,
                                          scitt_span_make(ev->file[i], ev->file_len[i]), NULL),
                SCITT_OK);
        }
    }
    scitt_dcap_verify_opts o;
    scitt_dcap_verify_opts_init(&o, t);
    o.root_sha256 = root;
    o.accept = accept;
    assert_int_equal(scitt_dcap_verify(scitt_span_make(ev->quote, ev->quote_len), c, &o, r),
                     SCITT_OK);
    scitt_dcap_collateral_free(c);
}

/* ---- statements ---------------------------------------------------------------------------- */

#define MAX_XCLAIMS 8

/* What goes into a statement. Claims are text-keyed extra CWT claims (encoded values). */
typedef struct stmt {
    bool hash_envelope;
    int64_t hash_alg;
    scitt_span payload;
    bool has_iat;
    int64_t iat;
    const char *ckey[MAX_XCLAIMS];
    uint8_t cval[MAX_XCLAIMS][64];
    size_t clen[MAX_XCLAIMS];
    size_t nclaims;
    const evidence *ev;  /* carried as dcap_quote / dcap_collateral when set */
    unsigned skip_items; /* collateral items left out (bit per scitt_dcap_item) */
    bool no_quote;       /* the collateral without the quote */
    /* The twin: the field named here is moved to the unprotected header. */
    enum { T_NONE, T_CLAIM, T_QUOTE, T_COLLATERAL, T_HASH_ALG } twin;
    const char *twin_claim; /* T_CLAIM: this claim (or "iat") */
    bool drop;              /* the twinned field goes nowhere (the statement without it) */
} stmt;

static void claim_bytes(stmt *s, const char *key, const uint8_t *b, size_t n)
{
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, s->cval[s->nclaims], sizeof(s->cval[0]));
    scitt_cbor_put_bytes(&w, scitt_span_make(b, n));
    scitt_span v;
    assert_int_equal(scitt_cbor_writer_finish(&w, &v), SCITT_OK);
    s->ckey[s->nclaims] = key;
    s->clen[s->nclaims++] = v.len;
}

static void claim_text(stmt *s, const char *key, const char *t)
{
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, s->cval[s->nclaims], sizeof(s->cval[0]));
    scitt_cbor_put_text(&w, scitt_span_str(t));
    scitt_span v;
    assert_int_equal(scitt_cbor_writer_finish(&w, &v), SCITT_OK);
    s->ckey[s->nclaims] = key;
    s->clen[s->nclaims++] = v.len;
}

static void claim_int(stmt *s, const char *key, int64_t i)
{
    scitt_cbor_writer w;
    scitt_cbor_writer_init(&w, s->cval[s->nclaims], sizeof(s->cval[0]));
    scitt_cbor_put_int(&w, i);
    scitt_span v;
    assert_int_equal(scitt_cbor_writer_finish(&w, &v), SCITT_OK);
    s->ckey[s->nclaims] = key;
    s->clen[s->nclaims++] = v.len;
}

/* Removes claim @p key. */
static void claim_drop(stmt *s, const char *key)
{
    for (size_t i = 0; i < s->nclaims; i++) {
        if (!strcmp(s->ckey[i], key)) {
            s->ckey[i] = s->ckey[s->nclaims - 1];
            memcpy(s->cval[i], s->cval[s->nclaims - 1], sizeof(s->cval[0]));
            s->clen[i] = s->clen[s->nclaims - 1];
            s->nclaims--;
            return;
        }
    }
    fail_msg("no claim %s", key);
}

/* A TDX statement as `scitt sign --tdx-quote` makes it from @p r (MRTD, RTMR0-3), with @p ev. */
static stmt tdx_stmt(const scitt_dcap_result *r, const evidence *ev, int64_t iat)
{
    stmt s;
    memset(&s, 0, sizeof(s));
    s.hash_envelope = true;
    s.hash_alg = SCITT_COSE_ALG_SHA384;
    s.payload = scitt_span_make(r->td.mrtd, 48);
    s.has_iat = true;
    s.iat = iat;
    claim_text(&s, "tee", "tdx");
    static const char *const rn[4] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};
    for (int i = 0; i < 4; i++) {
        claim_bytes(&s, rn[i], r->td.rtmr[i], 48);
    }
    s.ev = ev;
    return s;
}

/* An SGX statement as `scitt sign --sgx-quote` makes it. */
static stmt sgx_stmt(const scitt_dcap_result *r, const evidence *ev, int64_t iat)
{
    stmt s;
    memset(&s, 0, sizeof(s));
    s.hash_envelope = true;
    s.hash_alg = SCITT_COSE_ALG_SHA256;
    s.payload = scitt_span_make(r->enclave.mrenclave, 32);
    s.has_iat = true;
    s.iat = iat;
    claim_text(&s, "tee", "sgx");
    claim_bytes(&s, "mrsigner", r->enclave.mrsigner, 32);
    claim_int(&s, "isv_prod_id", r->enclave.isv_prod_id);
    claim_int(&s, "svn", r->enclave.isv_svn);
    s.ev = ev;
    return s;
}

static bool in_twin(const stmt *s, const char *key)
{
    return s->twin == T_CLAIM && !strcmp(s->twin_claim, key);
}

/* The CWT claims map; @p twin_only: only the twinned claim (with iss and sub). */
static void put_claims(scitt_cbor_writer *w, const stmt *s, bool twin_part)
{
    size_t n = 2;
    bool iat = s->has_iat && (in_twin(s, "iat") == twin_part);
    n += iat;
    for (size_t i = 0; i < s->nclaims; i++) {
        n += in_twin(s, s->ckey[i]) == twin_part;
    }
    scitt_cbor_put_map(w, n);
    scitt_cbor_put_uint(w, SCITT_CWT_ISS);
    scitt_cbor_put_text(w, scitt_span_str(ISS));
    scitt_cbor_put_uint(w, SCITT_CWT_SUB);
    scitt_cbor_put_text(w, scitt_span_str("td-image"));
    if (iat) {
        scitt_cbor_put_uint(w, SCITT_CWT_IAT);
        scitt_cbor_put_int(w, s->iat);
    }
    for (size_t i = 0; i < s->nclaims; i++) {
        if (in_twin(s, s->ckey[i]) == twin_part) {
            scitt_cbor_put_text(w, scitt_span_str(s->ckey[i]));
            scitt_cbor_put_raw(w, scitt_span_make(s->cval[i], s->clen[i]));
        }
    }
}

static void put_collateral(scitt_cbor_writer *w, const stmt *s)
{
    size_t n = 0;
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        n += s->ev->file[i] && !(s->skip_items & (1u << i));
    }
    scitt_cbor_put_map(w, n);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        if (s->ev->file[i] && !(s->skip_items & (1u << i))) {
            scitt_cbor_put_text(w, scitt_span_str(scitt_dcap_item_file((scitt_dcap_item)i)));
            scitt_cbor_put_bytes(w, scitt_span_make(s->ev->file[i], s->ev->file_len[i]));
        }
    }
}

static scitt_span finish(scitt_cbor_writer *w)
{
    scitt_span v;
    assert_int_equal(scitt_cbor_writer_finish(w, &v), SCITT_OK);
    return v;
}

/* The signed statement of @p s (the twinned field, if any, in its unprotected header). */
static void build(const stmt *s, scitt_dynbuf *out)
{
    static uint8_t cwt[8192], quote[16384], coll[65536], prot[98304], unprot[98304];
    scitt_cbor_writer cw, qw, kw, pw, uw;
    scitt_cbor_writer_init(&cw, cwt, sizeof(cwt));
    put_claims(&cw, s, false);
    scitt_span cwt_v = finish(&cw);
    scitt_span quote_v = {NULL, 0}, coll_v = {NULL, 0};
    if (s->ev && !s->no_quote) {
        scitt_cbor_writer_init(&qw, quote, sizeof(quote));
        scitt_cbor_put_bytes(&qw, scitt_span_make(s->ev->quote, s->ev->quote_len));
        quote_v = finish(&qw);
    }
    if (s->ev) {
        scitt_cbor_writer_init(&kw, coll, sizeof(coll));
        put_collateral(&kw, s);
        coll_v = finish(&kw);
    }
    scitt_cose_header_spec h;
    memset(&h, 0, sizeof(h));
    h.alg = scitt_cose_key_alg(W.key);
    h.kid = scitt_cose_key_kid(W.key);
    if (s->hash_envelope && s->twin != T_HASH_ALG) {
        h.payload_hash_alg = s->hash_alg;
    }
    if (s->hash_envelope && s->twin != T_HASH_ALG) {
        h.preimage_content_type =
            (scitt_cose_uint_or_text){true, true, 0, scitt_span_str("application/octet-stream")};
    } else {
        h.content_type =
            (scitt_cose_uint_or_text){true, true, 0, scitt_span_str("application/octet-stream")};
    }
    scitt_cose_label labels[3];
    scitt_span values[3];
    size_t nx = 0;
    labels[nx] = (scitt_cose_label){false, SCITT_COSE_HDR_CWT_CLAIMS, {NULL, 0}};
    values[nx++] = cwt_v;
    if (quote_v.len && s->twin != T_QUOTE) {
        labels[nx] = (scitt_cose_label){true, 0, scitt_span_str("dcap_quote")};
        values[nx++] = quote_v;
    }
    if (coll_v.len && s->twin != T_COLLATERAL) {
        labels[nx] = (scitt_cose_label){true, 0, scitt_span_str("dcap_collateral")};
        values[nx++] = coll_v;
    }
    h.extra_labels = labels;
    h.extra_values = values;
    h.nextra = nx;
    scitt_cbor_writer_init(&pw, prot, sizeof(prot));
    assert_int_equal(scitt_cose_headers_encode(&h, &pw), SCITT_OK);
    scitt_span pmap = finish(&pw);
    /* the unprotected header: the twin, or {} */
    scitt_cbor_writer_init(&uw, unprot, sizeof(unprot));
    scitt_cbor_put_map(&uw, s->twin == T_NONE || s->drop ? 0 : 1);
    if (s->drop) {
        /* nothing */
    } else if (s->twin == T_CLAIM) {
        scitt_cbor_put_uint(&uw, SCITT_COSE_HDR_CWT_CLAIMS);
        put_claims(&uw, s, true);
    } else if (s->twin == T_QUOTE) {
        scitt_cbor_put_text(&uw, scitt_span_str("dcap_quote"));
        scitt_cbor_put_raw(&uw, quote_v);
    } else if (s->twin == T_COLLATERAL) {
        scitt_cbor_put_text(&uw, scitt_span_str("dcap_collateral"));
        scitt_cbor_put_raw(&uw, coll_v);
    } else if (s->twin == T_HASH_ALG) {
        scitt_cbor_put_int(&uw, SCITT_COSE_HDR_PAYLOAD_HASH_ALG);
        scitt_cbor_put_int(&uw, s->hash_alg);
    }
    scitt_span umap = finish(&uw);
    scitt_dynbuf signed_;
    scitt_dynbuf_init(&signed_, 0);
    scitt_cbor_writer w;
    scitt_cbor_writer_init_dynbuf(&w, &signed_);
    assert_int_equal(scitt_cose_sign1_sign(W.key, pmap, scitt_span_make(NULL, 0), s->payload,
                                           scitt_span_make(NULL, 0), 0, &w),
                     SCITT_OK);
    scitt_cose_sign1 m;
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(signed_.ptr, signed_.len), 0, &m),
                     SCITT_OK);
    scitt_dynbuf_init(out, 0);
    scitt_dynbuf_put(out, "\xd2\x84", 2);
    scitt_dynbuf_put(out, m.protected_item.ptr, m.protected_item.len);
    scitt_dynbuf_put(out, umap.ptr, umap.len);
    scitt_dynbuf_put(out, m.payload_item.ptr, m.payload_item.len);
    scitt_dynbuf_put(out, m.signature_item.ptr, m.signature_item.len);
    assert_int_equal(out->err, SCITT_OK);
    scitt_dynbuf_clear(&signed_);
}

/* ---- decisions ----------------------------------------------------------------------------- */

static void hex(const uint8_t *b, size_t n, char *out)
{
    assert_int_equal(scitt_hex_encode(scitt_span_make(b, n), out, 2 * n + 1), SCITT_OK);
}

/* {"version":1,"issuers":[{"iss":ISS,"keys":[key],"tee":{TEE}}]} in @p out. */
static void policy_with(const char *tee, char *out, size_t cap)
{
    snprintf(out, cap,
             "{\"version\": 1, \"issuers\": [{\"iss\": \"" ISS "\", \"keys\": [%s], \"tee\": %s}]}",
             W.jwk, tee);
}

/* scitt_policy_check of statement @p s (no twin) at @p now under the rule "tee": @p tee. */
static scitt_err decide(const char *tee, const stmt *s, int64_t now, char *reason, size_t cap)
{
    static char pol[8192];
    policy_with(tee, pol, sizeof(pol));
    scitt_policy *p = NULL;
    char why[SCITT_POLICY_REASON_MAX];
    scitt_err e = scitt_policy_parse(scitt_span_str(pol), &p, why, sizeof(why));
    if (e != SCITT_OK) {
        fail_msg("policy %s: %s", pol, why);
    }
    scitt_dynbuf b;
    build(s, &b);
    scitt_cose_sign1 *m = malloc(sizeof(*m));
    assert_int_equal(scitt_cose_sign1_decode(scitt_span_make(b.ptr, b.len), 0, m), SCITT_OK);
    scitt_policy_decision d;
    e = scitt_policy_check(p, m, now, NULL, &d, reason, cap);
    free(m);
    scitt_dynbuf_clear(&b);
    scitt_policy_free(p);
    return e;
}

/* Refused at @p now with a reason containing @p what; admitted → test failure. */
#define REFUSED(tee, s, now, what)                                                                 \
    do {                                                                                           \
        char r_[SCITT_POLICY_REASON_MAX];                                                          \
        scitt_err e_ = decide((tee), (s), (now), r_, sizeof(r_));                                  \
        if (e_ != SCITT_ERR_POLICY || !strstr(r_, (what))) {                                       \
            fail_msg("line %d: %s (%s), wanted a refusal naming \"%s\"", __LINE__,                 \
                     scitt_err_name(e_), r_, (what));                                              \
        }                                                                                          \
    } while (0)

#define ADMITTED(tee, s, now)                                                                      \
    do {                                                                                           \
        char r_[SCITT_POLICY_REASON_MAX];                                                          \
        scitt_err e_ = decide((tee), (s), (now), r_, sizeof(r_));                                  \
        if (e_ != SCITT_OK) {                                                                      \
            fail_msg("line %d: refused: %s (%s)", __LINE__, scitt_err_name(e_), r_);               \
        }                                                                                          \
    } while (0)

/* The registration path: a service opened with the policy decides on @p s. */
static scitt_err register_check(const char *tee, const stmt *s, char *reason, size_t cap)
{
    static char pol[8192];
    policy_with(tee, pol, sizeof(pol));
    scitt_service_close(W.s);
    W.s = NULL;
    scitt_service_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.data_dir = W.dir;
    cfg.issuer = "https://ledger.example";
    cfg.origin = "ledger.example/log";
    cfg.keystore = &W.ks;
    cfg.map_size = 64u << 20;
    cfg.policy_json = scitt_span_str(pol);
    char why[512];
    scitt_err e = scitt_service_open(&cfg, &W.s, why, sizeof(why));
    if (e != SCITT_OK) {
        fail_msg("open: %s (%s)", why, scitt_err_name(e));
    }
    scitt_dynbuf b;
    build(s, &b);
    scitt_prepared p;
    e = scitt_service_check(W.s, scitt_span_make(b.ptr, b.len), &p, reason, cap);
    if (e == SCITT_OK) {
        scitt_prepared_clear(&p);
    }
    scitt_dynbuf_clear(&b);
    return e;
}

/* ---- fixtures ------------------------------------------------------------------------------ */

static int setup(void **state)
{
    (void)state;
    memset(&W, 0, sizeof(W));
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &W.key), SCITT_OK);
    scitt_dynbuf b;
    scitt_dynbuf_init(&b, 0);
    assert_int_equal(scitt_cose_key_encode_jwk(W.key, false, &b), SCITT_OK);
    snprintf(W.jwk, sizeof(W.jwk), "%.*s", (int)b.len, (const char *)b.ptr);
    scitt_dynbuf_clear(&b);
    W.dir = lu_tmpdir();
    scitt_keystore_file(W.dir, NULL, W.ks_path, sizeof(W.ks_path), &W.ks);

    W.t_tdx = dt_time(dt_samples[DT_GCP].now);
    W.t_sgx = dt_time(dt_samples[DT_AUTOMATA_SGX].now);
    load_evidence(&W.gcp, dt_samples[DT_GCP].quote, dt_samples[DT_GCP].collateral);
    load_evidence(&W.tdx_ood, dt_samples[DT_AUTOMATA_TDX].quote,
                  dt_samples[DT_AUTOMATA_TDX].collateral);
    load_evidence(&W.sgx, dt_samples[DT_AUTOMATA_SGX].quote,
                  dt_samples[DT_AUTOMATA_SGX].collateral);
    verify_at(&W.gcp, W.t_tdx, NULL, 0, &W.gcp_r);
    verify_at(&W.sgx, W.t_sgx, NULL, SCITT_DCAP_ACCEPT(SCITT_DCAP_TCB_SW_HARDENING_NEEDED),
              &W.sgx_r);

    /* Synthetic TDX worlds (their own root): one TD with DEBUG, one without. */
    W.t_syn = (int64_t)time(NULL) - 86400;
    ds_spec sp;
    ds_spec_default(&sp, SCITT_DCAP_TEE_TDX, W.t_syn);
    sp.has_body = true;
    sp.debug = true;
    ds_build(&sp, &W.dbg);
    sp.debug = false;
    ds_build(&sp, &W.nodbg);
    evidence ev;
    from_world(&ev, &W.nodbg);
    verify_at(&ev, W.t_syn, W.nodbg.root_sha256, 0, &W.nodbg_r);
    memset(sp.report_data, 0, sizeof(sp.report_data));
    scitt_cose_key_thumbprint(W.key, sp.report_data);
    ds_build(&sp, &W.att);
    scitt_cose_key *other = NULL;
    assert_int_equal(scitt_cose_key_generate(SCITT_COSE_ALG_ES256, &other), SCITT_OK);
    scitt_cose_key_thumbprint(other, sp.report_data);
    scitt_cose_key_free(other);
    ds_build(&sp, &W.att_other);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    scitt_service_close(W.s);
    scitt_cose_key_free(W.key);
    free_evidence(&W.gcp);
    free_evidence(&W.tdx_ood);
    free_evidence(&W.sgx);
    ds_world_free(&W.dbg);
    ds_world_free(&W.nodbg);
    ds_world_free(&W.att);
    ds_world_free(&W.att_other);
    lu_rmdir(W.dir);
    return 0;
}

/* ---- tests --------------------------------------------------------------------------------- */

/* The rule as the policy parser takes it, and what it refuses to take. */
static void test_policy_document(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{}",                                                      /* no platform */
        "{\"platform\": \"snp\"}",                                 /* not DCAP */
        "{\"platform\": \"tdx\", \"mrenclave\": [\"00\"]}",        /* the other TEE's */
        "{\"platform\": \"sgx\", \"mrtd\": [\"00\"]}",             /* the other TEE's */
        "{\"platform\": \"tdx\", \"mrtd\": [\"0011\"]}",           /* wrong length */
        "{\"platform\": \"tdx\", \"mrtd\": []}",                   /* empty list */
        "{\"platform\": \"tdx\", \"accept_tcb\": [\"UpToDate\"]}", /* without evidence */
        "{\"platform\": \"tdx\", \"evidence\": true, \"accept_tcb\": [\"Revoked\"]}",
        "{\"platform\": \"tdx\", \"evidence\": true, \"accept_tcb\": [\"UpToDate,OutOfDate\"]}",
        "{\"platform\": \"tdx\", \"evidence\": true, \"accept_tcb\": []}",
        "{\"platform\": \"tdx\", \"evidence\": true, \"root_sha256\": \"00\"}",
        "{\"platform\": \"tdx\", \"evidence\": 1}",
        "{\"platform\": \"tdx\", \"allow_debug\": true}",     /* unknown member */
        "{\"platform\": \"tdx\", \"attested_issuer\": true}", /* without evidence */
        "[]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char pol[8192], why[SCITT_POLICY_REASON_MAX];
        policy_with(bad[i], pol, sizeof(pol));
        scitt_policy *p = NULL;
        if (scitt_policy_parse(scitt_span_str(pol), &p, why, sizeof(why)) != SCITT_ERR_POLICY) {
            fail_msg("accepted: %s", bad[i]);
        }
        assert_non_null(strstr(why, "tee"));
    }
    char pol[8192], why[SCITT_POLICY_REASON_MAX];
    policy_with("{\"platform\": \"sgx\", \"evidence\": true, \"accept_tcb\": [\"UpToDate\", "
                "\"SWHardeningNeeded\"], \"mrsigner\": [\"" /* 32 bytes */
                "0000000000000000000000000000000000000000000000000000000000000000\"]}",
                pol, sizeof(pol));
    scitt_policy *p = NULL;
    assert_int_equal(scitt_policy_parse(scitt_span_str(pol), &p, why, sizeof(why)), SCITT_OK);
    scitt_policy_free(p);
}

/* Measurement allow-lists on what the statement claims (no evidence). */
static void test_claims_lists(void **state)
{
    (void)state;
    char mrtd[97], rtmr1[97], other[97], tee[1024];
    hex(W.gcp_r.td.mrtd, 48, mrtd);
    hex(W.gcp_r.td.rtmr[1], 48, rtmr1);
    memset(other, 'a', 96);
    other[96] = 0;
    stmt s = tdx_stmt(&W.gcp_r, NULL, W.t_tdx);
    int64_t now = (int64_t)time(NULL);

    snprintf(tee, sizeof(tee), "{\"platform\": \"tdx\", \"mrtd\": [\"%s\", \"%s\"]}", other, mrtd);
    ADMITTED(tee, &s, now);
    snprintf(tee, sizeof(tee), "{\"platform\": \"tdx\", \"mrtd\": [\"%s\"]}", other);
    REFUSED(tee, &s, now, "MRTD is not one the registration policy lists");

    snprintf(tee, sizeof(tee), "{\"platform\": \"tdx\", \"rtmr1\": [\"%s\"]}", rtmr1);
    ADMITTED(tee, &s, now);
    snprintf(tee, sizeof(tee), "{\"platform\": \"tdx\", \"rtmr1\": [\"%s\"]}", other);
    REFUSED(tee, &s, now, "rtmr1 is not one the registration policy lists");
    stmt no_rtmr = s;
    claim_drop(&no_rtmr, "rtmr1");
    snprintf(tee, sizeof(tee), "{\"platform\": \"tdx\", \"rtmr1\": [\"%s\"]}", rtmr1);
    REFUSED(tee, &no_rtmr, now, "has no protected CWT claim \"rtmr1\"");
    stmt short_rtmr = no_rtmr;
    claim_bytes(&short_rtmr, "rtmr1", W.gcp_r.td.rtmr[1], 32);
    REFUSED(tee, &short_rtmr, now, "must be a byte string of 48 bytes");

    /* the rule's platform, as the statement's "tee" claim and its hash envelope say */
    REFUSED("{\"platform\": \"sgx\"}", &s, now, "must be sgx measurement statements");
    stmt wrong_tee = s;
    claim_drop(&wrong_tee, "tee");
    claim_text(&wrong_tee, "tee", "sev-snp");
    REFUSED("{\"platform\": \"tdx\"}", &wrong_tee, now, "must be tdx measurement statements");
    stmt no_tee = s;
    claim_drop(&no_tee, "tee");
    REFUSED("{\"platform\": \"tdx\"}", &no_tee, now, "must be tdx measurement statements");
    stmt plain = s;
    plain.hash_envelope = false;
    REFUSED("{\"platform\": \"tdx\"}", &plain, now, "must be tdx measurement statements");
    ADMITTED("{\"platform\": \"tdx\"}", &s, now);

    /* SGX: MRENCLAVE and MRSIGNER lists */
    char mrenclave[65], mrsigner[65], other32[65];
    hex(W.sgx_r.enclave.mrenclave, 32, mrenclave);
    hex(W.sgx_r.enclave.mrsigner, 32, mrsigner);
    memset(other32, 'b', 64);
    other32[64] = 0;
    stmt g = sgx_stmt(&W.sgx_r, NULL, W.t_sgx);
    snprintf(tee, sizeof(tee),
             "{\"platform\": \"sgx\", \"mrenclave\": [\"%s\"], \"mrsigner\": [\"%s\"]}", mrenclave,
             mrsigner);
    ADMITTED(tee, &g, now);
    snprintf(tee, sizeof(tee), "{\"platform\": \"sgx\", \"mrenclave\": [\"%s\"]}", other32);
    REFUSED(tee, &g, now, "MRENCLAVE is not one the registration policy lists");
    snprintf(tee, sizeof(tee), "{\"platform\": \"sgx\", \"mrsigner\": [\"%s\"]}", other32);
    REFUSED(tee, &g, now, "mrsigner is not one the registration policy lists");
    stmt g_nosigner = g;
    claim_drop(&g_nosigner, "mrsigner");
    snprintf(tee, sizeof(tee), "{\"platform\": \"sgx\", \"mrsigner\": [\"%s\"]}", mrsigner);
    REFUSED(tee, &g_nosigner, now, "has no protected CWT claim \"mrsigner\"");
    REFUSED("{\"platform\": \"tdx\"}", &g, now, "must be tdx measurement statements");
}

/* With evidence: real quotes verified at iat, the TCB statuses, the claims against the quote. */
static void test_evidence_real(void **state)
{
    (void)state;
    char tee[1024], mrtd[97];
    hex(W.gcp_r.td.mrtd, 48, mrtd);
    int64_t now = (int64_t)time(NULL);
    snprintf(tee, sizeof(tee), "{\"platform\": \"tdx\", \"evidence\": true, \"mrtd\": [\"%s\"]}",
             mrtd);
    stmt s = tdx_stmt(&W.gcp_r, &W.gcp, W.t_tdx);
    ADMITTED(tee, &s, now);

    /* the statement's measurements must be the quote's */
    uint8_t wrong[48];
    memcpy(wrong, W.gcp_r.td.rtmr[2], 48);
    wrong[47] ^= 1;
    stmt x = s;
    claim_drop(&x, "rtmr2");
    claim_bytes(&x, "rtmr2", wrong, 48);
    REFUSED("{\"platform\": \"tdx\", \"evidence\": true}", &x, now, "\"rtmr2\" is not the quote's");
    uint8_t other_mrtd[48];
    memcpy(other_mrtd, W.gcp_r.td.mrtd, 48);
    other_mrtd[0] ^= 0x80;
    x = s;
    x.payload = scitt_span_make(other_mrtd, 48);
    REFUSED("{\"platform\": \"tdx\", \"evidence\": true}", &x, now, "MRTD is not the quote's");
    /* ...and with evidence the lists judge the quote's RTMRs, claimed or not */
    x = s;
    claim_drop(&x, "rtmr3");
    char rtmr3[97], other[97];
    hex(W.gcp_r.td.rtmr[3], 48, rtmr3);
    memset(other, 'c', 96);
    other[96] = 0;
    snprintf(tee, sizeof(tee), "{\"platform\": \"tdx\", \"evidence\": true, \"rtmr3\": [\"%s\"]}",
             rtmr3);
    ADMITTED(tee, &x, now);
    snprintf(tee, sizeof(tee), "{\"platform\": \"tdx\", \"evidence\": true, \"rtmr3\": [\"%s\"]}",
             other);
    REFUSED(tee, &x, now, "rtmr3 is not one the registration policy lists");

    /* what the evidence needs: a quote, collateral, an iat, both CRLs */
    x = s;
    x.no_quote = true;
    REFUSED("{\"platform\": \"tdx\", \"evidence\": true}", &x, now, "needs its DCAP quote");
    x = s;
    x.ev = NULL;
    REFUSED("{\"platform\": \"tdx\", \"evidence\": true}", &x, now, "needs its DCAP quote");
    x = s;
    x.skip_items = ~0u;
    REFUSED("{\"platform\": \"tdx\", \"evidence\": true}", &x, now, "evidence at iat");
    x = s;
    x.skip_items = 1u << SCITT_DCAP_PCK_CRL;
    REFUSED("{\"platform\": \"tdx\", \"evidence\": true}", &x, now, "PCK CRL and the root CA CRL");
    x = s;
    x.skip_items = 1u << SCITT_DCAP_ROOT_CRL;
    REFUSED("{\"platform\": \"tdx\", \"evidence\": true}", &x, now, "PCK CRL and the root CA CRL");
    x = s;
    x.has_iat = false;
    REFUSED("{\"platform\": \"tdx\", \"evidence\": true}", &x, now, "iat, and it has none");
    x = s;
    x.iat = now + 3600;
    REFUSED("{\"platform\": \"tdx\", \"evidence\": true}", &x, now, "is in the future");
    /* another platform's collateral for this quote */
    x = s;
    x.ev = &W.sgx;
    x.no_quote = false;
    {
        evidence mixed = W.sgx;
        mixed.quote = W.gcp.quote;
        mixed.quote_len = W.gcp.quote_len;
        x.ev = &mixed;
        REFUSED("{\"platform\": \"tdx\", \"evidence\": true}", &x, now, "evidence at iat");
    }

    /* TCB status: OutOfDate refused by default, admitted only when listed */
    scitt_dcap_result ood;
    verify_at(&W.tdx_ood, W.t_tdx, NULL, SCITT_DCAP_ACCEPT(SCITT_DCAP_TCB_OUT_OF_DATE), &ood);
    stmt o = tdx_stmt(&ood, &W.tdx_ood, W.t_tdx);
    REFUSED("{\"platform\": \"tdx\", \"evidence\": true}", &o, now, "TCB status");
    REFUSED("{\"platform\": \"tdx\", \"evidence\": true, \"accept_tcb\": [\"UpToDate\", "
            "\"SWHardeningNeeded\"]}",
            &o, now, "TCB status");
    ADMITTED("{\"platform\": \"tdx\", \"evidence\": true, \"accept_tcb\": [\"OutOfDate\"]}", &o,
             now);

    /* SGX: SWHardeningNeeded only when accepted; claims agree with the quote */
    stmt g = sgx_stmt(&W.sgx_r, &W.sgx, W.t_sgx);
    const char *sgx_sw = "{\"platform\": \"sgx\", \"evidence\": true, \"accept_tcb\": "
                         "[\"SWHardeningNeeded\"]}";
    REFUSED("{\"platform\": \"sgx\", \"evidence\": true}", &g, now, "TCB status");
    ADMITTED(sgx_sw, &g, now);
    stmt y = g;
    uint8_t signer[32];
    memcpy(signer, W.sgx_r.enclave.mrsigner, 32);
    signer[5] ^= 4;
    claim_drop(&y, "mrsigner");
    claim_bytes(&y, "mrsigner", signer, 32);
    REFUSED(sgx_sw, &y, now, "\"mrsigner\" is not the quote's");
    y = g;
    claim_drop(&y, "isv_prod_id");
    claim_int(&y, "isv_prod_id", W.sgx_r.enclave.isv_prod_id + 1);
    REFUSED(sgx_sw, &y, now, "\"isv_prod_id\" or \"svn\" is not the quote's");
    y = g;
    claim_drop(&y, "svn");
    claim_int(&y, "svn", W.sgx_r.enclave.isv_svn + 1);
    REFUSED(sgx_sw, &y, now, "\"isv_prod_id\" or \"svn\" is not the quote's");

    /* the other platform's evidence under a TDX statement: an SGX quote that verifies */
    stmt z = tdx_stmt(&W.gcp_r, &W.sgx, W.t_sgx);
    REFUSED("{\"platform\": \"tdx\", \"evidence\": true, \"accept_tcb\": "
            "[\"SWHardeningNeeded\"]}",
            &z, now, "the quote is sgx evidence, the rule wants tdx");
}

/* DEBUG refused; the synthetic root only when the rule pins it. */
static void test_evidence_debug_and_root(void **state)
{
    (void)state;
    char tee[1024], root[65];
    hex(W.nodbg.root_sha256, 32, root);
    int64_t now = (int64_t)time(NULL);
    evidence good, dbg;
    from_world(&good, &W.nodbg);
    from_world(&dbg, &W.dbg);
    stmt s = tdx_stmt(&W.nodbg_r, &good, W.t_syn);
    snprintf(tee, sizeof(tee),
             "{\"platform\": \"tdx\", \"evidence\": true, \"root_sha256\": \"%s\"}", root);
    ADMITTED(tee, &s, now);
    REFUSED("{\"platform\": \"tdx\", \"evidence\": true}", &s, now, "evidence at iat");
    char tee_d[1024];
    hex(W.dbg.root_sha256, 32, root);
    snprintf(tee_d, sizeof(tee_d),
             "{\"platform\": \"tdx\", \"evidence\": true, \"root_sha256\": \"%s\"}", root);
    scitt_dcap_result dr;
    evidence d2 = dbg;
    verify_at(&d2, W.t_syn, W.dbg.root_sha256, 0, &dr);
    assert_true(dr.td.td_attributes[0] & 1);
    stmt d = tdx_stmt(&dr, &dbg, W.t_syn);
    REFUSED(tee_d, &d, now, "has DEBUG set");
}

/* attested_issuer: any statement, signed by a key the quote's REPORTDATA names. */
static void test_attested_issuer(void **state)
{
    (void)state;
    int64_t now = (int64_t)time(NULL);
    evidence att, other;
    from_world(&att, &W.att);
    from_world(&other, &W.att_other);
    scitt_dcap_result r;
    verify_at(&att, W.t_syn, W.att.root_sha256, 0, &r);
    char root[65], mrtd[97], rtmr0[97], tee[1024];
    hex(W.att.root_sha256, 32, root);
    hex(r.td.mrtd, 48, mrtd);
    hex(r.td.rtmr[0], 48, rtmr0);
    stmt s;
    memset(&s, 0, sizeof(s));
    s.payload = scitt_span_str("an SBOM the workload wrote");
    s.has_iat = true;
    s.iat = W.t_syn;
    s.ev = &att;
    snprintf(tee, sizeof(tee),
             "{\"platform\": \"tdx\", \"evidence\": true, \"attested_issuer\": true, "
             "\"root_sha256\": \"%s\", \"mrtd\": [\"%s\"], \"rtmr0\": [\"%s\"]}",
             root, mrtd, rtmr0);
    ADMITTED(tee, &s, now);
    /* a quote that names another key */
    hex(W.att_other.root_sha256, 32, root);
    char tee2[1024];
    snprintf(tee2, sizeof(tee2),
             "{\"platform\": \"tdx\", \"evidence\": true, \"attested_issuer\": true, "
             "\"root_sha256\": \"%s\"}",
             root);
    stmt o = s;
    o.ev = &other;
    REFUSED(tee2, &o, now, "does not bind the key that signed the statement");
    /* the lists judge the quote */
    hex(W.att.root_sha256, 32, root);
    char other48[97];
    memset(other48, 'e', 96);
    other48[96] = 0;
    snprintf(tee2, sizeof(tee2),
             "{\"platform\": \"tdx\", \"evidence\": true, \"attested_issuer\": true, "
             "\"root_sha256\": \"%s\", \"mrtd\": [\"%s\"]}",
             root, other48);
    REFUSED(tee2, &s, now, "the quote's MRTD is not one the registration policy lists");
    snprintf(tee2, sizeof(tee2),
             "{\"platform\": \"tdx\", \"evidence\": true, \"attested_issuer\": true, "
             "\"root_sha256\": \"%s\", \"rtmr0\": [\"%s\"]}",
             root, other48);
    REFUSED(tee2, &s, now, "the quote's RTMR is not one the registration policy lists");
    /* the evidence rules hold here too: no quote, DEBUG */
    stmt n = s;
    n.no_quote = true;
    REFUSED(tee, &n, now, "needs its DCAP quote");
    /* without attested_issuer the rule wants a measurement statement */
    snprintf(tee2, sizeof(tee2),
             "{\"platform\": \"tdx\", \"evidence\": true, \"root_sha256\": \"%s\"}", root);
    REFUSED(tee2, &s, now, "must be tdx measurement statements");
}

/*
 * The evidence is judged at the statement's iat: a replay at any later instant (`scitt audit`
 * calls scitt_policy_check with its own time) reaches the decision registration reached, also
 * once the collateral has expired; and a statement whose iat lies outside the collateral's
 * window is refused now and on every replay.
 */
static void test_replay_after_expiry(void **state)
{
    (void)state;
    const char *tee = "{\"platform\": \"tdx\", \"evidence\": true}";
    stmt s = tdx_stmt(&W.gcp_r, &W.gcp, W.t_tdx);
    int64_t later[] = {W.t_tdx, W.t_tdx + 86400 * 60, (int64_t)time(NULL),
                       (int64_t)time(NULL) + 86400LL * 365 * 10};
    /* the collateral has expired at the later instants: verified there, it is refused */
    scitt_dcap_collateral *c = dt_collateral(dt_samples[DT_GCP].collateral, 0);
    scitt_dcap_verify_opts o;
    scitt_dcap_verify_opts_init(&o, later[2]);
    scitt_dcap_result *r = malloc(sizeof(*r));
    assert_int_equal(scitt_dcap_verify(scitt_span_make(W.gcp.quote, W.gcp.quote_len), c, &o, r),
                     SCITT_ERR_EXPIRED);
    free(r);
    scitt_dcap_collateral_free(c);
    for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
        ADMITTED(tee, &s, later[i]);
    }
    stmt stale = s;
    stale.iat = later[2] - 60; /* signed now, with the 2025 collateral */
    for (size_t i = 2; i < sizeof(later) / sizeof(later[0]); i++) {
        REFUSED(tee, &stale, later[i], "evidence at iat");
    }
    /* and through the registration path, at the wall clock */
    char reason[SCITT_POLICY_REASON_MAX];
    assert_int_equal(register_check(tee, &s, reason, sizeof(reason)), SCITT_OK);
    assert_int_equal(register_check(tee, &stale, reason, sizeof(reason)), SCITT_ERR_POLICY);
}

/*
 * Every field the rule reads, as an unprotected twin through the registration path: the
 * statement without the field protected is refused, with it protected admitted, and with it
 * only unprotected refused as without it.
 */
static void test_unprotected_twins(void **state)
{
    (void)state;
    char mrtd[97], rtmr1[97], mrsigner[65];
    hex(W.gcp_r.td.mrtd, 48, mrtd);
    hex(W.gcp_r.td.rtmr[1], 48, rtmr1);
    hex(W.sgx_r.enclave.mrsigner, 32, mrsigner);
    typedef struct twin_row {
        const char *what;
        const char *tee;
        stmt s;
        int twin;
        const char *claim;
    } twin_row;
    twin_row rows[9];
    size_t n = 0;
    stmt t = tdx_stmt(&W.gcp_r, NULL, W.t_tdx);
    stmt te = tdx_stmt(&W.gcp_r, &W.gcp, W.t_tdx);
    stmt g = sgx_stmt(&W.sgx_r, NULL, W.t_sgx);
    static char tees[4][1024];
    snprintf(tees[0], sizeof(tees[0]), "{\"platform\": \"tdx\", \"rtmr1\": [\"%s\"]}", rtmr1);
    snprintf(tees[1], sizeof(tees[1]), "{\"platform\": \"tdx\", \"evidence\": true}");
    snprintf(tees[2], sizeof(tees[2]), "{\"platform\": \"sgx\", \"mrsigner\": [\"%s\"]}", mrsigner);
    snprintf(tees[3], sizeof(tees[3]), "{\"platform\": \"tdx\", \"mrtd\": [\"%s\"]}", mrtd);
    rows[n++] = (twin_row){"CWT claim tee", tees[3], t, T_CLAIM, "tee"};
    rows[n++] = (twin_row){"CWT claim rtmr1", tees[0], t, T_CLAIM, "rtmr1"};
    rows[n++] = (twin_row){"hash envelope 258", tees[3], t, T_HASH_ALG, NULL};
    rows[n++] = (twin_row){"CWT iat", tees[1], te, T_CLAIM, "iat"};
    rows[n++] = (twin_row){"dcap_quote", tees[1], te, T_QUOTE, NULL};
    rows[n++] = (twin_row){"dcap_collateral", tees[1], te, T_COLLATERAL, NULL};
    rows[n++] = (twin_row){"CWT claim mrsigner", tees[2], g, T_CLAIM, "mrsigner"};
    assert_true(n <= sizeof(rows) / sizeof(rows[0]));
    size_t decoded = 0;
    for (size_t i = 0; i < n; i++) {
        twin_row *x = &rows[i];
        char r0[SCITT_POLICY_REASON_MAX], r1[SCITT_POLICY_REASON_MAX], r2[SCITT_POLICY_REASON_MAX];
        stmt with = x->s;
        scitt_err e1 = register_check(x->tee, &with, r1, sizeof(r1));
        if (e1 != SCITT_OK) {
            fail_msg("%s: protected, refused: %s (%s)", x->what, scitt_err_name(e1), r1);
        }
        /* without: the field left out entirely */
        stmt without = x->s;
        without.twin = x->twin;
        without.twin_claim = x->claim;
        without.drop = true;
        scitt_err e0 = register_check(x->tee, &without, r0, sizeof(r0));
        if (e0 == SCITT_OK) {
            fail_msg("%s: admitted without the field", x->what);
        }
        stmt tw = x->s;
        tw.twin = x->twin;
        tw.twin_claim = x->claim;
        scitt_err e2 = register_check(x->tee, &tw, r2, sizeof(r2));
        if (e2 == SCITT_OK) {
            fail_msg("%s: the unprotected twin admitted what the rule refuses", x->what);
        }
        /* A twin the decoder refuses (CWT claims in both buckets) is refused structurally;
         * one that decodes must meet the decision without the field, reason and all. */
        scitt_dynbuf b;
        build(&tw, &b);
        scitt_cose_sign1 *m = malloc(sizeof(*m));
        bool decodes = scitt_cose_sign1_decode(scitt_span_make(b.ptr, b.len), 0, m) == SCITT_OK;
        free(m);
        scitt_dynbuf_clear(&b);
        decoded += decodes;
        if (decodes && (e2 != e0 || strcmp(r0, r2) != 0)) {
            fail_msg("%s: twin %s (%s), without %s (%s)", x->what, scitt_err_name(e2), r2,
                     scitt_err_name(e0), r0);
        }
        print_message("%-20s protected: admitted; absent: %s; unprotected twin: %s (%s)\n", x->what,
                      scitt_err_name(e0), scitt_err_name(e2), r2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_document),   cmocka_unit_test(test_claims_lists),
        cmocka_unit_test(test_evidence_real),     cmocka_unit_test(test_evidence_debug_and_root),
        cmocka_unit_test(test_attested_issuer),   cmocka_unit_test(test_replay_after_expiry),
        cmocka_unit_test(test_unprotected_twins),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
