/*
 * rcgc.h — the whole public API of rcgc in one include.
 *
 * Layers, bottom up (each header includes the ones it builds on):
 *   rcgc/version.h  the version of the headers and of the library
 *   rcgc/heap.h     private heaps and the small-object pool allocator
 *   rcgc/object.h   object headers, type descriptors, reference counting
 *   rcgc/gc.h       the generational cycle collector (the gc module's API)
 *   rcgc/weakref.h  weak references
 *   rcgc/types.h    built-in types: int, float, str, tuple, list, dict,
 *                   classes and instances
 */
#ifndef RCGC_H
#define RCGC_H

#include "rcgc/version.h"
#include "rcgc/heap.h"
#include "rcgc/object.h"
#include "rcgc/gc.h"
#include "rcgc/weakref.h"
#include "rcgc/types.h"

#endif /* RCGC_H */
