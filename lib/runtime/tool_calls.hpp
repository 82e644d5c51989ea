// Tool calls in a model's answer, parsed while it streams.
//
// Models trained for tools write a call in a syntax of their own inside the answer text:
//  * hermes (Qwen2.5, Qwen3, Hermes): <tool_call>{"name": "f", "arguments": {...}}</tool_call>, several in
//    a row allowed; also an answer that is only the bare call, or the call in a ```json fence, as
//    Qwen2.5-Coder writes it (such an answer is held until it ends, then read);
//  * deepseek (DeepSeek-V3, R1): <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f
//    ```json {...} ```<｜tool▁call▁end｜>...<｜tool▁calls▁end｜> (also V3.1's NAME<｜tool▁sep｜>ARGS form);
//  * llama3 (Llama 3.1+ JSON tool calling): the whole answer is {"name": "f", "parameters": {...}},
//    optionally after <|python_tag|>.
// The parser takes the content channel's text (whole UTF-8 characters, any split) and gives back the
// same text with each call cut out and returned as a tool_call. Markers split over pieces are held back
// until they are decided, so no part of a call reaches the content. Whitespace around a call is
// dropped. A call that cannot be read (bad JSON, no name) is returned as the text it was, never dropped.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dianoia::detail {

enum class tool_syntax { none, hermes, deepseek, llama3 };

// "none", "hermes", "deepseek", "llama3"; and back (nullopt for an unknown name).
std::string_view tool_syntax_name(tool_syntax s);
std::optional<tool_syntax> tool_syntax_from_name(std::string_view name);

// The syntax a chat template teaches its model, from the markers it writes; none if it shows none.
tool_syntax detect_tool_syntax(std::string_view chat_template);

// The special tokens of a syntax (tokens a vocabulary may hold as control tokens, which the decode loop
// must then render for the parser to see them).
std::vector<std::string> tool_syntax_markers(tool_syntax s);

struct tool_call {
  std::string id;         // "call_<n>", n counting from the parser's first index
  std::string name;
  std::string arguments;  // a JSON object, compact
};

// One piece of parsed output: answer text, or a call.
struct tool_piece {
  bool is_call = false;
  std::string text;
  tool_call call;
};

class tool_call_parser {
 public:
  explicit tool_call_parser(tool_syntax s, uint32_t first_index = 0);

  // The next text of the answer; appends pieces in order (adjacent text merged).
  void feed(std::string_view text, std::vector<tool_piece>& out);
  // The answer ended: what is held (an unterminated call is read if it can be, else given back as text).
  void finish(std::vector<tool_piece>& out);
  uint32_t calls() const { return n_calls_; }

 private:
  void scan(std::vector<tool_piece>& out, bool at_end);
  bool scan_outside(std::vector<tool_piece>& out, bool at_end);
  bool scan_inside(std::vector<tool_piece>& out, bool at_end);
  void text(std::string_view t, std::vector<tool_piece>& out);
  void emit_call(std::optional<tool_call> c, std::string_view raw, std::vector<tool_piece>& out);
  std::optional<tool_call> read_json_call(std::string_view body);
  std::optional<tool_call> read_deepseek_call(std::string_view body);

  tool_syntax syntax_;
  uint32_t first_;
  uint32_t n_calls_ = 0;
  bool inside_ = false;
  bool after_call_ = false;    // whitespace right after a call is dropped
  bool decided_ = false;       // llama3, hermes: whether the whole answer may be one bare call is known
  bool whole_ = false;         // it may: held to the end
  std::string buf_;            // text not yet given out
};

}  // namespace dianoia::detail
