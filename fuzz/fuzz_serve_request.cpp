// The body parser of `dianoia serve` (examples/dianoia/serve_request.cpp), which sees every byte a
// client sends. Beyond "no crash, no exception": an accepted request keeps within the server's limits
// (the values the generation will use), and a refused one carries a 4xx status and an OpenAI-shaped error
// that parses back. The first byte picks the endpoint.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

// Not fuzz_common.hpp: its lib/core/error.hpp declares dianoia::detail::error, which would shadow the
// public dianoia::error inside dianoia.hpp (this target sees only the public API, as the program does).
#include "serve_request.hpp"

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "fuzz: invariant violated: %s\n", what);
  std::abort();
}

void check_ok(const cli::gen_request& r, const cli::serve_limits& lim) {
  if (r.kind == cli::endpoint::chat && (r.messages.empty() || r.messages.size() > lim.max_messages))
    violated("chat request with out-of-range message count");
  for (const auto& m : r.messages)
    if (m.role.find('\0') != std::string::npos || m.content.find('\0') != std::string::npos)
      violated("NUL inside a message reaches the C ABI");
  if (r.kind == cli::endpoint::completion && r.prompt.empty() && !r.prompt_is_tokens) violated("empty prompt accepted");
  if (r.n < 1 || r.n > lim.max_n) violated("n out of range");
  if (r.max_tokens != -1 && (r.max_tokens < 1 || r.max_tokens > lim.max_tokens)) violated("max_tokens out of range");
  if (r.stop.size() > lim.max_stops) violated("too many stop strings");
  for (const auto& s : r.stop)
    if (s.empty() || s.size() > 256 || s.find('\0') != std::string::npos) violated("bad stop string accepted");
  if (r.temperature && !(*r.temperature >= 0 && *r.temperature <= 2)) violated("temperature out of range");
  if (r.top_p && !(*r.top_p >= 0 && *r.top_p <= 1)) violated("top_p out of range");
  if (r.logprobs < -1 || r.logprobs > 20) violated("logprobs out of range");
  if (r.max_reasoning_tokens < -1) violated("negative reasoning budget");
  for (const auto& b : r.logit_bias)
    if (b.token < 0 || !std::isfinite(b.bias)) violated("bad logit_bias accepted");
  if (r.include_usage && !r.stream) violated("include_usage without stream");
  // Tools reach the template as JSON it must be able to parse: an array, and each call's arguments.
  if (!r.tools_json.empty() && !nlohmann::json::parse(r.tools_json, nullptr, false).is_array())
    violated("tools that are not a JSON array accepted");
  for (const auto& m : r.messages) {
    if (!m.tool_calls.empty() && m.role != "assistant") violated("tool_calls on a non-assistant message");
    if (m.role == "tool" && !m.tool_call_id) violated("tool message without tool_call_id");
    for (const auto& c : m.tool_calls)
      if (c.name.empty() || !nlohmann::json::accept(c.arguments)) violated("bad tool call accepted");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto kind = (data[0] & 1) ? cli::endpoint::completion : cli::endpoint::chat;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  cli::serve_limits lim;
  lim.max_body_bytes = 4096;
  auto r = cli::parse_request(kind, body, lim);
  if (auto* ok = std::get_if<cli::gen_request>(&r)) {
    check_ok(*ok, lim);
    return 0;
  }
  const auto& e = std::get<cli::api_error>(r);
  if (e.status < 400 || e.status > 499 || e.message.empty()) violated("refusal without a 4xx status and a message");
  const auto j = nlohmann::json::parse(e.to_json(), nullptr, false);
  if (j.is_discarded() || !j["error"]["message"].is_string()) violated("error body is not OpenAI-shaped JSON");
  return 0;
}
