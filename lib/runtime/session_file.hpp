// Session files: a session's context (token ids and their KV cache) and an optional host payload (the
// conversation's messages), so that a conversation can stop in one process and continue in another
// with exactly the same state.
//
// Format, version 1, little-endian:
//   "DIANOIAS" | u32 version | u64 model fingerprint | u32 n_ctx of the saving session
//   | u32 n_tokens | u32 n_cached | i32 tokens[n_tokens] | u64 kv_size | kv bytes
//   | u64 payload_size | payload | u64 checksum of everything before it
// The fingerprint covers the hyper-parameters, the parameter count, the KV layout of the state and
// every token text of the vocabulary, so a file saved with another model, another quantization of a
// different shape, or another KV type is refused. (Two files that differ only in weight values but not
// in shape are not told apart: the file does not hash gigabytes of weights.)
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/session.hpp"

namespace dianoia::detail {

// Writes atomically (a temporary file renamed over `path`). error(io) if it cannot be written;
// error(unsupported) if the model cannot serialize its cache.
void save_session(session& s, const tokenizer& tok, const std::string& path, std::string_view payload = {});

// Restores the context into `s` and returns the payload. error(io) for a missing file, error(format)
// for a corrupt or truncated one (bad magic, version, sizes, checksum), error(invalid_argument) when it
// was saved with a different model or KV type, or holds more tokens than the session's context.
// On any error the session is left empty (no half-restored cache).
std::string load_session(session& s, const tokenizer& tok, const std::string& path);

}  // namespace dianoia::detail
