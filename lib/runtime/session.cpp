#include "runtime/session.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.hpp"
#include "core/utf8.hpp"
#include "runtime/stop_strings.hpp"
#include "tokenizer/vocab.hpp"

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
  if (opt.min_reasoning_tokens < 0) fail(errc::invalid_argument, "min_reasoning_tokens must not be negative");
  if (opt.max_reasoning_tokens >= 0 && opt.min_reasoning_tokens > opt.max_reasoning_tokens)
    fail(errc::invalid_argument, "min_reasoning_tokens ({}) exceeds max_reasoning_tokens ({})", opt.min_reasoning_tokens,
         opt.max_reasoning_tokens);
  if (opt.logprobs > 100) fail(errc::invalid_argument, "logprobs {} is too many (at most 100 alternatives)", opt.logprobs);
  if (opt.open_tag.empty() || opt.close_tag.empty()) fail(errc::invalid_argument, "reasoning tags must not be empty");
  auto utf8 = [](const std::string& s, const char* what) {
    if (!utf8_valid(s)) fail(errc::invalid_argument, "{} is not valid UTF-8", what);
  };
  utf8(opt.open_tag, "the open tag");
  utf8(opt.close_tag, "the close tag");
  utf8(opt.wrap_up_text, "the wrap-up text");
  utf8(opt.budget_close_text, "the budget close text");
  utf8(opt.continue_text, "the continuation text");
  for (const auto& s : opt.stop) utf8(s, "a stop string");
  if (opt.min_reasoning_tokens > 0 && trim(opt.continue_text).empty())
    fail(errc::invalid_argument, "min_reasoning_tokens needs a non-blank continuation text");
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

uint32_t session::prefill(const std::vector<int32_t>& prompt) {
  // Reuse the cached prefix, but always evaluate at least the last prompt token: its logits are needed.
  size_t reuse = 0;
  const size_t limit = std::min<size_t>({n_past_, history_.size(), prompt.size() - 1});
  while (reuse < limit && history_[reuse] == prompt[reuse]) ++reuse;
  history_ = prompt;
  n_past_ = static_cast<uint32_t>(reuse);
  net_.forward(*state_, std::span(prompt).subspan(reuse), n_past_, logits_.data(), false);
  n_past_ = static_cast<uint32_t>(prompt.size());
  return static_cast<uint32_t>(reuse);
}

void session::set_cached(std::vector<int32_t> tokens, uint32_t n_cached) {
  if (n_cached > tokens.size() || n_cached > state_->n_ctx())
    fail(errc::invalid_argument, "{} cached tokens do not fit", n_cached);
  history_ = std::move(tokens);
  n_past_ = n_cached;
}

generation_stats session::generate(std::span<const int32_t> prompt_in, const generate_options& opt,
                                   const text_sink& sink, bool allow_auto_reasoning, const token_sink& tokens) {
  cancel_.store(false, std::memory_order_relaxed);
  const prepared p = prepare(prompt_in, opt, allow_auto_reasoning);
  sampler smp = make_sampler(opt.sampling, p.prompt);
  const auto t0 = std::chrono::steady_clock::now();
  const uint32_t reused = prefill(p.prompt);
  const double prompt_seconds = seconds_since(t0);
  generation_stats st = decode(p, opt, smp, sink, tokens);
  st.prompt_reused = reused;
  st.prompt_seconds = prompt_seconds;
  return st;
}

