/*
 * rcgc.h — the whole public API of rcgc in one include.
 *
 * Layers, bottom up:
 *   rcgc/heap.h   private heaps and the small-object pool allocator
 *
 * Later layers (objects and reference counting, the cycle collector,
 * built-in types, weak references) will be added here as they land.
 */
#ifndef RCGC_H
#define RCGC_H

#include "rcgc/heap.h"
#include "rcgc/object.h"
#include "rcgc/gc.h"
#include "rcgc/weakref.h"
#include "rcgc/types.h"

#endif /* RCGC_H */
