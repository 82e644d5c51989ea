#include "serve_request.hpp"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace cli {
namespace {

using json = nlohmann::json;

// nlohmann's parser recurses once per nesting level: a body of a million '[' would overflow the stack.
// Requests need a handful of levels; refuse deep ones before parsing.
bool nesting_within(std::string_view s, int max_depth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : s) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

struct bad : api_error {
  bad(std::string param, std::string message) {
    this->param = std::move(param);
    this->message = std::move(message);
  }
};

double number(const json& v, const char* name, double lo, double hi) {
  if (!v.is_number()) throw bad(name, std::string("'") + name + "' must be a number");
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || d > hi)
    throw bad(name, std::string("'") + name + "' must be between " + json(lo).dump() + " and " + json(hi).dump());
  return d;
}

int64_t integer(const json& v, const char* name, int64_t lo, int64_t hi) {
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi)))
    throw bad(name, std::string("'") + name + "' must be an integer between " + std::to_string(lo) + " and " +
                        std::to_string(hi));
  const int64_t i = v.get<int64_t>();
  if (i < lo || i > hi)
    throw bad(name, std::string("'") + name + "' must be an integer between " + std::to_string(lo) + " and " +
                        std::to_string(hi));
  return i;
}

bool boolean(const json& v, const char* name) {
  if (!v.is_boolean()) throw bad(name, std::string("'") + name + "' must be a boolean");
  return v.get<bool>();
}

// Text for the C ABI, which takes NUL-terminated strings.
std::string text(const json& v, const char* name) {
  if (!v.is_string()) throw bad(name, std::string("'") + name + "' must be a string");
  std::string s = v.get<std::string>();
  if (s.find('\0') != std::string::npos) throw bad(name, std::string("'") + name + "' must not contain NUL");
  return s;
}

// A message's content: a string, null, or an array of {"type": "text", "text": ...} parts.
std::string content_of(const json& c) {
  if (c.is_null()) return "";
  if (c.is_string()) return text(c, "messages.content");
  if (!c.is_array()) throw bad("messages", "a message's 'content' must be a string or an array of text parts");
  std::string out;
  for (const auto& part : c) {
    if (!part.is_object() || !part.contains("type") || part["type"] != "text" || !part.contains("text"))
      throw bad("messages", "only text content parts ({\"type\": \"text\", \"text\": ...}) are supported");
    out += text(part["text"], "messages.content.text");
  }
  return out;
}

// A tool call's arguments: OpenAI sends them as a string of JSON text; an object is taken as well. The
// template needs JSON it can parse, so malformed text is refused here rather than deep in the render.
std::string call_arguments(const json& a) {
  if (a.is_null()) return "{}";
  if (a.is_object()) return a.dump(-1, ' ', false, json::error_handler_t::replace);
  const std::string s = text(a, "messages.tool_calls.function.arguments");
  if (s.find_first_not_of(" \t\r\n") == std::string::npos) return "{}";  // a call without arguments
  if (!json::accept(s)) throw bad("messages", "a tool call's 'function.arguments' must be JSON text");
  return s;
}

// An assistant turn's tool_calls: [{"id", "type": "function", "function": {"name", "arguments"}}].
std::vector<dianoia::tool_call> parse_tool_calls(const json& v) {
  std::vector<dianoia::tool_call> out;
  if (v.is_null()) return out;
  if (!v.is_array()) throw bad("messages", "'tool_calls' must be an array");
  if (v.size() > 128) throw bad("messages", "at most 128 tool calls per message");
  for (const auto& c : v) {
    if (!c.is_object() || !c.contains("function") || !c["function"].is_object())
      throw bad("messages", "each tool call needs a 'function' object");
    if (c.contains("type") && c["type"] != "function") throw bad("messages", "a tool call's 'type' must be \"function\"");
    const json& f = c["function"];
    if (!f.contains("name")) throw bad("messages", "a tool call's function needs a 'name'");
    dianoia::tool_call tc;
    tc.name = text(f["name"], "messages.tool_calls.function.name");
    if (tc.name.empty()) throw bad("messages", "a tool call's function name must not be empty");
    tc.arguments = call_arguments(f.contains("arguments") ? f["arguments"] : json());
    if (c.contains("id") && !c["id"].is_null()) tc.id = text(c["id"], "messages.tool_calls.id");
    out.push_back(std::move(tc));
  }
  return out;
}

