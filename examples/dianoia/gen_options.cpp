#include "gen_options.hpp"

#include <cmath>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace cli {

const char* stop_name(dianoia_stop_reason r) {
  switch (static_cast<int>(r)) {
    case DIANOIA_STOP_EOS: return "eos";
    case DIANOIA_STOP_MAX_TOKENS: return "max_tokens";
    case DIANOIA_STOP_CONTEXT_FULL: return "context_full";
    case DIANOIA_STOP_CANCELLED: return "cancelled";
    case DIANOIA_STOP_CALLBACK: return "callback";
    case DIANOIA_STOP_STRING: return "stop_string";
    case DIANOIA_STOP_LOW_CONFIDENCE: return "low_confidence";
    default: return "none";
  }
}

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

float to_float(const std::string& v, const char* what) { return static_cast<float>(to_double(v, what)); }
constexpr long k_i32 = 2147483647;
int32_t to_int(const std::string& v, const char* what, long lo = -k_i32, long hi = k_i32) {
  return static_cast<int32_t>(to_long(v, what, lo, hi));
}

dianoia_logit_bias parse_bias(const std::string& s) {
  // llama.cpp's form: TOKEN_ID followed by a signed bias ("15043+1", "15043-1", "2-inf").
  size_t at = s.find_first_of("+-", 1);
  if (at == std::string::npos) throw std::runtime_error("--logit-bias wants ID+BIAS or ID-BIAS, got '" + s + "'");
  const auto id = static_cast<int32_t>(to_long(s.substr(0, at), "--logit-bias token", 0, k_i32));
  const std::string b = s.substr(at);
  float bias = b == "-inf" ? -INFINITY : b == "+inf" ? INFINITY : static_cast<float>(to_double(b, "--logit-bias bias"));
  return {id, bias};
}

}  // namespace

