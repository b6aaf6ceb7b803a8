/* Compiles llhttp's http.c from Debian's node-llhttp sources (/usr/share/llhttp, installed by
 * scripts/install-deps.sh) as part of this package; nothing of llhttp is copied here. One
 * translation unit per source file, as llhttp's own build has them. CLLHTTP.h sets
 * LLHTTP_STRICT_MODE before llhttp.h and http.c see it. */
#include "CLLHTTP.h"
#include "/usr/share/llhttp/http.c"
