#include "runtime/decode_loop.hpp"

#include <algorithm>
#include <cmath>

#include "tokenizer/vocab.hpp"

namespace dianoia::detail {

namespace {
bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }
std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}
}  // namespace

reasoning_budget_options budget_options_of(const generate_options& opt) {
  reasoning_budget_options b;
  b.max_tokens = opt.max_reasoning_tokens;
  b.min_tokens = opt.min_reasoning_tokens;
  b.wrap_up_text = opt.wrap_up_text;
  b.continue_text = opt.continue_text;
  b.close_tag = opt.close_tag;
  b.close_text = opt.budget_close_text;
  return b;
}

decode_loop::decode_loop(const decode_env& env, const decode_setup& setup, const generate_options& opt, sampler& smp,
                         text_sink sink, token_sink tokens, std::vector<int32_t>& context, tool_sink tools)
    : env_(env), opt_(opt), smp_(smp), sink_(std::move(sink)), tokens_(std::move(tokens)), context_(context),
      split_(setup.split), parser_(opt.open_tag, opt.close_tag, setup.in_thought, setup.split),
      budget_(budget_options_of(opt), env.tok.find(opt.close_tag)), tool_sink_(std::move(tools)), stops_(opt.stop),
      top_buf_(static_cast<size_t>(std::max(opt.logprobs, 0))),
      // SentencePiece vocabularies mark word starts with a space; the word right after BOS has no space
      // before it in the text (HF and run.c drop it the same way when decoding).
      strip_space_(env.tok.vocab().model == vocab_model::spm && env.tok.vocab().add_space_prefix &&
                   setup.prompt.back() == env.tok.bos()),
      t0_(std::chrono::steady_clock::now()), n_past_(static_cast<uint32_t>(setup.prompt.size())) {
  st_.prompt_tokens = static_cast<uint32_t>(setup.prompt.size());
  if (opt.confidence.top_k > 0) {
    conf_.emplace(opt.confidence.window);
    conf_buf_.resize(static_cast<size_t>(opt.confidence.top_k));
  }
  if (setup.grammar) {
    grammar_.emplace(*setup.grammar);
    if (setup.split) open_id_ = env.tok.find(opt.open_tag);
  }
  if (tool_sink_ && opt.tool_calls != tool_syntax::none) {
    tools_.emplace(opt.tool_calls, opt.first_tool_call);
    for (const auto& m : tool_syntax_markers(opt.tool_calls))
      if (auto id = env.tok.find(m)) marker_ids_.push_back(*id);
  }
}

void decode_loop::emit() {
  for (auto& e : events_) {
    if (!sink_ok_ || e.text.empty()) continue;
    if (tools_ && e.ch == channel::content) {
      tools_->feed(e.text, pieces_);
      emit_tools();
    } else {
      sink_ok_ = sink_(e.ch, e.text);
    }
  }
  events_.clear();
}

void decode_loop::emit_tools() {
  for (auto& p : pieces_) {
    if (!sink_ok_) break;
    if (p.is_call) {
      ++st_.tool_calls;
      sink_ok_ = tool_sink_(p.call);
    } else {
      sink_ok_ = sink_(channel::content, p.text);
    }
  }
  pieces_.clear();
}

void decode_loop::tell(int32_t id, channel ch, bool is_tag, bool injected, std::string_view piece, double lp) {
  if (tokens_ && sink_ok_) sink_ok_ = tokens_(token_event{id, ch, is_tag, injected, piece, lp, top_});
}

