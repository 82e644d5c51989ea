// Shared helpers for the tokenizer tests: llama.cpp's .inp/.out test vectors and tokenizer loading.
#pragma once
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf.hpp"
#include "test_support.hpp"
#include "tokenizer/tokenizer.hpp"

namespace dianoia::test {

struct vocab_case {
  std::string text;
  std::vector<int32_t> ids;
};

// .inp: each string followed by "\n__ggml_vocab_test__\n"; .out: one line of " id id ..." per string.
inline std::vector<vocab_case> read_vocab_cases(const std::string& inp_path, const std::string& out_path) {
  const std::string inp = read_file(inp_path), out = read_file(out_path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<vocab_case> cases;
  for (size_t pos = 0;;) {
    const size_t hit = inp.find(sep, pos);
    if (hit == std::string::npos) break;
    cases.push_back({inp.substr(pos, hit - pos), {}});
    pos = hit + sep.size();
  }
  std::istringstream lines(out);
  std::string line;
  for (auto& c : cases) {
    if (!std::getline(lines, line)) break;
    std::istringstream ids(line);
    for (int64_t id; ids >> id;) c.ids.push_back(static_cast<int32_t>(id));
  }
  return cases;
}

inline std::string format_ids(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += " " + std::to_string(id);
  return s;
}

// Printable form of a test string for failure messages.
inline std::string escape(const std::string& s) {
  std::string o;
  for (unsigned char c : s) {
    if (c == '\n') o += "\\n";
    else if (c == '\t') o += "\\t";
    else if (c == '\r') o += "\\r";
    else if (c < 0x20) o += "\\x" + std::string(1, "0123456789abcdef"[c >> 4]) + "0123456789abcdef"[c & 15];
    else o += static_cast<char>(c);
  }
  return o;
}

struct loaded_tokenizer {
  std::unique_ptr<detail::gguf::file> file;
  std::unique_ptr<detail::tokenizer> tok;
};

inline loaded_tokenizer load_tokenizer(const std::string& path) {
  loaded_tokenizer t;
  t.file = detail::gguf::file::open(path);
  t.tok = detail::tokenizer::from_gguf(*t.file);
  return t;
}

inline std::string vocab_dir() { return data_dir() + "/vocab"; }

}  // namespace dianoia::test
