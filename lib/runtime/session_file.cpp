#include "runtime/session_file.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/error.hpp"
#include "core/mapped_file.hpp"

namespace dianoia::detail {
namespace {

constexpr char k_magic[8] = {'D', 'I', 'A', 'N', 'O', 'I', 'A', 'S'};
constexpr uint32_t k_version = 1;

// FNV-1a over 64-bit words (then the tail bytes): fast enough for a KV cache of hundreds of MB and
// sensitive to any flipped bit.
uint64_t checksum(const uint8_t* p, size_t n, uint64_t h = 0xcbf29ce484222325ull) {
  constexpr uint64_t prime = 0x100000001b3ull;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * prime;
    h ^= h >> 29;
  }
  for (; i < n; ++i) h = (h ^ p[i]) * prime;
  return h;
}

uint64_t fingerprint(const session& s, const tokenizer& tok) {
  const hparams& hp = s.net().hp();
  std::string id = hp.arch;
  for (uint64_t v : {uint64_t{hp.n_vocab}, uint64_t{hp.n_embd}, uint64_t{hp.n_layer}, uint64_t{hp.n_head},
                     uint64_t{hp.n_head_kv}, uint64_t{hp.head_dim}, uint64_t{hp.n_ff}, hp.n_params}) {
    id.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  uint64_t h = checksum(reinterpret_cast<const uint8_t*>(id.data()), id.size());
  for (int32_t i = 0; i < tok.n_vocab(); ++i) {
    const auto t = tok.token_text(i);
    h = checksum(reinterpret_cast<const uint8_t*>(t.data()), t.size(), h ^ static_cast<uint64_t>(i));
  }
  return h;
}

// Fills a buffer sized up front (the KV cache can be hundreds of MB: no regrowth).
struct writer {
  std::vector<uint8_t> buf;
  size_t at = 0;
  explicit writer(size_t total) : buf(total) {}
  void bytes(const void* p, size_t n) {
    if (n) std::memcpy(buf.data() + at, p, n);
    at += n;
  }
  template <typename T>
  void put(T v) {
    bytes(&v, sizeof v);
  }
  uint8_t* reserve(size_t n) {
    uint8_t* p = buf.data() + at;
    at += n;
    return p;
  }
};

struct reader {
  const uint8_t* p;
  size_t n, at = 0;
  const std::string& path;
  const uint8_t* take(uint64_t bytes, const char* what) {
    if (bytes > n - at) fail(errc::format, "session file '{}' is truncated (in {})", path, what);
    const uint8_t* r = p + at;
    at += bytes;
    return r;
  }
  template <typename T>
  T get(const char* what) {
    T v;
    std::memcpy(&v, take(sizeof v, what), sizeof v);
    return v;
  }
};

}  // namespace

void save_session(session& s, const tokenizer& tok, const std::string& path, std::string_view payload) {
  const auto& tokens = s.tokens();
  const uint32_t n_cached = s.n_cached();
  const size_t kv = s.state().kv_bytes(n_cached);
  writer w(8 + 4 + 8 + 4 + 4 + 4 + tokens.size() * 4 + 8 + kv + 8 + payload.size() + 8);
  w.bytes(k_magic, 8);
  w.put(k_version);
  w.put(fingerprint(s, tok));
  w.put(s.n_ctx());
  w.put(static_cast<uint32_t>(tokens.size()));
  w.put(n_cached);
  w.bytes(tokens.data(), tokens.size() * 4);
  w.put(static_cast<uint64_t>(kv));
  s.state().kv_save(n_cached, w.reserve(kv));
  w.put(static_cast<uint64_t>(payload.size()));
  w.bytes(payload.data(), payload.size());
  w.put(checksum(w.buf.data(), w.at));
  const std::vector<uint8_t>& out = w.buf;

  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) fail(errc::io, "cannot write session file '{}'", tmp);
    f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      fail(errc::io, "cannot write session file '{}' (disk full?)", tmp);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail(errc::io, "cannot move the session file into place at '{}'", path);
  }
}

std::string load_session(session& s, const tokenizer& tok, const std::string& path) {
  const mapped_file f(path);
  if (f.size() < 8 + 4 + 8) fail(errc::format, "'{}' is not a dianoia session file (too short)", path);
  if (std::memcmp(f.data(), k_magic, 8) != 0) fail(errc::format, "'{}' is not a dianoia session file", path);
  // The checksum first: every later check may then trust the bytes it reads.
  const uint8_t* end = f.data() + f.size() - 8;
  uint64_t stored;
  std::memcpy(&stored, end, 8);
  reader r{f.data(), f.size() - 8, 8, path};
  const auto version = r.get<uint32_t>("header");
  if (version != k_version) fail(errc::format, "session file '{}' has version {}, this library reads {}", path, version, k_version);
  if (checksum(f.data(), f.size() - 8) != stored)
    fail(errc::format, "session file '{}' is corrupt (checksum mismatch)", path);
  if (r.get<uint64_t>("header") != fingerprint(s, tok))
    fail(errc::invalid_argument, "session file '{}' was saved with a different model or vocabulary", path);
  (void)r.get<uint32_t>("header");  // n_ctx of the saving session: informative only
  const auto n_tokens = r.get<uint32_t>("header");
  const auto n_cached = r.get<uint32_t>("header");
  if (n_cached > n_tokens)
    fail(errc::format, "session file '{}' is inconsistent ({} cached of {} tokens)", path, n_cached, n_tokens);
  if (n_tokens > s.n_ctx())
    fail(errc::invalid_argument, "session file '{}' holds {} tokens, more than this session's context of {}", path,
         n_tokens, s.n_ctx());
  std::vector<int32_t> tokens(n_tokens);
  std::memcpy(tokens.data(), r.take(uint64_t{n_tokens} * 4, "tokens"), size_t{n_tokens} * 4);
  for (int32_t t : tokens)
    if (t < 0 || t >= tok.n_vocab()) fail(errc::format, "session file '{}' holds token id {} outside the vocabulary", path, t);
  const auto kv = r.get<uint64_t>("KV size");
  if (kv != s.state().kv_bytes(n_cached))
    fail(errc::invalid_argument, "session file '{}' has a KV cache of {} bytes; this session's layout needs {} (other KV type?)",
         path, kv, s.state().kv_bytes(n_cached));
  const uint8_t* kv_data = r.take(kv, "KV cache");
  const auto payload_size = r.get<uint64_t>("payload size");
  const uint8_t* payload = r.take(payload_size, "payload");
  if (r.at != r.n) fail(errc::format, "session file '{}' has {} unexpected trailing bytes", path, r.n - r.at);
  s.reset();
  s.state().kv_load(n_cached, kv_data);
  s.set_cached(std::move(tokens), n_cached);
  return std::string(reinterpret_cast<const char*>(payload), payload_size);
}

}  // namespace dianoia::detail