// Queues runtime text for the model (shown through the parser when asked). Returns why generation must
// stop (context full; the host's callback said so, which ends it once the text is evaluated), or none.
stop_reason decode_loop::inject(const std::string& text, bool show) {
  if (text.empty()) return sink_ok_ ? stop_reason::none : stop_reason::callback;
  auto ids = env_.tok.encode(text, false, true);
  if (ids.empty()) return sink_ok_ ? stop_reason::none : stop_reason::callback;
  if (n_past_ + ids.size() >= env_.n_ctx) return stop_reason::context_full;
  // Held text of a would-be stop string is ordinary text now that the stream is interrupted.
  if (show) {
    parser_.feed(stops_.flush(), events_);
    parser_.feed(text, events_);
  }
  top_ = {};
  for (int32_t id : ids) tell(id, parser_.state(), false, true, env_.tok.token_bytes(id, false), 0.0f);
  emit();
  for (int32_t id : ids) smp_.accept(id);
  st_.injected_tokens += static_cast<uint32_t>(ids.size());
  pending_ = std::move(ids);
  pending_injected_ = true;
  return sink_ok_ ? stop_reason::none : stop_reason::callback;
}

// After inject(): its tokens to evaluate (the generation ending after them if it must), the end, or
// nullopt when nothing was fed and the loop goes on.
std::optional<std::span<const int32_t>> decode_loop::after_inject(stop_reason r) {
  if (!pending_.empty()) {
    after_pending_ = r;
    return std::span<const int32_t>(pending_);
  }
  if (r != stop_reason::none) return finish(r);
  return std::nullopt;
}

// The reasoning budget is spent and the wrap-up text is in: close the thought for the model.
std::optional<std::span<const int32_t>> decode_loop::close_thought() {
  parser_.feed(stops_.flush(), events_);
  parser_.force_close(events_);
  emit();
  return after_inject(inject(budget_.close_text(), false));
}

// The tokens the last step returned have been evaluated: they are in the cache now.
void decode_loop::absorb_pending() {
  n_past_ += static_cast<uint32_t>(pending_.size());
  if (pending_injected_) context_.insert(context_.end(), pending_.begin(), pending_.end());
  pending_.clear();
  pending_injected_ = false;
}

std::span<const int32_t> decode_loop::step(std::span<float> logits) {
  if (done_) return {};
  absorb_pending();
  if (after_pending_ != stop_reason::none) return finish(after_pending_);
  for (;;) {
    const bool thinking = split_ && parser_.state() == channel::reasoning;
    const auto act = budget_.next(thinking, st_.reasoning_tokens);
    if (act == reasoning_budget::action::close) {
      if (auto r = close_thought()) return *r;
      continue;
    }
    if (env_.cancel.load(std::memory_order_relaxed)) return finish(stop_reason::cancelled);
    if (act == reasoning_budget::action::wrap_up) {
      // Budget spent: let the model wrap up in words of ours, then close the thought and let it answer.
      if (auto r = after_inject(inject(budget_.wrap_up_text(), true))) return *r;
      continue;
    }
    const auto fed = sample(logits, thinking);
    if (!fed.empty() || done_) return fed;
  }
}

// Masks what the grammar refuses when this token is the answer's (the thought is never constrained).
// Before anything was generated a model that opens its thought itself (automatic reasoning) may still
// do so: the open tag stays allowed then. Returns whether the grammar applies to this token.
bool decode_loop::constrain(std::span<float> logits, bool thinking) {
  if (!grammar_ || thinking) return false;
  may_open_ = open_id_ && n_gen_ == 0 && st_.injected_tokens == 0 && static_cast<size_t>(*open_id_) < logits.size();
  const float open_logit = may_open_ ? logits[static_cast<size_t>(*open_id_)] : 0.0f;
  if (opt_.logprobs >= 0 || conf_) raw_.assign(logits.begin(), logits.end());  // they report the model's own
  grammar_->mask(logits);
  if (may_open_) logits[static_cast<size_t>(*open_id_)] = open_logit;
  return true;
}

