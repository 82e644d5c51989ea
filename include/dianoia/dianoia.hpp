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

// A sampler stage implemented in C++ (see dianoia_sampler): derive, override apply() (and accept() /
// reset() if the stage keeps state), and add it with generate_params::add_sampler. Its methods run on
// the generating thread. Not copyable: the C table it hands the library points at this object.
class host_sampler {
 public:
  // The candidates as the chain left them. apply() may permute them, lower size (not to 0), change
  // logit and p, and set selected to an index < size to choose that token (required when picks).
  struct candidates {
    dianoia_candidate* data;
    size_t size;
    int64_t selected;
    dianoia_candidate& operator[](size_t i) noexcept { return data[i]; }
    dianoia_candidate* begin() noexcept { return data; }
    dianoia_candidate* end() noexcept { return data + size; }
  };

  explicit host_sampler(std::string name, bool picks = false) : name_(std::move(name)) {
    table_.struct_size = sizeof table_;
    table_.name = name_.c_str();
    table_.user_data = this;
    table_.picks = picks;
    // An exception never crosses the C boundary: apply() fails the generation (dianoia::error with
    // DIANOIA_ERR_INVALID_ARGUMENT naming this stage) and the exception is kept in error().
    table_.apply = [](void* u, dianoia_candidate* c, size_t* n, int64_t* selected) -> int {
      auto* self = static_cast<host_sampler*>(u);
      try {
        candidates cs{c, *n, *selected};
        self->apply(cs);
        *n = cs.size;
        *selected = cs.selected;
        return 0;
      } catch (...) {
        self->error_ = std::current_exception();
        return 1;
      }
    };
    table_.accept = [](void* u, int32_t token) {
      auto* self = static_cast<host_sampler*>(u);
      try {
        self->accept(token);
      } catch (...) {
        self->error_ = std::current_exception();
      }
    };
    table_.reset = [](void* u) {
      auto* self = static_cast<host_sampler*>(u);
      try {
        self->reset();
      } catch (...) {
        self->error_ = std::current_exception();
      }
    };
  }
  host_sampler(const host_sampler&) = delete;
  host_sampler& operator=(const host_sampler&) = delete;
  virtual ~host_sampler() = default;

  virtual void apply(candidates& c) = 0;
  virtual void accept(int32_t /*token*/) {}  // the token finally chosen
  virtual void reset() {}                    // a new generation starts

  const dianoia_sampler* table() const noexcept { return &table_; }
  const std::string& name() const noexcept { return name_; }
  // The last exception thrown by apply(), accept() or reset() (null if none).
  std::exception_ptr error() const noexcept { return error_; }

 private:
  std::string name_;
  dianoia_sampler table_{};
  std::exception_ptr error_;
};

// dianoia_generate_params that owns every string and array it points to, so it can be built from
// temporaries, copied, moved and kept: each copy points into its own storage. Set the numeric fields
// through -> (params->temperature = 0); set the pointer fields through the functions below (a pointer
// field set through -> is the caller's to keep valid, and left alone). Converts to
// const dianoia_generate_params&, so it goes wherever the C struct does.
class generate_params {
 public:
  generate_params() : c_(dianoia_generate_default_params()) {}
  generate_params(const generate_params& o) : c_(o.c_), owned_(o.owned_) { relink(); }
  generate_params(generate_params&& o) noexcept : c_(o.c_), owned_(std::move(o.owned_)) {
    relink();
    o.relink();
  }
  generate_params& operator=(const generate_params& o) {
    if (this != &o) {
      c_ = o.c_;
      owned_ = o.owned_;
      relink();
    }
    return *this;
  }
  generate_params& operator=(generate_params&& o) noexcept {
    if (this != &o) {
      c_ = o.c_;
      owned_ = std::move(o.owned_);
      relink();
      o.relink();
    }
    return *this;
  }

  dianoia_generate_params* operator->() noexcept { return &c_; }
  const dianoia_generate_params* operator->() const noexcept { return &c_; }
  const dianoia_generate_params& get() const noexcept { return c_; }
  operator const dianoia_generate_params&() const noexcept { return c_; }

