// oneDNN matmul throughput at the shapes of a Qwen2-1.5B / SmolLM2 decoder, for choosing a oneDNN version
// and data type. Builds against oneDNN 2.x (v2 API: op descriptors) or 3.x (#if DNNL_VERSION_MAJOR >= 3).
//
//   g++ -O2 -std=c++20 bench/matmul_onednn.cpp -ldnnl -o /tmp/bench_onednn
//   OMP_NUM_THREADS=1 taskset -c 0 /tmp/bench_onednn [rounds]
//
// The thread count is the process's (OMP_NUM_THREADS and/or the CPU affinity mask), so run the program
// once per thread count and alternate the runs. "Cold": every call reads a different copy of the weights,
// copies spanning >= 512 MB, so weights come from DRAM as they do in a real model.
#include <dnnl.hpp>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

constexpr size_t arena_bytes = size_t{640} << 20;

struct bench_case {
  int64_t m, k, n;
  bool int8;
  dnnl::matmul prim;
  dnnl::memory src, wei, dst;
  size_t wbytes, copies;
  std::vector<double> secs;  // per round, seconds per call
};

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 5;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const auto* v = dnnl::version();
  std::printf("oneDNN %d.%d.%d (%s), cpu_runtime=%d\n", v->major, v->minor, v->patch, v->hash, v->cpu_runtime);

  // One arena, filled once, of small floats (valid f32, and arbitrary bytes for s8): all weight copies
  // are slices of it.
  std::vector<float> arena(arena_bytes / 4);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> ud(-1.f, 1.f);
  for (auto& x : arena) x = ud(rng);
  auto* base = reinterpret_cast<uint8_t*>(arena.data());
  std::vector<float> xs(64 * 8960);
  for (auto& x : xs) x = ud(rng);
  std::vector<uint8_t> xu8(64 * 8960, 100);
  std::vector<float> ys(64 * 8960);

  const int64_t shapes[][2] = {{576, 576}, {576, 1536}, {1536, 576}, {1536, 8960}, {8960, 1536}};
  std::vector<bench_case> cases;
  for (int64_t m : {1, 64})
    for (bool int8 : {false, true})
      for (auto& s : shapes) {
        bench_case c{m, s[0], s[1], int8, {}, {}, {}, {}, 0, 0, {}};
        const dnnl::memory::desc src_md({m, c.k}, int8 ? dt::u8 : dt::f32, tag::ab);
        const dnnl::memory::desc wei_md({c.k, c.n}, int8 ? dt::s8 : dt::f32, tag::ba);  // [N,K] as stored
        const dnnl::memory::desc dst_md({m, c.n}, dt::f32, tag::ab);
#if DNNL_VERSION_MAJOR >= 3
        dnnl::matmul::primitive_desc pd(eng, src_md, wei_md, dst_md);
#else
        dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, wei_md, dst_md), eng);
#endif
        c.prim = dnnl::matmul(pd);
        c.src = dnnl::memory(src_md, eng, int8 ? static_cast<void*>(xu8.data()) : xs.data());
        c.wei = dnnl::memory(wei_md, eng, base);
        c.dst = dnnl::memory(dst_md, eng, ys.data());
        c.wbytes = static_cast<size_t>(c.k * c.n) * (int8 ? 1 : 4);
        const size_t stride = (c.wbytes + 4095) / 4096 * 4096;
        c.copies = std::max<size_t>(1, std::min<size_t>(arena_bytes / stride, 4096));
        if (m == 64) c.copies = std::min<size_t>(c.copies, 64);  // compute-bound: fewer calls suffice
        std::printf("  %-4s M=%-3lld K=%-5lld N=%-5lld impl=%s\n", int8 ? "u8s8" : "f32", (long long)m,
                    (long long)c.k, (long long)c.n, pd.impl_info_str());
        cases.push_back(std::move(c));
      }

  for (auto& c : cases) {  // warm-up (JIT, page faults)
    c.prim.execute(strm, {{DNNL_ARG_SRC, c.src}, {DNNL_ARG_WEIGHTS, c.wei}, {DNNL_ARG_DST, c.dst}});
    strm.wait();
  }
  // Check that each case computes the right thing from the copy it was pointed at (a runtime that
  // ignored set_data_handle, or copied the weights once, would look fast and be wrong).
  for (auto& c : cases) {
    const size_t stride = (c.wbytes + 4095) / 4096 * 4096;
    const size_t copy = c.copies - 1;
    c.wei.set_data_handle(base + copy * stride);
    c.prim.execute(strm, {{DNNL_ARG_SRC, c.src}, {DNNL_ARG_WEIGHTS, c.wei}, {DNNL_ARG_DST, c.dst}});
    strm.wait();
    double want = 0;
    for (int64_t kk = 0; kk < c.k; ++kk) {
      const int64_t n = c.n - 1;  // last output column, row 0 of x
      if (c.int8)
        want += double(xu8[kk]) * double(reinterpret_cast<const int8_t*>(base + copy * stride)[n * c.k + kk]);
      else
        want += double(xs[kk]) * double(reinterpret_cast<const float*>(base + copy * stride)[n * c.k + kk]);
    }
    const double got = ys[static_cast<size_t>(c.n - 1)];
    if (std::abs(got - want) > 1e-3 * (std::abs(want) + 1))
      std::printf("  WRONG RESULT: %s M=%lld K=%lld N=%lld: got %g want %g\n", c.int8 ? "u8s8" : "f32",
                  (long long)c.m, (long long)c.k, (long long)c.n, got, want);
  }
  for (int r = 0; r < rounds; ++r) {
    for (auto& c : cases) {
      const size_t stride = (c.wbytes + 4095) / 4096 * 4096;
      const double t0 = now();
      for (size_t i = 0; i < c.copies; ++i) {
        c.wei.set_data_handle(base + i * stride);
        c.prim.execute(strm, {{DNNL_ARG_SRC, c.src}, {DNNL_ARG_WEIGHTS, c.wei}, {DNNL_ARG_DST, c.dst}});
      }
      strm.wait();
      c.secs.push_back((now() - t0) / static_cast<double>(c.copies));
    }
  }
  std::printf("type  M    K     N      us/call   GFLOP/s  GB/s(weights)\n");
  for (auto& c : cases) {
    std::sort(c.secs.begin(), c.secs.end());
    const double t = c.secs[c.secs.size() / 2];
    std::printf("%-5s %-4lld %-5lld %-5lld %9.1f %9.1f %9.2f\n", c.int8 ? "u8s8" : "f32", (long long)c.m,
                (long long)c.k, (long long)c.n, t * 1e6, 2.0 * c.m * c.k * c.n / t * 1e-9, c.wbytes / t * 1e-9);
  }
  return 0;
}