// Samples a token and passes its text on. Returns it for evaluation, or nothing: the generation ended
// (done_), or a continuation was injected without tokens and the loop must go round again.
std::span<const int32_t> decode_loop::sample(std::span<float> logits, bool thinking) {
  if (opt_.ignore_eos)
    for (int32_t e : env_.eog_ids) logits[static_cast<size_t>(e)] = -INFINITY;
  // Hugging Face pads embeddings past the tokenizer's last id: those rows are not tokens.
  for (size_t i = static_cast<size_t>(env_.tok.n_vocab()); i < logits.size(); ++i) logits[i] = -INFINITY;
  const bool constrained = constrain(logits, thinking);
  const int32_t id = smp_.sample(logits);
  if (constrained && !raw_.empty()) {
    std::copy(raw_.begin(), raw_.end(), logits.begin());
    raw_.clear();
  }
  // A tool syntax's markers may be control tokens, which are not rendered as text otherwise.
  const bool marker = std::find(marker_ids_.begin(), marker_ids_.end(), id) != marker_ids_.end();
  std::string piece = env_.tok.token_bytes(id, marker);
  if (thinking && budget_.refuses(st_.reasoning_tokens, id, piece, env_.tok.is_eog(id))) {
    // Too early to stop thinking: replace the attempt with a continuation word (s1 budget forcing).
    if (auto r = after_inject(inject(budget_.continue_text(), true))) return *r;
    return {};
  }
  if (env_.tok.is_eog(id)) return finish(stop_reason::eos);
  if (constrained && !(may_open_ && id == *open_id_)) grammar_->accept(id);
  if (strip_space_ && !piece.empty()) {
    if (piece[0] == ' ') piece.erase(0, 1);
    strip_space_ = false;
  }
  double lp = 0;
  if (opt_.logprobs >= 0) {
    const auto r = raw_logprobs(logits, id, top_buf_);
    lp = r.chosen;
    top_ = std::span<const token_logprob>(top_buf_.data(), r.n_top);
  }
  bool unsure = false;
  if (conf_) {
    conf_->push(token_confidence(logits, conf_buf_));
    st_.confidence_lowest = conf_->lowest_group();
    const auto g = conf_->full_group();
    unsure = opt_.confidence.stop_below && g && *g < *opt_.confidence.stop_below;
  }
  const bool hit = stops_.feed(piece, released_);
  const channel before = parser_.state();
  parser_.feed(released_, events_);
  // A token that is exactly a tag belongs to neither channel.
  const std::string_view tp = trim(piece);
  const bool is_tag = split_ && (tp == opt_.open_tag || tp == opt_.close_tag);
  if (!is_tag) {
    if (before == channel::reasoning && split_)
      ++st_.reasoning_tokens;
    else
      ++st_.content_tokens;
  }
  tell(id, before, is_tag, false, piece, lp);
  emit();
  context_.push_back(id);
  ++n_gen_;
  if (hit) {
    st_.stop_string = stops_.matched();
    return finish(stop_reason::stop_string);
  }
  if (!sink_ok_) return finish(stop_reason::callback);
  // The answer is complete: only an end-of-generation token could follow, no need to sample it.
  if (constrained && grammar_->stopped()) return finish(stop_reason::eos);
  if (unsure) return finish(stop_reason::low_confidence);
  if (opt_.max_tokens > 0 && n_gen_ >= static_cast<uint32_t>(opt_.max_tokens)) return finish(stop_reason::max_tokens);
  if (n_past_ >= env_.n_ctx) return finish(stop_reason::context_full);
  pending_.assign(1, id);
  return pending_;
}

std::span<const int32_t> decode_loop::finish(stop_reason why) {
  st_.stop = why;
  if (why != stop_reason::stop_string) parser_.feed(stops_.flush(), events_);
  parser_.finish(events_);
  emit();
  if (tools_ && sink_ok_) {
    tools_->finish(pieces_);
    emit_tools();
  }
  if (conf_) st_.confidence_bottom10 = conf_->bottom_10();
  st_.generate_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  pending_.clear();
  done_ = true;
  return {};
}

void decode_loop::stop(stop_reason why) {
  if (done_) return;
  absorb_pending();
  sink_ok_ = false;
  finish(why);
}

}  // namespace dianoia::detail
