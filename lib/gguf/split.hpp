// A model stored as one GGUF file or as llama.cpp's splits (NAME-00001-of-0000N.gguf, made by
// gguf-split or convert_hf_to_gguf --split-max-*): the first split carries the metadata, every split
// carries split.no / split.count / split.tensors.count and a share of the tensors. Presented as one
// tensor_source; metadata is read from first().
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "gguf/gguf.hpp"

namespace dianoia::detail::gguf {

class split_set final : public tensor_source {
 public:
  // A plain GGUF gives a set of one. For a first split, opens its siblings by llama.cpp's naming and checks
  // them: error(io) names a missing split, error(format) a split whose split.* keys disagree, a tensor
  // in two splits, or a tensor total different from split.tensors.count; error(invalid_argument) if
  // `path` is a later split (the first must be given).
  static std::unique_ptr<split_set> open(const std::string& path, file_access access = file_access::map);

  const file& first() const { return *files_.front(); }
  const std::vector<std::unique_ptr<file>>& files() const { return files_; }
  uint64_t file_bytes() const;

  const std::string& source_name() const override { return files_.front()->name(); }
  const tensor_view* find_tensor(std::string_view name) const override;
  std::span<const tensor_view> all_tensors() const override { return views_; }

 private:
  split_set() = default;
  std::vector<std::unique_ptr<file>> files_;
  std::vector<tensor_view> views_;  // copies of every split's views (data pointers into each mapping)
  std::unordered_map<std::string_view, size_t> index_;
};

// "NAME-00002-of-00003.gguf" for ("NAME-00001-of-00003.gguf", 2); nullopt if `first` is not so named.
std::optional<std::string> split_path(const std::string& first, uint32_t no, uint32_t count);

}  // namespace dianoia::detail::gguf
