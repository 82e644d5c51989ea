#include "runtime/hf_weights.hpp"

#include <algorithm>
#include <filesystem>

#include "core/error.hpp"
#include "core/mapped_file.hpp"
#include "model/hf_names.hpp"
#include "model/hparams_hf.hpp"
#include "model/shape_checks.hpp"
#include "safetensors/index.hpp"

namespace dianoia::detail {

namespace {
namespace fs = std::filesystem;

std::string_view view(const mapped_file& f) { return {reinterpret_cast<const char*>(f.data()), f.size()}; }

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}
}  // namespace

hparams read_hf_config(const std::string& dir) {
  const fs::path p = fs::path(dir) / "config.json";
  if (!is_file(p)) fail(errc::io, "'{}' has no config.json", dir);
  const mapped_file f(p.string());
  try {
    return hparams_from_config_json(view(f));
  } catch (const error& e) {
    throw error(e.code(), "'" + p.string() + "': " + e.what());
  }
}

std::unique_ptr<safetensors::tensor_set> open_hf_weights(const std::string& dir, const hparams& hp,
                                                         file_access access) {
  const fs::path d(dir);
  std::vector<std::string> shards;
  std::optional<safetensors::shard_index> index;
  if (is_file(d / "model.safetensors.index.json")) {
    const mapped_file f((d / "model.safetensors.index.json").string());
    index = safetensors::parse_index_json(view(f));
    for (const auto& s : index->shards) {
      if (!is_file(d / s)) fail(errc::io, "'{}': the index names shard '{}', which is missing", dir, s);
      shards.push_back((d / s).string());
    }
  } else if (is_file(d / "model.safetensors")) {
    shards.push_back((d / "model.safetensors").string());
  } else {
    std::error_code ec;
    for (fs::directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".safetensors") shards.push_back(it->path().string());
    if (shards.size() != 1)
      fail(errc::io, "'{}' has {} *.safetensors files and no model.safetensors.index.json to say which to use", dir,
           shards.size());
  }
  auto bind = [&hp](const safetensors::tensor_entry& t) -> std::optional<safetensors::binding> {
    auto n = map_hf_tensor_name(hp, t.name);
    if (!n) return std::nullopt;
    return safetensors::binding{std::move(n->canonical), n->permute_heads};
  };
  auto set = safetensors::tensor_set::open(shards, bind, dir, access);
  // The config against the tensors, before materialize() copies or converts anything: the name mapping
  // drops layers past num_hidden_layers, so those are looked for among the stored names.
  std::vector<std::string_view> names;
  for (const auto& f : set->files())
    for (const auto& t : f->tensors()) names.push_back(t.name);
  check_hf_layer_names(hp, names);
  check_tensor_shapes(hp, *set);
  if (index) {
    // Every tensor the index promises must be in the shard it names: a stale index is a broken download.
    for (const auto& [name, shard] : index->weight_map) {
      const std::string path = (d / shard).string();
      const auto& files = set->files();
      auto f = std::find_if(files.begin(), files.end(), [&](const auto& x) { return x->name() == path; });
      if (f == files.end() || !(*f)->find(name))
        fail(errc::format, "'{}': the index places tensor '{}' in '{}', which does not hold it", dir, name, shard);
    }
  }
  return set;
}

}  // namespace dianoia::detail
