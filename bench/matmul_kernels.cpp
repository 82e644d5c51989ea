// Throughput of dianoia's matmul_engine (kernels component) at decoder shapes: decode (M=1, cold
// weights, GB/s of weights read) and prefill (M=64, GOP/s) for both prefill modes.
//
// Target bench_matmul_kernels. Run: bench_matmul_kernels [rounds]
//   or: bench_matmul_kernels types [rounds]   -- BF16, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K (and Q4_0, Q8_0 for
//   comparison): decode M=1 cold GB/s and prefill M=256 GOP/s (exact and sgemm modes), 1 and 2 threads
//   or: bench_matmul_kernels int8 [rounds]    -- prefill GOP/s of the int8 GEMM at the 1.5B's shapes for
//   M = 8..512, beside dequantized tiles + oneDNN sgemm; DIANOIA_ISA sets the level
//   or: bench_matmul_kernels decode [rounds]  -- only the M=1 shapes of SmolLM2-135M (Q4_1 layers, Q8_0
//   output projection), warm (one copy, cache-resident if it fits) and cold (copies rotated through the arena).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "core/thread_pool.hpp"
#include "kernels/matmul.hpp"
#include "kernels/quant/fp16.hpp"

using namespace dianoia::detail;

namespace {
double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
constexpr size_t arena_bytes = size_t{640} << 20;

// Random but well-formed blocks: random quant bytes, then sane half scales at the front of each block.
void fill_weights(uint8_t* p, size_t bytes, ggml_type t, std::mt19937& rng) {
  for (size_t i = 0; i < bytes; i += 4) {
    const uint32_t r = rng();
    std::memcpy(p + i, &r, std::min<size_t>(4, bytes - i));
  }
  const auto tr = ggml_traits(t);
  if (t == ggml_type::f16 || t == ggml_type::bf16) {
    for (size_t i = 0; i + 2 <= bytes; i += 2) {
      const float f = (static_cast<float>(p[i] & 0x7f) - 64.f) / 512.f;
      const uint16_t h = t == ggml_type::f16 ? f32_to_fp16(f) : f32_to_bf16(f);
      std::memcpy(p + i, &h, 2);
    }
    return;
  }
  const fp16_t d = f32_to_fp16(t == ggml_type::q4_k || t == ggml_type::q5_k || t == ggml_type::q6_k ? 0.0005f : 0.01f);
  const size_t d_at = t == ggml_type::q6_k ? 208 : 0;
  const bool has_second = t == ggml_type::q4_1 || t == ggml_type::q5_1 || t == ggml_type::q4_k || t == ggml_type::q5_k;
  for (size_t b = 0; b + tr.block_bytes <= bytes; b += tr.block_bytes) {
    std::memcpy(p + b + d_at, &d, 2);
    if (has_second) std::memcpy(p + b + 2, &d, 2);
  }
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The decode matmuls of SmolLM2-135M: what one generated token spends most of its time in. Rounds
// interleave the four (warm/cold x 1T/2T) variants so machine drift hits all alike.
int decode_shapes(int rounds, matmul_engine* const* engines, std::vector<uint8_t>& arena, std::vector<float>& x,
                  std::vector<float>& y, std::mt19937& rng) {
  struct shape { ggml_type t; int64_t K, N; };
  const shape shapes[] = {{ggml_type::q4_1, 576, 576}, {ggml_type::q4_1, 576, 192}, {ggml_type::q4_1, 576, 1536},
                          {ggml_type::q4_1, 1536, 576}, {ggml_type::q8_0, 576, 1536}, {ggml_type::q8_0, 576, 49152}};
  // Median and best of the rounds: on a shared machine the best round is the better estimate of what the
  // kernel can do, the median of what it did.
  std::printf("decode M=1, SmolLM2-135M shapes (Q8_0 576x1536 only as a cache-resident Q8_0 reference),\n"
              "GB/s of weights read, median / best of %d rounds\n", rounds);
  std::printf("type  K     N        warm1T       warm2T       cold1T       cold2T   (median us/call: w1 w2 c1 c2)\n");
  ggml_type filled = ggml_type::f32;
  for (const auto& s : shapes) {
    if (s.t != filled) fill_weights(arena.data(), arena.size(), s.t, rng), filled = s.t;
    const size_t wb = ggml_row_bytes(s.t, s.K) * static_cast<size_t>(s.N);
    const size_t stride = (wb + 4095) / 4096 * 4096;
    const size_t copies = std::min<size_t>(arena.size() / stride, 4096);
    // Warm: enough calls on one copy for ~2 ms at 10 GB/s, after one untimed call.
    const size_t warm_calls = std::max<size_t>(8, size_t{20'000'000} / wb);
    std::vector<double> secs[4];
    for (int e = 0; e < 2; ++e) engines[e]->matmul({s.t, arena.data(), s.N, s.K}, x.data(), 1, y.data());
    for (int r = 0; r < rounds; ++r)
      for (int v = 0; v < 4; ++v) {
        matmul_engine* eng = engines[v % 2];
        const bool cold = v >= 2;
        const size_t n = cold ? copies : warm_calls;
        if (!cold) eng->matmul({s.t, arena.data(), s.N, s.K}, x.data(), 1, y.data());
        const double t0 = now();
        for (size_t i = 0; i < n; ++i)
          eng->matmul({s.t, arena.data() + (cold ? i * stride : 0), s.N, s.K}, x.data(), 1, y.data());
        secs[v].push_back((now() - t0) / static_cast<double>(n));
      }
    std::printf("%-5s %-5lld %-6lld", ggml_traits(s.t).name.data(), (long long)s.K, (long long)s.N);
    for (auto& v : secs)
      std::printf("  %5.2f/%5.2f", wb / median(v) * 1e-9, wb / *std::min_element(v.begin(), v.end()) * 1e-9);
    std::printf("  (");
    for (auto& v : secs) std::printf(" %.1f", median(v) * 1e6);
    std::printf(")\n");
  }
  return 0;
}

// Decode (cold) and M=256 prefill for the weight types of GGUF K-quant files, next to Q4_0/Q8_0.
int type_table(int rounds, matmul_engine* const* engines, std::vector<uint8_t>& arena, std::vector<float>& x,
               std::vector<float>& y, std::mt19937& rng) {
  const int64_t shapes[][2] = {{1536, 1536}, {1536, 8960}, {8960, 1536}};
  const ggml_type types[] = {ggml_type::q4_k, ggml_type::q5_k, ggml_type::q6_k, ggml_type::q5_0, ggml_type::q5_1,
                             ggml_type::bf16, ggml_type::q4_0, ggml_type::q8_0};
  std::printf("decode M=1 cold (GB/s of weights, median / best of %d rounds) and prefill M=256 (GOP/s, median;\n"
              "exact = llama.cpp numerics through the dot kernels, sgemm = dequantized tiles + oneDNN)\n", rounds);
  std::printf("type  K     N      dec1T        dec2T        exact1T exact2T sgemm1T sgemm2T\n");
  for (ggml_type t : types) {
    fill_weights(arena.data(), arena.size(), t, rng);
    for (auto& s : shapes) {
      const int64_t K = s[0], N = s[1];
      const size_t wb = ggml_row_bytes(t, K) * static_cast<size_t>(N);
      const size_t stride = (wb + 4095) / 4096 * 4096;
      const size_t copies = std::min<size_t>(arena.size() / stride, 4096);
      std::vector<double> dec[2], pre[4];
      for (int e = 0; e < 2; ++e) engines[e]->matmul({t, arena.data(), N, K}, x.data(), 1, y.data());
      for (int r = 0; r < rounds; ++r) {
        for (int e = 0; e < 2; ++e) {
          const double t0 = now();
          for (size_t i = 0; i < copies; ++i) engines[e]->matmul({t, arena.data() + i * stride, N, K}, x.data(), 1, y.data());
          dec[e].push_back((now() - t0) / static_cast<double>(copies));
        }
        for (int mode = 0; mode < 2; ++mode)
          for (int e = 0; e < 2; ++e) {
            engines[e]->set_prefill_mode(mode ? prefill_mode::dequant_sgemm : prefill_mode::exact);
            const double t0 = now();
            engines[e]->matmul({t, arena.data(), N, K}, x.data(), 256, y.data());
            pre[mode * 2 + e].push_back(now() - t0);
          }
      }
      std::printf("%-5s %-5lld %-5lld", ggml_traits(t).name.data(), (long long)K, (long long)N);
      for (auto& v : dec) std::printf("  %5.2f/%5.2f", wb / median(v) * 1e-9, wb / *std::min_element(v.begin(), v.end()) * 1e-9);
      std::printf(" ");
      for (auto& v : pre) std::printf(" %7.1f", 2.0 * 256 * K * N / median(v) * 1e-9);
      std::printf("\n");
      std::fflush(stdout);
    }
  }
  for (int e = 0; e < 2; ++e) engines[e]->set_prefill_mode(prefill_mode::exact);
  return 0;
}
// Prompt batches through the int8 GEMM (prefill_mode::int8) vs dequant + sgemm, warm weights.
int int8_table(int rounds, matmul_engine* const* engines, std::vector<uint8_t>& arena, std::vector<float>& x,
               std::vector<float>& y, std::mt19937& rng) {
  const int64_t shapes[][2] = {{1536, 1536}, {1536, 8960}, {8960, 1536}};
  const ggml_type types[] = {ggml_type::q4_k, ggml_type::q6_k, ggml_type::q5_0, ggml_type::q8_0, ggml_type::q4_1};
  const int64_t ms[] = {8, 32, 64, 512};
  std::printf("prefill GOP/s (2*M*K*N / time, median of %d rounds, warm): int8 GEMM 1T / 2T, sgemm 1T / 2T\n", rounds);
  std::printf("type  K     N     M     int8-1T int8-2T sgemm1T sgemm2T\n");
  for (ggml_type t : types) {
    fill_weights(arena.data(), arena.size(), t, rng);
    for (auto& s : shapes)
      for (int64_t M : ms) {
        const int64_t K = s[0], N = s[1];
        std::vector<double> secs[4];
        for (int r = 0; r < rounds; ++r)
          for (int mode = 0; mode < 2; ++mode)
            for (int e = 0; e < 2; ++e) {
              engines[e]->set_prefill_mode(mode ? prefill_mode::dequant_sgemm : prefill_mode::int8);
              if (r == 0) engines[e]->matmul({t, arena.data(), N, K}, x.data(), M, y.data());
              const double t0 = now();
              engines[e]->matmul({t, arena.data(), N, K}, x.data(), M, y.data());
              secs[mode * 2 + e].push_back(now() - t0);
            }
        std::printf("%-5s %-5lld %-5lld %-5lld", ggml_traits(t).name.data(), (long long)K, (long long)N, (long long)M);
        for (auto& v : secs) std::printf(" %7.1f", 2.0 * M * K * N / median(v) * 1e-9);
        std::printf("\n");
        std::fflush(stdout);
      }
  }
  for (int e = 0; e < 2; ++e) engines[e]->set_prefill_mode(prefill_mode::exact);
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  const bool decode_only = argc > 1 && std::strcmp(argv[1], "decode") == 0;
  const bool types_only = argc > 1 && std::strcmp(argv[1], "types") == 0;
  const bool int8_only = argc > 1 && std::strcmp(argv[1], "int8") == 0;
  if (decode_only || types_only || int8_only) --argc, ++argv;
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 5;
  thread_pool p1(1), p2(2);
  matmul_engine e1(p1), e2(p2);
  matmul_engine* engines[2] = {&e1, &e2};
  std::mt19937 rng(1);
  std::vector<uint8_t> arena(arena_bytes);
  std::vector<float> x(512 * 8960), y(512 * 8960);
  for (auto& v : x) v = std::uniform_real_distribution<float>(-1, 1)(rng);
  if (decode_only) return decode_shapes(rounds, engines, arena, x, y, rng);
  if (types_only) return type_table(rounds, engines, arena, x, y, rng);
  if (int8_only) return int8_table(rounds, engines, arena, x, y, rng);
  const int64_t shapes[][2] = {{576, 576}, {576, 1536}, {1536, 576}, {1536, 8960}, {8960, 1536}};

  std::printf("decode, M=1, cold (weights rotated through %zu MB), GB/s of weights read; median of %d rounds\n",
              arena_bytes >> 20, rounds);
  std::printf("type  K     N      1T us    1T GB/s   2T us    2T GB/s\n");
  for (ggml_type t : {ggml_type::q4_1, ggml_type::q4_0, ggml_type::q8_0, ggml_type::f16, ggml_type::f32}) {
    fill_weights(arena.data(), arena.size(), t, rng);
    for (auto& s : shapes) {
      const int64_t K = s[0], N = s[1];
      const size_t wb = ggml_row_bytes(t, K) * static_cast<size_t>(N);
      const size_t stride = (wb + 4095) / 4096 * 4096;
      const size_t copies = std::min<size_t>(arena_bytes / stride, 4096);
      std::vector<double> secs[2];
      for (int e = 0; e < 2; ++e) engines[e]->matmul({t, arena.data(), N, K}, x.data(), 1, y.data());  // warm-up
      for (int r = 0; r < rounds; ++r)
        for (int e = 0; e < 2; ++e) {
          const double t0 = now();
          for (size_t i = 0; i < copies; ++i)
            engines[e]->matmul({t, arena.data() + i * stride, N, K}, x.data(), 1, y.data());
          secs[e].push_back((now() - t0) / static_cast<double>(copies));
        }
      double med[2];
      for (int e = 0; e < 2; ++e) {
        std::sort(secs[e].begin(), secs[e].end());
        med[e] = secs[e][secs[e].size() / 2];
      }
      std::printf("%-5s %-5lld %-5lld %8.1f %9.2f %8.1f %9.2f\n", ggml_traits(t).name.data(), (long long)K,
                  (long long)N, med[0] * 1e6, wb / med[0] * 1e-9, med[1] * 1e6, wb / med[1] * 1e-9);
    }
  }

  std::printf("\nprefill, M=64, GOP/s (2*M*K*N / time), warm; exact = llama.cpp numerics, sgemm = dequant tiles + oneDNN\n");
  std::printf("type  K     N      exact1T  exact2T  sgemm1T  sgemm2T\n");
  for (ggml_type t : {ggml_type::q4_1, ggml_type::q8_0, ggml_type::f16}) {
    fill_weights(arena.data(), arena.size(), t, rng);
    for (auto& s : shapes) {
      const int64_t K = s[0], N = s[1], M = 64;
      std::vector<double> secs[4];
      for (int r = 0; r < rounds; ++r)
        for (int mode = 0; mode < 2; ++mode)
          for (int e = 0; e < 2; ++e) {
            engines[e]->set_prefill_mode(mode ? prefill_mode::dequant_sgemm : prefill_mode::exact);
            engines[e]->matmul({t, arena.data(), N, K}, x.data(), M, y.data());
            const double t0 = now();
            engines[e]->matmul({t, arena.data(), N, K}, x.data(), M, y.data());
            secs[mode * 2 + e].push_back(now() - t0);
          }
      std::printf("%-5s %-5lld %-5lld", ggml_traits(t).name.data(), (long long)K, (long long)N);
      for (auto& v : secs) {
        std::sort(v.begin(), v.end());
        std::printf(" %8.1f", 2.0 * M * K * N / v[v.size() / 2] * 1e-9);
      }
      std::printf("\n");
    }
  }
  return 0;
}
