// dianoia C++ API: header-only RAII wrappers over the C ABI in dianoia.h.
//
// This layer compiles into the *user's* program, so C++ users get the C ABI's stability: a new
// libdianoia.so with the same major version works without recompiling. Failures throw dianoia::error
// carrying the status code and dianoia_last_error() text.
//
// Thread-safety is that of the C API: a model may be shared across threads; a session is used by one
// thread at a time, except session::cancel(), which any thread may call.
#pragma once
#include <dianoia.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dianoia {

class error : public std::runtime_error {
 public:
  error(dianoia_status status, const std::string& what) : std::runtime_error(what), status_(status) {}
  dianoia_status status() const noexcept { return status_; }

 private:
  dianoia_status status_;
};

namespace detail {
inline void check(dianoia_status s) {
  if (s != DIANOIA_OK) {
    std::string msg = dianoia_last_error();
    if (msg.empty()) msg = dianoia_status_string(s);
    throw error(s, msg);
  }
}
// Calls fn(buffer, capacity, &needed) twice if the first guess was too small.
template <class T, class F>
std::vector<T> fill_buffer(size_t guess, F&& fn) {
  std::vector<T> buf(guess ? guess : 1);
  size_t needed = 0;
  dianoia_status s = fn(buf.data(), buf.size(), &needed);
  if (s == DIANOIA_ERR_BUFFER_TOO_SMALL) {
    buf.resize(needed);
    s = fn(buf.data(), buf.size(), &needed);
  }
  check(s);
  buf.resize(needed);
  return buf;
}
// An owning C handle: movable, freed by Free on destruction (as oneDNN's dnnl::handle).
template <class T, void (*Free)(T*)>
class handle {
 public:
  handle() = default;
  explicit handle(T* p) : p_(p) {}
  T* get() const noexcept { return p_.get(); }
  void reset(T* p = nullptr) noexcept { p_.reset(p); }
  explicit operator bool() const noexcept { return p_ != nullptr; }

 private:
  struct deleter {
    void operator()(T* p) const noexcept { Free(p); }
  };
  std::unique_ptr<T, deleter> p_;
};
}  // namespace detail

// Library version (MAJOR*10000 + MINOR*100 + PATCH) of the loaded library, which may be newer than
// the header this program was built with.
inline uint32_t version() { return dianoia_version(); }
// Whether the library was built with its grammar engine (dianoia_generate_params.grammar_kind).
inline bool has_grammar_engine() { return dianoia_has_grammar_engine(); }

struct tool_call {
  std::string id;         // "" leaves the key out
  std::string name;
  std::string arguments;  // JSON text; "" = {}
};

// A message as chat templates see it (see dianoia_chat_message). {"user", "hi"} is a complete one.
struct chat_message {
  std::string role;
  std::string content;
  std::optional<std::string> reasoning_content = std::nullopt;
  std::vector<tool_call> tool_calls = {};
  std::optional<std::string> tool_call_id = std::nullopt;
  std::optional<std::string> name = std::nullopt;
  std::string extra_json = {};  // further keys as a JSON object; "" = none
};

namespace detail {
// The C view of messages; points into `messages`, which must outlive it.
class c_messages {
 public:
  explicit c_messages(const std::vector<chat_message>& messages) {
    calls_.resize(messages.size());
    for (size_t i = 0; i < messages.size(); ++i) {
      const auto& m = messages[i];
      for (const auto& c : m.tool_calls)
        calls_[i].push_back({c.id.empty() ? nullptr : c.id.c_str(), c.name.c_str(),
                             c.arguments.empty() ? nullptr : c.arguments.c_str()});
      dianoia_chat_message cm{};
      cm.role = m.role.c_str();
      cm.content = m.content.c_str();
      cm.reasoning_content = m.reasoning_content ? m.reasoning_content->c_str() : nullptr;
      cm.tool_calls = calls_[i].data();
      cm.n_tool_calls = calls_[i].size();
      cm.tool_call_id = m.tool_call_id ? m.tool_call_id->c_str() : nullptr;
      cm.name = m.name ? m.name->c_str() : nullptr;
      cm.extra_json = m.extra_json.empty() ? nullptr : m.extra_json.c_str();
      msgs_.push_back(cm);
    }
  }
  const dianoia_chat_message* data() const { return msgs_.data(); }
  size_t size() const { return msgs_.size(); }

