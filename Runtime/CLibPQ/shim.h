#ifndef PLEXUS_CLIBPQ_SHIM_H
#define PLEXUS_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
