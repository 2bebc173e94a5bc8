/*
 * rcgc/version.h — which rcgc this is.
 *
 * The macros give the version of the headers a program is compiled with;
 * rc_version() and rc_version_number() give the version of the library it
 * runs with, which for a shared library may be another one.  Before 1.0 the
 * ABI may change with every minor version (the soname carries major.minor:
 * librcgc.so.0.3), so a program that loads the shared library can check at
 * start-up that the two agree:
 *
 *     if (rc_version_number() / 100 != RCGC_VERSION_NUMBER / 100)
 *         ... the headers and the library are not the same minor version ...
 *
 * This file is the one place the version is written: the build (CMake's
 * project version, the soname, rcgc.pc) reads it from here.  It also
 * defines RC_API, the mark of the functions the library exports, which
 * every other header includes it for.
 */
#ifndef RCGC_VERSION_H
#define RCGC_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

/** Marks the library's exported functions (everything else is hidden). */
#if defined(__GNUC__)
#define RC_API __attribute__((visibility("default")))
#else
#define RC_API
#endif

#define RCGC_VERSION_MAJOR 0 /**< incompatible API changes (from 1.0 on) */
#define RCGC_VERSION_MINOR 3 /**< before 1.0: may change the ABI */
#define RCGC_VERSION_PATCH 0 /**< fixes only: same API and ABI */

/** The version as one number, major * 10000 + minor * 100 + patch (0.3.0 is
 *  300), for comparisons in the preprocessor: `#if RCGC_VERSION_NUMBER >=
 *  300`. */
#define RCGC_VERSION_NUMBER (RCGC_VERSION_MAJOR * 10000 + RCGC_VERSION_MINOR * 100 + RCGC_VERSION_PATCH)

#define RCGC_VERSION_STR_(x) #x
#define RCGC_VERSION_STR(x) RCGC_VERSION_STR_(x)
/** The version as a string literal, "major.minor.patch" ("0.3.0"). */
#define RCGC_VERSION_STRING                                                                  \
    RCGC_VERSION_STR(RCGC_VERSION_MAJOR) "." RCGC_VERSION_STR(RCGC_VERSION_MINOR) "."        \
    RCGC_VERSION_STR(RCGC_VERSION_PATCH)

/** The version of the library linked in, as RCGC_VERSION_STRING was when it
 *  was built: a static string, never NULL. */
RC_API const char *rc_version(void);

/** The version of the library linked in, as RCGC_VERSION_NUMBER was when it
 *  was built. */
RC_API int rc_version_number(void);

#ifdef __cplusplus
}
#endif

#endif /* RCGC_VERSION_H */
