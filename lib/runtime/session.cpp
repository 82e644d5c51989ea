#include "runtime/session.hpp"

#include <chrono>
#include <cmath>

#include "core/error.hpp"
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

generation_stats session::generate(std::span<const int32_t> prompt_in, const generate_options& opt,
                                   const text_sink& sink, bool allow_auto_reasoning) {
  cancel_.store(false, std::memory_order_relaxed);
  if (prompt_in.empty()) fail(errc::invalid_argument, "the prompt is empty");
  sampler smp(opt.sampling);

  std::vector<int32_t> prompt(prompt_in.begin(), prompt_in.end());
  bool split = opt.reasoning != reasoning_mode::off && (allow_auto_reasoning || opt.reasoning == reasoning_mode::on);
  bool in_thought = split && prompt_opens_thought(prompt, opt.open_tag);
  if (opt.reasoning == reasoning_mode::on && !in_thought) {
    // The model has no thinking profile of its own: open a textual thought for it.
    auto open = tok_.encode(opt.open_tag + "\n", false, true);
    prompt.insert(prompt.end(), open.begin(), open.end());
    in_thought = true;
  }
  if (prompt.size() >= state_->n_ctx())
    fail(errc::context_full, "the prompt has {} tokens but the context holds {} (and one more is needed to generate)",
         prompt.size(), state_->n_ctx());

  generation_stats st;
  st.prompt_tokens = static_cast<uint32_t>(prompt.size());
  history_ = prompt;
  auto t0 = std::chrono::steady_clock::now();
  net_.forward(*state_, prompt, 0, logits_.data(), false);
  uint32_t n_past = static_cast<uint32_t>(prompt.size());
  st.prompt_seconds = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();

  reasoning_parser parser(opt.open_tag, opt.close_tag, in_thought, split);
  std::vector<text_event> events;
  bool sink_ok = true;
  auto emit = [&] {
    for (auto& e : events)
      if (sink_ok && !e.text.empty()) sink_ok = sink(e.ch, e.text);
    events.clear();
  };

  const std::string_view open_tag = opt.open_tag, close_tag = opt.close_tag;
  // SentencePiece vocabularies mark word starts with a space; the word right after BOS has no space
  // before it in the text (HF and run.c drop it the same way when decoding).
  bool strip_space = tok_.vocab().model == vocab_model::spm && tok_.vocab().add_space_prefix &&
                     prompt.back() == tok_.bos();
  uint32_t n_gen = 0;
  for (;;) {
    if (cancel_.load(std::memory_order_relaxed)) {
      st.stop = stop_reason::cancelled;
      break;
    }
    if (split && parser.state() == channel::reasoning && opt.max_reasoning_tokens >= 0 &&
        st.reasoning_tokens >= static_cast<uint32_t>(opt.max_reasoning_tokens)) {
      // Budget spent: close the thought for the model and let it answer.
      parser.force_close(events);
      emit();
      auto close = tok_.encode(opt.budget_close_text, false, true);
      if (n_past + close.size() >= state_->n_ctx()) {
        st.stop = stop_reason::context_full;
        break;
      }
      net_.forward(*state_, close, n_past, logits_.data(), false);
      n_past += static_cast<uint32_t>(close.size());
      history_.insert(history_.end(), close.begin(), close.end());
      continue;
    }
    if (opt.ignore_eos)
      for (int32_t e : eog_ids_) logits_[e] = -INFINITY;
    const int32_t id = smp.sample(logits_);
    if (tok_.is_eog(id)) {
      st.stop = stop_reason::eos;
      break;
    }
    std::string piece = tok_.token_bytes(id, false);
    if (strip_space && !piece.empty()) {
      if (piece[0] == ' ') piece.erase(0, 1);
      strip_space = false;
    }
    const channel before = parser.state();
    parser.feed(piece, events);
    // A token that is exactly a tag belongs to neither channel.
    const std::string_view tp = trim(piece);
    if (!(split && (tp == open_tag || tp == close_tag))) {
      if (before == channel::reasoning && split)
        ++st.reasoning_tokens;
      else
        ++st.content_tokens;
    }
    emit();
    history_.push_back(id);
    ++n_gen;
    if (!sink_ok) {
      st.stop = stop_reason::callback;
      break;
    }
    if (opt.max_tokens > 0 && n_gen >= static_cast<uint32_t>(opt.max_tokens)) {
      st.stop = stop_reason::max_tokens;
      break;
    }
    if (n_past >= state_->n_ctx()) {
      st.stop = stop_reason::context_full;
      break;
    }
    const int32_t one[1] = {id};
    net_.forward(*state_, one, n_past, logits_.data(), false);
    ++n_past;
  }
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
  history_.assign(tokens.begin(), tokens.end());
  const size_t nv = net_.hp().n_vocab;
  std::vector<float> all(tokens.size() * nv);
  net_.forward(*state_, tokens, 0, all.data(), true);
  return std::vector<float>(all.end() - static_cast<long>(n_logits * nv), all.end());
}

}  // namespace dianoia::detail
