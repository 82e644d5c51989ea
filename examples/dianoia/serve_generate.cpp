#include "serve_generate.hpp"

#include <chrono>
#include <nlohmann/json.hpp>

namespace cli {
namespace {

using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// OpenAI's finish_reason; an answer that called tools ends with "tool_calls" unless it was cut short.
const char* finish_reason(dianoia_stop_reason r, bool called_tools) {
  if (called_tools && r != DIANOIA_STOP_MAX_TOKENS && r != DIANOIA_STOP_CONTEXT_FULL && r != DIANOIA_STOP_CANCELLED)
    return "tool_calls";
  switch (r) {
    case DIANOIA_STOP_MAX_TOKENS:
    case DIANOIA_STOP_CONTEXT_FULL: return "length";
    case DIANOIA_STOP_CANCELLED:
    case DIANOIA_STOP_CALLBACK: return "cancelled";
    default: return "stop";
  }
}

json bytes_of(std::string_view s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(c);
  return b;
}

// What one choice (sample) has produced so far.
struct choice_state {
  std::string reasoning, content;
  json logprobs = json::array();          // chat: content entries; completion: unused
  json pending_logprobs = json::array();  // stream: entries not yet sent with a delta
  std::vector<std::string> tokens;        // completion logprobs
  std::vector<float> token_logprobs;
  json top = json::array();
  std::vector<size_t> offsets;
  size_t text_len = 0;
  json tool_calls = json::array();  // OpenAI's message.tool_calls
  bool stopped_after_call = false;  // parallel_tool_calls = false ended the answer after its first call
  bool started = false, done = false;
  dianoia_event fin{};
};

}  // namespace

class generation {
 public:
  generation(const gen_request& r, const gen_context& ctx, const body_writer& write)
      : r_(r), ctx_(ctx), write_(write), choices_(r.n), last_write_(clock_type::now()) {}

  bool on_event(const dianoia::event& ev) {
    const dianoia_event& e = *ev.raw;
    if (e.sample_index >= choices_.size()) return true;
    choice_state& c = choices_[e.sample_index];
    if (ev.type == DIANOIA_EVENT_TOKEN) {
      if (!e.is_tag && e.channel == DIANOIA_EVENT_CONTENT) add_logprob(c, e);
    } else if (ev.type == DIANOIA_EVENT_REASONING) {
      c.reasoning += ev.text;
      if (r_.stream) return send_delta(e.sample_index, "reasoning_content", ev.text);
    } else if (ev.type == DIANOIA_EVENT_CONTENT) {
      c.content += ev.text;
      if (r_.stream) return send_delta(e.sample_index, "content", ev.text);
    } else if (ev.type == DIANOIA_EVENT_TOOL_CALL) {
      return on_tool_call(e.sample_index, ev);
    } else if (ev.type == DIANOIA_EVENT_DONE) {
      c.fin = e;
      if (c.stopped_after_call && e.stop_reason == DIANOIA_STOP_CALLBACK) c.fin.stop_reason = DIANOIA_STOP_EOS;
      c.done = true;
      if (r_.stream) return send_finish(e.sample_index);
    } else if (ev.type == DIANOIA_EVENT_VOTE) {
      vote_ = json{{"answers", json::array()}, {"abstained", e.abstained}, {"tie", e.tie}, {"winner", nullptr}};
      for (size_t i = 0; i < e.n_votes; ++i) {
        const auto& v = e.votes[i];
        const std::string a(v.answer, v.answer_len);
        vote_["answers"].push_back({{"answer", a}, {"count", v.count}, {"first_choice", v.first_sample}});
        if (i == 0) vote_["winner"] = a;
      }
    }
    return r_.stream || heartbeat();
  }

  void finish() {
    if (r_.stream) {
      if (!vote_.is_null()) {  // n > 1: the vote after every choice has finished (extension)
        json last = chunk_base(json::array());
        last["vote"] = vote_;
        emit(last);
      }
      if (r_.include_usage) {
        json last = chunk_base(json::array());
        last["usage"] = usage();
        emit(last);
      }
      write_("data: [DONE]\n\n");
      return;
    }
    json out = {{"id", ctx_.id},
                {"object", chat() ? "chat.completion" : "text_completion"},
                {"created", ctx_.created},
                {"model", ctx_.model_id},
                {"system_fingerprint", std::string("dianoia-") + dianoia_version_string()},
                {"choices", json::array()},
                {"usage", usage()}};
    for (size_t i = 0; i < choices_.size(); ++i) out["choices"].push_back(final_choice(i));
    if (!vote_.is_null()) out["vote"] = vote_;
    write_(dump(out));
  }

  void fail(const std::string& message) {
    const json err = {{"error", {{"message", message}, {"type", "server_error"}, {"param", nullptr}, {"code", nullptr}}}};
    if (r_.stream) {
      write_("data: " + dump(err) + "\n\n");
      write_("data: [DONE]\n\n");
    } else {
      write_(dump(err));
    }
  }

 private:
  bool chat() const { return r_.kind == endpoint::chat; }

