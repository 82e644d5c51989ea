// Writes a generation's events: reasoning dimmed and answer plain on a terminal, or one JSON object per
// line with --json.
#pragma once
#include <chrono>

#include <dianoia/dianoia.hpp>

namespace cli {

class printer {
 public:
  printer(bool json, bool hide_reasoning);
  // The event callback body.
  bool on_event(const dianoia::event& ev);
  // After a generation (and its DONE event): summary line, or the JSON done object.
  void done(const dianoia_event& d);
  // After samples: the vote.
  void vote(const dianoia::session::vote& v, uint32_t n_samples);

 private:
  void end_reasoning();
  bool json_, hide_, tty_;
  dianoia_event_type last_ = DIANOIA_EVENT_DONE;
  uint32_t sample_ = 0;
  std::chrono::steady_clock::time_point thought_start_;  // --hide-reasoning: for the one-line summary
  size_t thought_chars_ = 0;
};

}  // namespace cli
