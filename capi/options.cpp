// C ABI: generation parameters.
#include "options.hpp"

#include <cmath>
#include <cstddef>

#include "core/json.hpp"
#include "guard.hpp"

using namespace dianoia;
using detail::errc;
using detail::fail;

namespace dianoia::capi {
namespace {

std::string c_text(const char* s, const char* what) {
  if (!s) return {};
  const std::string_view v(s);
  return std::string(text_arg(v.data(), v.size(), what));
}

std::vector<std::string> c_texts(const char* const* s, size_t n, const char* what) {
  if (n && !s) fail(errc::invalid_argument, "{} is NULL but its count is {}", what, n);
  if (n > 4096) fail(errc::invalid_argument, "{}: {} entries is too many", what, n);
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    if (!s[i]) fail(errc::invalid_argument, "{}[{}] is NULL", what, i);
    out.push_back(c_text(s[i], what));
  }
  return out;
}

}  // namespace

detail::generate_options to_options(const dianoia_generate_params* in) {
  const auto p = read_params(in, dianoia_generate_default_params(), "dianoia_generate_params");
  detail::generate_options o;
  o.max_tokens = p.max_tokens;
  auto& s = o.sampling;
  s.temperature = p.temperature;
  s.top_k = p.top_k;
  s.top_p = p.top_p;
  s.min_p = p.min_p;
  s.seed = p.seed;
  switch (const int32_t mode = p.reasoning) {
    case DIANOIA_REASONING_AUTO: o.reasoning = detail::reasoning_mode::automatic; break;
    case DIANOIA_REASONING_ON: o.reasoning = detail::reasoning_mode::on; break;
    case DIANOIA_REASONING_OFF: o.reasoning = detail::reasoning_mode::off; break;
    default: fail(errc::invalid_argument, "reasoning mode {} is invalid", mode);
  }
  o.max_reasoning_tokens = p.max_reasoning_tokens;
  o.ignore_eos = p.ignore_eos;

  o.min_reasoning_tokens = p.min_reasoning_tokens;
  if (p.continue_text) o.continue_text = c_text(p.continue_text, "continue_text");
  o.wrap_up_text = c_text(p.wrap_up_text, "wrap_up_text");
  if (p.open_tag) o.open_tag = c_text(p.open_tag, "open_tag");
  if (p.close_tag) o.close_tag = c_text(p.close_tag, "close_tag");
  o.stop = c_texts(p.stop, p.n_stop, "stop");
  o.logprobs = p.logprobs;

  s.repeat_penalty = p.repeat_penalty;
  s.frequency_penalty = p.frequency_penalty;
  s.presence_penalty = p.presence_penalty;
  s.penalty_last_n = p.penalty_last_n;
  s.dry_multiplier = p.dry_multiplier;
  s.dry_base = p.dry_base;
  s.dry_allowed_length = p.dry_allowed_length;
  s.dry_penalty_last_n = p.dry_penalty_last_n;
  if (p.dry_sequence_breakers)
    s.dry_sequence_breakers = c_texts(p.dry_sequence_breakers, p.n_dry_sequence_breakers, "dry_sequence_breakers");
  s.dynatemp_range = p.dynatemp_range;
  s.dynatemp_exponent = p.dynatemp_exponent;
  s.typical_p = p.typical_p;
  s.xtc_probability = p.xtc_probability;
  s.xtc_threshold = p.xtc_threshold;
  s.top_n_sigma = p.top_n_sigma;
  s.mirostat = p.mirostat;
  s.mirostat_tau = p.mirostat_tau;
  s.mirostat_eta = p.mirostat_eta;
  if (p.n_logit_bias && !p.logit_bias) fail(errc::invalid_argument, "logit_bias is NULL but n_logit_bias is {}", p.n_logit_bias);
  if (p.n_logit_bias > (size_t{1} << 24)) fail(errc::invalid_argument, "n_logit_bias {} is too large", p.n_logit_bias);
  for (size_t i = 0; i < p.n_logit_bias; ++i) s.logit_bias.push_back({p.logit_bias[i].token, p.logit_bias[i].bias});
  if (p.sampler_order) s.order = detail::parse_stage_order(c_text(p.sampler_order, "sampler_order"));
  if (p.n_custom_samplers && !p.custom_samplers)
    fail(errc::invalid_argument, "custom_samplers is NULL but n_custom_samplers is {}", p.n_custom_samplers);
  if (p.n_custom_samplers > 64) fail(errc::invalid_argument, "{} custom samplers is too many", p.n_custom_samplers);
  static_assert(sizeof(dianoia_candidate) == sizeof(detail::token_candidate));
  static_assert(offsetof(dianoia_candidate, logit) == offsetof(detail::token_candidate, logit));
  static_assert(offsetof(dianoia_candidate, p) == offsetof(detail::token_candidate, p));
  for (size_t i = 0; i < p.n_custom_samplers; ++i) {
    if (!p.custom_samplers[i]) fail(errc::invalid_argument, "custom_samplers[{}] is NULL", i);
    const dianoia_sampler& c = *p.custom_samplers[i];
    if (c.struct_size < offsetof(dianoia_sampler, picks) + sizeof(bool) || c.struct_size > (1u << 16))
      fail(errc::invalid_argument, "custom_samplers[{}]: struct_size {} is invalid", i, c.struct_size);
    if (!c.apply) fail(errc::invalid_argument, "custom_samplers[{}]: apply is NULL", i);
    detail::host_stage_def d;
    d.name = c.name ? c_text(c.name, "custom sampler name") : "host" + std::to_string(i);
    // Trampolines over the caller's table, which lives for the duration of the call that uses it. The
    // candidate layouts match (checked above), so the array is handed over as it is.
    d.fns.user = const_cast<dianoia_sampler*>(&c);
    d.fns.apply = [](void* u, detail::token_candidate* data, size_t* n, int64_t* selected) {
      const auto* t = static_cast<const dianoia_sampler*>(u);
      return t->apply(t->user_data, reinterpret_cast<dianoia_candidate*>(data), n, selected);
    };
    if (c.accept)
      d.fns.accept = [](void* u, int32_t token) {
        const auto* t = static_cast<const dianoia_sampler*>(u);
        t->accept(t->user_data, token);
      };
    if (c.reset)
      d.fns.reset = [](void* u) {
        const auto* t = static_cast<const dianoia_sampler*>(u);
        t->reset(t->user_data);
      };
    d.picks = c.picks;
    s.host_stages.push_back(std::move(d));
  }
  if (p.chat_template_kwargs) {
    const std::string_view v(p.chat_template_kwargs);
    o.chat_template_kwargs = std::string(text_arg(v.data(), v.size(), "chat_template_kwargs"));
  }
  switch (p.tool_call_syntax) {
    case DIANOIA_TOOL_SYNTAX_AUTO:
    case DIANOIA_TOOL_SYNTAX_NONE: o.tool_calls = detail::tool_syntax::none; break;
    case DIANOIA_TOOL_SYNTAX_HERMES: o.tool_calls = detail::tool_syntax::hermes; break;
    case DIANOIA_TOOL_SYNTAX_DEEPSEEK: o.tool_calls = detail::tool_syntax::deepseek; break;
    case DIANOIA_TOOL_SYNTAX_LLAMA3: o.tool_calls = detail::tool_syntax::llama3; break;
    default: fail(errc::invalid_argument, "tool_call_syntax {} is not a DIANOIA_TOOL_SYNTAX_* value", p.tool_call_syntax);
  }
  switch (p.grammar_kind) {
    case DIANOIA_GRAMMAR_NONE: break;
    case DIANOIA_GRAMMAR_JSON_SCHEMA: o.grammar.kind = detail::grammar_kind::json_schema; break;
    case DIANOIA_GRAMMAR_LARK: o.grammar.kind = detail::grammar_kind::lark; break;
    case DIANOIA_GRAMMAR_REGEX: o.grammar.kind = detail::grammar_kind::regex; break;
    default: fail(errc::invalid_argument, "grammar_kind {} is not a DIANOIA_GRAMMAR_* value", p.grammar_kind);
  }
  if (o.grammar.active()) {
    if (!p.grammar) fail(errc::invalid_argument, "grammar_kind is set but grammar is NULL");
    o.grammar.text = c_text(p.grammar, "grammar");
  }
  return o;
}

