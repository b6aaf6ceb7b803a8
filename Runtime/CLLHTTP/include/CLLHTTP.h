#ifndef PLEXUS_CLLHTTP_H
#define PLEXUS_CLLHTTP_H
/* llhttp, built from the C sources Debian's node-llhttp package installs (scripts/install-deps.sh);
 * nothing of llhttp is copied into this repository. Strict mode: CR must be followed by LF,
 * no data after `Connection: close`, only RFC 3986 characters in the request target, header
 * names that are tokens. */
#define LLHTTP_STRICT_MODE 1
#include "/usr/share/include/llhttp/llhttp.h"
#endif