 private:
  std::vector<std::vector<dianoia_tool_call>> calls_;
  std::vector<dianoia_chat_message> msgs_;
};
}  // namespace detail

struct model_params {
  uint32_t context_length = 0;          // 0: from the file
  std::function<bool(float)> progress;  // return false to abort loading
  bool vocab_only = false;              // tokenizer and chat template only (no sessions)
  uint64_t max_memory_bytes = 0;        // refuse larger models; 0: the machine's available memory
  bool use_mmap = true;                 // false: read the weights into memory (dianoia_model_params::use_mmap)
};

// Loaded model, movable, freed on destruction. Immutable: share it freely between threads.
class model {
 public:
  using params = model_params;

  explicit model(const std::string& path, const model_params& p = model_params()) {
    dianoia_model_params cp = dianoia_model_default_params();
    cp.context_length = p.context_length;
    cp.vocab_only = p.vocab_only;
    cp.max_memory_bytes = p.max_memory_bytes;
    cp.use_mmap = p.use_mmap;
    if (p.progress) {
      cp.progress = [](float x, void* ud) { return (*static_cast<const std::function<bool(float)>*>(ud))(x); };
      cp.progress_user_data = const_cast<std::function<bool(float)>*>(&p.progress);
    }
    dianoia_model* m = nullptr;
    detail::check(dianoia_model_load(path.c_str(), &cp, &m));
    h_.reset(m);
  }

  dianoia_model* get() const noexcept { return h_.get(); }

  dianoia_model_info info() const {
    dianoia_model_info i{};
    i.struct_size = sizeof i;
    detail::check(dianoia_model_get_info(h_.get(), &i));
    return i;
  }

  std::vector<int32_t> tokenize(std::string_view text, bool add_special = false, bool parse_special = false) const {
    return detail::fill_buffer<int32_t>(text.size() + 2, [&](int32_t* b, size_t cap, size_t* n) {
      return dianoia_tokenize(h_.get(), text.data(), text.size(), add_special, parse_special, b, cap, n);
    });
  }

  std::string detokenize(const std::vector<int32_t>& ids, bool skip_special = false) const {
    auto v = detail::fill_buffer<char>(ids.size() * 8 + 16, [&](char* b, size_t cap, size_t* n) {
      return dianoia_detokenize(h_.get(), ids.data(), ids.size(), skip_special, b, cap, n);
    });
    return std::string(v.begin(), v.end());
  }

  // Renders `messages` with the model's chat template (or `tmpl` if given); kwargs_json: template
  // variables as a JSON object ({"tools": [...], "enable_thinking": false}), "" for none.
  std::string apply_chat_template(const std::vector<chat_message>& messages, bool add_generation_prompt = true,
                                  const char* tmpl = nullptr, const std::string& kwargs_json = {}) const {
    const detail::c_messages cm(messages);
    auto v = detail::fill_buffer<char>(4096, [&](char* b, size_t cap, size_t* n) {
      return dianoia_chat_apply_template(h_.get(), tmpl, cm.data(), cm.size(), add_generation_prompt,
                                         kwargs_json.empty() ? nullptr : kwargs_json.c_str(), b, cap, n);
    });
    return std::string(v.begin(), v.end());
  }

 private:
  detail::handle<dianoia_model, dianoia_model_free> h_;
};

