/*
 * Payload sources of `scitt sign`: plain files, container image digests (from a reference, an OCI
 * image layout or a `docker save` archive, with no registry access), enclave measurements and hash
 * envelopes of files of any size.
 */
#include "sign.h"

#include "oci_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "parsers.h"
#include "scitt/attest.h"
#include "scitt/dcap.h"
#include "scitt/tee.h"

#define MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_OCI_INDEX    "application/vnd.oci.image.index.v1+json"

void plan_init(sign_plan *p)
{
    memset(p, 0, sizeof(*p));
    scitt_dynbuf_init(&p->payload, CLI_FILE_MAX);
    scitt_dynbuf_init(&p->dcap_quote, 0);
    scitt_dynbuf_init(&p->dcap_collateral, 0);
}

void plan_clear(sign_plan *p)
{
    scitt_dynbuf_clear(&p->payload);
    scitt_dynbuf_clear(&p->dcap_quote);
    scitt_dynbuf_clear(&p->dcap_collateral);
}

static sign_claim *add_claim(sign_plan *p, const char *key)
{
    for (size_t i = 0; i < p->nclaims; i++) {
        if (!strcmp(p->claims[i].key, key)) {
            return &p->claims[i]; /* a later source overrides (e.g. --host-data over a report) */
        }
    }
    if (p->nclaims == SIGN_CLAIMS_MAX) {
        return NULL;
    }
    sign_claim *c = &p->claims[p->nclaims++];
    memset(c, 0, sizeof(*c));
    c->key = key;
    return c;
}

int plan_payload(sign_plan *p, const char *file, const char *content_type, bool detached)
{
    p->kind = "payload";
    p->content_type = content_type;
    p->detached = detached;
    scitt_dynbuf_clear(&p->payload);
    return cli_slurp(file, CLI_FILE_MAX, &p->payload);
}

static void set_digest_envelope(sign_plan *p, const uint8_t *digest, size_t len, int64_t alg,
                                const char *ptype)
{
    scitt_dynbuf_clear(&p->payload);
    scitt_dynbuf_init(&p->payload, 0);
    scitt_dynbuf_put(&p->payload, digest, len);
    p->hash_alg = alg;
    snprintf(p->preimage_type, sizeof(p->preimage_type), "%s", ptype);
}

int plan_image_ref(sign_plan *p, const char *ref, bool index, const struct oci_client_opts *reg)
{
    p->kind = "image";
    oci_image img;
    memset(&img, 0, sizeof(img));
    char why[400];
    if (oci_ref_parse(ref, &img.ref, why, sizeof(why)) != SCITT_OK) {
        return cli_usage("--image \"%.300s\": %s", ref, why);
    }
    if (!img.ref.digest[0]) {
        /* no digest given: the registry says which manifest the tag names now */
        int rc = oci_resolve(ref, reg, &img);
        if (rc != CLI_OK) {
            return rc;
        }
        index = strcmp(img.media, MEDIA_OCI_INDEX) == 0 ||
                strcmp(img.media, "application/vnd.docker.distribution.manifest.list.v2+json") == 0;
    } else {
        memcpy(img.digest, img.ref.digest, sizeof(img.digest));
    }
    uint8_t digest[SCITT_SHA256_LEN];
    size_t n;
    if (scitt_hex_decode(scitt_span_str(img.digest + 7), digest, sizeof(digest), &n) != SCITT_OK ||
        n != sizeof(digest)) {
        return cli_usage("--image: the digest is not 64 hex digits");
    }
    snprintf(p->default_sub, sizeof(p->default_sub), "%s/%s", img.ref.registry, img.ref.repo);
    set_digest_envelope(p, digest, sizeof(digest), SCITT_COSE_ALG_SHA256,
                        index ? MEDIA_OCI_INDEX : MEDIA_OCI_MANIFEST);
    memcpy(img.ref.digest, img.digest, sizeof(img.ref.digest));
    char name[700];
    oci_ref_format(&img.ref, name, sizeof(name));
    snprintf(p->location, sizeof(p->location), "oci://%s", name);
    return CLI_OK;
}

