# llguidance (constrained decoding, Rust, crates.io) as an imported static library: dianoia::llguidance.
# Built by cargo at build time from the wrapper crate third_party/llguidance-sys (version pinned there
# and in its Cargo.lock). One cargo target directory serves every build tree of this source tree (the
# release and sanitizer builds share the compiled crate; cargo locks it against concurrent builds).
#
# Sets DIANOIA_HAVE_LLGUIDANCE. Without cargo (or with DIANOIA_WITH_LLGUIDANCE=OFF) the library builds
# without a grammar engine and requests with a grammar fail with a message that says so.

find_program(DIANOIA_CARGO cargo HINTS "$ENV{CARGO_HOME}/bin" "$ENV{HOME}/.cargo/bin")
set(_llg_default OFF)
if(DIANOIA_CARGO)
  set(_llg_default ON)
endif()
option(DIANOIA_WITH_LLGUIDANCE "Grammar-constrained answers with llguidance (needs cargo, Rust >= 1.87)" ${_llg_default})
set(DIANOIA_CARGO_TARGET_DIR "${PROJECT_SOURCE_DIR}/build-cargo" CACHE PATH
    "cargo's target directory for third_party/ crates (shared by the build trees)")

set(DIANOIA_HAVE_LLGUIDANCE OFF)
if(NOT DIANOIA_WITH_LLGUIDANCE)
  message(STATUS "llguidance: off (grammar-constrained answers unavailable)")
  return()
endif()
if(NOT DIANOIA_CARGO)
  message(FATAL_ERROR "DIANOIA_WITH_LLGUIDANCE=ON but cargo was not found (bash scripts/setup.sh installs it, "
                      "or configure with -DDIANOIA_WITH_LLGUIDANCE=OFF)")
endif()
execute_process(COMMAND "${DIANOIA_CARGO}" --version OUTPUT_VARIABLE _cargo_ver OUTPUT_STRIP_TRAILING_WHITESPACE)
string(REGEX MATCH "[0-9]+\\.[0-9]+" _cargo_mm "${_cargo_ver}")
if(_cargo_mm VERSION_LESS 1.87)
  message(FATAL_ERROR "llguidance needs Rust >= 1.87; ${DIANOIA_CARGO} is '${_cargo_ver}' (bash scripts/setup.sh "
                      "installs a newer one, or configure with -DDIANOIA_WITH_LLGUIDANCE=OFF)")
endif()

set(_crate "${PROJECT_SOURCE_DIR}/third_party/llguidance-sys")
set(_lib "${DIANOIA_CARGO_TARGET_DIR}/release/libdianoia_llguidance.a")
# llguidance.h ships in the crate's source, which cargo unpacks into its registry: include it from there,
# so that the header is exactly the pinned version's. `cargo metadata` fetches the crates if needed.
execute_process(
  COMMAND "${DIANOIA_CARGO}" metadata --format-version 1 --locked --manifest-path "${_crate}/Cargo.toml"
  OUTPUT_VARIABLE _meta ERROR_VARIABLE _meta_err RESULT_VARIABLE _meta_rc)
if(NOT _meta_rc EQUAL 0)
  message(FATAL_ERROR "cargo metadata for third_party/llguidance-sys failed: ${_meta_err}")
endif()
set(_inc "")
string(JSON _n LENGTH "${_meta}" packages)
math(EXPR _last "${_n} - 1")
foreach(i RANGE ${_last})
  string(JSON _name GET "${_meta}" packages ${i} name)
  if(_name STREQUAL "llguidance")
    string(JSON _manifest GET "${_meta}" packages ${i} manifest_path)
    get_filename_component(_inc "${_manifest}" DIRECTORY)
  endif()
endforeach()
if(NOT EXISTS "${_inc}/llguidance.h")
  message(FATAL_ERROR "llguidance.h not found in the llguidance crate ('${_inc}')")
endif()
add_custom_command(
  OUTPUT "${_lib}"
  COMMAND ${CMAKE_COMMAND} -E env "CARGO_TARGET_DIR=${DIANOIA_CARGO_TARGET_DIR}"
          "${DIANOIA_CARGO}" build --release --locked --quiet --manifest-path "${_crate}/Cargo.toml"
  DEPENDS "${_crate}/Cargo.toml" "${_crate}/Cargo.lock" "${_crate}/src/lib.rs"
  WORKING_DIRECTORY "${_crate}"
  COMMENT "cargo: building llguidance (third_party/llguidance-sys)"
  USES_TERMINAL
  VERBATIM)
add_custom_target(dianoia_llguidance_build DEPENDS "${_lib}")

# What rustc's --print native-static-libs lists for this crate on Linux.
set(DIANOIA_LLGUIDANCE_SYSLIBS Threads::Threads dl m rt util gcc_s)
set(DIANOIA_LLGUIDANCE_LIB "${_lib}")
add_library(dianoia_llguidance_imported STATIC IMPORTED GLOBAL)
set_target_properties(dianoia_llguidance_imported PROPERTIES
  IMPORTED_LOCATION "${_lib}"
  INTERFACE_INCLUDE_DIRECTORIES "${_inc}"
  INTERFACE_LINK_LIBRARIES "${DIANOIA_LLGUIDANCE_SYSLIBS}")
add_dependencies(dianoia_llguidance_imported dianoia_llguidance_build)
add_library(dianoia::llguidance ALIAS dianoia_llguidance_imported)
set(DIANOIA_HAVE_LLGUIDANCE ON)
message(STATUS "llguidance: on (${_cargo_ver}; target dir ${DIANOIA_CARGO_TARGET_DIR})")