tool_request read_tools(const dianoia_generate_params* in, std::string_view chat_template) {
  const auto p = read_params(in, dianoia_generate_default_params(), "dianoia_generate_params");
  tool_request r;
  r.tools_json = c_text(p.tools, "tools");
  if (!r.tools_json.empty()) {
    bool array = false;
    try {
      array = detail::json_parse(r.tools_json).is_array();
    } catch (const detail::error& e) {
      fail(errc::invalid_argument, "tools is not valid JSON: {}", e.what());
    }
    if (!array) fail(errc::invalid_argument, "tools must be a JSON array of tool definitions");
  }
  r.syntax = to_options(in).tool_calls;
  r.explicit_syntax = p.tool_call_syntax != DIANOIA_TOOL_SYNTAX_AUTO;
  if (p.tool_call_syntax == DIANOIA_TOOL_SYNTAX_AUTO && !r.tools_json.empty())
    r.syntax = detail::detect_tool_syntax(chat_template);
  return r;
}

std::optional<detail::deepconf_options> read_deepconf(const dianoia_generate_params* in) {
  const auto p = read_params(in, dianoia_generate_default_params(), "dianoia_generate_params");
  detail::deepconf_options o;
  switch (p.vote) {
    case DIANOIA_VOTE_MAJORITY: return std::nullopt;
    case DIANOIA_VOTE_CONFIDENCE: o.how = detail::deepconf_options::mode::offline; break;
    case DIANOIA_VOTE_CONFIDENCE_ONLINE: o.how = detail::deepconf_options::mode::online; break;
    default: fail(errc::invalid_argument, "vote {} is not a DIANOIA_VOTE_* value", p.vote);
  }
  o.top_k = p.confidence_top_k;
  o.window = p.confidence_window;
  switch (p.confidence_score) {
    case DIANOIA_CONFIDENCE_LOWEST_GROUP: o.score = detail::confidence_score::lowest_group; break;
    case DIANOIA_CONFIDENCE_BOTTOM_10: o.score = detail::confidence_score::bottom_10; break;
    default: fail(errc::invalid_argument, "confidence_score {} is not a DIANOIA_CONFIDENCE_* value", p.confidence_score);
  }
  o.keep_percent = p.confidence_keep_percent;
  o.warmup = p.confidence_warmup;
  o.consensus = p.confidence_consensus;
  detail::check_deepconf(o);
  return o;
}

}  // namespace dianoia::capi
