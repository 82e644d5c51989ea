# Replay of the committed fuzz inputs in the normal builds (see replay_main.cpp): for each target with a
# committed corpus or regression inputs, replay_<target> (the target's source + replay_main.cpp, linked
# with its component) and a ctest case fuzz_replay_<target>. Included from tests/CMakeLists.txt.
set(_fuzz ${PROJECT_SOURCE_DIR}/fuzz)
set(_replay_targets
  "json core"
  "gguf tokenizer"
  "chat_template chat"
  "tokenizer tokenizer"
  "tokenizer_json tokenizer"
  "safetensors safetensors"
  "index_json safetensors"
  "config_json model"
  "tool_calls core runtime/tool_calls.cpp")
add_library(dianoia_fuzz_replay_main OBJECT ${_fuzz}/replay_main.cpp)
foreach(spec IN LISTS _replay_targets)
  separate_arguments(spec)
  list(GET spec 0 name)
  list(GET spec 1 component)
  set(_extra "")  # single library files compiled in, as in fuzz/CMakeLists.txt
  list(LENGTH spec _n)
  if(_n GREATER 2)
    list(SUBLIST spec 2 -1 _extra)
    list(TRANSFORM _extra PREPEND ${PROJECT_SOURCE_DIR}/lib/)
  endif()
  if(NOT EXISTS ${_fuzz}/corpus/${name} AND NOT EXISTS ${_fuzz}/regressions/${name})
    continue()
  endif()
  if(NOT TARGET dianoia_${component})
    continue()
  endif()
  add_executable(replay_${name} ${_fuzz}/fuzz_${name}.cpp ${_extra} $<TARGET_OBJECTS:dianoia_fuzz_replay_main>)
  get_property(_closure GLOBAL PROPERTY DIANOIA_CLOSURE_${component})
  foreach(d IN LISTS _closure)
    target_link_libraries(replay_${name} PRIVATE dianoia_${d})
  endforeach()
  target_include_directories(replay_${name} PRIVATE ${_fuzz})
  target_compile_definitions(replay_${name} PRIVATE DIANOIA_FUZZ_DATA_DIR="${DIANOIA_TEST_DATA_DIR}")
  add_test(NAME fuzz_replay_${name} COMMAND replay_${name} ${_fuzz}/corpus/${name} ${_fuzz}/regressions/${name})
  set_tests_properties(fuzz_replay_${name} PROPERTIES SKIP_RETURN_CODE 77 LABELS fuzz_replay)
endforeach()
