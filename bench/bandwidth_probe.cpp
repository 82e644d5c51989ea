// Streaming read bandwidth of this machine: threads sum disjoint parts of a buffer of --mib MiB with
// AVX2 loads (8 independent accumulators, so the loads are not latency-bound). Prints one JSON line per
// thread count: {"threads":T,"mib":M,"gb_s":best,"gb_s_median":median}. Used by bench_vs_llamacpp.py for
// the decode roofline (each generated token reads every weight once).
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

float sum_range(const float* p, size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (size_t i = 0; i + 64 <= n; i += 64) {
    a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
    a4 = _mm256_add_ps(a4, _mm256_load_ps(p + i + 32));
    a5 = _mm256_add_ps(a5, _mm256_load_ps(p + i + 40));
    a6 = _mm256_add_ps(a6, _mm256_load_ps(p + i + 48));
    a7 = _mm256_add_ps(a7, _mm256_load_ps(p + i + 56));
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                           _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = 1024;
  std::vector<int> threads = {1, 2};
  int passes = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--mib")) mib = std::strtoul(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--passes")) passes = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) {
      threads.clear();
      std::string s = argv[i + 1];
      for (size_t at = 0; at < s.size();) {
        const size_t comma = s.find(',', at);
        threads.push_back(std::atoi(s.substr(at, comma - at).c_str()));
        at = comma == std::string::npos ? s.size() : comma + 1;
      }
    }
  }
  const size_t n = mib * 1024 * 1024 / sizeof(float);
  auto* buf = static_cast<float*>(std::aligned_alloc(64, n * sizeof(float)));
  if (!buf) return 1;
  for (size_t i = 0; i < n; ++i) buf[i] = static_cast<float>(i & 1023) * 1e-3f;  // touch every page
  volatile float sink = 0;
  for (int t : threads) {
    std::vector<double> gbs;
    for (int p = 0; p < passes; ++p) {
      std::vector<float> part(t);
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<std::thread> pool;
      for (int k = 0; k < t; ++k)
        pool.emplace_back([&, k] {
          const size_t b = n / t * k / 64 * 64, e = k + 1 == t ? n : n / t * (k + 1) / 64 * 64;
          part[k] = sum_range(buf + b, e - b);
        });
      for (auto& th : pool) th.join();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      for (float x : part) sink = sink + x;
      gbs.push_back(static_cast<double>(n * sizeof(float)) / s / 1e9);
    }
    std::sort(gbs.begin(), gbs.end());
    std::printf("{\"threads\":%d,\"mib\":%zu,\"gb_s\":%.2f,\"gb_s_median\":%.2f}\n", t, mib, gbs.back(), gbs[gbs.size() / 2]);
  }
  std::free(buf);
  return 0;
}