void gen_options::parse(args& a) {
  std::string v;
  if (a.value({"-n", "--max-tokens"}, v)) p.max_tokens = to_int(v, "-n", -1, k_i32);
  if ((temp_given = a.value({"--temp", "--temperature"}, v))) p.temperature = to_float(v, "--temp");
  if ((top_k_given = a.value({"--top-k"}, v))) p.top_k = to_int(v, "--top-k", 0, k_i32);
  if ((top_p_given = a.value({"--top-p"}, v))) p.top_p = to_float(v, "--top-p");
  if ((min_p_given = a.value({"--min-p"}, v))) p.min_p = to_float(v, "--min-p");
  if (a.value({"--seed"}, v)) p.seed = to_u64(v, "--seed");
  if (a.value({"--typical"}, v)) p.typical_p = to_float(v, "--typical");
  if (a.value({"--top-nsigma"}, v)) p.top_n_sigma = to_float(v, "--top-nsigma");
  if (a.value({"--repeat-penalty"}, v)) p.repeat_penalty = to_float(v, "--repeat-penalty");
  if (a.value({"--repeat-last-n"}, v)) p.penalty_last_n = to_int(v, "--repeat-last-n", -1, k_i32);
  if (a.value({"--presence-penalty"}, v)) p.presence_penalty = to_float(v, "--presence-penalty");
  if (a.value({"--frequency-penalty"}, v)) p.frequency_penalty = to_float(v, "--frequency-penalty");
  if (a.value({"--dry-multiplier"}, v)) p.dry_multiplier = to_float(v, "--dry-multiplier");
  if (a.value({"--dry-base"}, v)) p.dry_base = to_float(v, "--dry-base");
  if (a.value({"--dry-allowed-length"}, v)) p.dry_allowed_length = to_int(v, "--dry-allowed-length", 0, k_i32);
  if (a.value({"--dry-penalty-last-n"}, v)) p.dry_penalty_last_n = to_int(v, "--dry-penalty-last-n", -1, k_i32);
  breakers = a.values({"--dry-sequence-breaker"});
  if (a.value({"--dynatemp-range"}, v)) p.dynatemp_range = to_float(v, "--dynatemp-range");
  if (a.value({"--dynatemp-exp"}, v)) p.dynatemp_exponent = to_float(v, "--dynatemp-exp");
  if (a.value({"--xtc-probability"}, v)) p.xtc_probability = to_float(v, "--xtc-probability");
  if (a.value({"--xtc-threshold"}, v)) p.xtc_threshold = to_float(v, "--xtc-threshold");
  if (a.value({"--mirostat"}, v)) {
    p.mirostat = to_int(v, "--mirostat", 0, 2);
    if (p.mirostat == 1) throw std::runtime_error("--mirostat: 1 (mirostat v1) is not implemented; 0 = off, 2 = mirostat 2.0");
  }
  if (a.value({"--mirostat-ent"}, v)) p.mirostat_tau = to_float(v, "--mirostat-ent");
  if (a.value({"--mirostat-lr"}, v)) p.mirostat_eta = to_float(v, "--mirostat-lr");
  for (const auto& b : a.values({"--logit-bias"})) bias.push_back(parse_bias(b));
  a.value({"--samplers"}, order);
  if (a.value({"--reasoning"}, v)) {
    reasoning_given = true;
    if (v == "auto") p.reasoning = DIANOIA_REASONING_AUTO;
    else if (v == "on") p.reasoning = DIANOIA_REASONING_ON;
    else if (v == "off") p.reasoning = DIANOIA_REASONING_OFF;
    else throw std::runtime_error("--reasoning takes auto, on or off");
  }
  if (a.value({"--max-reasoning-tokens"}, v)) p.max_reasoning_tokens = to_int(v, "--max-reasoning-tokens", -1, k_i32);
  if (a.value({"--min-reasoning-tokens"}, v)) p.min_reasoning_tokens = to_int(v, "--min-reasoning-tokens", 0, k_i32);
  a.value({"--wrap-up"}, wrap_up);
  a.value({"--continue-text"}, continue_text);
  if (a.value({"--think-tags"}, v)) {
    const size_t comma = v.find(',');
    if (comma == std::string::npos) throw std::runtime_error("--think-tags wants OPEN,CLOSE");
    open_tag = v.substr(0, comma);
    close_tag = v.substr(comma + 1);
  }
  stops = a.values({"--stop"});
  if (a.value({"--logprobs"}, v)) p.logprobs = to_int(v, "--logprobs", 0, 100);
  if (a.flag("--ignore-eos")) p.ignore_eos = true;
  if (a.value({"--tools"}, v)) tools = read_file(v);
  // The answer's grammar (the thought stays free): one of three forms.
  std::string schema_file, lark_file, regex;
  const int n_grammars = int(a.value({"--json-schema"}, schema_file)) + int(a.value({"--grammar-file"}, lark_file)) +
                         int(a.value({"--regex"}, regex));
  if (n_grammars > 1) throw std::runtime_error("--json-schema, --grammar-file and --regex exclude each other");
  if (!schema_file.empty()) {
    grammar = read_file(schema_file);
    p.grammar_kind = DIANOIA_GRAMMAR_JSON_SCHEMA;
  } else if (!lark_file.empty()) {
    grammar = read_file(lark_file);
    p.grammar_kind = DIANOIA_GRAMMAR_LARK;
  } else if (n_grammars) {
    grammar = regex;
    p.grammar_kind = DIANOIA_GRAMMAR_REGEX;
  }
  if (a.value({"--tool-syntax"}, v)) {
    const char* names[] = {"auto", "none", "hermes", "deepseek", "llama3"};
    int found = -1;
    for (int i = 0; i < 5; ++i)
      if (v == names[i]) found = i;
    if (found < 0) throw std::runtime_error("--tool-syntax takes auto, none, hermes, deepseek or llama3");
    p.tool_call_syntax = found;  // DIANOIA_TOOL_SYNTAX_* in this order
  }
  if (a.value({"--conf-mode"}, v)) {
    if (v == "offline") online = false;
    else if (v == "online") online = true;
    else throw std::runtime_error("--conf-mode takes offline or online");
  }
  if (a.value({"--conf-top-k"}, v)) p.confidence_top_k = to_int(v, "--conf-top-k");
  if (a.value({"--conf-window"}, v)) p.confidence_window = static_cast<uint32_t>(to_long(v, "--conf-window"));
  if (a.value({"--conf-score"}, v)) {
    if (v == "lowest") p.confidence_score = DIANOIA_CONFIDENCE_LOWEST_GROUP;
    else if (v == "bottom10") p.confidence_score = DIANOIA_CONFIDENCE_BOTTOM_10;
    else throw std::runtime_error("--conf-score takes lowest or bottom10");
  }
  if (a.value({"--conf-keep"}, v)) p.confidence_keep_percent = to_float(v, "--conf-keep");
  if (a.value({"--conf-warmup"}, v)) p.confidence_warmup = static_cast<uint32_t>(to_long(v, "--conf-warmup"));
  if (a.value({"--conf-consensus"}, v)) p.confidence_consensus = to_float(v, "--conf-consensus");
  bind();
}

void gen_options::apply_model_defaults(const dianoia_model* m) {
  dianoia_generate_params d = p;
  if (dianoia_model_apply_generation_defaults(m, &d) != DIANOIA_OK) return;
  if (!temp_given) p.temperature = d.temperature;
  if (!top_p_given) p.top_p = d.top_p;
  if (!top_k_given) p.top_k = d.top_k;
  if (!min_p_given) p.min_p = d.min_p;
}

void gen_options::bind() {
  p.wrap_up_text = wrap_up.empty() ? nullptr : wrap_up.c_str();
  p.continue_text = continue_text.empty() ? nullptr : continue_text.c_str();
  p.open_tag = open_tag.empty() ? nullptr : open_tag.c_str();
  p.close_tag = close_tag.empty() ? nullptr : close_tag.c_str();
  p.sampler_order = order.empty() ? nullptr : order.c_str();
  stop_ptrs.clear();
  for (const auto& s : stops) stop_ptrs.push_back(s.c_str());
  p.stop = stop_ptrs.data();
  p.n_stop = stop_ptrs.size();
  breaker_ptrs.clear();
  for (const auto& s : breakers) breaker_ptrs.push_back(s.c_str());
  p.dry_sequence_breakers = breakers.empty() ? nullptr : breaker_ptrs.data();
  p.n_dry_sequence_breakers = breaker_ptrs.size();
  p.tools = tools.empty() ? nullptr : tools.c_str();
  p.grammar = p.grammar_kind == DIANOIA_GRAMMAR_NONE ? nullptr : grammar.c_str();
  p.logit_bias = bias.data();
  p.n_logit_bias = bias.size();
}

}  // namespace cli
