#include "printer.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "cli.hpp"
#include "gen_options.hpp"

namespace cli {

printer::printer(bool json, bool hide_reasoning) : json_(json), hide_(hide_reasoning), tty_(isatty(STDOUT_FILENO)) {}

void printer::end_reasoning() {
  if (last_ != DIANOIA_EVENT_REASONING) return;
  if (!hide_) {
    std::fputs(tty_ ? "\033[0m\n\n" : "\n\n", stdout);
    return;
  }
  // --hide-reasoning: the thought collapses to one line.
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - thought_start_).count();
  std::printf(tty_ ? "\r\033[K\033[2m[thought for %.1f s, %zu characters hidden]\033[0m\n\n"
                   : "[thought for %.1f s, %zu characters hidden]\n\n", s, thought_chars_);
}

bool printer::on_event(const dianoia::event& ev) {
  const dianoia_event& r = *ev.raw;
  if (ev.type == DIANOIA_EVENT_DONE || ev.type == DIANOIA_EVENT_VOTE) return true;
  if (ev.type == DIANOIA_EVENT_TOOL_CALL) {
    if (json_) {
      std::printf("{\"type\":\"tool_call\",\"sample\":%u,\"id\":%s,\"name\":%s,\"arguments\":%s}\n", r.sample_index,
                  json_string(ev.tool_call_id()).c_str(), json_string(ev.tool_name()).c_str(),
                  std::string(ev.tool_arguments()).c_str());
    } else {
      end_reasoning();
      std::printf("[tool call %s: %s(%s)]\n", std::string(ev.tool_call_id()).c_str(), std::string(ev.tool_name()).c_str(),
                  std::string(ev.tool_arguments()).c_str());
      last_ = DIANOIA_EVENT_CONTENT;
    }
    std::fflush(stdout);
    return true;
  }
  if (json_) {
    if (hide_ && (ev.type == DIANOIA_EVENT_REASONING || (ev.type == DIANOIA_EVENT_TOKEN && r.channel == DIANOIA_EVENT_REASONING)))
      return true;  // --hide-reasoning --json: the thought's events are left out
    if (ev.type == DIANOIA_EVENT_TOKEN) {
      std::string top = "[";
      for (size_t i = 0; i < r.n_top; ++i)
        top += (i ? "," : "") + std::string("[") + std::to_string(r.top_tokens[i]) + "," +
               std::to_string(r.top_logprobs[i]) + "]";
      top += "]";
      std::printf("{\"type\":\"token\",\"sample\":%u,\"id\":%d,\"channel\":\"%s\",\"injected\":%s,\"logprob\":%.6f,\"top\":%s}\n",
                  r.sample_index, r.token, r.channel == DIANOIA_EVENT_REASONING ? "reasoning" : "content",
                  r.injected ? "true" : "false", static_cast<double>(r.logprob), top.c_str());
    } else {
      std::printf("{\"type\":\"%s\",\"sample\":%u,\"text\":%s}\n",
                  ev.type == DIANOIA_EVENT_REASONING ? "reasoning" : "content", r.sample_index,
                  json_string(ev.text).c_str());
    }
    std::fflush(stdout);
    return true;
  }
  if (ev.type == DIANOIA_EVENT_TOKEN) return true;  // logprobs are shown in --json mode only
  if (r.sample_index != sample_) {
    if (tty_ && last_ == DIANOIA_EVENT_REASONING) std::fputs("\033[0m", stdout);
    std::printf("\n\n--- sample %u ---\n", r.sample_index);
    sample_ = r.sample_index;
    last_ = DIANOIA_EVENT_DONE;
  }
  if (ev.type == DIANOIA_EVENT_REASONING) {
    if (hide_) {
      if (last_ != DIANOIA_EVENT_REASONING) {
        thought_start_ = std::chrono::steady_clock::now();
        thought_chars_ = 0;
        if (tty_) std::fputs("\033[2m[thinking...]\033[0m", stdout);
      }
      thought_chars_ += ev.text.size();
      last_ = ev.type;
      std::fflush(stdout);
      return true;
    }
    if (tty_ && last_ != DIANOIA_EVENT_REASONING) std::fputs("\033[2m", stdout);
    std::fwrite(ev.text.data(), 1, ev.text.size(), stdout);
  } else {
    end_reasoning();
    std::fwrite(ev.text.data(), 1, ev.text.size(), stdout);
  }
  last_ = ev.type;
  std::fflush(stdout);
  return true;
}

