// The body of an OpenAI-style request (POST /v1/chat/completions or /v1/completions), parsed and
// checked against the server's limits before any model work. Pure: no model, no I/O, so the fuzz target
// (fuzz/fuzz_serve_request.cpp) drives exactly what the server runs on hostile input.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <dianoia/dianoia.hpp>

#include "serve_options.hpp"

namespace cli {

// An error in OpenAI's shape: {"error": {"message", "type", "param", "code"}} with an HTTP status.
struct api_error {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // "" : null
  std::string code;   // "" : null
  std::string to_json() const;
};

enum class endpoint { chat, completion };

struct gen_request {
  endpoint kind = endpoint::chat;
  std::string model;  // "" : not given
  std::vector<dianoia::chat_message> messages;  // chat
  std::string prompt;                           // completion, as text...
  std::vector<int32_t> prompt_tokens;           // ...or as token ids
  bool prompt_is_tokens = false;
  bool stream = false, include_usage = false;
  uint32_t n = 1;
  int32_t max_tokens = -1;  // -1: not given
  std::optional<float> temperature, top_p, min_p, presence_penalty, frequency_penalty, repeat_penalty;
  std::optional<int32_t> top_k;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  int32_t logprobs = -1;  // alternatives per token; -1: no logprobs
  bool logprobs_on = false;   // chat: the 'logprobs' flag, combined with top_logprobs into `logprobs`
  int32_t top_logprobs = -1;
  std::optional<dianoia_reasoning_mode> reasoning;
  int32_t max_reasoning_tokens = -1;  // -1: no budget
  int32_t effort_budget = -1;         // reasoning_effort's budget, used when max_reasoning_tokens is absent
  bool budget_given = false;
  std::vector<dianoia_logit_bias> logit_bias;
  // Tool calling (chat): the `tools` array as compact JSON ("" : none), rendered into the chat template
  // unless tool_choice is "none"; parallel_tool_calls = false ends the answer after its first call.
  std::string tools_json;
  bool tool_choice_none = false;
  bool parallel_tool_calls = true;
};

// Parses `body` for `kind`. Unknown fields, wrong types, out-of-range values, features this server does
// not carry (images, a forced tool_choice) and bodies nested deeper than 64 levels are api_errors,
// never exceptions.
std::variant<gen_request, api_error> parse_request(endpoint kind, std::string_view body, const serve_limits& lim);

}  // namespace cli
