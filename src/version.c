/*
 * src/version.c — the library's own version, as its headers gave it when it
 * was built (rcgc/version.h).  Below every layer: it depends on nothing.
 */
#include "rcgc/version.h"

const char *rc_version(void) { return RCGC_VERSION_STRING; }

int rc_version_number(void) { return RCGC_VERSION_NUMBER; }
