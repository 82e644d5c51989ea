# Test fixture: installs the build tree BUILD_DIR into a fresh PREFIX (run with cmake -P).
#   cmake -DBUILD_DIR=<build> -DPREFIX=<prefix> [-DCONFIG=Release] -P install.cmake
foreach(v BUILD_DIR PREFIX)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "install.cmake: -D${v}= is required")
  endif()
endforeach()
file(REMOVE_RECURSE "${PREFIX}")
set(_config)
if(CONFIG)
  set(_config --config "${CONFIG}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${_config}
  RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD_DIR} --prefix ${PREFIX} failed (${_rc})")
endif()
message(STATUS "installed ${BUILD_DIR} into ${PREFIX}")
