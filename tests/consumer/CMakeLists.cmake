# Install and consumer tests (included by tests/CMakeLists.txt).
#
#   consumer_install        fixture: `cmake --install` of this build into <build>/consumer/prefix
#   install_layout          the installed files (SONAME, namelink, headers, package, .pc, program)
#   exported_symbols        nm -D: libdianoia.so exports dianoia_* only, and all of dianoia.h
#   consumer_c              tests/consumer/c   via find_package(dianoia) on the prefix, run on stories260K
#   consumer_cpp            tests/consumer/cpp via find_package(dianoia) on the prefix (shared library)
#   consumer_cpp_static     the same, linked with dianoia::static
#   consumer_c_buildtree    tests/consumer/c   via -Ddianoia_DIR=<build dir> (build-tree export)
#   consumer_pkgconfig      tests/consumer/pkgconfig/build-and-run.sh with PKG_CONFIG_PATH on the prefix
# All carry the label "consumer" (ctest -LE consumer leaves them out).
if(NOT DIANOIA_INSTALL OR NOT EXISTS ${PROJECT_SOURCE_DIR}/cmake/dianoia_install.cmake)
  message(STATUS "dianoia: install/consumer tests off (DIANOIA_INSTALL=${DIANOIA_INSTALL})")
  return()
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  message(STATUS "dianoia: install/consumer tests off (absolute CMAKE_INSTALL_LIBDIR)")
  return()
endif()

set(_consumer_src ${CMAKE_CURRENT_LIST_DIR})
set(_consumer_bin ${CMAKE_CURRENT_BINARY_DIR}/consumer)
set(_prefix ${_consumer_bin}/prefix)
set(_libdir ${_prefix}/${CMAKE_INSTALL_LIBDIR})
set(_model ${DIANOIA_TEST_DATA_DIR}/models/stories260K/stories260K.gguf)

add_test(NAME consumer_install
  COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${PROJECT_BINARY_DIR} -DPREFIX=${_prefix} -DCONFIG=$<CONFIG>
          -P ${_consumer_src}/install.cmake)
set_tests_properties(consumer_install PROPERTIES FIXTURES_SETUP dianoia_installed)

set(_expect_program OFF)
if(TARGET dianoia_cli)
  set(_expect_program ON)
endif()
add_test(NAME install_layout
  COMMAND ${CMAKE_COMMAND} -DCHECK=layout -DPREFIX=${_prefix} -DLIBDIR=${CMAKE_INSTALL_LIBDIR}
          -DVERSION=${PROJECT_VERSION} -DEXPECT_PROGRAM=${_expect_program} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
          -DREADELF=${CMAKE_READELF} -P ${_consumer_src}/check_install.cmake)
add_test(NAME exported_symbols
  COMMAND ${CMAKE_COMMAND} -DCHECK=symbols -DPREFIX=${_prefix} -DLIBDIR=${CMAKE_INSTALL_LIBDIR}
          -DNM=${CMAKE_NM} -P ${_consumer_src}/check_install.cmake)

# Options handed to the consumer projects: same compilers, same build type, and in a sanitizer build
# the same sanitizers (an ASan-instrumented libdianoia.so needs the ASan runtime loaded first).
set(_consumer_opts
  -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER}
  -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
  -DCMAKE_BUILD_TYPE=$<CONFIG>
  -DCONSUMER_MODEL=${_model})
set(_consumer_env)
if(DIANOIA_SANITIZE)
  set(_san "-fsanitize=address,undefined -fno-omit-frame-pointer")
  list(APPEND _consumer_opts
    "-DCMAKE_C_FLAGS=${_san}" "-DCMAKE_CXX_FLAGS=${_san}" "-DCMAKE_EXE_LINKER_FLAGS=${_san}")
  list(APPEND _consumer_env "CFLAGS=${_san}" "CXXFLAGS=${_san}" "LDFLAGS=${_san}")
endif()

# The exit status decides; these catch what a sanitizer reports at exit after the program said PASS.
set(_consumer_fail_regex "CHECK failed;ERROR: AddressSanitizer;ERROR: LeakSanitizer;runtime error:")

# dianoia_consumer_test(<name> <project dir> <program> [<dianoia_DIR> [options...]])
function(dianoia_consumer_test name dir program pkgdir)
  add_test(NAME ${name}
    COMMAND ${CMAKE_CTEST_COMMAND}
      --build-and-test ${_consumer_src}/${dir} ${_consumer_bin}/${name}
      --build-generator ${CMAKE_GENERATOR}
      --build-makeprogram ${CMAKE_MAKE_PROGRAM}
      --build-options -Ddianoia_DIR=${pkgdir} ${_consumer_opts} ${ARGN}
      --test-command ${program} ${_model})
  set_tests_properties(${name} PROPERTIES LABELS "consumer" TIMEOUT 240
    FAIL_REGULAR_EXPRESSION "${_consumer_fail_regex}")
endfunction()

set(_pkgdir ${_libdir}/cmake/dianoia)
dianoia_consumer_test(consumer_c c consumer_c ${_pkgdir} -DCMAKE_PREFIX_PATH=${_prefix})
dianoia_consumer_test(consumer_cpp cpp consumer_cpp ${_pkgdir} -DCMAKE_PREFIX_PATH=${_prefix})
dianoia_consumer_test(consumer_cpp_static cpp consumer_cpp ${_pkgdir} -DCMAKE_PREFIX_PATH=${_prefix}
  -DCONSUMER_STATIC=ON)
dianoia_consumer_test(consumer_c_buildtree c consumer_c ${PROJECT_BINARY_DIR})
set_tests_properties(consumer_c consumer_cpp consumer_cpp_static PROPERTIES FIXTURES_REQUIRED dianoia_installed)

find_program(DIANOIA_BASH bash)
find_program(DIANOIA_PKG_CONFIG NAMES pkg-config pkgconf)
if(DIANOIA_BASH AND DIANOIA_PKG_CONFIG)
  list(APPEND _consumer_env PKG_CONFIG_PATH=${_libdir}/pkgconfig LD_LIBRARY_PATH=${_libdir}
    PKG_CONFIG=${DIANOIA_PKG_CONFIG} CC=${CMAKE_C_COMPILER} CXX=${CMAKE_CXX_COMPILER})
  add_test(NAME consumer_pkgconfig
    COMMAND ${DIANOIA_BASH} ${_consumer_src}/pkgconfig/build-and-run.sh ${_consumer_bin}/pkgconfig ${_model})
  set_tests_properties(consumer_pkgconfig PROPERTIES
    FIXTURES_REQUIRED dianoia_installed LABELS "consumer" TIMEOUT 240
    ENVIRONMENT "${_consumer_env}"
    FAIL_REGULAR_EXPRESSION "${_consumer_fail_regex}")
endif()

set_tests_properties(consumer_install install_layout exported_symbols PROPERTIES LABELS "consumer;install")
set_tests_properties(install_layout exported_symbols PROPERTIES FIXTURES_REQUIRED dianoia_installed)
