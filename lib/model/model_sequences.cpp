// Defaults of the multi-sequence interface for models without it (test doubles, other architectures), and
// the checks every implementation makes.
#include <algorithm>

#include "core/error.hpp"
#include "model/model.hpp"

namespace dianoia::detail {

void model::begin_sequences(forward_state&, uint32_t, uint32_t) const {
  fail(errc::unsupported, "{} models cannot decode several sequences at once", hp().arch);
}
void model::forward_batch(forward_state&, std::span<const seq_token>, float*) const {
  fail(errc::unsupported, "{} models cannot decode several sequences at once", hp().arch);
}
void model::end_sequences(forward_state&, uint32_t, uint32_t) const noexcept {}

uint32_t seq_cache_rows(uint32_t n_shared, uint32_t n_seq, uint32_t n_ctx) {
  if (n_seq == 0) fail(errc::invalid_argument, "begin_sequences() needs at least one sequence");
  if (n_shared >= n_ctx)
    fail(errc::context_full, "context full: {} shared positions leave no room in the context of {}", n_shared, n_ctx);
  const uint64_t rows = uint64_t{n_seq} * (n_ctx - n_shared);
  if (rows > UINT32_MAX)
    fail(errc::out_of_memory, "{} sequences of {} positions are more than one KV cache addresses", n_seq, n_ctx - n_shared);
  return static_cast<uint32_t>(rows);
}

std::vector<uint32_t> check_seq_step(std::span<const seq_token> tokens, std::vector<uint32_t> filled, uint32_t n_shared,
                                     uint32_t n_ctx, uint32_t n_vocab, const float* logits) {
  if (tokens.empty()) fail(errc::invalid_argument, "forward_batch() needs at least one token");
  size_t n_logits = 0;
  for (const seq_token& t : tokens) {
    if (t.id < 0 || static_cast<uint32_t>(t.id) >= n_vocab)
      fail(errc::invalid_argument, "token id {} is outside the vocabulary of {}", t.id, n_vocab);
    if (t.seq >= filled.size()) fail(errc::invalid_argument, "sequence {} of {}", t.seq, filled.size());
    if (t.pos >= n_ctx)
      fail(errc::context_full, "context full: position {} of sequence {} is past the context of {}", t.pos, t.seq, n_ctx);
    if (t.pos < n_shared || t.pos > filled[t.seq])
      fail(errc::invalid_argument, "sequence {} holds positions [0, {}) (shared up to {}): position {} cannot follow",
           t.seq, filled[t.seq], n_shared, t.pos);
    filled[t.seq] = std::max(filled[t.seq], t.pos + 1);
    n_logits += t.logits;
  }
  if (n_logits && !logits) fail(errc::invalid_argument, "forward_batch(): logits is null");
  return filled;
}

}  // namespace dianoia::detail
