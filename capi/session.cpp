// C ABI: sessions and generation.
#include <algorithm>
#include <thread>
#include <vector>

#include "chat_glue.hpp"
#include "guard.hpp"
#include "handles.hpp"

using namespace dianoia;
using detail::errc;
using detail::fail;

namespace {

detail::generate_options to_options(const dianoia_generate_params* in) {
  const auto p = capi::read_params(in, dianoia_generate_default_params(), "dianoia_generate_params");
  detail::generate_options o;
  o.max_tokens = p.max_tokens;
  o.sampling.temperature = p.temperature;
  o.sampling.top_k = p.top_k;
  o.sampling.top_p = p.top_p;
  o.sampling.min_p = p.min_p;
  o.sampling.seed = p.seed;
  switch (const int mode = capi::enum_value(p.reasoning)) {
    case DIANOIA_REASONING_AUTO: o.reasoning = detail::reasoning_mode::automatic; break;
    case DIANOIA_REASONING_ON: o.reasoning = detail::reasoning_mode::on; break;
    case DIANOIA_REASONING_OFF: o.reasoning = detail::reasoning_mode::off; break;
    default: fail(errc::invalid_argument, "reasoning mode {} is invalid", mode);
  }
  o.max_reasoning_tokens = p.max_reasoning_tokens;
  o.ignore_eos = p.ignore_eos;
  return o;
}

// Runs a generation, forwarding text events and the final DONE event to the host callback.
void run(dianoia_session& s, std::span<const int32_t> prompt, const dianoia_generate_params* params,
         dianoia_event_fn on_event, void* user, bool allow_auto_reasoning) {
  if (!on_event) fail(errc::invalid_argument, "on_event is NULL");
  const auto opt = to_options(params);
  auto sink = [&](detail::channel ch, std::string_view text) {
    dianoia_event ev{};
    ev.struct_size = sizeof ev;
    ev.type = ch == detail::channel::reasoning ? DIANOIA_EVENT_REASONING : DIANOIA_EVENT_CONTENT;
    ev.text = text.data();
    ev.text_len = text.size();
    return on_event(&ev, user);
  };
  const auto st = s.s->generate(prompt, opt, sink, allow_auto_reasoning);
  dianoia_event done{};
  done.struct_size = sizeof done;
  done.type = DIANOIA_EVENT_DONE;
  done.text = "";
  done.stop_reason = static_cast<dianoia_stop_reason>(st.stop);
  done.prompt_tokens = st.prompt_tokens;
  done.reasoning_tokens = st.reasoning_tokens;
  done.content_tokens = st.content_tokens;
  done.prompt_seconds = st.prompt_seconds;
  done.generate_seconds = st.generate_seconds;
  on_event(&done, user);
}

}  // namespace

extern "C" {

DIANOIA_API dianoia_session_params dianoia_session_default_params(void) {
  dianoia_session_params p{};
  p.struct_size = sizeof p;
  return p;
}

DIANOIA_API dianoia_generate_params dianoia_generate_default_params(void) {
  dianoia_generate_params p{};
  p.struct_size = sizeof p;
  p.max_tokens = 512;
  p.temperature = 0.6f;  // DeepSeek-R1's recommended range is 0.5-0.7
  p.top_k = 40;
  p.top_p = 0.95f;
  p.min_p = 0.05f;
  p.seed = 0;
  p.reasoning = DIANOIA_REASONING_AUTO;
  p.max_reasoning_tokens = -1;
  return p;
}

DIANOIA_API dianoia_status dianoia_session_create(dianoia_model* model, const dianoia_session_params* params,
                                                  dianoia_session** out_session) {
  if (out_session) *out_session = nullptr;
  return capi::guarded([&] {
    capi::require(out_session, "out_session");
    auto& m = capi::require(model, "model");
    const auto p = capi::read_params(params, dianoia_session_default_params(), "dianoia_session_params");
    if (p.n_threads < 0 || p.n_threads > 1024) fail(errc::invalid_argument, "n_threads {} is invalid", p.n_threads);
    int threads = p.n_threads;
    if (threads == 0) threads = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 2u));
    const uint32_t n_ctx = p.context_length ? p.context_length : m.m->n_ctx();
    if (n_ctx > (1u << 20)) fail(errc::invalid_argument, "context length {} is too large", n_ctx);
    auto h = std::make_unique<dianoia_session>();
    h->model = model;
    const int kv = capi::enum_value(p.kv_type);
    if (kv != DIANOIA_KV_F16 && kv != DIANOIA_KV_F32) fail(errc::invalid_argument, "kv_type {} is invalid", kv);
    h->s = std::make_unique<detail::session>(m.m->net(), m.m->tok(), n_ctx, threads, kv == DIANOIA_KV_F32);
    *out_session = h.release();
  });
}

