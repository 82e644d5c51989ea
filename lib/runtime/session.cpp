#include "runtime/session.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.hpp"
#include "core/utf8.hpp"
#include "runtime/decode_loop.hpp"

namespace dianoia::detail {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }
std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

void check_options(const generate_options& opt) {
  if (opt.logprobs > 100) fail(errc::invalid_argument, "logprobs {} is too many (at most 100 alternatives)", opt.logprobs);
  if (opt.open_tag.empty() || opt.close_tag.empty()) fail(errc::invalid_argument, "reasoning tags must not be empty");
  auto utf8 = [](const std::string& s, const char* what) {
    if (!utf8_valid(s)) fail(errc::invalid_argument, "{} is not valid UTF-8", what);
  };
  utf8(opt.open_tag, "the open tag");
  utf8(opt.close_tag, "the close tag");
  for (const auto& s : opt.stop) utf8(s, "a stop string");
  if (opt.confidence.top_k < 0 || opt.confidence.top_k > 100)
    fail(errc::invalid_argument, "the confidence top-k must be in [0, 100], is {}", opt.confidence.top_k);
  if (opt.confidence.top_k > 0 && opt.confidence.window == 0)
    fail(errc::invalid_argument, "the confidence window must hold at least one token");
  (void)reasoning_budget(budget_options_of(opt), std::nullopt);  // checks the budget's options
}

}  // namespace

session::session(const model& net, const tokenizer& tok, uint32_t n_ctx, int n_threads, bool f32_kv)
    : net_(net), tok_(tok), state_(net.new_state(n_ctx, n_threads, f32_kv)) {
  logits_.resize(net.hp().n_vocab);
  for (int32_t i = 0; i < tok.n_vocab(); ++i)
    if (tok.is_eog(i)) eog_ids_.push_back(i);
}

bool session::prompt_opens_thought(std::span<const int32_t> prompt, const std::string& open_tag) const {
  // The tag, if present, is within the last few tokens: decode just those.
  const size_t tail = std::min<size_t>(prompt.size(), 8);
  std::string text;
  for (size_t i = prompt.size() - tail; i < prompt.size(); ++i) text += tok_.token_bytes(prompt[i], true);
  return !open_tag.empty() && trim(text).ends_with(open_tag);
}

session::prepared session::prepare(std::span<const int32_t> prompt_in, const generate_options& opt,
                                   bool allow_auto) const {
  if (prompt_in.empty()) fail(errc::invalid_argument, "the prompt is empty");
  check_options(opt);
  prepared p;
  p.prompt.assign(prompt_in.begin(), prompt_in.end());
  for (int32_t t : p.prompt)
    if (t < 0 || t >= tok_.n_vocab()) fail(errc::invalid_argument, "token id {} is outside the vocabulary", t);
  p.split = opt.reasoning != reasoning_mode::off && (allow_auto || opt.reasoning == reasoning_mode::on);
  p.in_thought = p.split && prompt_opens_thought(p.prompt, opt.open_tag);
  if (opt.reasoning == reasoning_mode::on && !p.in_thought) {
    // The model has no thinking profile of its own: open a textual thought for it.
    auto open = tok_.encode(opt.open_tag + "\n", false, true);
    p.prompt.insert(p.prompt.end(), open.begin(), open.end());
    p.in_thought = true;
  }
  if (opt.grammar.active()) {
    // Compiled before the prompt is evaluated, so that a bad grammar fails at once.
    if (!grammar_vocab_) grammar_vocab_ = shared_grammar_vocab(tok_, eog_ids_);
    p.grammar = std::make_shared<const grammar_matcher>(grammar_vocab_, opt.grammar);
  }
  if (p.prompt.size() >= state_->n_ctx())
    fail(errc::context_full, "the prompt has {} tokens but the context holds {} (and one more is needed to generate)",
         p.prompt.size(), state_->n_ctx());
  return p;
}

sampler session::make_sampler(sampler_params p, std::span<const int32_t> prompt) {
  p.context_size = static_cast<int32_t>(state_->n_ctx());
  const token_texts* texts = nullptr;
  if (p.dry_multiplier > 0 && !p.dry_sequence_breakers.empty()) {
    if (pieces_.empty()) {
      pieces_.reserve(static_cast<size_t>(tok_.n_vocab()));
      for (int32_t i = 0; i < tok_.n_vocab(); ++i) pieces_.push_back(tok_.token_bytes(i, true));
      texts_.pieces = pieces_;
      texts_.tokenize = [this](std::string_view t) { return tok_.encode(t, false, false); };
    }
    texts = &texts_;
  }
  sampler smp(p, texts);
  smp.accept_prompt(prompt);
  return smp;
}