dianoia::chat_message parse_message(const json& m) {
  if (!m.is_object() || !m.contains("role")) throw bad("messages", "each message needs a 'role'");
  dianoia::chat_message out;
  out.role = text(m["role"], "messages.role");
  if (out.role == "developer") out.role = "system";  // OpenAI's newer name for the system role
  const std::string& role = out.role;
  if (role != "system" && role != "user" && role != "assistant" && role != "tool")
    throw bad("messages", "unknown role '" + role + "' (system, developer, user, assistant, tool)");
  for (const auto& [key, val] : m.items()) {
    if (key == "role" || ((key == "name" || key == "tool_calls") && (val.is_null() || val == json::array()))) continue;
    if (key == "content") out.content = content_of(val);
    else if (key == "name") out.name = text(val, "messages.name");
    else if (key == "reasoning_content" && !val.is_null()) out.reasoning_content = text(val, "messages.reasoning_content");
    else if (key == "reasoning_content") continue;
    else if (key == "tool_calls" && role == "assistant") out.tool_calls = parse_tool_calls(val);
    else if (key == "tool_call_id" && role == "tool") out.tool_call_id = text(val, "messages.tool_call_id");
    else if (key == "tool_calls" || key == "tool_call_id")
      throw bad("messages", "'" + key + "' belongs on " + (key == "tool_calls" ? "an assistant" : "a tool") + " message");
    else throw bad("messages", "unknown message field '" + key + "'");
  }
  // An assistant turn may be only tool calls (content null or absent); every other role says something.
  if (role != "assistant" && (!m.contains("content") || m["content"].is_null()))
    throw bad("messages", "a " + role + " message needs 'content'");
  if (role == "tool" && !out.tool_call_id) throw bad("messages", "a tool message needs the 'tool_call_id' it answers");
  return out;
}

void parse_messages(const json& v, gen_request& r, const serve_limits& lim) {
  if (!v.is_array() || v.empty()) throw bad("messages", "'messages' must be a non-empty array");
  if (v.size() > lim.max_messages)
    throw bad("messages", "at most " + std::to_string(lim.max_messages) + " messages per request");
  for (const auto& m : v) {
    dianoia::chat_message msg = parse_message(m);
    // OpenAI's tool messages carry only the call's id; templates that show the tool's name (Llama 3,
    // Mistral) get it from the assistant turn that made the call.
    if (msg.role == "tool" && !msg.name)
      for (auto it = r.messages.rbegin(); it != r.messages.rend() && !msg.name; ++it)
        for (const auto& c : it->tool_calls)
          if (!c.id.empty() && c.id == *msg.tool_call_id) msg.name = c.name;
    r.messages.push_back(std::move(msg));
  }
}

// `tools`: [{"type": "function", "function": {"name", "description"?, "parameters"?, "strict"?}}], kept
// as given (compact) for the template, which renders each definition as its model was trained on.
void parse_tools(const json& v, gen_request& r) {
  if (v.is_null()) return;
  if (!v.is_array()) throw bad("tools", "'tools' must be an array of tool definitions");
  if (v.size() > 128) throw bad("tools", "at most 128 tools per request");
  for (const auto& t : v) {
    if (!t.is_object() || t.value("type", json()) != "function" || !t.contains("function") || !t["function"].is_object())
      throw bad("tools", "each tool must be {\"type\": \"function\", \"function\": {\"name\": ...}}");
    const json& f = t["function"];
    const std::string name = f.contains("name") ? text(f["name"], "tools.function.name") : "";
    if (name.empty() || name.size() > 64 ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != std::string::npos)
      throw bad("tools", "a tool's function name must be 1..64 characters of a-z, A-Z, 0-9, '_', '-' or '.'");
    if (f.contains("description") && !f["description"].is_string()) throw bad("tools", "a tool's 'description' must be a string");
    if (f.contains("parameters") && !f["parameters"].is_object())
      throw bad("tools", "a tool's 'parameters' must be a JSON Schema object");
  }
  r.tools_json = v.empty() ? "" : v.dump(-1, ' ', false, json::error_handler_t::replace);
}

