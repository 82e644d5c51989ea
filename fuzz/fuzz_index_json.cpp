// model.safetensors.index.json: parse_index_json on any text. Oracle: what it accepts names only plain
// file names in the same directory, and the shard list is exactly the distinct names of the weight map.
#include <set>
#include <string>

#include "fuzz_common.hpp"
#include "safetensors/index.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using dianoia::fuzz::violated;
  dianoia::detail::safetensors::shard_index idx;
  if (!dianoia::fuzz::expect_ok([&] { idx = dianoia::detail::safetensors::parse_index_json(dianoia::fuzz::as_text(data, size)); }))
    return 0;
  std::set<std::string> shards(idx.shards.begin(), idx.shards.end()), used;
  if (shards.size() != idx.shards.size()) violated("index.json: a shard is listed twice");
  for (const std::string& s : idx.shards) {
    if (s.empty() || s == "." || s == ".." || s.find_first_of(std::string("/\\\0", 3)) != std::string::npos)
      violated("index.json: accepted a shard name that is not a plain file name");
  }
  for (const auto& [tensor, shard] : idx.weight_map) used.insert(shard);
  if (used != shards) violated("index.json: shard list differs from the weight map's files");
  return 0;
}
