# ABI checks: exported symbols against the committed baseline, and the public header compiled as C99,
# C11 and C++ with every warning an error. Included from tests/CMakeLists.txt.
find_program(DIANOIA_NM NAMES nm)
if(DIANOIA_NM)
  add_test(NAME abi_symbols COMMAND ${CMAKE_COMMAND} -DNM=${DIANOIA_NM} -DLIB=$<TARGET_FILE:dianoia>
    -DBASELINE=${CMAKE_CURRENT_SOURCE_DIR}/abi/symbols.txt -P ${CMAKE_CURRENT_SOURCE_DIR}/abi/check_symbols.cmake)
endif()
set(_hdr_flags -Wall -Wextra -pedantic -Werror -fsyntax-only -I${PROJECT_SOURCE_DIR}/capi)
foreach(_std c99 c11)
  add_test(NAME abi_header_${_std} COMMAND ${CMAKE_C_COMPILER} -std=${_std} ${_hdr_flags}
    ${CMAKE_CURRENT_SOURCE_DIR}/abi/header_check.c)
endforeach()
foreach(_std c++11 c++20)
  add_test(NAME abi_header_${_std} COMMAND ${CMAKE_CXX_COMPILER} -x c++ -std=${_std} ${_hdr_flags}
    ${CMAKE_CURRENT_SOURCE_DIR}/abi/header_check.c)
endforeach()
# abi-compliance-checker against the last release's dump (skipped without the tool).
add_test(NAME abi_compliance COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/abi/check_abi.sh ${PROJECT_SOURCE_DIR}/capi/dianoia.h
  ${CMAKE_CURRENT_SOURCE_DIR}/abi/dianoia-1.0.0.abi.gz ${CMAKE_CURRENT_BINARY_DIR}/abi_compliance)
set_tests_properties(abi_compliance PROPERTIES SKIP_RETURN_CODE 77)