// One event of a generation, as a view valid during the callback.
struct event {
  dianoia_event_type type;
  std::string_view text;
  const dianoia_event* raw;  // counts and stop reason on DONE
  // TOOL_CALL (type == DIANOIA_EVENT_TOOL_CALL): the call's id, tool name and JSON arguments.
  std::string_view tool_call_id() const { return {raw->tool_call_id, raw->tool_call_id_len}; }
  std::string_view tool_name() const { return {raw->tool_name, raw->tool_name_len}; }
  std::string_view tool_arguments() const { return {raw->tool_arguments, raw->tool_arguments_len}; }
};

// A generation context on a model. The model must outlive it.
class session {
 public:
  explicit session(const model& m, const dianoia_session_params& p = dianoia_session_default_params()) {
    dianoia_session* s = nullptr;
    detail::check(dianoia_session_create(m.get(), &p, &s));
    h_.reset(s);
  }

  // Safe from any thread.
  void cancel() noexcept { dianoia_session_cancel(h_.get()); }

  // The callback returns false to stop. An exception thrown by it stops the generation and is
  // rethrown here after the C call returns (it never crosses the C boundary).
  using callback = std::function<bool(const event&)>;

  dianoia_event chat(const std::vector<chat_message>& messages, const callback& cb,
                     const dianoia_generate_params& p = dianoia_generate_default_params()) {
    const detail::c_messages cm(messages);
    return run(cb, [&](dianoia_event_fn fn, void* ud) {
      return dianoia_session_chat(h_.get(), cm.data(), cm.size(), &p, fn, ud);
    });
  }

  dianoia_event complete(std::string_view prompt, const callback& cb,
                         const dianoia_generate_params& p = dianoia_generate_default_params()) {
    return run(cb, [&](dianoia_event_fn fn, void* ud) {
      return dianoia_session_complete(h_.get(), prompt.data(), prompt.size(), &p, fn, ud);
    });
  }

  dianoia_event complete(const std::vector<int32_t>& tokens, const callback& cb,
                         const dianoia_generate_params& p = dianoia_generate_default_params()) {
    return run(cb, [&](dianoia_event_fn fn, void* ud) {
      return dianoia_session_complete_tokens(h_.get(), tokens.data(), tokens.size(), &p, fn, ud);
    });
  }

  // Logits of the last n_logits positions of `tokens` evaluated from an empty context (n_logits x n_vocab).
  std::vector<float> eval_logits(const std::vector<int32_t>& tokens, size_t n_logits) {
    size_t need = 0;
    dianoia_status st = dianoia_session_eval_logits(h_.get(), tokens.data(), tokens.size(), n_logits, nullptr, 0, &need);
    if (st != DIANOIA_ERR_BUFFER_TOO_SMALL) detail::check(st);
    std::vector<float> out(need);
    detail::check(dianoia_session_eval_logits(h_.get(), tokens.data(), tokens.size(), n_logits, out.data(), out.size(),
                                              &need));
    return out;
  }
  // As above; n_vocab is no longer needed (kept for source compatibility).
  std::vector<float> eval_logits(const std::vector<int32_t>& tokens, size_t n_logits, size_t /*n_vocab*/) {
    return eval_logits(tokens, n_logits);
  }

  // Prompt + generated token ids of the last generation (see dianoia_session_get_tokens).
  std::vector<int32_t> tokens() const {
    return detail::fill_buffer<int32_t>(256, [&](int32_t* b, size_t cap, size_t* n) {
      return dianoia_session_get_tokens(h_.get(), b, cap, n);
    });
  }