DIANOIA_API void dianoia_session_free(dianoia_session* session) { delete session; }

DIANOIA_API void dianoia_session_cancel(dianoia_session* session) {
  if (session && session->s) session->s->cancel();
}

DIANOIA_API dianoia_status dianoia_session_chat(dianoia_session* session, const dianoia_chat_message* messages,
                                                size_t n_messages, const dianoia_generate_params* params,
                                                dianoia_event_fn on_event, void* user_data) {
  return capi::guarded([&] {
    auto& s = capi::require(session, "session");
    auto msgs = capi::read_messages(messages, n_messages);
    if (msgs.empty()) fail(errc::invalid_argument, "the conversation has no messages");
    const auto& m = *s.model->m;
    const std::string text = capi::render_chat(&m, nullptr, msgs, true);
    const auto ids = m.tok().encode(text, false, true);
    run(s, ids, params, on_event, user_data, true);
  });
}

DIANOIA_API dianoia_status dianoia_session_complete(dianoia_session* session, const char* prompt, size_t prompt_len,
                                                    const dianoia_generate_params* params, dianoia_event_fn on_event,
                                                    void* user_data) {
  return capi::guarded([&] {
    auto& s = capi::require(session, "session");
    const std::string_view text = capi::text_arg(prompt, prompt_len, "prompt");
    const auto& tok = s.model->m->tok();
    auto ids = tok.encode(text, false, false);
    if (tok.bos() >= 0 && (tok.add_bos() || ids.empty())) ids.insert(ids.begin(), tok.bos());
    run(s, ids, params, on_event, user_data, false);
  });
}

DIANOIA_API dianoia_status dianoia_session_complete_tokens(dianoia_session* session, const int32_t* tokens,
                                                           size_t n_tokens, const dianoia_generate_params* params,
                                                           dianoia_event_fn on_event, void* user_data) {
  return capi::guarded([&] {
    auto& s = capi::require(session, "session");
    if (n_tokens && !tokens) fail(errc::invalid_argument, "tokens is NULL");
    run(s, std::span<const int32_t>(tokens, n_tokens), params, on_event, user_data, false);
  });
}

DIANOIA_API dianoia_status dianoia_session_get_tokens(const dianoia_session* session, int32_t* tokens, size_t capacity,
                                                      size_t* n_tokens) {
  if (n_tokens) *n_tokens = 0;
  return capi::guarded([&] {
    const auto& t = capi::require(session, "session").s->tokens();
    capi::copy_out(t.data(), t.size(), tokens, capacity, n_tokens);
  });
}

DIANOIA_API dianoia_status dianoia_session_eval_logits(dianoia_session* session, const int32_t* tokens, size_t n_tokens,
                                                       size_t n_logits, float* logits, size_t capacity) {
  return capi::guarded([&] {
    auto& s = capi::require(session, "session");
    if (n_tokens && !tokens) fail(errc::invalid_argument, "tokens is NULL");
    auto out = s.s->eval_logits(std::span<const int32_t>(tokens, n_tokens), n_logits);
    capi::copy_out(out.data(), out.size(), logits, capacity, nullptr);
  });
}

}  // extern "C"
