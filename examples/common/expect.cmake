# Run a program and check its exit status and standard error.
#   cmake -DPROG=path -DARGS="a|b|c" -DEXIT=n -DSTDERR=regex -P expect.cmake
# ARGS separates arguments with "|" (a ";" would not survive add_test).
if(NOT DEFINED PROG OR NOT DEFINED EXIT)
  message(FATAL_ERROR "expect.cmake: PROG and EXIT are required")
endif()
string(REPLACE "|" ";" _args "${ARGS}")
execute_process(COMMAND ${PROG} ${_args}
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
message("exit status: ${_rc}\n--- stdout ---\n${_out}--- stderr ---\n${_err}--------------")
if(NOT "${_rc}" STREQUAL "${EXIT}")
  message(FATAL_ERROR "expected exit status ${EXIT}, got ${_rc}")
endif()
if(DEFINED STDERR AND NOT _err MATCHES "${STDERR}")
  message(FATAL_ERROR "standard error does not match: ${STDERR}")
endif()
