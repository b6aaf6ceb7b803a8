/* llhttp's sources include "llhttp.h"; this forwards to the header node-llhttp installs. */
#include "CLLHTTP.h"