std::vector<generation_stats> session::generate_samples(std::span<const int32_t> prompt_in, uint32_t n,
                                                        const generate_options& opt, const sample_sink& sink,
                                                        bool allow_auto_reasoning) {
  cancel_.store(false, std::memory_order_relaxed);
  if (n == 0 || n > 1024) fail(errc::invalid_argument, "the number of samples must be in [1, 1024], is {}", n);
  const prepared p = prepare(prompt_in, opt, allow_auto_reasoning);
  const auto t0 = std::chrono::steady_clock::now();
  const uint32_t reused = prefill(p.prompt);
  const double prompt_seconds = seconds_since(t0);
  const std::vector<float> prompt_logits = logits_;
  const uint32_t n_prompt = n_past_;
  std::vector<generation_stats> out;
  for (uint32_t i = 0; i < n; ++i) {
    // Rewind to the end of the prompt: later positions of the cache are simply overwritten.
    logits_ = prompt_logits;
    n_past_ = n_prompt;
    history_.resize(n_prompt);
    generate_options o = opt;
    o.sampling.seed = opt.sampling.seed + i;
    sampler smp = make_sampler(o.sampling, p.prompt);
    auto st = decode(p, o, smp, [&](channel ch, std::string_view t) { return sink(i, ch, t); }, {});
    st.prompt_reused = i == 0 ? reused : n_prompt;
    st.prompt_seconds = i == 0 ? prompt_seconds : 0;
    out.push_back(std::move(st));
    if (out.back().stop == stop_reason::cancelled) break;
  }
  return out;
}

