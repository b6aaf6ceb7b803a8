#ifndef PLEXUS_CWSLAY_SHIM_H
#define PLEXUS_CWSLAY_SHIM_H
#include <wslay/wslay.h>
#endif
