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

namespace {

// A required (non-NULL), NUL-terminated UTF-8 argument.
std::string c_string(const char* s, const char* what) {
  if (!s) fail(errc::invalid_argument, "{} is NULL", what);
  const std::string_view v(s);
  return std::string(capi::text_arg(v.data(), v.size(), what));
}

}  // namespace

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

// A turn of the conversation: the user's (text given) or the assistant's next (reply).
static void turn(dianoia_conversation& c, const std::string_view* text, const dianoia_generate_params* params,
                 dianoia_event_fn on_event, void* user_data) {
  if (!on_event) fail(errc::invalid_argument, "on_event is NULL");
  auto opt = capi::to_options(params);
  const auto tools = capi::read_tools(params, c.session->model->m->chat_template());
  c.c->set_tools(tools.tools_json, tools.explicit_syntax ? std::optional(tools.syntax) : std::nullopt);
  if (tools.syntax != detail::tool_syntax::none) opt.tool_calls = tools.syntax;
  capi::event_emitter ev(on_event, user_data);
  const auto tool_sink = ev.tool_sink();
  const auto st = text ? c.c->send(*text, opt, ev.text_sink(), ev.token_sink(opt), tool_sink)
                       : c.c->reply(opt, ev.text_sink(), ev.token_sink(opt), tool_sink);
  ev.done(st);
}

DIANOIA_API dianoia_status dianoia_conversation_send(dianoia_conversation* conversation, const char* text,
                                                     size_t text_len, const dianoia_generate_params* params,
                                                     dianoia_event_fn on_event, void* user_data) {
  return capi::guarded([&] {
    auto& c = capi::require(conversation, "conversation");
    const std::string_view t = capi::text_arg(text, text_len, "text");
    turn(c, &t, params, on_event, user_data);
  });
}

DIANOIA_API dianoia_status dianoia_conversation_reply(dianoia_conversation* conversation,
                                                      const dianoia_generate_params* params,
                                                      dianoia_event_fn on_event, void* user_data) {
  return capi::guarded([&] { turn(capi::require(conversation, "conversation"), nullptr, params, on_event, user_data); });
}

DIANOIA_API dianoia_status dianoia_conversation_add_tool_result(dianoia_conversation* conversation,
                                                                const char* tool_call_id, const char* name,
                                                                const char* content) {
  return capi::guarded([&] {
    auto& c = capi::require(conversation, "conversation");
    const std::string id = tool_call_id ? c_string(tool_call_id, "tool_call_id") : std::string();
    const std::string n = name ? c_string(name, "name") : std::string();
    c.c->add_tool_result(id, n, c_string(content, "content"));
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
