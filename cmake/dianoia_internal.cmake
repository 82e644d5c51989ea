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
  # Hand-written SIMD kernels live in files named after their instruction set and are only called after
  # a runtime CPU check (kernels/cpu_features.hpp); the rest of the library stays baseline x86-64.
  set(_avx2 "-mavx2;-mfma;-mf16c")
  set(_avx512 "${_avx2};-mavx512f;-mavx512bw;-mavx512dq;-mavx512vl")
  foreach(f IN LISTS _src)
    if(f MATCHES "_avx2\\.cpp$")
      set_source_files_properties(${f} PROPERTIES COMPILE_OPTIONS "${_avx2}")
    elseif(f MATCHES "_avxvnni\\.cpp$")
      set_source_files_properties(${f} PROPERTIES COMPILE_OPTIONS "${_avx2};-mavxvnni")
    elseif(f MATCHES "_avx512\\.cpp$")
      set_source_files_properties(${f} PROPERTIES COMPILE_OPTIONS "${_avx512}")
    elseif(f MATCHES "_avx512vnni\\.cpp$")
      set_source_files_properties(${f} PROPERTIES COMPILE_OPTIONS "${_avx512};-mavx512vnni")
    elseif(f MATCHES "_avx512bf16\\.cpp$")
      set_source_files_properties(${f} PROPERTIES COMPILE_OPTIONS "${_avx512};-mavx512bf16")
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
