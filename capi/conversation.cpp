// C ABI: conversations.
#include "chat_glue.hpp"
#include "events.hpp"
#include "guard.hpp"
#include "handles.hpp"
#include "options.hpp"
#include "runtime/session_file.hpp"

using namespace dianoia;
using detail::errc;
using detail::fail;

extern "C" {

DIANOIA_API dianoia_status dianoia_conversation_create(dianoia_session* session, dianoia_conversation** out) {
  if (out) *out = nullptr;
  return capi::guarded([&] {
    capi::require(out, "out");
    auto& s = capi::require(session, "session");
    auto h = std::make_unique<dianoia_conversation>();
    h->session = session;
    h->c = std::make_unique<detail::conversation>(*s.s, s.model->m->tok(), s.model->m->chat_template());
    *out = h.release();
  });
}

DIANOIA_API void dianoia_conversation_free(dianoia_conversation* conversation) { delete conversation; }

DIANOIA_API dianoia_status dianoia_conversation_add(dianoia_conversation* conversation,
                                                    const dianoia_chat_message* message) {
  return capi::guarded([&] {
    auto& c = capi::require(conversation, "conversation");
    c.c->add(capi::read_message(capi::require(message, "message"), c.c->messages().size()));
  });
}

DIANOIA_API dianoia_status dianoia_conversation_send(dianoia_conversation* conversation, const char* text,
                                                     size_t text_len, const dianoia_generate_params* params,
                                                     dianoia_event_fn on_event, void* user_data) {
  return capi::guarded([&] {
    auto& c = capi::require(conversation, "conversation");
    if (!on_event) fail(errc::invalid_argument, "on_event is NULL");
    const std::string_view t = capi::text_arg(text, text_len, "text");
    const auto opt = capi::to_options(params);
    capi::event_emitter ev(on_event, user_data);
    const auto st = c.c->send(t, opt, ev.text_sink(), ev.token_sink(opt));
    ev.done(st);
  });
}

DIANOIA_API dianoia_status dianoia_conversation_message_count(const dianoia_conversation* conversation, size_t* n) {
  if (n) *n = 0;
  return capi::guarded([&] { capi::require(n, "n") = capi::require(conversation, "conversation").c->messages().size(); });
}

DIANOIA_API dianoia_status dianoia_conversation_get_message(const dianoia_conversation* conversation, size_t index,
                                                            dianoia_message_part part, char* out, size_t capacity,
                                                            size_t* n_bytes) {
  if (n_bytes) *n_bytes = 0;
  return capi::guarded([&] {
    const auto& msgs = capi::require(conversation, "conversation").c->messages();
    if (index >= msgs.size()) fail(errc::invalid_argument, "message {} does not exist ({} messages)", index, msgs.size());
    const auto& m = msgs[index];
    const std::string* s = nullptr;
    static const std::string empty;
    switch (const int32_t p = part) {
      case DIANOIA_MESSAGE_ROLE: s = &m.role; break;
      case DIANOIA_MESSAGE_CONTENT: s = &m.content; break;
      case DIANOIA_MESSAGE_REASONING: s = m.reasoning_content ? &*m.reasoning_content : &empty; break;
      case DIANOIA_MESSAGE_EXTRA_JSON: s = &m.extra_json; break;
      default: fail(errc::invalid_argument, "message part {} is invalid", p);
    }
    capi::copy_out(s->data(), s->size(), out, capacity, n_bytes);
  });
}

DIANOIA_API dianoia_status dianoia_conversation_save(dianoia_conversation* conversation, const char* path) {
  return capi::guarded([&] {
    auto& c = capi::require(conversation, "conversation");
    if (!path) fail(errc::invalid_argument, "path is NULL");
    detail::save_session(*c.session->s, c.session->model->m->tok(), path, c.c->messages_json());
  });
}

DIANOIA_API dianoia_status dianoia_conversation_load(dianoia_conversation* conversation, const char* path) {
  return capi::guarded([&] {
    auto& c = capi::require(conversation, "conversation");
    if (!path) fail(errc::invalid_argument, "path is NULL");
    const std::string payload = detail::load_session(*c.session->s, c.session->model->m->tok(), path);
    if (payload.empty()) fail(errc::format, "'{}' is a session file without a conversation", path);
    c.c->restore_messages(payload);
  });
}

}  // extern "C"
