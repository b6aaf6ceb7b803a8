#ifndef PLEXUS_CSOXR_SHIM_H
#define PLEXUS_CSOXR_SHIM_H
#include <soxr.h>
#endif