  // Self-consistency (see dianoia_session_chat_samples). Events of every sample reach `cb` (their
  // sample_index says which); the vote is returned. `extract` (optional) returns the answer of a
  // sample's content, or nullopt to abstain.
  struct vote_entry {
    std::string answer;
    uint32_t count;
    uint32_t first_sample;
    double weight = 0;  // confidence votes: the summed confidence of its samples
  };
  struct vote {
    std::vector<vote_entry> entries;  // by count (confidence votes: by weight), descending
    uint32_t abstained = 0;
    bool tie = false;
    // Confidence votes (params.vote != DIANOIA_VOTE_MAJORITY): per reported sample, its trace score and
    // whether it voted; the online threshold (NaN otherwise).
    std::vector<double> sample_confidences;
    std::vector<bool> sample_voted;
    double threshold = NAN;
  };
  using extractor = std::function<std::optional<std::string>(std::string_view content)>;
  vote chat_samples(const std::vector<chat_message>& messages, uint32_t n_samples, const callback& cb,
                    const dianoia_generate_params& p = dianoia_generate_default_params(), const extractor& extract = {}) {
    const detail::c_messages cm(messages);
    vote result;
    callback wrapped = [&](const event& e) {
      if (e.type == DIANOIA_EVENT_VOTE) {
        for (size_t i = 0; i < e.raw->n_votes; ++i) {
          const auto& v = e.raw->votes[i];
          result.entries.push_back({std::string(v.answer, v.answer_len), v.count, v.first_sample,
                                    e.raw->vote_weights ? e.raw->vote_weights[i] : 0.0});
        }
        result.abstained = e.raw->abstained;
        result.tie = e.raw->tie;
        for (size_t i = 0; i < e.raw->n_samples; ++i) {
          result.sample_confidences.push_back(e.raw->sample_confidences[i]);
          result.sample_voted.push_back(e.raw->sample_voted[i]);
        }
        result.threshold = e.raw->confidence_threshold;
      }
      return cb(e);
    };
    struct ex_state {
      const extractor* fn;
      std::string last;
    } ex{&extract, {}};
    auto ex_tramp = [](const char* c, size_t n, const char** a, size_t* an, void* ud) -> bool {
      auto* st = static_cast<ex_state*>(ud);
      try {
        auto r = (*st->fn)(std::string_view(c, n));
        if (!r) return false;
        st->last = std::move(*r);
        *a = st->last.data();
        *an = st->last.size();
        return true;
      } catch (...) {
        return false;  // an extractor that throws abstains
      }
    };
    run(wrapped, [&](dianoia_event_fn fn, void* ud) {
      return dianoia_session_chat_samples(h_.get(), cm.data(), cm.size(), n_samples, &p,
                                          extract ? +ex_tramp : nullptr, &ex, fn, ud);
    });
    return result;
  }

  // Session files (see dianoia_session_save / _load).
  void save(const std::string& path) { detail::check(dianoia_session_save(h_.get(), path.c_str())); }
  void load(const std::string& path) { detail::check(dianoia_session_load(h_.get(), path.c_str())); }

  dianoia_session* get() const noexcept { return h_.get(); }

 private:
  friend class conversation;
  struct state {
    const callback* cb;
    dianoia_event done{};
    std::exception_ptr err;
  };
  static bool trampoline(const dianoia_event* ev, void* ud) {
    auto* st = static_cast<state*>(ud);
    if (ev->type == DIANOIA_EVENT_DONE) st->done = *ev;
    if (st->err) return false;
    try {
      return (*st->cb)(event{ev->type, std::string_view(ev->text, ev->text_len), ev});
    } catch (...) {
      st->err = std::current_exception();
      return false;
    }
  }
  template <class F>
  static dianoia_event run_with(const callback& cb, F&& call) {
    state st{&cb, {}, nullptr};
    dianoia_status s = call(&trampoline, &st);
    if (st.err) std::rethrow_exception(st.err);
    detail::check(s);
    return st.done;
  }
  template <class F>
  dianoia_event run(const callback& cb, F&& call) {
    state st{&cb, {}, nullptr};
    dianoia_status s = call(&trampoline, &st);
    if (st.err) std::rethrow_exception(st.err);
    detail::check(s);
    return st.done;
  }

  detail::handle<dianoia_session, dianoia_session_free> h_;
};

