# dianoia_component(<name> DEPS <targets...>)
# Builds lib/<name>/**/*.cpp into the object library dianoia_<name>.
function(dianoia_component name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE _src CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/lib/${name}/*.cpp)
  if(NOT _src)
    # A component still being written: keep the target so that dependents configure.
    set(_src ${CMAKE_BINARY_DIR}/empty_${name}.cpp)
    file(WRITE ${_src} "")
  endif()
  add_library(dianoia_${name} OBJECT ${_src})
  # Hand-written SIMD kernels live in *_avx2.cpp and are only called after a runtime CPU check.
  foreach(f IN LISTS _src)
    if(f MATCHES "_avx2\\.cpp$")
      set_source_files_properties(${f} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
    endif()
  endforeach()
  set_target_properties(dianoia_${name} PROPERTIES
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_include_directories(dianoia_${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/lib>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/capi>)
  target_compile_options(dianoia_${name} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  target_link_libraries(dianoia_${name} PUBLIC ${ARG_DEPS})
  # Closure of internal components this one needs, itself included (for linking tests).
  set(_closure ${name})
  foreach(d IN LISTS ARG_DEPS)
    if(d MATCHES "^dianoia_(.*)$")
      get_property(_sub GLOBAL PROPERTY DIANOIA_CLOSURE_${CMAKE_MATCH_1})
      list(APPEND _closure ${_sub})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES _closure)
  set_property(GLOBAL PROPERTY DIANOIA_CLOSURE_${name} ${_closure})
endfunction()

# Objects of every internal component, in dependency order.
function(dianoia_all_objects out)
  set(_objs)
  foreach(c IN LISTS DIANOIA_COMPONENTS)
    list(APPEND _objs $<TARGET_OBJECTS:dianoia_${c}>)
  endforeach()
  set(${out} ${_objs} PARENT_SCOPE)
endfunction()
