# rcgcConfig.cmake — find_package(rcgc) for an installed rcgc.
# Targets: rcgc::rcgc (static library) and rcgc::rcgc_shared; both bring the
# include directory and the thread library with them.
include(CMakeFindDependencyMacro)
find_dependency(Threads)
include(${CMAKE_CURRENT_LIST_DIR}/rcgcTargets.cmake)
