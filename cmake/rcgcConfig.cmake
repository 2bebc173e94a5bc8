# rcgcConfig.cmake — find_package(rcgc) for an installed rcgc.
# Targets: rcgc::rcgc (static library), rcgc::rcgc_shared and
# rcgc::rcgc_refdebug (the static library with reference-count debugging,
# which also brings the RCGC_REF_DEBUG define); each brings the include
# directory and the thread library with it.
include(CMakeFindDependencyMacro)
find_dependency(Threads)
include(${CMAKE_CURRENT_LIST_DIR}/rcgcTargets.cmake)