// "auto" (the model decides) and "none" (the model is shown no tools) are honoured. "required" and a
// named function would need the answer forced to start with a call, which the library cannot prefill.
void parse_tool_choice(const std::string& k, const json& v, gen_request& r) {
  if (v.is_null() || v == "auto") return;
  if (v == "none") {
    r.tool_choice_none = true;
    return;
  }
  if (v == "required" || v.is_object())
    throw bad(k, "'" + k + "' can be \"auto\" or \"none\": this server cannot force a tool call (\"required\" or a "
                 "named function); the model decides with \"auto\"");
  throw bad(k, "'" + k + "' must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", ...}");
}

void parse_stop(const json& v, gen_request& r, const serve_limits& lim) {
  if (v.is_null()) return;
  if (v.is_string()) {
    r.stop.push_back(text(v, "stop"));
  } else if (v.is_array()) {
    for (const auto& s : v) r.stop.push_back(text(s, "stop"));
  } else {
    throw bad("stop", "'stop' must be a string or an array of strings");
  }
  if (r.stop.size() > lim.max_stops) throw bad("stop", "at most " + std::to_string(lim.max_stops) + " stop strings");
  for (const auto& s : r.stop)
    if (s.empty() || s.size() > 256) throw bad("stop", "stop strings must be 1..256 bytes");
}

void parse_prompt(const json& v, gen_request& r) {
  // A string, an array holding one string, or an array of token ids (one prompt per request).
  if (v.is_array() && v.size() == 1 && v[0].is_string()) return parse_prompt(v[0], r);
  if (v.is_string()) {
    r.prompt = text(v, "prompt");
    return;
  }
  if (v.is_array() && !v.empty() && v[0].is_number()) {
    for (const auto& t : v) r.prompt_tokens.push_back(static_cast<int32_t>(integer(t, "prompt", 0, INT32_MAX)));
    r.prompt_is_tokens = true;
    return;
  }
  throw bad("prompt", "'prompt' must be a string or an array of token ids (one prompt per request)");
}

void parse_reasoning_effort(const json& v, gen_request& r) {
  const std::string e = text(v, "reasoning_effort");
  // Budgets per effort level: think not at all, briefly, moderately, or as long as the model wants.
  if (e == "none") r.reasoning = DIANOIA_REASONING_OFF;
  else if (e == "minimal") r.reasoning = DIANOIA_REASONING_ON, r.effort_budget = 128;
  else if (e == "low") r.reasoning = DIANOIA_REASONING_ON, r.effort_budget = 512;
  else if (e == "medium") r.reasoning = DIANOIA_REASONING_ON, r.effort_budget = 2048;
  else if (e == "high") r.reasoning = DIANOIA_REASONING_ON, r.effort_budget = -1;
  else throw bad("reasoning_effort", "'reasoning_effort' must be none, minimal, low, medium or high");
}

void parse_logit_bias(const json& v, gen_request& r) {
  if (v.is_null()) return;
  if (!v.is_object()) throw bad("logit_bias", "'logit_bias' must map token ids to biases");
  if (v.size() > 1024) throw bad("logit_bias", "at most 1024 logit_bias entries");
  for (const auto& [key, val] : v.items()) {
    char* end = nullptr;
    const long id = std::strtol(key.c_str(), &end, 10);
    if (key.empty() || *end || id < 0 || id > INT32_MAX) throw bad("logit_bias", "logit_bias keys must be token ids");
    r.logit_bias.push_back({static_cast<int32_t>(id), static_cast<float>(number(val, "logit_bias", -100, 100))});
  }
}

