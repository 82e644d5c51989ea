// Shared pieces of the dianoia command-line program.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <dianoia.h>

namespace cli {

// Minimal flag reader: flags may be given as "--name value" or "--name=value".
class args {
 public:
  args(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) items_.emplace_back(argv[i]);
  }
  bool flag(std::string_view name) {
    for (size_t i = 0; i < items_.size(); ++i)
      if (items_[i] == name) {
        items_.erase(items_.begin() + static_cast<long>(i));
        return true;
      }
    return false;
  }
  // An option whose value is optional: `name` alone, or followed by one of `choices` (taken as its value).
  bool flag_or_choice(std::string_view name, std::initializer_list<std::string_view> choices, std::string& out) {
    for (size_t i = 0; i < items_.size(); ++i) {
      if (items_[i] != name) continue;
      size_t n = 1;
      if (i + 1 < items_.size())
        for (auto c : choices)
          if (items_[i + 1] == c) {
            out = items_[i + 1];
            n = 2;
          }
      items_.erase(items_.begin() + static_cast<long>(i), items_.begin() + static_cast<long>(i + n));
      return true;
    }
    return false;
  }
  // Value of an option with any of the given spellings; throws std::runtime_error if it lacks a value.
  bool value(std::initializer_list<std::string_view> names, std::string& out) {
    for (size_t i = 0; i < items_.size(); ++i) {
      for (auto n : names) {
        const std::string& it = items_[i];
        if (it == n) {
          if (i + 1 >= items_.size()) throw std::runtime_error(std::string(n) + " needs a value");
          out = items_[i + 1];
          items_.erase(items_.begin() + static_cast<long>(i), items_.begin() + static_cast<long>(i) + 2);
          return true;
        }
        if (it.size() > n.size() && it.compare(0, n.size(), n) == 0 && it[n.size()] == '=') {
          out = it.substr(n.size() + 1);
          items_.erase(items_.begin() + static_cast<long>(i));
          return true;
        }
      }
    }
    return false;
  }
  // Every value of a repeatable option, in order.
  std::vector<std::string> values(std::initializer_list<std::string_view> names) {
    std::vector<std::string> out;
    std::string v;
    while (value(names, v)) out.push_back(v);
    return out;
  }
  // The first remaining item that does not start with '-' (removed), or "" if none.
  std::string positional() {
    for (size_t i = 0; i < items_.size(); ++i)
      if (items_[i].empty() || items_[i][0] != '-') {
        std::string v = items_[i];
        items_.erase(items_.begin() + static_cast<long>(i));
        return v;
      }
    return "";
  }
  // Call after reading every known option: anything left is an error.
  void finish() const {
    if (!items_.empty()) throw std::runtime_error("unknown argument '" + items_.front() + "'");
  }

 private:
  std::vector<std::string> items_;
};

// Numbers from flags: the whole text must be a number inside [lo, hi], else a std::runtime_error naming
// the flag (main turns it into one line on stderr and exit code 2). No wrap-around: "-1" for a count is
// refused, not read as 4294967295.
long to_long(const std::string& s, const char* what);
long to_long(const std::string& s, const char* what, long lo, long hi);
uint64_t to_u64(const std::string& s, const char* what);
double to_double(const std::string& s, const char* what);  // finite only

// `dianoia <command> --help`: the command's flags with their meaning and default (read from the
// library's default parameters). False if the command is unknown.
bool print_command_help(const std::string& cmd, std::FILE* out);
// True when argv (after the command) asks for help.
bool wants_help(int argc, char** argv);

// -t/--threads, --isa LEVEL, --llamacpp-numerics into session parameters.
void parse_session_flags(args& a, dianoia_session_params& sp);

// Default model: $DIANOIA_HOME (or ~/.cache/dianoia)/SmolLM2-135M-Instruct.Q4_1.gguf.
std::string default_model_path();

// Ctrl-C cancels the generation running on `s` (nullptr: stop watching).
void cancel_on_sigint(dianoia_session* s);

// JSON string literal (UTF-8 passes through; control characters are escaped).
std::string json_string(std::string_view s);

int cmd_run(int argc, char** argv);
int cmd_chat(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_info(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_serve(int argc, char** argv);
int cmd_pull(int argc, char** argv);
int cmd_models(int argc, char** argv);

}  // namespace cli
