/* tools/certs.h — making X.509 certificates for `scitt keygen`. Internal to tools/. */
#ifndef SCITT_TOOLS_CERTS_H
#define SCITT_TOOLS_CERTS_H

#include "cli.h"

typedef struct cert_request {
    const scitt_cose_key *subject_key; /* the certified key (public part used) */
    const char *cn;                    /* subject commonName */
    const scitt_cose_key *issuer_key;  /* NULL: self-signed with subject_key */
    scitt_span issuer_cert;            /* DER of the issuing CA (with issuer_key) */
    bool ca;                           /* basicConstraints CA:TRUE, keyCertSign */
    unsigned days;                     /* validity from now (starting 5 minutes ago) */
    const char *eku;                   /* extendedKeyUsage value (OIDs or names), or NULL */
} cert_request;

/** Makes the certificate; appends its PEM to @p pem and its DER to @p der. */
scitt_err cert_make(const cert_request *rq, scitt_dynbuf *pem, scitt_dynbuf *der, char *why,
                    size_t cap);

#endif