  std::string token_text(int32_t id) const {
    if (!ctx_.model) return "";
    try {
      return ctx_.model->detokenize({id});
    } catch (...) {
      return "";
    }
  }

  void add_logprob(choice_state& c, const dianoia_event& e) {
    if (r_.logprobs < 0) return;
    const std::string_view tok(e.text, e.text_len);
    if (chat()) {
      json entry = {{"token", std::string(tok)}, {"logprob", e.logprob}, {"bytes", bytes_of(tok)},
                    {"top_logprobs", json::array()}};
      for (size_t i = 0; i < e.n_top && i < static_cast<size_t>(r_.logprobs); ++i) {
        const std::string t = token_text(e.top_tokens[i]);
        entry["top_logprobs"].push_back({{"token", t}, {"logprob", e.top_logprobs[i]}, {"bytes", bytes_of(t)}});
      }
      (r_.stream ? c.pending_logprobs : c.logprobs).push_back(std::move(entry));
      return;
    }
    c.tokens.emplace_back(tok);
    c.token_logprobs.push_back(e.logprob);
    c.offsets.push_back(c.text_len);
    c.text_len += tok.size();
    json top = json::object();
    for (size_t i = 0; i < e.n_top && i < static_cast<size_t>(r_.logprobs); ++i)
      top[token_text(e.top_tokens[i])] = e.top_logprobs[i];
    c.top.push_back(std::move(top));
  }

  json completion_logprobs(const choice_state& c) const {
    return {{"tokens", c.tokens}, {"token_logprobs", c.token_logprobs}, {"top_logprobs", c.top},
            {"text_offset", c.offsets}};
  }

  json chunk_base(json choices) const {
    return {{"id", ctx_.id},
            {"object", chat() ? "chat.completion.chunk" : "text_completion"},
            {"created", ctx_.created},
            {"model", ctx_.model_id},
            {"system_fingerprint", std::string("dianoia-") + dianoia_version_string()},
            {"choices", std::move(choices)}};
  }

  bool emit(const json& chunk) {
    last_write_ = clock_type::now();
    return write_("data: " + dump(chunk) + "\n\n");
  }

  bool send_delta(uint32_t index, const char* field, std::string_view text) {
    choice_state& c = choices_[index];
    json ch = {{"index", index}, {"finish_reason", nullptr}};
    if (chat()) {
      json delta = {{field, std::string(text)}};
      if (!c.started) delta["role"] = "assistant";
      ch["delta"] = std::move(delta);
      ch["logprobs"] = nullptr;
      if (r_.logprobs >= 0 && !c.pending_logprobs.empty()) {
        ch["logprobs"] = {{"content", std::move(c.pending_logprobs)}};
        c.pending_logprobs = json::array();
      }
    } else {
      if (std::string_view(field) != "content") return true;  // a completion has no reasoning channel to show
      ch["text"] = std::string(text);
      ch["logprobs"] = nullptr;
    }
    c.started = true;
    return emit(chunk_base(json::array({std::move(ch)})));
  }

