// Hyper-parameters from GGUF metadata (llama.cpp's key names, "<arch>.embedding_length" and so on).
#pragma once
#include "gguf/gguf.hpp"
#include "model/model.hpp"

namespace dianoia::detail {

// Reads general.architecture and the keys the dense architectures share. Shape checks that need the
// tensors (n_vocab, tied output) are left to the architecture's factory. error(format) names a missing
// or out-of-range key; error(unsupported) a rope scaling type dianoia does not implement.
hparams hparams_from_gguf(const gguf::file& f);

}  // namespace dianoia::detail
