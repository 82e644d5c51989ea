#include "safetensors/index.hpp"

#include <unordered_set>

#include "core/error.hpp"
#include "core/json.hpp"

namespace dianoia::detail::safetensors {

shard_index parse_index_json(std::string_view json) {
  json_limits lim;
  lim.max_bytes = size_t{64} << 20;  // ~100 bytes per tensor: room for a million tensors
  lim.max_depth = 8;
  const json_value root = json_parse(json, lim);
  if (!root.is_object()) fail(errc::format, "safetensors index: the document must be a JSON object");
  const json_value* map = root.find("weight_map");
  if (!map || !map->is_object()) fail(errc::format, "safetensors index: 'weight_map' is missing or not an object");
  shard_index out;
  std::unordered_set<std::string_view> seen;
  out.weight_map.reserve(map->as_object().size());
  for (const auto& m : map->as_object()) {
    if (!m.value.is_string()) fail(errc::format, "safetensors index: weight_map['{}'] must be a file name string", m.key);
    const std::string& f = m.value.as_string();
    if (f.empty() || f == "." || f == ".." || f.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos)
      fail(errc::format, "safetensors index: weight_map['{}'] is not a file name in the model directory: '{}'", m.key, f);
    out.weight_map.emplace_back(m.key, f);
  }
  for (const auto& [name, f] : out.weight_map)
    if (seen.insert(f).second) out.shards.push_back(f);
  return out;
}

}  // namespace dianoia::detail::safetensors