  // A call in the answer. Its id is this server's own (unique per request, as OpenAI's are), not the
  // library's "call_<n>", which restarts at 0 for every request and would repeat across the turns of a
  // conversation. Streamed as one delta holding the whole call (index, id, type, name and arguments),
  // which OpenAI's clients accumulate like the pieces OpenAI itself sends.
  bool on_tool_call(uint32_t index, const dianoia::event& ev) {
    choice_state& c = choices_[index];
    const size_t k = c.tool_calls.size();
    json call = {{"id", ctx_.tool_call_prefix + std::to_string(k)},
                 {"type", "function"},
                 {"function", {{"name", std::string(ev.tool_name())}, {"arguments", std::string(ev.tool_arguments())}}}};
    c.tool_calls.push_back(call);
    if (!r_.parallel_tool_calls) c.stopped_after_call = true;
    if (r_.stream) {
      call["index"] = k;
      json delta = {{"tool_calls", json::array({std::move(call)})}};
      if (!c.started) delta["role"] = "assistant", delta["content"] = nullptr;
      c.started = true;
      json ch = {{"index", index}, {"delta", std::move(delta)}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
      if (!emit(chunk_base(json::array({std::move(ch)})))) return false;
    }
    return r_.parallel_tool_calls && (r_.stream || heartbeat());
  }

  bool send_finish(uint32_t index) {
    choice_state& c = choices_[index];
    json ch = {{"index", index}, {"finish_reason", finish_reason(c.fin.stop_reason, !c.tool_calls.empty())},
               {"logprobs", nullptr}};
    if (chat()) {
      ch["delta"] = c.started ? json::object() : json{{"role", "assistant"}, {"content", ""}};
      if (r_.logprobs >= 0) ch["logprobs"] = {{"content", std::move(c.pending_logprobs)}};
    } else {
      ch["text"] = "";
      if (r_.logprobs >= 0) ch["logprobs"] = completion_logprobs(c);
    }
    return emit(chunk_base(json::array({std::move(ch)})));
  }

  json final_choice(size_t i) const {
    const choice_state& c = choices_[i];
    json ch = {{"index", i}, {"finish_reason", finish_reason(c.fin.stop_reason, !c.tool_calls.empty())},
               {"logprobs", nullptr}};
    if (chat()) {
      json msg = {{"role", "assistant"}, {"content", c.content}};
      if (!c.reasoning.empty()) msg["reasoning_content"] = c.reasoning;
      if (!c.tool_calls.empty()) {
        msg["tool_calls"] = c.tool_calls;
        if (c.content.empty()) msg["content"] = nullptr;  // as OpenAI: an answer of only calls has no content
      }
      ch["message"] = std::move(msg);
      if (r_.logprobs >= 0) ch["logprobs"] = {{"content", c.logprobs}};
    } else {
      ch["text"] = c.reasoning.empty() ? c.content : c.reasoning + c.content;
      if (r_.logprobs >= 0) ch["logprobs"] = completion_logprobs(c);
    }
    return ch;
  }

  json usage() const {
    uint32_t reasoning = 0, content = 0;
    for (const auto& c : choices_) reasoning += c.fin.reasoning_tokens, content += c.fin.content_tokens;
    const dianoia_event& f = choices_[0].fin;
    return {{"prompt_tokens", f.prompt_tokens},
            {"completion_tokens", reasoning + content},
            {"total_tokens", f.prompt_tokens + reasoning + content},
            {"prompt_tokens_details", {{"cached_tokens", f.prompt_reused}}},
            {"completion_tokens_details", {{"reasoning_tokens", reasoning}}}};
  }

  // Non-streaming: a space every second, so a closed connection shows (and stops the work) early.
  bool heartbeat() {
    const auto now = clock_type::now();
    if (now - last_write_ < std::chrono::seconds(1)) return true;
    last_write_ = now;
    return write_(" ");
  }

  const gen_request& r_;
  const gen_context& ctx_;
  const body_writer& write_;
  std::vector<choice_state> choices_;
  json vote_;
  clock_type::time_point last_write_;
};

response_writer::response_writer(const gen_request& r, const gen_context& ctx, const body_writer& write)
    : impl_(std::make_unique<generation>(r, ctx, write)) {}
response_writer::~response_writer() = default;
bool response_writer::on_event(const dianoia::event& ev) { return impl_->on_event(ev); }
void response_writer::finish() { impl_->finish(); }
void response_writer::fail(const std::string& message) { impl_->fail(message); }

dianoia_generate_params to_params(const gen_request& r, const gen_context& ctx, std::vector<const char*>& stop_ptrs) {
  dianoia_generate_params p = ctx.defaults;
  p.max_tokens = r.max_tokens > 0 ? r.max_tokens : ctx.default_max_tokens;
  if (r.temperature) p.temperature = *r.temperature;
  if (r.top_p) p.top_p = *r.top_p;
  if (r.min_p) p.min_p = *r.min_p;
  if (r.top_k) p.top_k = *r.top_k;
  if (r.presence_penalty) p.presence_penalty = *r.presence_penalty;
  if (r.frequency_penalty) p.frequency_penalty = *r.frequency_penalty;
  if (r.repeat_penalty) p.repeat_penalty = *r.repeat_penalty;
  p.seed = r.seed ? *r.seed : ctx.seed;
  // A plain completion is text continuation: no thinking split unless the request asks for it.
  p.reasoning = r.reasoning ? *r.reasoning : r.kind == endpoint::completion ? DIANOIA_REASONING_OFF : DIANOIA_REASONING_AUTO;
  p.max_reasoning_tokens = r.max_reasoning_tokens;
  p.logprobs = r.logprobs;
  stop_ptrs.clear();
  for (const auto& s : r.stop) stop_ptrs.push_back(s.c_str());
  p.stop = stop_ptrs.empty() ? nullptr : stop_ptrs.data();
  p.n_stop = stop_ptrs.size();
  p.logit_bias = r.logit_bias.empty() ? nullptr : r.logit_bias.data();
  p.n_logit_bias = r.logit_bias.size();
  // tool_choice "none": the model is not shown the tools, so it has none to call (the history may still
  // hold earlier calls and their results, which the template renders as usual).
  p.tools = r.tools_json.empty() || r.tool_choice_none ? nullptr : r.tools_json.c_str();
  p.tool_call_syntax = DIANOIA_TOOL_SYNTAX_AUTO;
  return p;
}

void run_generation(const gen_request& r, const gen_context& ctx, dianoia::session& s, const body_writer& write) {
  std::vector<const char*> stops;
  const dianoia_generate_params p = to_params(r, ctx, stops);
  response_writer g(r, ctx, write);
  auto cb = [&](const dianoia::event& ev) { return g.on_event(ev); };
  try {
    if (r.kind == endpoint::completion) {
      if (r.prompt_is_tokens) s.complete(r.prompt_tokens, cb, p);
      else s.complete(r.prompt, cb, p);
    } else if (r.n > 1) {
      s.chat_samples(r.messages, r.n, cb, p);
    } else {
      s.chat(r.messages, cb, p);
    }
  } catch (const std::exception& e) {
    g.fail(e.what());
    return;
  }
  g.finish();
}

}  // namespace cli
