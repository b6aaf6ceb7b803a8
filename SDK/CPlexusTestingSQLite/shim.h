#ifndef PLEXUS_TESTING_SQLITE_SHIM_H
#define PLEXUS_TESTING_SQLITE_SHIM_H
#include <sqlite3.h>
#endif