session::prefill_result session::prefill(const std::vector<int32_t>& prompt) {
  // Reuse the cached prefix, but always evaluate at least the last prompt token: its logits are needed.
  size_t reuse = 0;
  const size_t limit = std::min<size_t>({n_past_, history_.size(), prompt.size() - 1});
  while (reuse < limit && history_[reuse] == prompt[reuse]) ++reuse;
  history_ = prompt;
  n_past_ = static_cast<uint32_t>(reuse);
  // In pieces of the model's own prefill chunk (so the arithmetic is the same as in one call), checking
  // for cancel() between them: a long prompt can be abandoned. The cache then holds what was evaluated.
  constexpr size_t piece = 512;
  const auto rest = std::span(prompt).subspan(reuse);
  for (size_t at = 0; at < rest.size(); at += piece) {
    if (cancel_.load(std::memory_order_relaxed)) return {static_cast<uint32_t>(reuse), true};
    const auto part = rest.subspan(at, std::min(piece, rest.size() - at));
    net_.forward(*state_, part, n_past_, logits_.data(), false);
    n_past_ += static_cast<uint32_t>(part.size());
  }
  return {static_cast<uint32_t>(reuse), false};
}

void session::set_cached(std::vector<int32_t> tokens, uint32_t n_cached) {
  if (n_cached > tokens.size() || n_cached > state_->n_ctx())
    fail(errc::invalid_argument, "{} cached tokens do not fit", n_cached);
  history_ = std::move(tokens);
  n_past_ = n_cached;
}

generation_stats session::generate(std::span<const int32_t> prompt_in, const generate_options& opt,
                                   const text_sink& sink, bool allow_auto_reasoning, const token_sink& tokens,
                                   const tool_sink& tools) {
  cancel_.store(false, std::memory_order_relaxed);
  const prepared p = prepare(prompt_in, opt, allow_auto_reasoning);
  sampler smp = make_sampler(opt.sampling, p.prompt);
  const auto t0 = std::chrono::steady_clock::now();
  const auto [reused, cancelled] = prefill(p.prompt);
  const double prompt_seconds = seconds_since(t0);
  generation_stats st;
  if (cancelled) {
    st.stop = stop_reason::cancelled;
    st.prompt_tokens = static_cast<uint32_t>(p.prompt.size());
  } else {
    st = decode(p, opt, smp, sink, tokens, tools);
  }
  st.prompt_reused = reused;
  st.prompt_seconds = prompt_seconds;
  return st;
}

std::vector<generation_stats> session::generate_samples(std::span<const int32_t> prompt_in, uint32_t n,
                                                        const generate_options& opt, const sample_sink& sink,
                                                        bool allow_auto_reasoning, const sample_control* ctl) {
  cancel_.store(false, std::memory_order_relaxed);
  if (n == 0 || n > 1024) fail(errc::invalid_argument, "the number of samples must be in [1, 1024], is {}", n);
  const prepared p = prepare(prompt_in, opt, allow_auto_reasoning);
  const auto t0 = std::chrono::steady_clock::now();
  const auto [reused, cancelled] = prefill(p.prompt);
  const double prompt_seconds = seconds_since(t0);
  const uint32_t n_prompt = n_past_;
  std::vector<generation_stats> out;
  if (cancelled) {
    // Every sample ends before its first token, as cancel() during decoding ends every started one.
    generation_stats st;
    st.stop = stop_reason::cancelled;
    st.prompt_tokens = static_cast<uint32_t>(p.prompt.size());
    out.assign(n, st);
  } else {
    const uint32_t group = lockstep_group(n, opt);
    out = group > 1 ? samples_in_lockstep(p, n, group, opt, sink, ctl) : samples_one_by_one(p, n, opt, sink, ctl);
  }
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].prompt_reused = i == 0 ? reused : n_prompt;
    out[i].prompt_seconds = i == 0 ? prompt_seconds : 0;
  }
  return out;
}

generation_stats session::decode(const prepared& p, const generate_options& opt, sampler& smp, const text_sink& sink,
                                 const token_sink& tokens, const tool_sink& tools) {
  const decode_env env{tok_, eog_ids_, state_->n_ctx(), cancel_};
  decode_loop loop(env, {p.prompt, p.split, p.in_thought, p.grammar.get()}, opt, smp, sink, tokens, history_, tools);
  for (auto ids = loop.step(logits_); !ids.empty(); ids = loop.step(logits_)) {
    net_.forward(*state_, ids, n_past_, logits_.data(), false);
    n_past_ += static_cast<uint32_t>(ids.size());
  }
  return loop.stats();
}

std::vector<float> session::eval_logits(std::span<const int32_t> tokens, size_t n_logits) {
  if (tokens.empty()) fail(errc::invalid_argument, "no tokens to evaluate");
  if (n_logits == 0 || n_logits > tokens.size())
    fail(errc::invalid_argument, "n_logits must be in [1, {}], is {}", tokens.size(), n_logits);
  if (tokens.size() > state_->n_ctx())
    fail(errc::context_full, "{} tokens exceed the context of {}", tokens.size(), state_->n_ctx());
  const size_t nv = net_.hp().n_vocab;
  std::vector<float> all(tokens.size() * nv);
  n_past_ = 0;
  history_.clear();
  net_.forward(*state_, tokens, 0, all.data(), true);
  history_.assign(tokens.begin(), tokens.end());
  n_past_ = static_cast<uint32_t>(tokens.size());
  return std::vector<float>(all.end() - static_cast<long>(n_logits * nv), all.end());
}

}  // namespace dianoia::detail
