// Turning runtime callbacks into dianoia_event values for the host.
#pragma once
#include <cmath>
#include <optional>
#include <vector>

#include "dianoia.h"
#include "runtime/session.hpp"
#include "runtime/vote.hpp"

namespace dianoia::capi {

class event_emitter {
 public:
  event_emitter(dianoia_event_fn fn, void* user) : fn_(fn), user_(user) {}

  bool text(detail::channel ch, std::string_view t, uint32_t sample = 0);
  bool token(const detail::token_event& e);
  bool tool_call(const detail::tool_call& c, uint32_t sample = 0);
  void done(const detail::generation_stats& st, uint32_t sample = 0, double confidence = NAN);
  // Confidence votes add each sample's score, whether it voted, and the online threshold.
  void vote(const detail::vote_result& r, const std::vector<double>* scores = nullptr,
            const std::vector<bool>* voted = nullptr, std::optional<double> threshold = std::nullopt);

  // Runtime callbacks bound to this emitter.
  detail::text_sink text_sink() {
    return [this](detail::channel ch, std::string_view t) { return text(ch, t); };
  }
  detail::tool_sink tool_sink() {
    return [this](const detail::tool_call& c) { return tool_call(c); };
  }
  detail::token_sink token_sink(const detail::generate_options& o) {
    if (o.logprobs < 0) return {};
    return [this](const detail::token_event& e) { return token(e); };
  }

 private:
  static dianoia_event blank(dianoia_event_type type);
  dianoia_event_fn fn_;
  void* user_;
  std::vector<int32_t> top_ids_;
  std::vector<float> top_lp_;
};

}  // namespace dianoia::capi
