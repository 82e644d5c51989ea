// session::generate_samples after the prompt: samples one after another, or a group of them in
// lockstep, one model::forward_batch per step for the whole group (one pass over the weights).
#include <algorithm>
#include <memory>
#include <optional>

#include "core/error.hpp"
#include "core/log.hpp"
#include "runtime/decode_loop.hpp"
#include "runtime/session.hpp"

namespace dianoia::detail {

namespace {

// Samples decoded in one step at most: the logits alone take n_vocab floats per sample, and past a few
// dozen rows a step is compute-bound anyway.
constexpr uint32_t k_max_group = 32;

// Shows the host the samples' text as if they ran one after another: the first unfinished sample streams
// straight through, later ones are held until every sample before them has ended. When the host refuses
// text of sample i, every sample stops there: i ends with the counts as of that text, and the samples
// after it are dropped as if never started (their held text is never delivered).
class sample_order {
 public:
  // `ctl` (may be null) is told of each sample as the head passes it; `stats(i)` gives its final counts.
  sample_order(const session::sample_sink& sink, uint32_t n, const session::sample_control* ctl,
               std::function<const generation_stats&(uint32_t)> stats)
      : sink_(sink), held_(n), done_(n, false), refused_(n), ctl_(ctl), stats_(std::move(stats)) {}

  // Text of sample i, produced when its counts were `now`. Held text is always accepted here; the host's
  // answer comes when it is delivered (see refused()).
  bool text(uint32_t i, channel ch, std::string_view t, const generation_stats& now) {
    if (refused_[i] || dropped(i)) return false;
    if (i == head_) {
      if (sink_(i, ch, t)) return true;
      last_ = i;
      return false;
    }
    held_[i].push_back({ch, std::string(t), now});
    return true;
  }

  // Sample i has ended: the samples after it, up to the next one still running, get their held text.
  void finished(uint32_t i) {
    done_[i] = true;
    while (head_ < done_.size() && done_[head_] && !dropped(head_ + 1)) {
      if (ctl_ && ctl_->finished && !refused_[head_] && !ctl_->finished(head_, stats_(head_))) {
        last_ = head_;  // the control has seen enough: no sample after this one
        return;
      }
      if (++head_ < done_.size()) release(head_);
    }
  }

  // When the host refused held text of sample i: its counts as of that text, stop = callback. The
  // sample then ends there, as it would have one after another (it may have decoded further meanwhile).
  const std::optional<generation_stats>& refused(uint32_t i) const { return refused_[i]; }
  // Samples after the one the host refused are not reported.
  bool dropped(uint32_t i) const { return last_ && i > *last_; }
  std::optional<uint32_t> last() const { return last_; }

 private:
  struct held {
    channel ch;
    std::string text;
    generation_stats at;
  };
  void release(uint32_t i) {
    for (held& h : held_[i])
      if (!sink_(i, h.ch, h.text)) {
        refused_[i] = std::move(h.at);
        refused_[i]->stop = stop_reason::callback;
        last_ = i;
        break;
      }
    std::vector<held>().swap(held_[i]);
  }

  const session::sample_sink& sink_;
  uint32_t head_ = 0;  // the sample whose text goes straight to the host
  std::vector<std::vector<held>> held_;
  std::vector<bool> done_;
  std::vector<std::optional<generation_stats>> refused_;
  std::optional<uint32_t> last_;  // the sample the host refused (or the control stopped at): the last reported
  const session::sample_control* ctl_;
  std::function<const generation_stats&(uint32_t)> stats_;
};

// One sample of a group: its own sampler, logits, tokens and decode loop; sequence `seq` of the model.
struct lane {
  uint32_t index;  // the sample's number
  uint32_t seq;
  sampler smp;
  std::vector<float> logits;
  std::vector<int32_t> context;  // tokens after the prompt
  std::unique_ptr<decode_loop> loop;
};

// Ends the model's sequences if the group does not finish normally (an exception).
struct sequences_guard {
  const model& net;
  forward_state& st;
  bool active = true;
  ~sequences_guard() {
    if (active) net.end_sequences(st, UINT32_MAX, 0);
  }
};

// Steps every lane's loop and evaluates all the tokens they ask for in one forward_batch, until every
// lane has ended. Lanes step in sample order, so each step's text reaches `order` in that order.
void run_lockstep(const model& net, forward_state& st, std::span<const std::unique_ptr<lane>> lanes,
                  sample_order& order) {
  const size_t nv = net.hp().n_vocab;
  std::vector<seq_token> batch;
  std::vector<lane*> asked;  // the lanes whose logits this step computes, in output order
  std::vector<float> logits;
  for (;;) {
    batch.clear();
    asked.clear();
    for (const auto& lp : lanes) {
      lane& l = *lp;
      if (l.loop->done()) continue;
      if (order.refused(l.index) || order.dropped(l.index)) l.loop->stop(stop_reason::callback);
      const auto ids = l.loop->done() ? std::span<const int32_t>() : l.loop->step(l.logits);
      if (ids.empty()) {
        order.finished(l.index);
        continue;
      }
      for (size_t j = 0; j < ids.size(); ++j)
        batch.push_back({ids[j], l.seq, l.loop->n_past() + static_cast<uint32_t>(j), j + 1 == ids.size()});
      asked.push_back(&l);
    }
    if (batch.empty()) return;
    logits.resize(asked.size() * nv);
    net.forward_batch(st, batch, logits.data());  // logits[asked, n_vocab]
    for (size_t j = 0; j < asked.size(); ++j) std::copy_n(&logits[j * nv], nv, asked[j]->logits.data());
  }
}

}  // namespace

// Samples share a step when their tokens fit in the context the session was sized for (the KV memory
// the host planned for): max_tokens each after the prompt. Host sampler stages are called for one
// generation at a time (reset between samples), so with them samples run one after another.
uint32_t session::lockstep_group(uint32_t n, const generate_options& opt) const {
  if (n < 2 || opt.max_tokens <= 0 || !opt.sampling.host_stages.empty()) return 1;
  const uint32_t room = (state_->n_ctx() - n_past_) / static_cast<uint32_t>(opt.max_tokens);
  return std::min({n, room, k_max_group});
}

std::vector<generation_stats> session::samples_one_by_one(const prepared& p, uint32_t n, const generate_options& opt,
                                                          const sample_sink& sink, const sample_control* ctl) {
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
    if (ctl && ctl->prepare) ctl->prepare(i, o);
    sampler smp = make_sampler(o.sampling, p.prompt);
    out.push_back(decode(p, o, smp, [&](channel ch, std::string_view t) { return sink(i, ch, t); }, {}));
    if (out.back().stop == stop_reason::cancelled || out.back().stop == stop_reason::callback) break;
    if (ctl && ctl->finished && !ctl->finished(i, out.back())) break;
  }
  return out;
}

