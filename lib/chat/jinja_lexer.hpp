// Template lexing with the whitespace rules HF's chat-template environment uses: trim_blocks (drop
// the first newline after a block or comment tag), lstrip_blocks (drop spaces and tabs before a block
// or comment tag that starts its line), '-' / '+' markers on tags, and newline normalisation with
// the template's single trailing newline removed (keep_trailing_newline=False).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dianoia::detail::jinja {

enum class tok : uint8_t {
  text,         // literal output, whitespace rules already applied
  var_begin,    // {{
  var_end,      // }}
  block_begin,  // {%
  block_end,    // %}
  name,
  string,       // value already unescaped
  integer,
  floating,
  op,           // punctuation and operators
  eof,
};

struct token {
  tok type;
  uint32_t pos;  // byte offset in the normalised source
  std::string text;
};

// \r\n and \r become \n; one trailing newline is dropped. Positions refer to this text.
std::string normalize_source(std::string_view src);

std::vector<token> lex(std::string_view src);

// "line L, column C" (1-based; columns count characters) of a byte offset in src.
std::string location(std::string_view src, uint32_t pos);

// Throws error(format) naming the location.
[[noreturn]] void fail_at(std::string_view src, uint32_t pos, std::string_view msg);

}  // namespace dianoia::detail::jinja
