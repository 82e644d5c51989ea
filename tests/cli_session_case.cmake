# A saved session continues in a new process exactly as one uninterrupted run would:
#   run -p P -n A --save-session F ; run --load-session F -n B   ==   run -p P -n A+B   (greedy)
# cmake -DCLI=... -DMODEL=... -DWORK=... -P cli_session_case.cmake
file(MAKE_DIRECTORY ${WORK})
set(_f ${WORK}/continue.session)
file(REMOVE ${_f})
set(_common run -m ${MODEL} -c 256 --raw --temp 0)
execute_process(COMMAND ${CLI} ${_common} -p "Once upon a time" -n 12 --save-session ${_f}
  OUTPUT_VARIABLE _a RESULT_VARIABLE _rc1 ERROR_VARIABLE _e1)
execute_process(COMMAND ${CLI} ${_common} --load-session ${_f} -n 20
  OUTPUT_VARIABLE _b RESULT_VARIABLE _rc2 ERROR_VARIABLE _e2)
execute_process(COMMAND ${CLI} ${_common} -p "Once upon a time" -n 32
  OUTPUT_VARIABLE _all RESULT_VARIABLE _rc3 ERROR_VARIABLE _e3)
if(NOT _rc1 EQUAL 0 OR NOT _rc2 EQUAL 0 OR NOT _rc3 EQUAL 0)
  message(FATAL_ERROR "a run failed: ${_rc1} ${_rc2} ${_rc3}\n${_e1}\n${_e2}\n${_e3}")
endif()
# Each run ends its output with one newline.
string(REGEX REPLACE "\n$" "" _a "${_a}")
string(REGEX REPLACE "\n$" "" _b "${_b}")
string(REGEX REPLACE "\n$" "" _all "${_all}")
if(NOT "${_a}${_b}" STREQUAL "${_all}")
  message(FATAL_ERROR "continued run differs:\n  saved+continued: [${_a}][${_b}]\n  one run:         [${_all}]")
endif()
message(STATUS "identical: [${_a}] + [${_b}]")