void printer::done(const dianoia_event& d) {
  const unsigned gen = d.reasoning_tokens + d.content_tokens;
  const double tps = d.generate_seconds > 0 ? gen / d.generate_seconds : 0.0;
  const double pps = d.prompt_seconds > 0 ? d.prompt_tokens / d.prompt_seconds : 0.0;
  if (json_) {
    std::printf(
        "{\"type\":\"done\",\"sample\":%u,\"stop_reason\":\"%s\",\"prompt_tokens\":%u,\"reasoning_tokens\":%u,"
        "\"content_tokens\":%u,\"injected_tokens\":%u,\"prompt_reused\":%u,\"prompt_seconds\":%.6f,"
        "\"generate_seconds\":%.6f,\"tokens_per_second\":%.3f%s}\n",
        d.sample_index, stop_name(d.stop_reason), d.prompt_tokens, d.reasoning_tokens, d.content_tokens,
        d.injected_tokens, d.prompt_reused, d.prompt_seconds, d.generate_seconds, tps,
        std::isnan(d.confidence) ? "" : (",\"confidence\":" + std::to_string(d.confidence)).c_str());
  } else {
    if (last_ == DIANOIA_EVENT_REASONING) {
      if (hide_) end_reasoning();
      else if (tty_) std::fputs("\033[0m", stdout);
    }
    std::fputs("\n", stdout);
    std::fflush(stdout);
    std::fprintf(stderr,
                 "[%u prompt tokens (%u reused) at %.1f tok/s; %u reasoning + %u answer tokens at %.1f tok/s; stop: %s]\n",
                 d.prompt_tokens, d.prompt_reused, pps, d.reasoning_tokens, d.content_tokens, tps,
                 stop_name(d.stop_reason));
  }
  last_ = DIANOIA_EVENT_DONE;
}

void printer::vote(const dianoia::session::vote& v, uint32_t n_samples) {
  if (json_) {
    std::string answers = "[";
    for (size_t i = 0; i < v.entries.size(); ++i)
      answers += (i ? "," : "") + std::string("{\"answer\":") + json_string(v.entries[i].answer) +
                 ",\"count\":" + std::to_string(v.entries[i].count) + "}";
    answers += "]";
    std::string conf;
    if (!v.sample_confidences.empty()) {
      auto list = [&](const char* key, size_t n, auto item) {
        conf += ",\"";
        conf += key;
        conf += "\":[";
        for (size_t i = 0; i < n; ++i) {
          if (i) conf += ',';
          conf += item(i);
        }
        conf += ']';
      };
      list("weights", v.entries.size(), [&](size_t i) { return std::to_string(v.entries[i].weight); });
      list("confidences", v.sample_confidences.size(), [&](size_t i) {
        return std::isnan(v.sample_confidences[i]) ? std::string("null") : std::to_string(v.sample_confidences[i]);
      });
      list("voted", v.sample_voted.size(), [&](size_t i) { return std::string(v.sample_voted[i] ? "true" : "false"); });
      if (!std::isnan(v.threshold)) conf += ",\"threshold\":" + std::to_string(v.threshold);
    }
    std::printf("{\"type\":\"vote\",\"samples\":%u,\"answers\":%s,\"abstained\":%u,\"tie\":%s,\"winner\":%s%s}\n",
                n_samples, answers.c_str(), v.abstained, v.tie ? "true" : "false",
                v.entries.empty() ? "null" : json_string(v.entries[0].answer).c_str(), conf.c_str());
    return;
  }
  std::printf("\nvote over %u samples:", n_samples);
  for (const auto& e : v.entries) {
    std::printf(" '%s' x%u", e.answer.c_str(), e.count);
    if (!v.sample_confidences.empty()) std::printf(" (weight %.2f)", e.weight);
  }
  if (!std::isnan(v.threshold)) std::printf(" [threshold %.3f]", v.threshold);
  if (v.abstained) std::printf(" (no answer: %u)", v.abstained);
  std::printf("\nanswer: %s%s\n", v.entries.empty() ? "(none)" : v.entries[0].answer.c_str(), v.tie ? " (tie)" : "");
}

}  // namespace cli