  generate_params& stop(std::vector<std::string> strings) { return set(owned_.stop, std::move(strings)); }
  generate_params& continue_text(std::string s) { return set(owned_.continue_text, std::move(s)); }
  generate_params& wrap_up_text(std::string s) { return set(owned_.wrap_up_text, std::move(s)); }
  generate_params& tags(std::string open, std::string close) {
    owned_.open_tag = std::move(open);
    return set(owned_.close_tag, std::move(close));
  }
  generate_params& sampler_order(std::string s) { return set(owned_.sampler_order, std::move(s)); }
  generate_params& chat_template_kwargs(std::string json) { return set(owned_.kwargs, std::move(json)); }
  generate_params& tools(std::string json) { return set(owned_.tools, std::move(json)); }
  generate_params& dry_sequence_breakers(std::vector<std::string> s) { return set(owned_.breakers, std::move(s)); }
  generate_params& logit_bias(std::vector<dianoia_logit_bias> b) { return set(owned_.bias, std::move(b)); }
  // Appends a host stage (custom_samplers), kept alive by these params and their copies. A stage is
  // called by one generation at a time: copies used on several threads at once need stages of their own.
  generate_params& add_sampler(std::shared_ptr<host_sampler> s) {
    if (!s) throw error(DIANOIA_ERR_INVALID_ARGUMENT, "generate_params::add_sampler: null sampler");
    if (!owned_.samplers) owned_.samplers.emplace();
    owned_.samplers->push_back(std::move(s));
    relink();
    return *this;
  }

 private:
  struct storage {
    std::optional<std::string> continue_text, wrap_up_text, open_tag, close_tag, sampler_order, kwargs, tools;
    std::optional<std::vector<std::string>> stop, breakers;
    std::optional<std::vector<dianoia_logit_bias>> bias;
    std::optional<std::vector<std::shared_ptr<host_sampler>>> samplers;
    // Derived from the above by relink().
    std::vector<const char*> stop_ptrs, breaker_ptrs;
    std::vector<const dianoia_sampler*> sampler_ptrs;
  };
  template <class T>
  generate_params& set(std::optional<T>& field, T v) {
    field = std::move(v);
    relink();
    return *this;
  }
  static void ptrs(const std::vector<std::string>& from, std::vector<const char*>& to) {
    to.clear();
    for (const auto& s : from) to.push_back(s.c_str());
  }
  // Points the C struct's owned fields into this object's storage (after any change, copy or move).
  void relink() {
    auto& o = owned_;
    auto str = [](const std::optional<std::string>& v, const char*& field) {
      if (v) field = v->c_str();
    };
    str(o.continue_text, c_.continue_text);
    str(o.wrap_up_text, c_.wrap_up_text);
    str(o.open_tag, c_.open_tag);
    str(o.close_tag, c_.close_tag);
    str(o.sampler_order, c_.sampler_order);
    str(o.kwargs, c_.chat_template_kwargs);
    str(o.tools, c_.tools);
    if (o.stop) {
      ptrs(*o.stop, o.stop_ptrs);
      c_.stop = o.stop_ptrs.empty() ? nullptr : o.stop_ptrs.data();
      c_.n_stop = o.stop_ptrs.size();
    }
    if (o.breakers) {
      ptrs(*o.breakers, o.breaker_ptrs);
      c_.dry_sequence_breakers = o.breaker_ptrs.data();
      c_.n_dry_sequence_breakers = o.breaker_ptrs.size();
    }
    if (o.bias) {
      c_.logit_bias = o.bias->empty() ? nullptr : o.bias->data();
      c_.n_logit_bias = o.bias->size();
    }
    if (o.samplers) {
      o.sampler_ptrs.clear();
      for (const auto& s : *o.samplers) o.sampler_ptrs.push_back(s->table());
      c_.custom_samplers = o.sampler_ptrs.empty() ? nullptr : o.sampler_ptrs.data();
      c_.n_custom_samplers = o.sampler_ptrs.size();
    }
  }

  dianoia_generate_params c_;
  storage owned_;
};

// Routes the library's log messages to fn (nullptr: stderr again). fn must stay valid until replaced.
inline void set_log(dianoia_log_fn fn, void* user_data = nullptr, dianoia_log_level min_level = DIANOIA_LOG_WARN) {
  detail::check(dianoia_log_set(fn, user_data, min_level));
}

}  // namespace dianoia