// One field of the body; false when the name is not one this endpoint knows.
bool parse_field(const std::string& k, const json& v, gen_request& r, const serve_limits& lim) {
  const bool chat = r.kind == endpoint::chat;
  if (k == "model") r.model = text(v, "model");
  else if (k == "messages" && chat) parse_messages(v, r, lim);
  else if (k == "prompt" && !chat) parse_prompt(v, r);
  else if (k == "stream") r.stream = !v.is_null() && boolean(v, "stream");
  else if (k == "stream_options") {
    if (v.is_null()) return true;
    if (!v.is_object()) throw bad("stream_options", "'stream_options' must be an object");
    for (const auto& [sk, sv] : v.items())
      if (sk == "include_usage") r.include_usage = boolean(sv, "stream_options.include_usage");
      else throw bad("stream_options", "unknown stream option '" + sk + "'");
  } else if (k == "max_tokens" || (k == "max_completion_tokens" && chat)) {
    if (!v.is_null()) r.max_tokens = static_cast<int32_t>(integer(v, k.c_str(), 1, lim.max_tokens));
  } else if (k == "temperature") {
    if (!v.is_null()) r.temperature = static_cast<float>(number(v, "temperature", 0, 2));
  } else if (k == "top_p") {
    if (!v.is_null()) r.top_p = static_cast<float>(number(v, "top_p", 0, 1));
  } else if (k == "min_p") {
    if (!v.is_null()) r.min_p = static_cast<float>(number(v, "min_p", 0, 1));
  } else if (k == "top_k") {
    if (!v.is_null()) r.top_k = static_cast<int32_t>(integer(v, "top_k", 0, 1 << 20));
  } else if (k == "presence_penalty") {
    if (!v.is_null()) r.presence_penalty = static_cast<float>(number(v, "presence_penalty", -2, 2));
  } else if (k == "frequency_penalty") {
    if (!v.is_null()) r.frequency_penalty = static_cast<float>(number(v, "frequency_penalty", -2, 2));
  } else if (k == "repetition_penalty") {
    if (!v.is_null()) r.repeat_penalty = static_cast<float>(number(v, "repetition_penalty", 0.01, 10));
  } else if (k == "seed") {
    if (v.is_null()) return true;
    if (!v.is_number_integer()) throw bad("seed", "'seed' must be an integer");
    r.seed = v.is_number_unsigned() ? v.get<uint64_t>() : static_cast<uint64_t>(v.get<int64_t>());
  } else if (k == "stop") parse_stop(v, r, lim);
  else if (k == "n") {
    if (!v.is_null()) r.n = static_cast<uint32_t>(integer(v, "n", 1, lim.max_n));
  } else if (k == "logprobs") {
    if (v.is_null()) return true;
    if (chat) r.logprobs_on = boolean(v, "logprobs");
    else r.logprobs = static_cast<int32_t>(integer(v, "logprobs", 0, 5));
  } else if (k == "top_logprobs" && chat) {
    if (!v.is_null()) r.top_logprobs = static_cast<int32_t>(integer(v, "top_logprobs", 0, 20));
  } else if (k == "reasoning_effort") {
    if (!v.is_null()) parse_reasoning_effort(v, r);
  } else if (k == "max_reasoning_tokens") {
    if (!v.is_null()) r.budget_given = true,
                      r.max_reasoning_tokens = static_cast<int32_t>(integer(v, "max_reasoning_tokens", -1, INT32_MAX));
  } else if (k == "logit_bias") parse_logit_bias(v, r);
  else if ((k == "tools" || k == "tool_choice" || k == "parallel_tool_calls") && !chat) {
    throw bad(k, "'" + k + "' works on chat completions only");
  } else if (k == "tools") parse_tools(v, r);
  else if (k == "tool_choice") parse_tool_choice(k, v, r);
  else if (k == "parallel_tool_calls") {
    if (!v.is_null()) r.parallel_tool_calls = boolean(v, "parallel_tool_calls");
  } else if (k == "functions") {
    if (!v.is_null() && !(v.is_array() && v.empty()))
      throw bad(k, "the deprecated 'functions' is not supported: send the same definitions as 'tools'");
  } else if (k == "function_call") {
    if (!v.is_null() && !(v.is_string() && (v == "none" || v == "auto")))
      throw bad(k, "the deprecated 'function_call' can only be \"none\" or \"auto\": use 'tools' and 'tool_choice'");
  } else if (k == "response_format") {
    if (!v.is_null() && !(v.is_object() && v.size() == 1 && v.contains("type") && v["type"] == "text"))
      throw bad(k, "only {\"type\": \"text\"} is supported (no constrained JSON output)");
  } else if (k == "echo" && !chat) {
    if (!v.is_null() && boolean(v, "echo")) throw bad(k, "'echo' is not supported");
  } else if (k == "suffix" && !chat) {
    if (!v.is_null()) throw bad(k, "'suffix' (fill-in-the-middle) is not supported");
  } else if (k == "best_of" && !chat) {
    if (!v.is_null() && integer(v, "best_of", 1, 1) != 1) throw bad(k, "'best_of' must be 1");
  } else if (k == "user" || k == "metadata" || k == "store" || k == "service_tier") {
    // Bookkeeping fields with no effect on generation here: accepted as OpenAI accepts them.
  } else {
    return false;
  }
  return true;
}

}  // namespace