/* ---- OCI layout files from a directory or a tar archive ------------------------------------ */

typedef struct layout {
    bool tar;
    const char *path;
    int fd;
} layout;

static long tar_read(void *ctx, uint64_t off, uint8_t *buf, size_t n)
{
    layout *l = ctx;
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(l->fd, buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return -1;
        }
        if (r == 0) {
            break;
        }
        got += (size_t)r;
    }
    return (long)got;
}

/* Reads member @p name (at most @p max bytes); SCITT_ERR_NOT_FOUND when it is not there. */
static scitt_err layout_read(layout *l, const char *name, size_t max, scitt_dynbuf *out, char *why,
                             size_t cap)
{
    if (!l->tar) {
        char path[4608];
        snprintf(path, sizeof(path), "%s/%s", l->path, name);
        errno = 0;
        scitt_err e = cli_read_file(path, max, out);
        if (e != SCITT_OK) {
            snprintf(why, cap, "cannot read %.400s: %s", path,
                     e == SCITT_ERR_TOO_LARGE ? "too large"
                                              : (errno ? strerror(errno) : scitt_err_str(e)));
        }
        return e;
    }
    scitt_dynbuf_init(out, max);
    tar_member m;
    scitt_err e = tar_find(tar_read, l, name, &m);
    if (e != SCITT_OK) {
        snprintf(why, cap, "%s: %s%s", l->path,
                 e == SCITT_ERR_NOT_FOUND ? "no member " : "not a readable tar archive: ",
                 e == SCITT_ERR_NOT_FOUND ? name : scitt_err_str(e));
        return e;
    }
    if (m.size > max) {
        snprintf(why, cap, "%s: %s is larger than %zu bytes", l->path, name, max);
        return SCITT_ERR_TOO_LARGE;
    }
    uint8_t *at = scitt_dynbuf_reserve(out, (size_t)m.size);
    if (!at || tar_read(l, m.data_off, at, (size_t)m.size) != (long)m.size) {
        snprintf(why, cap, "%s: %s is cut short", l->path, name);
        return SCITT_ERR_TRUNCATED;
    }
    return SCITT_OK;
}

