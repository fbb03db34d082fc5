/*
 * TLS over memory BIOs: ciphertext read from the socket goes into one BIO, OpenSSL's output is
 * drained from the other and written with the same one-write-at-a-time rule as plain TCP. The
 * engine only ever sees plaintext. Responses are coalesced into records of up to 16 KiB so that
 * pipelined small answers do not each pay a record's overhead.
 */
#include "http_impl.h"

#include <string.h>

#include <openssl/err.h>

#define RECORD_MAX 16384u

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char h11[] = "\x08http/1.1";
    unsigned char *sel = NULL;
    (void)ssl;
    (void)arg;
    if (SSL_select_next_proto(&sel, outlen, h11, sizeof(h11) - 1, in, inlen) ==
        OPENSSL_NPN_NEGOTIATED) {
        *out = sel;
        return SSL_TLSEXT_ERR_OK;
    }
    /* RFC 7301 §3.2: no protocol in common is a fatal no_application_protocol alert. */
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static void log_ssl_error(const char *event, const char *file)
{
    unsigned long e = ERR_peek_last_error();
    char buf[160];
    ERR_error_string_n(e, buf, sizeof(buf));
    SCITT_LOG(SCITT_LOG_ERROR, event, "file=%s error=\"%s\"", file, buf);
    ERR_clear_error();
}

scitt_err scitt__tls_ctx_new(const scitt_http_tls *tls, SSL_CTX **out)
{
    *out = NULL;
    if (!tls->cert_file || !tls->key_file) {
        return SCITT_ERR_INVALID_ARG;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        return SCITT_ERR_NOMEM;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION);
    /* Idle keep-alive connections then hold no record buffers. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    /* Any client can add a TLS 1.2 session to the server's cache: keep it small (TLS 1.3
     * resumption uses stateless tickets and needs none). */
    SSL_CTX_sess_set_cache_size(ctx, SCITT__TLS_SESSION_CACHE);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    static const unsigned char sid_ctx[] = "scittd";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
    if (SSL_CTX_use_certificate_chain_file(ctx, tls->cert_file) != 1) {
        log_ssl_error("tls_cert_failed", tls->cert_file);
        SSL_CTX_free(ctx);
        return SCITT_ERR_CRYPTO;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, tls->key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        /* The key file name is fine to log; its contents never are. */
        log_ssl_error("tls_key_failed", tls->key_file);
        SSL_CTX_free(ctx);
        return SCITT_ERR_CRYPTO;
    }
    *out = ctx;
    return SCITT_OK;
}

scitt_err scitt__tls_conn_start(scitt__uv_conn *u, SSL_CTX *ctx)
{
    u->ssl = SSL_new(ctx);
    u->rbio = BIO_new(BIO_s_mem());
    u->wbio = BIO_new(BIO_s_mem());
    if (!u->ssl || !u->rbio || !u->wbio) {
        BIO_free(u->rbio);
        BIO_free(u->wbio);
        SSL_free(u->ssl);
        u->ssl = NULL;
        u->rbio = u->wbio = NULL;
        return SCITT_ERR_NOMEM;
    }
    SSL_set_bio(u->ssl, u->rbio, u->wbio);
    SSL_set_accept_state(u->ssl);
    return SCITT_OK;
}

void scitt__tls_conn_free(scitt__uv_conn *u)
{
    if (u->ssl) {
        SSL_free(u->ssl); /* frees both BIOs */
        u->ssl = NULL;
        u->rbio = u->wbio = NULL;
    }
}

bool scitt__tls_send_pending(scitt__uv_conn *u)
{
    scitt_http_server *srv = u->c.srv;
    while (!u->writing && !u->c.dead) {
        size_t pend = BIO_ctrl_pending(u->wbio);
        if (pend == 0) {
            return true;
        }
        int n = BIO_read(u->wbio, srv->staging, (int)(pend < SCITT__IO_BUF ? pend : SCITT__IO_BUF));
        if (n <= 0) {
            return false;
        }
        uv_buf_t b = uv_buf_init((char *)srv->staging, (unsigned)n);
        if (!scitt__uv_write(u, &b, 1, 0, true)) {
            return false;
        }
    }
    return true;
}

