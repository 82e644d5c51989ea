#ifdef _OPENMP
#include <omp.h>
#endif
#include "kernels/dnnl/dnnl_matmul.hpp"

#include <dnnl.hpp>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"

namespace dianoia::detail {

struct dnnl_shape_key {
  int64_t m, k, n, ldw, ldy;
  bool bf16;
  bool operator==(const dnnl_shape_key&) const = default;
};
namespace {
struct shape_hash {
  size_t operator()(const dnnl_shape_key& s) const noexcept {
    size_t h = static_cast<size_t>(s.m) * 0x9e3779b97f4a7c15ull;
    h ^= static_cast<size_t>(s.k) + 0x9e3779b9u + (h << 6) + (h >> 2);
    h ^= static_cast<size_t>(s.n) + 0x9e3779b9u + (h << 6) + (h >> 2);
    h ^= static_cast<size_t>(s.ldw) + 0x9e3779b9u + (h << 6) + (h >> 2);
    h ^= static_cast<size_t>(s.ldy) + 0x9e3779b9u + (h << 6) + (h >> 2);
    return h ^ static_cast<size_t>(s.bf16);
  }
};
// Prefill chunk lengths vary; past this many shapes the cache is dropped and rebuilt rather than grown.
constexpr size_t max_cached = 64;
}  // namespace

struct dnnl_f32_matmul::impl {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  struct entry {
    dnnl::matmul prim;
    dnnl::memory src, wei, dst, scratch;
    // The C argument array, built once: the C++ execute() would build a std::vector on every call.
    dnnl_exec_arg_t args[4];
  };
  std::unordered_map<dnnl_shape_key, entry, shape_hash> cache;
  std::vector<uint8_t> scratch_buf;

  entry& get(const dnnl_shape_key& s) {
    auto it = cache.find(s);
    if (it != cache.end()) return it->second;
    if (cache.size() >= max_cached) cache.clear();
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    const dt in = s.bf16 ? dt::bf16 : dt::f32;
    const dnnl::memory::desc src_md({s.m, s.k}, in, tag::ab);
    // [N rows of ldw elements] viewed as a K x N matrix: strides (1, ldw).
    const dnnl::memory::desc wei_md({s.k, s.n}, in, dnnl::memory::dims{1, s.ldw});
    const dnnl::memory::desc dst_md({s.m, s.n}, dt::f32, dnnl::memory::dims{s.ldy, 1});
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
#if DNNL_VERSION_MAJOR >= 3
    dnnl::matmul::primitive_desc pd(eng, src_md, wei_md, dst_md, attr);
#else
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, wei_md, dst_md), attr, eng);
#endif
    entry e;
    e.prim = dnnl::matmul(pd);
    e.src = dnnl::memory(src_md, eng, DNNL_MEMORY_NONE);
    e.wei = dnnl::memory(wei_md, eng, DNNL_MEMORY_NONE);
    e.dst = dnnl::memory(dst_md, eng, DNNL_MEMORY_NONE);
    const size_t sp = pd.scratchpad_desc().get_size();
    if (sp > scratch_buf.size()) {
      scratch_buf.resize(sp);
      for (auto& [k, v] : cache) v.scratch.set_data_handle(scratch_buf.data());
    }
    e.scratch = dnnl::memory(pd.scratchpad_desc(), eng, scratch_buf.data());
    auto& r = cache.emplace(s, std::move(e)).first->second;
    r.args[0] = {DNNL_ARG_SRC, r.src.get()};
    r.args[1] = {DNNL_ARG_WEIGHTS, r.wei.get()};
    r.args[2] = {DNNL_ARG_DST, r.dst.get()};
    r.args[3] = {DNNL_ARG_SCRATCHPAD, r.scratch.get()};
    return r;
  }
};

dnnl_f32_matmul::dnnl_f32_matmul(int n_threads) : p_(std::make_unique<impl>()), n_threads_(n_threads) {}
dnnl_f32_matmul::~dnnl_f32_matmul() = default;

size_t dnnl_f32_matmul::cached_primitives() const { return p_->cache.size(); }

void dnnl_f32_matmul::run(const float* x, int64_t M, int64_t K, const float* w, int64_t ldw, int64_t N, float* y,
                          int64_t ldy) {
  execute({M, K, N, ldw, ldy, false}, x, w, y);
}

void dnnl_f32_matmul::run_bf16(const uint16_t* x, int64_t M, int64_t K, const uint16_t* w, int64_t ldw, int64_t N,
                               float* y, int64_t ldy) {
  execute({M, K, N, ldw, ldy, true}, x, w, y);
}

void dnnl_f32_matmul::execute(const dnnl_shape_key& key, const void* x, const void* w, float* y) {
  const char* kind = key.bf16 ? "bf16" : "f32";
  try {
    auto& e = p_->get(key);
    e.src.set_data_handle(const_cast<void*>(x));
    e.wei.set_data_handle(const_cast<void*>(w));
    e.dst.set_data_handle(y);
#ifdef _OPENMP
    // nthreads-var is per calling thread in OpenMP, so this does not change the host's other threads.
    omp_set_num_threads(n_threads_);
#endif
    if (dnnl_primitive_execute(e.prim.get(), p_->strm.get(), 4, e.args) != dnnl_success)
      fail(errc::internal, "oneDNN {} matmul {}x{}x{} failed to execute", kind, key.m, key.k, key.n);
    p_->strm.wait();
  } catch (const dnnl::error& err) {
    fail(errc::internal, "oneDNN {} matmul {}x{}x{} failed: {}", kind, key.m, key.k, key.n, err.what());
  }
}

}  // namespace dianoia::detail