int plan_oci(sign_plan *p, const char *path, bool tar, const char *ref, const char *image_name)
{
    p->kind = "image";
    layout l = {tar, path, -1};
    if (tar && (l.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        return cli_fail(CLI_USAGE, "cannot open %s: %s", path, strerror(errno));
    }
    char why[512];
    int rc = CLI_USAGE;
    scitt_dynbuf index, blob, dm;
    scitt_dynbuf_init(&blob, 0);
    scitt_dynbuf_init(&dm, 0);
    scitt_err e = layout_read(&l, "index.json", OCI_JSON_MAX, &index, why, sizeof(why));
    if (e == SCITT_ERR_NOT_FOUND && tar) {
        cli_msg("%s has no index.json: archives from docker save before Docker 25 do not hold the "
                "image's manifest digest; push the image and sign --image REF@sha256:...",
                path);
        goto out;
    }
    if (e != SCITT_OK) {
        cli_msg("%s", why);
        goto out;
    }
    oci_desc d;
    e = oci_pick(scitt_span_make(index.ptr, index.len), ref, &d, why, sizeof(why));
    if (e != SCITT_OK) {
        cli_msg("%s: %s", path, why);
        goto out;
    }
    char blob_name[96];
    snprintf(blob_name, sizeof(blob_name), "blobs/sha256/%s", d.digest_hex);
    e = layout_read(&l, blob_name, OCI_JSON_MAX, &blob, why, sizeof(why));
    if (e == SCITT_OK) {
        e = oci_check_blob(scitt_span_make(blob.ptr, blob.len), &d, why, sizeof(why));
    }
    if (e != SCITT_OK) {
        cli_msg("%s: %s", path, why);
        rc = e == SCITT_ERR_KEY_MISMATCH ? CLI_FAIL : CLI_USAGE;
        goto out;
    }
    /* The repository: given, else the index's annotation, else docker's RepoTags. */
    char name[OCI_NAME_MAX] = "";
    snprintf(name, sizeof(name), "%s", image_name ? image_name : d.name);
    if (!name[0] && tar &&
        layout_read(&l, "manifest.json", OCI_JSON_MAX, &dm, why, sizeof(why)) == SCITT_OK) {
        if (oci_docker_repotag(scitt_span_make(dm.ptr, dm.len), name, sizeof(name)) != SCITT_OK) {
            name[0] = 0;
        }
    }
    if (!image_name && name[0] && !strpbrk(name, "/:@")) {
        /* org.opencontainers.image.ref.name as skopeo (oci:DIR:TAG) and others write it: a tag,
         * not a repository; taking it as "docker.io/library/<tag>" would name another image */
        cli_msg("%s names the image only by its tag \"%s\" (as skopeo copy ... oci:DIR:%s "
                "writes it): give the repository with --image-name REPO",
                path, name, name);
        goto out;
    }
    set_digest_envelope(p, d.digest, sizeof(d.digest), SCITT_COSE_ALG_SHA256, d.media_type);
    if (name[0]) {
        bool has_digest;
        uint8_t ignored[SCITT_SHA256_LEN];
        if (oci_split_ref(name, p->default_sub, sizeof(p->default_sub), &has_digest, ignored) !=
            SCITT_OK) {
            cli_msg("\"%s\" is not an image name", name);
            goto out;
        }
        snprintf(p->location, sizeof(p->location), "oci://%s@sha256:%s", p->default_sub,
                 d.digest_hex);
    }
    rc = CLI_OK;
out:
    scitt_dynbuf_clear(&index);
    scitt_dynbuf_clear(&blob);
    scitt_dynbuf_clear(&dm);
    if (l.fd >= 0) {
        close(l.fd);
    }
    return rc;
}

/* ---- measurements -------------------------------------------------------------------------- */

static const char *const rtmr_names[4] = {"rtmr0", "rtmr1", "rtmr2", "rtmr3"};

static void set_tee(sign_plan *p, const char *tee)
{
    sign_claim *c = add_claim(p, "tee");
    if (c) {
        c->kind = CLAIM_TEXT;
        snprintf(c->t, sizeof(c->t), "%s", tee);
    }
}

int plan_measurement(sign_plan *p, const char *spec)
{
    p->kind = "measurement";
    const char *colon = strchr(spec, ':');
    size_t want;
    int64_t alg;
    const char *tee;
    if (colon && colon - spec == 3 && !strncmp(spec, "snp", 3)) {
        want = 48, alg = SCITT_COSE_ALG_SHA384, tee = "sev-snp";
    } else if (colon && colon - spec == 3 && !strncmp(spec, "tdx", 3)) {
        want = 48, alg = SCITT_COSE_ALG_SHA384, tee = "tdx";
    } else if (colon && colon - spec == 3 && !strncmp(spec, "sgx", 3)) {
        want = 32, alg = SCITT_COSE_ALG_SHA256, tee = "sgx";
    } else {
        return cli_usage("--measurement must be snp:HEX, tdx:HEX or sgx:HEX");
    }
    uint8_t m[64];
    size_t n;
    const char *comma = strchr(colon + 1, ',');
    size_t hex_len = comma ? (size_t)(comma - colon - 1) : strlen(colon + 1);
    if (scitt_hex_decode(scitt_span_make(colon + 1, hex_len), m, sizeof(m), &n) != SCITT_OK ||
        n != want) {
        return cli_usage("a %.3s measurement is %zu bytes (%zu hex digits)", spec, want, 2 * want);
    }
    if (comma && strcmp(tee, "tdx") != 0) {
        return cli_usage("only a tdx measurement takes RTMRs (tdx:MRTD,rtmr0=HEX,...)");
    }
    set_digest_envelope(p, m, n, alg, "application/octet-stream");
    set_tee(p, tee);
    unsigned seen = 0;
    while (comma) {
        const char *item = comma + 1;
        comma = strchr(item, ',');
        size_t len = comma ? (size_t)(comma - item) : strlen(item);
        unsigned i = (unsigned)(item[4] - '0');
        if (len < 6 || strncmp(item, "rtmr", 4) != 0 || item[4] < '0' || item[4] > '3' ||
            item[5] != '=' || (seen & (1u << i))) {
            return cli_usage("after the MRTD: rtmr0=HEX .. rtmr3=HEX, each at most once");
        }
        seen |= 1u << i;
        sign_claim *c = add_claim(p, rtmr_names[i]);
        if (!c ||
            scitt_hex_decode(scitt_span_make(item + 6, len - 6), c->b, sizeof(c->b), &c->blen) !=
                SCITT_OK ||
            c->blen != 48) {
            return cli_usage("rtmr%u must be 96 hex digits (48 bytes)", i);
        }
        c->kind = CLAIM_BYTES;
    }
    return CLI_OK;
}

int plan_dcap_quote(sign_plan *p, const char *file, bool tdx)
{
    p->kind = "measurement";
    scitt_dynbuf b;
    int rc = cli_slurp(file, SCITT_DCAP_QUOTE_MAX + 4096, &b);
    if (rc != CLI_OK) {
        return rc;
    }
    scitt_dcap_quote *q = scitt_malloc(sizeof(*q));
    scitt_tee_reason rs = SCITT_TEE_OK;
    scitt_err e =
        q ? scitt_dcap_quote_parse(scitt_span_make(b.ptr, b.len), q, &rs) : SCITT_ERR_NOMEM;
    if (e == SCITT_OK && (q->tee == SCITT_DCAP_TEE_TDX) != tdx) {
        rc = cli_fail(CLI_USAGE, "%s is a %s quote: give %s", file, tdx ? "SGX" : "TDX",
                      tdx ? "--sgx-quote" : "--tdx-quote");
    } else if (e != SCITT_OK) {
        rc = cli_fail(CLI_USAGE, "%s: not a DCAP quote: %s", file, scitt_tee_reason_str(rs));
    } else if (tdx) {
        set_digest_envelope(p, q->td.mrtd, 48, SCITT_COSE_ALG_SHA384, "application/octet-stream");
        set_tee(p, "tdx");
        for (unsigned i = 0; i < 4; i++) {
            sign_claim *c = add_claim(p, rtmr_names[i]);
            if (c) {
                c->kind = CLAIM_BYTES;
                memcpy(c->b, q->td.rtmr[i], 48);
                c->blen = 48;
            }
        }
    } else {
        set_digest_envelope(p, q->enclave.mrenclave, 32, SCITT_COSE_ALG_SHA256,
                            "application/octet-stream");
        set_tee(p, "sgx");
        sign_claim *c = add_claim(p, "mrsigner");
        if (c) {
            c->kind = CLAIM_BYTES;
            memcpy(c->b, q->enclave.mrsigner, 32);
            c->blen = 32;
        }
        c = add_claim(p, "isv_prod_id");
        if (c) {
            c->kind = CLAIM_INT;
            c->i = q->enclave.isv_prod_id;
        }
        rc = plan_svn(p, q->enclave.isv_svn);
    }
    scitt_free(q);
    scitt_dynbuf_clear(&b);
    return rc;
}

int plan_dcap_evidence(sign_plan *p, const char *file, const char *dir)
{
    scitt_dynbuf q, files[SCITT_DCAP_ITEMS];
    scitt_span spans[SCITT_DCAP_ITEMS];
    int rc = cli_slurp(file, SCITT_DCAP_QUOTE_MAX + 4096, &q);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        scitt_dynbuf_init(&files[i], 0);
        spans[i] = scitt_span_make(NULL, 0);
    }
    scitt_dcap_quote *pq = scitt_malloc(sizeof(*pq));
    scitt_tee_reason qwhy = SCITT_TEE_OK;
    if (rc == CLI_OK &&
        (!pq || scitt_dcap_quote_parse(scitt_span_make(q.ptr, q.len), pq, &qwhy) != SCITT_OK)) {
        rc = cli_fail(CLI_USAGE, "%s: not a DCAP quote: %s", file, scitt_tee_reason_str(qwhy));
    }
    scitt_free(pq);
    scitt_dcap_collateral *c = NULL;
    if (rc == CLI_OK && scitt_dcap_collateral_new(&c) != SCITT_OK) {
        rc = cli_fail(CLI_FAIL, "out of memory");
    }
    for (int i = 0; rc == CLI_OK && i < SCITT_DCAP_ITEMS; i++) {
        const char *name = scitt_dcap_item_file((scitt_dcap_item)i);
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        scitt_err e = cli_read_file(path, SCITT_DCAP_COLLATERAL_FILE_MAX, &files[i]);
        if (e == SCITT_ERR_NOT_FOUND && !scitt_dcap_item_required((scitt_dcap_item)i)) {
            continue;
        }
        scitt_tee_reason why = SCITT_TEE_OK;
        if (e != SCITT_OK) {
            rc = cli_fail(CLI_USAGE, "--collateral %s: cannot read %s: %s", dir, name,
                          scitt_err_str(e));
        } else if (scitt_dcap_collateral_set(c, (scitt_dcap_item)i,
                                             scitt_span_make(files[i].ptr, files[i].len),
                                             &why) != SCITT_OK) {
            rc = cli_fail(CLI_USAGE, "--collateral %s: %s: %s", dir, name,
                          scitt_tee_reason_str(why));
        }
        spans[i] = scitt_span_make(files[i].ptr, files[i].len);
    }
    if (rc == CLI_OK) {
        scitt_cbor_writer w;
        scitt_cbor_writer_init_dynbuf(&w, &p->dcap_quote);
        scitt_cbor_put_bytes(&w, scitt_span_make(q.ptr, q.len));
        if (p->dcap_quote.err != SCITT_OK ||
            scitt_attest_collateral_encode(spans, &p->dcap_collateral) != SCITT_OK) {
            rc = cli_fail(CLI_FAIL, "out of memory");
        }
    }
    scitt_dcap_collateral_free(c);
    for (int i = 0; i < SCITT_DCAP_ITEMS; i++) {
        scitt_dynbuf_clear(&files[i]);
    }
    scitt_dynbuf_clear(&q);
    return rc;
}