static bool read_loop(scitt__uv_conn *u)
{
    scitt__http_conn *c = &u->c;
    scitt_http_server *srv = c->srv;
    while (!c->dead && !c->paused && !c->no_more) {
        ERR_clear_error();
        int n = SSL_read(u->ssl, srv->tlsbuf, SCITT__IO_BUF);
        if (n > 0) {
            scitt__http_conn_input(c, srv->tlsbuf, (size_t)n);
            continue;
        }
        int e = SSL_get_error(u->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            break;
        }
        if (e == SSL_ERROR_ZERO_RETURN) {
            c->peer_eof = true;
            scitt__tls_send_pending(u);
            scitt__http_conn_eof(c);
            return true;
        }
        SCITT__CTR_INC(srv->tls_failures);
        if (SCITT_LOG_ON(SCITT_LOG_DEBUG)) {
            char buf[160];
            ERR_error_string_n(ERR_peek_last_error(), buf, sizeof(buf));
            SCITT_LOG(SCITT_LOG_DEBUG, "tls_failed", "handshake=%d error=\"%s\"",
                      (int)u->handshake_done, buf);
        }
        ERR_clear_error();
        scitt__tls_send_pending(u); /* the alert, if any */
        return false;
    }
    if (c->dead) {
        return true;
    }
    if (!u->handshake_done && SSL_is_init_finished(u->ssl)) {
        u->handshake_done = true;
    }
    if (!scitt__tls_send_pending(u)) {
        return false;
    }
    if (u->handshake_done && !c->closing) {
        scitt__http_conn_pump(c);
    }
    return true;
}

bool scitt__tls_input(scitt__uv_conn *u, const uint8_t *data, size_t len)
{
    if (len > INT32_MAX || BIO_write(u->rbio, data, (int)len) != (int)len) {
        return false;
    }
    return read_loop(u);
}

bool scitt__tls_resume(scitt__uv_conn *u)
{
    return read_loop(u);
}

static bool tls_write(scitt__uv_conn *u, const void *p, size_t n)
{
    if (n == 0) {
        return true;
    }
    ERR_clear_error();
    /* A memory BIO takes everything, so SSL_write completes in one call. */
    return SSL_write(u->ssl, p, (int)n) == (int)n;
}

void scitt__tls_flush(scitt__uv_conn *u)
{
    scitt__http_conn *c = &u->c;
    uint8_t *stage = c->srv->staging;
    uv_buf_t bufs[32];
    while (!u->writing && !c->dead) {
        if (BIO_ctrl_pending(u->wbio) > 0) {
            if (!scitt__tls_send_pending(u)) {
                scitt__uv_hard_close(u);
                return;
            }
            continue;
        }
        if (!u->handshake_done) {
            return;
        }
        size_t n = scitt__http_out_collect(c, bufs, 32, 4 * RECORD_MAX);
        if (n == 0) {
            return;
        }
        size_t total = 0, staged = 0;
        bool ok = true;
        for (size_t i = 0; i < n && ok; i++) {
            const uint8_t *p = (const uint8_t *)bufs[i].base;
            size_t len = bufs[i].len;
            total += len;
            if (len > RECORD_MAX - staged) {
                ok = tls_write(u, stage, staged);
                staged = 0;
                if (ok && len >= RECORD_MAX) {
                    ok = tls_write(u, p, len);
                    continue;
                }
            }
            memcpy(stage + staged, p, len);
            staged += len;
        }
        if (ok) {
            ok = tls_write(u, stage, staged);
        }
        if (!ok) {
            SCITT__CTR_INC(c->srv->tls_failures);
            ERR_clear_error();
            scitt__uv_hard_close(u);
            return;
        }
        /* The plaintext now lives in OpenSSL's buffers: the responses can go. */
        scitt__http_out_sent(c, total);
    }
}

void scitt__tls_close_notify(scitt__uv_conn *u)
{
    ERR_clear_error();
    if (u->handshake_done) {
        (void)SSL_shutdown(u->ssl);
    }
    ERR_clear_error();
    if (!scitt__tls_send_pending(u)) {
        scitt__uv_hard_close(u);
    }
}
