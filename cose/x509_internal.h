/*
 * Internals shared by the X.509 and did:x509 files of the cose module (the OpenSSL adapter for
 * certificates). Not installed; nothing outside cose/x509*.c and cose/didx509*.c includes it.
 */
#ifndef SCITT_COSE_X509_INTERNAL_H
#define SCITT_COSE_X509_INTERNAL_H

#include <openssl/x509.h>

#include "scitt/x509.h"

/** Parses exactly one strictly encoded DER certificate (caller frees with X509_free). */
scitt_err scitt__x509_parse(scitt_span der, X509 **out);

/** Parses every certificate of @p chain into @p certs (X509_free each on success). */
scitt_err scitt__x509_parse_chain(const scitt_span *chain, size_t n, X509 **certs,
                                  const char **why);

/** Frees the first @p n entries of @p certs. */
void scitt__x509_free_chain(X509 **certs, size_t n);

/**
 * Path validation of @p certs (leaf first) against @p store at @p when. With @p exact the
 * validated path must equal the supplied certificates one for one (did:x509: the last supplied
 * certificate is the anchor); otherwise the supplied certificates must be a prefix of it. With
 * @p crl_check every certificate of the path is checked against the CRL of its issuer in
 * @p store, and a missing CRL fails.
 */
scitt_err scitt__x509_path_verify(X509_STORE *store, X509 *const *certs, size_t n,
                                  const scitt_x509_time *when, bool exact, bool crl_check,
                                  const char **why);

/** The leaf rules on a parsed certificate (SCITT_ERR_POLICY with a static @p why). */
scitt_err scitt__x509_leaf_check(X509 *x, const scitt_x509_leaf_rules *rules, const char **why);

/** Copies an ASN1 string as UTF-8 into a fresh OPENSSL buffer (OPENSSL_free); NUL-free. */
scitt_err scitt__x509_utf8(const ASN1_STRING *s, unsigned char **out, size_t *len);

/** Finds the SubjectPublicKeyInfo TLV in a DER certificate by walking its outer structure. */
scitt_err scitt__x509_find_spki(scitt_span der, scitt_span *spki);

/** The dotted OID for a did:x509 subject label (CN, L, ST, O, OU, C, STREET), else NULL. */
const char *scitt__didx509_label_oid(scitt_span label);

/** Splits @p s at the first occurrence of @p sep; false when absent. */
bool scitt__didx509_split(scitt_span s, const char *sep, scitt_span *head, scitt_span *tail);

#endif /* SCITT_COSE_X509_INTERNAL_H */