int plan_snp_report(sign_plan *p, const char *file)
{
    p->kind = "measurement";
    scitt_dynbuf b;
    int rc = cli_slurp(file, SNP_FILE_MAX, &b);
    if (rc != CLI_OK) {
        return rc;
    }
    uint8_t raw[SCITT_SNP_REPORT_LEN];
    char why[256];
    scitt_err e = snp_file_decode(scitt_span_make(b.ptr, b.len), raw, why, sizeof(why));
    scitt_dynbuf_clear(&b);
    scitt_snp_report r;
    scitt_tee_reason rs;
    if (e != SCITT_OK || scitt_snp_report_parse(scitt_span_make(raw, sizeof(raw)), &r, &rs)) {
        return cli_fail(CLI_USAGE, "%s: %s", file, why);
    }
    set_digest_envelope(p, r.measurement, sizeof(r.measurement), SCITT_COSE_ALG_SHA384,
                        "application/octet-stream");
    set_tee(p, "sev-snp");
    sign_claim *c = add_claim(p, "host_data");
    if (c) {
        c->kind = CLAIM_BYTES;
        memcpy(c->b, r.host_data, sizeof(r.host_data));
        c->blen = sizeof(r.host_data);
    }
    return plan_svn(p, r.guest_svn);
}

int plan_svn(sign_plan *p, uint64_t svn)
{
    sign_claim *c = add_claim(p, "svn");
    if (!c) {
        return cli_usage("too many extra claims");
    }
    c->kind = CLAIM_INT;
    c->i = (int64_t)svn;
    return CLI_OK;
}

