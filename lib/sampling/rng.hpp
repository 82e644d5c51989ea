// The sampler's random source. Sampling must replay bit-for-bit from a seed on every platform and
// standard library, so this is a fixed algorithm (xoshiro256** seeded through splitmix64, both public
// domain, Blackman & Vigna) and uniforms are built from integer bits rather than std:: distributions,
// whose output is implementation-defined. tools/make_sampler_fixtures.py holds a Python reference.
#pragma once
#include <cstdint>

namespace dianoia::detail {

class rng {
 public:
  explicit rng(uint64_t seed = 0) { reseed(seed); }

  // Every seed, 0 included, is an ordinary seed; choosing a random one is the host's business.
  void reseed(uint64_t seed);

  uint64_t next();

  // Uniform in [0, 1) on a grid of 2^-53: the top 53 bits of next(). Exactly one next() per call, so
  // the draw count is the only state a replay needs.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t s_[4];
};

}  // namespace dianoia::detail
