# Install rules and package export (included by the top-level CMakeLists.txt when DIANOIA_INSTALL).
#
# Installs:
#   lib/libdianoia.so.<ver> + libdianoia.so.<major> + libdianoia.so (namelink)  target dianoia::dianoia
#   lib/libdianoia.a                                                            target dianoia::static
#   include/dianoia.h, include/dianoia/*.hpp
#   lib/cmake/dianoia/{dianoiaConfig,dianoiaConfigVersion,dianoia-targets*}.cmake
#   lib/pkgconfig/dianoia.pc
#   bin/dianoia (when the examples are built)
# and exports the same targets from the build tree, so that -Ddianoia_DIR=<build dir> works too.
include(CMakePackageConfigHelpers)

set(DIANOIA_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/dianoia" CACHE STRING
    "Where dianoiaConfig.cmake is installed (relative to the prefix)")
mark_as_advanced(DIANOIA_CMAKE_INSTALL_DIR)

install(TARGETS dianoia dianoia_static
  EXPORT dianoia-targets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT devel
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(FILES ${PROJECT_SOURCE_DIR}/capi/dianoia.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT devel)
# The header-only C++ API: whatever include/dianoia/ holds.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/dianoia
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT devel
  FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")

if(TARGET dianoia_cli)
  # The program finds the library next to it after install (bin/../lib).
  set_target_properties(dianoia_cli PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
  install(TARGETS dianoia_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
endif()

# --- CMake package -----------------------------------------------------------------------------------
install(EXPORT dianoia-targets
  FILE dianoia-targets.cmake
  NAMESPACE dianoia::
  DESTINATION ${DIANOIA_CMAKE_INSTALL_DIR}
  COMPONENT devel)

# Build-tree package: <build>/dianoiaConfig.cmake using the targets in the build tree.
export(EXPORT dianoia-targets
  FILE ${PROJECT_BINARY_DIR}/dianoia-targets.cmake
  NAMESPACE dianoia::)

configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/dianoiaConfig.cmake.in
  ${PROJECT_BINARY_DIR}/dianoiaConfig.cmake
  INSTALL_DESTINATION ${DIANOIA_CMAKE_INSTALL_DIR}
  NO_SET_AND_CHECK_MACRO)
# As the SONAME: while the major version is 0, a minor version is an ABI of its own.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_dianoia_compat SameMinorVersion)
else()
  set(_dianoia_compat SameMajorVersion)
endif()
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/dianoiaConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY ${_dianoia_compat})
install(FILES
  ${PROJECT_BINARY_DIR}/dianoiaConfig.cmake
  ${PROJECT_BINARY_DIR}/dianoiaConfigVersion.cmake
  DESTINATION ${DIANOIA_CMAKE_INSTALL_DIR}
  COMPONENT devel)

# --- pkg-config --------------------------------------------------------------------------------------
# Absolute libdir/includedir are used as given; relative ones are written relative to ${prefix}.
foreach(_d LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_d}}")
    set(DIANOIA_PC_${_d} "${CMAKE_INSTALL_${_d}}")
  else()
    set(DIANOIA_PC_${_d} "\${prefix}/${CMAKE_INSTALL_${_d}}")
  endif()
endforeach()
# What a static link needs besides libdianoia.a: oneDNN, fmt, PCRE2, threads and the C++ runtime.
set(DIANOIA_PC_LIBS_PRIVATE "-ldnnl -lfmt -lpcre2-8 -lgomp -pthread -lstdc++ -lm")
if(DIANOIA_HAVE_LLGUIDANCE)
  # The grammar engine (Rust) as an archive of its own beside libdianoia.a, and what Rust's runtime needs.
  install(FILES ${DIANOIA_LLGUIDANCE_LIB} DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel)
  string(APPEND DIANOIA_PC_LIBS_PRIVATE " -ldianoia_llguidance -ldl -lrt -lutil -lgcc_s")
endif()
set(DIANOIA_PC_PREFIX "@DIANOIA_PC_PREFIX@") # kept as a placeholder, see below
configure_file(${CMAKE_CURRENT_LIST_DIR}/dianoia.pc.in ${PROJECT_BINARY_DIR}/dianoia.pc.tmp @ONLY)
# ${prefix} is filled in at install time so that `cmake --install --prefix X` gives a correct file.
install(CODE "
  file(READ \"${PROJECT_BINARY_DIR}/dianoia.pc.tmp\" _pc)
  string(REPLACE \"@DIANOIA_PC_PREFIX@\" \"\${CMAKE_INSTALL_PREFIX}\" _pc \"\${_pc}\")
  file(WRITE \"${PROJECT_BINARY_DIR}/dianoia.pc.install\" \"\${_pc}\")
" COMPONENT devel)
install(FILES ${PROJECT_BINARY_DIR}/dianoia.pc.install
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
  RENAME dianoia.pc
  COMPONENT devel)
