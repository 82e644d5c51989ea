// The driver every architecture's forward() shares: argument checks, then the tokens in chunks of at
// most max_chunk, each seeing the cache its predecessors filled, so chunking changes nothing but the
// peak size of the activations.
#pragma once
#include <algorithm>
#include <cstdint>
#include <span>

#include "core/error.hpp"

namespace dianoia::detail {

// chunk(tokens, pos, logits, all_logits) with logits == nullptr for a chunk whose logits nobody wants
// (it only fills the cache). error(invalid_argument) for no tokens or an id outside [0, n_vocab),
// error(context_full) past n_ctx.
template <class F>
void forward_in_chunks(uint32_t n_vocab, uint32_t n_ctx, std::span<const int32_t> tokens, uint32_t pos, float* logits,
                       bool all_logits, size_t max_chunk, F&& chunk) {
  const size_t n = tokens.size();
  if (n == 0) fail(errc::invalid_argument, "forward() needs at least one token");
  if (pos > n_ctx || n > n_ctx - pos)
    fail(errc::context_full, "context full: {} + {} tokens exceed the context of {}", pos, n, n_ctx);
  for (int32_t t : tokens)
    if (t < 0 || static_cast<uint32_t>(t) >= n_vocab)
      fail(errc::invalid_argument, "token id {} is outside the vocabulary of {}", t, n_vocab);
  for (size_t at = 0; at < n; at += max_chunk) {
    const size_t m = std::min(max_chunk, n - at);
    const bool last = at + m == n;
    if (!all_logits && !last) {
      chunk(tokens.subspan(at, m), pos + static_cast<uint32_t>(at), nullptr, false);
    } else {
      float* out = all_logits ? logits + at * n_vocab : logits;
      chunk(tokens.subspan(at, m), pos + static_cast<uint32_t>(at), out, all_logits);
    }
  }
}

}  // namespace dianoia::detail
