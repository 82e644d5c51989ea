#include "model/weight_lookup.hpp"

#include "core/error.hpp"
#include "kernels/quant/quant.hpp"

namespace dianoia::detail {

const tensor_view& find_shaped(const tensor_source& src, const std::string& name, uint64_t ne0, uint64_t ne1) {
  const auto* t = src.find_tensor(name);
  if (!t) fail(errc::format, "tensor '{}' is missing", name);
  const uint64_t want1 = ne1 == 0 ? 1 : ne1;
  if (t->ne[0] != ne0 || t->ne[1] != want1 || t->ne[2] != 1 || t->ne[3] != 1)
    fail(errc::format, "tensor '{}' has shape [{}, {}, {}, {}], expected [{}, {}]", name, t->ne[0], t->ne[1], t->ne[2],
         t->ne[3], ne0, want1);
  return *t;
}

std::vector<float> load_vec(const tensor_source& src, const std::string& name, uint64_t n) {
  const auto& t = find_shaped(src, name, n, 0);
  if (!dequantize_supports(t.type) || n % ggml_traits(t.type).block_elems != 0)
    fail(errc::unsupported, "tensor '{}' has type {}, which dianoia cannot read yet", name, ggml_traits(t.type).name);
  std::vector<float> out(n);
  dequantize_row(t.type, t.data, out.data(), static_cast<int64_t>(n));
  return out;
}

std::vector<float> load_optional_vec(const tensor_source& src, const std::string& name, uint64_t n) {
  return src.find_tensor(name) ? load_vec(src, name, n) : std::vector<float>{};
}

weight_view load_matrix(const tensor_source& src, const std::string& name, uint64_t cols, uint64_t rows) {
  const auto& t = find_shaped(src, name, cols, rows);
  if (!matmul_engine::supports(t.type))
    fail(errc::unsupported, "tensor '{}' has type {}, which dianoia cannot multiply yet", name, ggml_traits(t.type).name);
  return weight_view{t.type, t.data, static_cast<int64_t>(rows), static_cast<int64_t>(cols)};
}

std::string stacked_experts_name(uint32_t layer, std::string_view kind) {
  return "blk." + std::to_string(layer) + ".ffn_" + std::string(kind) + "_exps.weight";
}

std::string expert_tensor_name(uint32_t layer, std::string_view kind, uint32_t expert) {
  return "blk." + std::to_string(layer) + ".ffn_" + std::string(kind) + "_exps." + std::to_string(expert) + ".weight";
}

std::vector<weight_view> load_experts(const tensor_source& src, uint32_t layer, std::string_view kind,
                                      uint32_t n_expert, uint64_t cols, uint64_t rows) {
  std::vector<weight_view> out;
  const std::string stacked = stacked_experts_name(layer, kind);
  if (const tensor_view* t = src.find_tensor(stacked)) {
    if (t->ne[0] != cols || t->ne[1] != rows || t->ne[2] != n_expert || t->ne[3] != 1)
      fail(errc::format, "tensor '{}' has shape [{}, {}, {}, {}], expected [{}, {}, {}]", stacked, t->ne[0], t->ne[1],
           t->ne[2], t->ne[3], cols, rows, n_expert);
    if (!matmul_engine::supports(t->type))
      fail(errc::unsupported, "tensor '{}' has type {}, which dianoia cannot multiply yet", stacked,
           ggml_traits(t->type).name);
    const size_t bytes = ggml_row_bytes(t->type, static_cast<int64_t>(cols)) * rows;  // one expert's matrix
    for (uint32_t e = 0; e < n_expert; ++e)
      out.push_back(weight_view{t->type, t->data + e * bytes, static_cast<int64_t>(rows), static_cast<int64_t>(cols)});
    return out;
  }
  if (!src.find_tensor(expert_tensor_name(layer, kind, 0)))
    fail(errc::format, "tensor '{}' is missing (nor are the experts stored one by one)", stacked);
  for (uint32_t e = 0; e < n_expert; ++e) out.push_back(load_matrix(src, expert_tensor_name(layer, kind, e), cols, rows));
  return out;
}

}  // namespace dianoia::detail