std::vector<generation_stats> session::samples_in_lockstep(const prepared& p, uint32_t n, uint32_t group,
                                                           const generate_options& opt, const sample_sink& sink,
                                                           const sample_control* ctl) {
  const uint32_t n_prompt = n_past_;
  const uint32_t warmup = ctl ? ctl->warmup : 0;
  // The first group: the warm-up samples, if fewer than a group.
  auto group_size = [&](uint32_t first) {
    return std::min({group, n - first, first < warmup ? warmup - first : UINT32_MAX});
  };
  try {
    net_.begin_sequences(*state_, n_prompt, group_size(0));
  } catch (const error& e) {
    if (e.code() != errc::unsupported && e.code() != errc::out_of_memory) throw;
    log(log_level::debug, "samples one after another: {}", e.what());
    return samples_one_by_one(p, n, opt, sink, ctl);
  }
  sequences_guard guard{net_, *state_};
  const decode_env env{tok_, eog_ids_, state_->n_ctx(), cancel_};
  std::vector<generate_options> opts(n, opt);  // the loops keep a reference to theirs
  std::vector<generation_stats> out;
  std::vector<std::unique_ptr<lane>> lanes;
  uint32_t first = 0;
  sample_order order(sink, n, ctl, [&](uint32_t i) -> const generation_stats& {
    const lane& l = *lanes.at(i - first);
    const auto& refused = order.refused(i);
    return refused ? *refused : l.loop->stats();
  });
  for (uint32_t m = 0; first < n; first += m) {
    m = group_size(first);
    if (first > 0) net_.begin_sequences(*state_, n_prompt, m);
    lanes.clear();
    for (uint32_t s = 0; s < m; ++s) {
      const uint32_t i = first + s;
      opts[i].sampling.seed = opt.sampling.seed + i;
      if (ctl && ctl->prepare) ctl->prepare(i, opts[i]);
      lanes.push_back(std::make_unique<lane>(lane{i, s, make_sampler(opts[i].sampling, p.prompt), logits_, {}, {}}));
      lane* l = lanes.back().get();
      auto text = [&order, l](channel ch, std::string_view t) { return order.text(l->index, ch, t, l->loop->stats()); };
      l->loop = std::make_unique<decode_loop>(env, decode_setup{p.prompt, p.split, p.in_thought, p.grammar.get()}, opts[i], l->smp,
                                              text, token_sink(), l->context);
    }
    run_lockstep(net_, *state_, lanes, order);
    const lane* kept = lanes.back().get();
    for (const auto& l : lanes) {
      if (order.dropped(l->index)) break;
      const auto& refused = order.refused(l->index);
      out.push_back(refused ? *refused : l->loop->stats());
      out.back().generate_seconds = l->loop->stats().generate_seconds;
      kept = l.get();
    }
    if (cancel_.load(std::memory_order_relaxed) || order.last()) {
      lanes.erase(std::find_if(lanes.begin(), lanes.end(), [&](const auto& l) { return l.get() == kept; }) + 1,
                  lanes.end());
      break;
    }
    if (first + m < n) net_.end_sequences(*state_, UINT32_MAX, 0);
  }
  // As one after another would leave it: the prompt, then the last sample reported, ready to be
  // continued (a sample the host refused while its text was held keeps what it decoded meanwhile).
  const lane& last = *lanes.back();
  guard.active = false;
  net_.end_sequences(*state_, last.seq, last.loop->n_past() - n_prompt);
  history_.insert(history_.end(), last.context.begin(), last.context.end());
  n_past_ = last.loop->n_past();
  return out;
}

}  // namespace dianoia::detail
