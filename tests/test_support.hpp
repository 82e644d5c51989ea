// Paths shared by every test program (set from the command line in tests/main.cpp).
#pragma once
#include <fstream>
#include <sstream>
#include <string>

namespace dianoia::test {
const std::string& data_dir();      // ../shared/data
const std::string& fixtures_dir();  // tests/fixtures
const std::string& model_dir();     // unpacked default model
std::string default_model_path();   // SmolLM2-135M-Instruct Q4_1
// The level named by --isa (empty: none): kernel tests then run that level only.
const std::string& isa_filter();

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
inline bool file_exists(const std::string& path) { return std::ifstream(path).good(); }
}  // namespace dianoia::test
