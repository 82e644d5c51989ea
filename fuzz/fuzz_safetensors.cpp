// safetensors: parse_header on any file image, the in-memory file built on it, and a tensor_set that binds
// every tensor under its own name and materializes (dtype conversion, FP8 block scales, RoPE row
// permutation on hostile shapes). Oracles: the validated header describes the image exactly — data ranges
// inside the data section, sized by shape x dtype, not overlapping — and every view lies in the input.
#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "safetensors/file.hpp"
#include "safetensors/header.hpp"
#include "safetensors/tensor_set.hpp"

namespace {

namespace st = dianoia::detail::safetensors;
using dianoia::fuzz::expect_ok;
using dianoia::fuzz::violated;

void check_header(const st::header& h, size_t size) {
  if (h.data_offset != 8 + h.json_bytes || h.data_offset > size || h.data_bytes != size - h.data_offset)
    violated("safetensors: header sizes do not describe the image");
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& t : h.tensors) {
    if (t.shape.size() > st::k_max_rank) violated("safetensors: rank over the cap");
    if (t.begin > t.end || t.end > h.data_bytes) violated("safetensors: tensor range outside the data");
    const unsigned __int128 want = static_cast<unsigned __int128>(t.n_elements()) * st::dtype_size(t.type);
    if (want != t.end - t.begin) violated("safetensors: tensor range differs from shape x dtype");
    (void)st::dtype_name(t.type);
    if (t.end > t.begin) ranges.emplace_back(t.begin, t.end);
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) violated("safetensors: tensor ranges overlap");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  st::header h;
  if (!expect_ok([&] { h = st::parse_header(in); })) return 0;
  check_header(h, size);

  std::unique_ptr<st::file> f;
  if (!expect_ok([&] { f = st::file::parse(in, "<fuzz>"); }))
    violated("safetensors: file::parse rejects a header parse_header accepted");
  for (const auto& t : f->tensors()) {
    const auto d = f->data(t);
    if (d.size() && (d.data() < data || d.data() + d.size() > data + size)) violated("safetensors: data view outside the input");
    if (f->find(t.name) == nullptr) violated("safetensors: find() misses a tensor");
  }

  // Bind everything but (when the range starts at an even offset) the dtypes no weight can use, so that
  // both the set and its refusal are reached; ask for a RoPE permutation of 2-D "*proj.weight" tensors
  // with a head count from the shape, so that both even and odd splits occur.
  std::vector<std::unique_ptr<st::file>> files;
  files.push_back(std::move(f));
  const st::binder bind = [](const st::tensor_entry& t) -> std::optional<st::binding> {
    using st::dtype;
    if (t.begin % 2 == 0 && (t.type == dtype::boolean || t.type == dtype::u8 || t.type == dtype::u16 ||
                             t.type == dtype::u32 || t.type == dtype::u64 || t.type == dtype::f8_e5m2))
      return std::nullopt;
    st::binding b{t.name, 0};
    if (t.shape.size() == 2 && t.name.size() > 11 && t.name.compare(t.name.size() - 11, 11, "proj.weight") == 0)
      b.permute_heads = static_cast<uint32_t>(1 + t.shape[0] % 4);
    return b;
  };
  std::unique_ptr<st::tensor_set> set;
  if (!expect_ok([&] { set = st::tensor_set::from_files(std::move(files), bind, "<fuzz>"); })) return 0;
  if (!expect_ok([&] { set->materialize(); })) return 0;
  for (const auto& v : set->all_tensors()) {
    if (set->find_tensor(v.name) == nullptr) violated("safetensors: tensor_set find_tensor misses a tensor");
    uint32_t s = 0;
    for (size_t i = 0; i < v.nbytes; ++i) s += v.data[i];
    static volatile uint32_t sink;
    sink = sink + s;
  }
  return 0;
}
