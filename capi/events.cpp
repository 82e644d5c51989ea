// C ABI: events delivered to the host's callback.
#include "events.hpp"

#include <cmath>
#include <memory>

namespace dianoia::capi {

// The runtime's stop reasons travel as their numbers.
static_assert(DIANOIA_STOP_NONE == static_cast<int>(detail::stop_reason::none));
static_assert(DIANOIA_STOP_EOS == static_cast<int>(detail::stop_reason::eos));
static_assert(DIANOIA_STOP_MAX_TOKENS == static_cast<int>(detail::stop_reason::max_tokens));
static_assert(DIANOIA_STOP_CONTEXT_FULL == static_cast<int>(detail::stop_reason::context_full));
static_assert(DIANOIA_STOP_CANCELLED == static_cast<int>(detail::stop_reason::cancelled));
static_assert(DIANOIA_STOP_CALLBACK == static_cast<int>(detail::stop_reason::callback));
static_assert(DIANOIA_STOP_STRING == static_cast<int>(detail::stop_reason::stop_string));

dianoia_event event_emitter::blank(dianoia_event_type type) {
  dianoia_event ev{};
  ev.struct_size = sizeof ev;
  ev.type = type;
  ev.text = "";
  ev.stop_string = "";
  ev.tool_call_id = ev.tool_name = ev.tool_arguments = "";
  ev.confidence = NAN;
  ev.confidence_threshold = NAN;
  return ev;
}

static dianoia_event_type channel_type(detail::channel ch) {
  return ch == detail::channel::reasoning ? DIANOIA_EVENT_REASONING : DIANOIA_EVENT_CONTENT;
}

bool event_emitter::text(detail::channel ch, std::string_view t, uint32_t sample) {
  dianoia_event ev = blank(channel_type(ch));
  ev.text = t.data();
  ev.text_len = t.size();
  ev.sample_index = sample;
  ev.channel = ev.type;
  return fn_(&ev, user_);
}

bool event_emitter::token(const detail::token_event& e) {
  dianoia_event ev = blank(DIANOIA_EVENT_TOKEN);
  ev.text = e.piece.data();
  ev.text_len = e.piece.size();
  ev.token = e.id;
  ev.channel = channel_type(e.ch);
  ev.is_tag = e.is_tag;
  ev.injected = e.injected;
  ev.logprob = static_cast<float>(e.logprob);
  top_ids_.clear();
  top_lp_.clear();
  for (const auto& t : e.top) {
    top_ids_.push_back(t.id);
    top_lp_.push_back(static_cast<float>(t.logprob));
  }
  ev.top_tokens = top_ids_.data();
  ev.top_logprobs = top_lp_.data();
  ev.n_top = top_ids_.size();
  return fn_(&ev, user_);
}

bool event_emitter::tool_call(const detail::tool_call& c, uint32_t sample) {
  dianoia_event ev = blank(static_cast<dianoia_event_type>(DIANOIA_EVENT_TOOL_CALL));
  ev.sample_index = sample;
  ev.tool_call_id = c.id.data();
  ev.tool_call_id_len = c.id.size();
  ev.tool_name = c.name.data();
  ev.tool_name_len = c.name.size();
  ev.tool_arguments = c.arguments.data();
  ev.tool_arguments_len = c.arguments.size();
  return fn_(&ev, user_);
}

void event_emitter::done(const detail::generation_stats& st, uint32_t sample, double confidence) {
  dianoia_event ev = blank(DIANOIA_EVENT_DONE);
  ev.confidence = confidence;
  ev.stop_reason = static_cast<dianoia_stop_reason>(st.stop);
  ev.prompt_tokens = st.prompt_tokens;
  ev.reasoning_tokens = st.reasoning_tokens;
  ev.content_tokens = st.content_tokens;
  ev.prompt_seconds = st.prompt_seconds;
  ev.generate_seconds = st.generate_seconds;
  ev.sample_index = sample;
  ev.injected_tokens = st.injected_tokens;
  ev.prompt_reused = st.prompt_reused;
  ev.stop_string = st.stop_string.c_str();
  ev.stop_string_len = st.stop_string.size();
  fn_(&ev, user_);
}

void event_emitter::vote(const detail::vote_result& r, const std::vector<double>* scores,
                         const std::vector<bool>* voted, std::optional<double> threshold) {
  std::vector<dianoia_vote_entry> v;
  std::vector<double> weights;
  for (const auto& e : r.entries) {
    v.push_back({e.answer.data(), e.answer.size(), e.count, e.first_sample});
    weights.push_back(e.weight);
  }
  dianoia_event ev = blank(DIANOIA_EVENT_VOTE);
  std::unique_ptr<bool[]> used;
  if (r.weighted) ev.vote_weights = weights.data();
  if (scores && voted) {
    used = std::make_unique<bool[]>(voted->size() + 1);
    for (size_t i = 0; i < voted->size(); ++i) used[i] = (*voted)[i];
    ev.sample_confidences = scores->data();
    ev.sample_voted = used.get();
    ev.n_samples = scores->size();
  }
  if (threshold) ev.confidence_threshold = *threshold;
  ev.votes = v.data();
  ev.n_votes = v.size();
  ev.abstained = r.abstained;
  ev.tie = r.tie;
  fn_(&ev, user_);
}

}  // namespace dianoia::capi
