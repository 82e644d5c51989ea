# A command that must fail the way a user should see it: exit code RC and exactly one line on stderr
# matching REGEX, nothing on stdout.
# cmake -DCLI=... "-DARGS=a|b|c" -DRC=2 -DREGEX=... -P cli_exit_case.cmake
string(REPLACE "|" ";" _args "${ARGS}")
execute_process(COMMAND ${CLI} ${_args} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
string(REGEX REPLACE "\n$" "" _line "${_err}")
if(NOT _rc EQUAL RC)
  message(FATAL_ERROR "exit code ${_rc}, expected ${RC}; stderr: ${_err}")
endif()
if(_line MATCHES "\n" OR NOT _line MATCHES "${REGEX}")
  message(FATAL_ERROR "stderr is not one line matching '${REGEX}': [${_err}]")
endif()
if(NOT _out STREQUAL "")
  message(FATAL_ERROR "unexpected stdout: [${_out}]")
endif()
message(STATUS "exit ${_rc}: ${_line}")