std::string api_error::to_json() const {
  json e = {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
  if (!param.empty()) e["param"] = param;
  if (!code.empty()) e["code"] = code;
  return json{{"error", e}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::variant<gen_request, api_error> parse_request(endpoint kind, std::string_view body, const serve_limits& lim) {
  if (!nesting_within(body, 64)) return bad("", "the request body is nested too deeply");
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return bad("", "We could not parse the JSON body of your request. (The body must be valid JSON.)");
  if (!j.is_object()) return bad("", "the request body must be a JSON object");
  gen_request r;
  r.kind = kind;
  try {
    for (const auto& [k, v] : j.items())
      if (!parse_field(k, v, r, lim)) return bad(k, "Unrecognized request argument supplied: " + k);
    // Fields arrive in no particular order: an explicit budget wins over the effort level's.
    if (!r.budget_given) r.max_reasoning_tokens = r.effort_budget;
    if (kind == endpoint::chat && r.messages.empty()) return bad("messages", "'messages' is required");
    if (kind == endpoint::completion && r.prompt.empty() && !r.prompt_is_tokens)
      return bad("prompt", "'prompt' is required and must not be empty");
    if (r.include_usage && !r.stream) return bad("stream_options", "'stream_options' needs 'stream': true");
    if (kind == endpoint::chat) {
      if (r.top_logprobs >= 0 && !r.logprobs_on) return bad("top_logprobs", "'top_logprobs' needs 'logprobs': true");
      r.logprobs = r.logprobs_on ? std::max(r.top_logprobs, 0) : -1;
    }
    if (r.n > 1 && kind == endpoint::completion) return bad("n", "'n' > 1 works on chat completions only");
    // The samples API, which n > 1 runs on, reports no per-token logprobs.
    if (r.n > 1 && r.logprobs >= 0) return bad("logprobs", "'logprobs' is not available with 'n' > 1");
    if (r.n > 1 && !r.tools_json.empty() && !r.tool_choice_none)
      return bad("n", "'tools' are not available with 'n' > 1 (self-consistency samples vote on plain answers)");
  } catch (const api_error& e) {
    return e;
  } catch (const std::exception& e) {  // a json type error we did not foresee: still the caller's fault
    return bad("", std::string("invalid request: ") + e.what());
  }
  return r;
}

}  // namespace cli