/* Confidential ACI hashes the policy after base64-decoding it; a Rego text is hashed as is. */
static void policy_digest(scitt_span text, uint8_t out[SCITT_SHA256_LEN])
{
    static uint8_t clean[CLI_FILE_MAX / 4], dec[CLI_FILE_MAX / 4];
    size_t n = 0, dn = 0;
    bool b64 = text.len <= sizeof(clean);
    for (size_t i = 0; b64 && i < text.len; i++) {
        uint8_t c = text.ptr[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            continue;
        }
        b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '=';
        clean[n++] = c;
    }
    if (b64 && n &&
        scitt_base64_decode(scitt_span_make(clean, n), dec, sizeof(dec), &dn) == SCITT_OK) {
        scitt_sha256(dec, dn, out);
    } else {
        scitt_sha256(text.ptr, text.len, out);
    }
}

int plan_host_data(sign_plan *p, const char *hex, const char *policy_file)
{
    sign_claim *c = add_claim(p, "host_data");
    if (!c) {
        return cli_usage("too many extra claims");
    }
    c->kind = CLAIM_BYTES;
    if (hex) {
        if (scitt_hex_decode(scitt_span_str(hex), c->b, sizeof(c->b), &c->blen) != SCITT_OK ||
            c->blen == 0) {
            return cli_usage("--host-data must be 1..64 bytes of hex");
        }
        return CLI_OK;
    }
    scitt_dynbuf b;
    int rc = cli_slurp(policy_file, CLI_FILE_MAX / 4, &b);
    if (rc == CLI_OK) {
        policy_digest(scitt_span_make(b.ptr, b.len), c->b);
        c->blen = SCITT_SHA256_LEN;
    }
    scitt_dynbuf_clear(&b);
    return rc;
}

