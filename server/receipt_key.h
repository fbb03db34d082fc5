/* server/receipt_key.h — scittd --receipt-key: the receipt key held in a PKCS#11 token. */
#ifndef SCITTD_RECEIPT_KEY_H
#define SCITTD_RECEIPT_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "scitt/signer.h"

/**
 * Opens the key @p uri names (scitt_pkcs11.h; a PIN in the URI is refused) and makes @p out sign
 * with it. Refused, with a one-line @p reason: a URI that names no private key or more than one,
 * a wrong PIN, a key that is not ES256, ES384 or Ed25519, and any TEE platform (@p platform other
 * than "virtual": the key would be outside what the evidence binds), and @p rotate
 * (--rotate-receipt-key makes keys in the keystore, not in the token).
 */
scitt_err scittd_receipt_key_open(const char *uri, bool rotate, const char *platform,
                                  scitt_cose_signer *out, char *reason, size_t cap);
/** Logs out of the token (at exit). */
void scittd_receipt_key_close(void);

#endif