generation_stats session::decode(const prepared& p, const generate_options& opt, sampler& smp, const text_sink& sink,
                                 const token_sink& tokens) {
  generation_stats st;
  st.prompt_tokens = static_cast<uint32_t>(p.prompt.size());
  const auto t0 = std::chrono::steady_clock::now();
  const bool split = p.split;
  reasoning_parser parser(opt.open_tag, opt.close_tag, p.in_thought, split);
  stop_matcher stops(opt.stop);
  std::vector<text_event> events;
  std::vector<token_logprob> top_buf(static_cast<size_t>(std::max(opt.logprobs, 0)));
  std::span<const token_logprob> top;
  std::string released;
  bool sink_ok = true;
  auto emit = [&] {
    for (auto& e : events)
      if (sink_ok && !e.text.empty()) sink_ok = sink(e.ch, e.text);
    events.clear();
  };
  auto tell = [&](int32_t id, channel ch, bool is_tag, bool injected, std::string_view piece, double lp) {
    if (tokens && sink_ok) sink_ok = tokens(token_event{id, ch, is_tag, injected, piece, lp, top});
  };
  // Feeds runtime text into the context (and the parser when shown). Returns why generation must stop
  // (context full, or the host's callback said so), or none.
  auto inject = [&](const std::string& text, bool show) {
    if (text.empty()) return sink_ok ? stop_reason::none : stop_reason::callback;
    const auto ids = tok_.encode(text, false, true);
    if (ids.empty()) return sink_ok ? stop_reason::none : stop_reason::callback;
    if (n_past_ + ids.size() >= state_->n_ctx()) return stop_reason::context_full;
    // Held text of a would-be stop string is ordinary text now that the stream is interrupted.
    if (show) {
      parser.feed(stops.flush(), events);
      parser.feed(text, events);
    }
    top = {};
    for (int32_t id : ids) tell(id, parser.state(), false, true, tok_.token_bytes(id, false), 0.0f);
    emit();
    for (int32_t id : ids) smp.accept(id);
    net_.forward(*state_, ids, n_past_, logits_.data(), false);
    n_past_ += static_cast<uint32_t>(ids.size());
    history_.insert(history_.end(), ids.begin(), ids.end());
    st.injected_tokens += static_cast<uint32_t>(ids.size());
    return sink_ok ? stop_reason::none : stop_reason::callback;
  };
  const std::string close_text = opt.budget_close_text.empty() ? "\n" + opt.close_tag + "\n\n" : opt.budget_close_text;
  const std::string_view open_tag = opt.open_tag, close_tag = opt.close_tag;
  const auto close_id = tok_.find(close_tag);
  // Does sampling `piece` try to end the thought? The close tag as a token, or the start of a textual one.
  auto closes_thought = [&](int32_t id, std::string_view piece) {
    if (close_id && id == *close_id) return true;
    std::string_view tp = piece;
    while (!tp.empty() && is_space(tp.front())) tp.remove_prefix(1);
    if (tp.empty()) return false;
    return piece.find(close_tag) != std::string_view::npos || (tp.size() >= 2 && close_tag.starts_with(tp));
  };

  // SentencePiece vocabularies mark word starts with a space; the word right after BOS has no space
  // before it in the text (HF and run.c drop it the same way when decoding).
  bool strip_space = tok_.vocab().model == vocab_model::spm && tok_.vocab().add_space_prefix &&
                     p.prompt.back() == tok_.bos();
  uint32_t n_gen = 0;
  for (;;) {
    if (cancel_.load(std::memory_order_relaxed)) {
      st.stop = stop_reason::cancelled;
      break;
    }
    const bool thinking = split && parser.state() == channel::reasoning;
    if (thinking && opt.max_reasoning_tokens >= 0 &&
        st.reasoning_tokens >= static_cast<uint32_t>(opt.max_reasoning_tokens)) {
      // Budget spent: let the model wrap up in words of ours, close the thought for it, let it answer.
      if ((st.stop = inject(opt.wrap_up_text, true)) != stop_reason::none) break;
      parser.feed(stops.flush(), events);
      parser.force_close(events);
      emit();
      if ((st.stop = inject(close_text, false)) != stop_reason::none) break;
      continue;
    }
    if (opt.ignore_eos)
      for (int32_t e : eog_ids_) logits_[e] = -INFINITY;
    // Hugging Face pads embeddings past the tokenizer's last id: those rows are not tokens.
    for (size_t i = static_cast<size_t>(tok_.n_vocab()); i < logits_.size(); ++i) logits_[i] = -INFINITY;
    const int32_t id = smp.sample(logits_);
    std::string piece = tok_.token_bytes(id, false);
    if (thinking && st.reasoning_tokens < static_cast<uint32_t>(opt.min_reasoning_tokens) &&
        (tok_.is_eog(id) || closes_thought(id, piece))) {
      // Too early to stop thinking: replace the attempt with a continuation word (s1 budget forcing).
      if ((st.stop = inject(opt.continue_text, true)) != stop_reason::none) break;
      continue;
    }
    if (tok_.is_eog(id)) {
      st.stop = stop_reason::eos;
      break;
    }
    if (strip_space && !piece.empty()) {
      if (piece[0] == ' ') piece.erase(0, 1);
      strip_space = false;
    }
    double lp = 0;
    if (opt.logprobs >= 0) {
      const auto r = raw_logprobs(logits_, id, top_buf);
      lp = r.chosen;
      top = std::span<const token_logprob>(top_buf.data(), r.n_top);
    }
    const bool hit = stops.feed(piece, released);
    const channel before = parser.state();
    parser.feed(released, events);
    // A token that is exactly a tag belongs to neither channel.
    const std::string_view tp = trim(piece);
    const bool is_tag = split && (tp == open_tag || tp == close_tag);
    if (!is_tag) {
      if (before == channel::reasoning && split)
        ++st.reasoning_tokens;
      else
        ++st.content_tokens;
    }
    tell(id, before, is_tag, false, piece, lp);
    emit();
    history_.push_back(id);
    ++n_gen;
    if (hit) {
      st.stop = stop_reason::stop_string;
      st.stop_string = stops.matched();
      break;
    }
    if (!sink_ok) {
      st.stop = stop_reason::callback;
      break;
    }
    if (opt.max_tokens > 0 && n_gen >= static_cast<uint32_t>(opt.max_tokens)) {
      st.stop = stop_reason::max_tokens;
      break;
    }
    if (n_past_ >= state_->n_ctx()) {
      st.stop = stop_reason::context_full;
      break;
    }
    const int32_t one[1] = {id};
    net_.forward(*state_, one, n_past_, logits_.data(), false);
    ++n_past_;
  }
  if (st.stop != stop_reason::stop_string) parser.feed(stops.flush(), events);
  parser.finish(events);
  emit();
  st.generate_seconds = seconds_since(t0);
  return st;
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