/* ---- hash envelopes ------------------------------------------------------------------------ */

int plan_hash_envelope(sign_plan *p, const char *file, const char *preimage_type,
                       const char *location, const char *hash_alg)
{
    p->kind = "hash-envelope";
    const EVP_MD *md = EVP_sha256();
    int64_t alg = SCITT_COSE_ALG_SHA256;
    if (hash_alg && !strcmp(hash_alg, "sha384")) {
        md = EVP_sha384(), alg = SCITT_COSE_ALG_SHA384;
    } else if (hash_alg && !strcmp(hash_alg, "sha512")) {
        md = EVP_sha512(), alg = SCITT_COSE_ALG_SHA512;
    } else if (hash_alg && strcmp(hash_alg, "sha256") != 0) {
        return cli_usage("--hash-alg must be sha256, sha384 or sha512");
    }
    if (!preimage_type) {
        return cli_usage("--hash-envelope needs --preimage-content-type");
    }
    int fd = strcmp(file, "-") == 0 ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return cli_fail(CLI_USAGE, "cannot open %s: %s", file, strerror(errno));
    }
    /* Streamed: the artifact may be far larger than anything held in memory. */
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    static uint8_t buf[1u << 16];
    int rc = ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1 ? CLI_OK : CLI_USAGE;
    for (;;) {
        ssize_t n = rc == CLI_OK ? read(fd, buf, sizeof(buf)) : 0;
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            rc = cli_fail(CLI_USAGE, "cannot read %s: %s", file, strerror(errno));
        }
        if (n <= 0 || EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
            break;
        }
    }
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    if (rc == CLI_OK && EVP_DigestFinal_ex(ctx, digest, &dl) != 1) {
        rc = cli_fail(CLI_USAGE, "cannot hash %s", file);
    }
    EVP_MD_CTX_free(ctx);
    if (fd != STDIN_FILENO) {
        close(fd);
    }
    if (rc != CLI_OK) {
        return rc;
    }
    set_digest_envelope(p, digest, dl, alg, preimage_type);
    if (location) {
        snprintf(p->location, sizeof(p->location), "%s", location);
    }
    return CLI_OK;
}