// A multi-turn chat on a session that keeps the KV cache between turns (see dianoia_conversation_*).
// The session must outlive it.
class conversation {
 public:
  explicit conversation(session& s) {
    dianoia_conversation* c = nullptr;
    detail::check(dianoia_conversation_create(s.get(), &c));
    h_.reset(c);
  }
  void add(const chat_message& m) {
    const std::vector<chat_message> one{m};  // c_messages points into it
    const detail::c_messages cm(one);
    detail::check(dianoia_conversation_add(h_.get(), cm.data()));
  }
  void add(const std::string& role, const std::string& content, const std::optional<std::string>& reasoning = {}) {
    add(chat_message{role, content, reasoning});
  }
  // The user's turn; the reply streams to cb and is appended. Returns the DONE event.
  dianoia_event send(std::string_view text, const session::callback& cb,
                     const dianoia_generate_params& p = dianoia_generate_default_params()) {
    return session::run_with(cb, [&](dianoia_event_fn fn, void* ud) {
      return dianoia_conversation_send(h_.get(), text.data(), text.size(), &p, fn, ud);
    });
  }
  // The assistant's next turn for the messages as they stand (after tool results); see
  // dianoia_conversation_reply.
  dianoia_event reply(const session::callback& cb, const dianoia_generate_params& p = dianoia_generate_default_params()) {
    return session::run_with(cb, [&](dianoia_event_fn fn, void* ud) {
      return dianoia_conversation_reply(h_.get(), &p, fn, ud);
    });
  }
  // A tool's result for the call with this id (from a TOOL_CALL event).
  void add_tool_result(const std::string& tool_call_id, const std::string& name, const std::string& content) {
    detail::check(dianoia_conversation_add_tool_result(h_.get(), tool_call_id.c_str(), name.c_str(), content.c_str()));
  }
  struct message {
    std::string role, content, reasoning, extra_json;
  };
  std::vector<message> messages() const {
    size_t n = 0;
    detail::check(dianoia_conversation_message_count(h_.get(), &n));
    std::vector<message> out(n);
    for (size_t i = 0; i < n; ++i) {
      auto part = [&](dianoia_message_part p) {
        auto b = detail::fill_buffer<char>(64, [&](char* buf, size_t cap, size_t* len) {
          return dianoia_conversation_get_message(h_.get(), i, p, buf, cap, len);
        });
        return std::string(b.begin(), b.end());
      };
      out[i] = {part(DIANOIA_MESSAGE_ROLE), part(DIANOIA_MESSAGE_CONTENT), part(DIANOIA_MESSAGE_REASONING),
                part(DIANOIA_MESSAGE_EXTRA_JSON)};
    }
    return out;
  }
  void save(const std::string& path) { detail::check(dianoia_conversation_save(h_.get(), path.c_str())); }
  void load(const std::string& path) { detail::check(dianoia_conversation_load(h_.get(), path.c_str())); }

 private:
  detail::handle<dianoia_conversation, dianoia_conversation_free> h_;
};

// Streaming detokenizer (see dianoia_detokenizer_*): ids in, whole UTF-8 characters out. The model must
// outlive it.
class detokenizer {
 public:
  explicit detokenizer(const model& m, bool skip_special = false) {
    dianoia_detokenizer* d = nullptr;
    detail::check(dianoia_detokenizer_create(m.get(), skip_special, &d));
    h_.reset(d);
  }
  // The text `token` completes (possibly empty).
  std::string push(int32_t token) {
    const char* t = nullptr;
    size_t n = 0;
    detail::check(dianoia_detokenizer_push(h_.get(), token, &t, &n));
    return std::string(t, n);
  }
  // What was held back; the stream starts over.
  std::string flush() {
    const char* t = nullptr;
    size_t n = 0;
    detail::check(dianoia_detokenizer_flush(h_.get(), &t, &n));
    return std::string(t, n);
  }

 private:
  detail::handle<dianoia_detokenizer, dianoia_detokenizer_free> h_;
};

// Routes the library's log messages to fn (nullptr: stderr again). fn must stay valid until replaced.
inline void set_log(dianoia_log_fn fn, void* user_data = nullptr, dianoia_log_level min_level = DIANOIA_LOG_WARN) {
  detail::check(dianoia_log_set(fn, user_data, min_level));
}

}  // namespace dianoia
