#ifndef PLEXUS_COPENSSL_SHIM_H
#define PLEXUS_COPENSSL_SHIM_H
/* Only libcrypto's message digests (SHA-1 for the WebSocket handshake). */
#include <openssl/evp.h>
#endif
