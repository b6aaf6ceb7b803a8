#ifndef PLEXUS_CSQLITE_SHIM_H
#define PLEXUS_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
