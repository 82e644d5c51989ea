// model.safetensors.index.json: which shard file holds each tensor of a sharded checkpoint.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dianoia::detail::safetensors {

struct shard_index {
  std::vector<std::pair<std::string, std::string>> weight_map;  // tensor name -> shard file name, in order
  std::vector<std::string> shards;                              // distinct shard file names, first use order
};

// Strict JSON; error(format) if weight_map is missing or not an object of strings, or if a shard name is
// not a plain file name in the same directory (empty, "." / "..", a '/' or '\\', or a NUL: an index must
// not make the loader open files elsewhere).
shard_index parse_index_json(std::string_view json);

}  // namespace dianoia::detail::safetensors
