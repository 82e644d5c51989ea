// C ABI: models, tokens, chat templates.
#include <cstddef>
#include <string>
#include <vector>

#include "chat_glue.hpp"
#include "guard.hpp"
#include "handles.hpp"
#include "runtime/chat_prompt.hpp"

using namespace dianoia;
using detail::errc;
using detail::fail;


namespace dianoia::capi {

std::string render_chat(const detail::loaded_model* m, const char* tmpl, const std::vector<detail::chat_message>& msgs,
                        bool add_generation_prompt, std::optional<bool> enable_thinking,
                        const std::string& tools_json) {
  std::string_view source;
  if (tmpl) {
    source = tmpl;
  } else {
    if (!m) fail(errc::invalid_argument, "model and template are both NULL");
    if (m->chat_template().empty()) fail(errc::unsupported, "the model file has no chat template");
    source = m->chat_template();
  }
  return detail::render_chat(source, m ? &m->tok() : nullptr, msgs, add_generation_prompt, {}, enable_thinking,
                             tools_json);
}

}  // namespace dianoia::capi

extern "C" {

DIANOIA_API void dianoia_model_params_init(dianoia_model_params* out, size_t size) {
  dianoia_model_params p{};
  p.struct_size = sizeof p;
  p.use_mmap = true;
  capi::init_params(out, size, p);
}

DIANOIA_API dianoia_status dianoia_model_load(const char* path, const dianoia_model_params* params,
                                              dianoia_model** out_model) {
  if (out_model) *out_model = nullptr;
  return capi::guarded([&] {
    capi::require(out_model, "out_model");
    if (!path) fail(errc::invalid_argument, "path is NULL");
    const auto p = capi::read_params(params, dianoia_model_default_params(), "dianoia_model_params");
    detail::load_options opt;
    opt.context_length = p.context_length;
    opt.vocab_only = p.vocab_only;
    opt.max_memory_bytes = p.max_memory_bytes;
    opt.use_mmap = p.use_mmap;
    if (p.progress) {
      auto fn = p.progress;
      void* ud = p.progress_user_data;
      opt.progress = [fn, ud](float x) { return fn(x, ud); };
    }
    auto h = std::make_unique<dianoia_model>();
    h->m = detail::loaded_model::load(path, opt);
    *out_model = h.release();
  });
}

DIANOIA_API void dianoia_model_free(dianoia_model* model) { delete model; }

DIANOIA_API dianoia_status dianoia_model_get_info(const dianoia_model* model, dianoia_model_info* info) {
  return capi::guarded([&] {
    const auto& m = *capi::require(model, "model").m;
    auto& out = capi::require(info, "info");
    if (out.struct_size < sizeof(size_t)) fail(errc::invalid_argument, "info->struct_size is not set");
    dianoia_model_info i{};
    i.struct_size = sizeof i;
    i.architecture = m.hp().arch.c_str();
    i.name = m.name().c_str();
    i.n_params = m.hp().n_params;
    i.n_vocab = m.hp().n_vocab;
    i.n_layers = m.hp().n_layer;
    i.n_embd = m.hp().n_embd;
    i.context_length = m.n_ctx();
    i.context_length_train = m.hp().n_ctx_train;
    i.has_chat_template = !m.chat_template().empty();
    i.bos_token = m.tok().bos();
    i.eos_token = m.tok().eos();
    i.format = m.format().c_str();
    i.file_bytes = m.file_bytes();
    i.memory_bytes = m.memory().mapped_bytes + m.memory().owned_bytes;
    i.repacked_bytes = m.memory().owned_bytes;
    i.tensor_types = m.tensor_type_summary().c_str();
    i.tokenizer_kind = m.tokenizer_kind().c_str();
    i.reasoning_family = model->reasoning().family.c_str();
    const size_t n = out.struct_size < sizeof i ? out.struct_size : sizeof i;
    const size_t caller_size = out.struct_size;
    std::memcpy(static_cast<void*>(&out), &i, n);
    out.struct_size = caller_size;
  });
}

DIANOIA_API dianoia_status dianoia_model_apply_generation_defaults(const dianoia_model* model,
                                                                   dianoia_generate_params* params) {
  return capi::guarded([&] {
    const auto& g = capi::require(model, "model").m->generation();
    auto& p = capi::require(params, "params");
    if (p.struct_size < offsetof(dianoia_generate_params, min_p) + sizeof(float))
      fail(errc::invalid_argument, "params->struct_size {} is too small (use dianoia_generate_default_params)",
           p.struct_size);
    if (g.temperature) p.temperature = *g.temperature;
    if (g.top_p) p.top_p = *g.top_p;
    if (g.top_k) p.top_k = *g.top_k;
    if (g.min_p) p.min_p = *g.min_p;
    if (g.do_sample && !*g.do_sample) p.temperature = 0.0f;
  });
}

DIANOIA_API dianoia_status dianoia_tokenize(const dianoia_model* model, const char* text, size_t text_len,
                                            bool add_special, bool parse_special, int32_t* tokens, size_t capacity,
                                            size_t* n_tokens) {
  if (n_tokens) *n_tokens = 0;
  return capi::guarded([&] {
    const auto& m = *capi::require(model, "model").m;
    auto s = capi::text_arg(text, text_len, "text");
    auto ids = m.tok().encode(s, add_special, parse_special);
    capi::copy_out(ids.data(), ids.size(), tokens, capacity, n_tokens);
  });
}

DIANOIA_API dianoia_status dianoia_detokenize(const dianoia_model* model, const int32_t* tokens, size_t n_tokens,
                                              bool skip_special, char* text, size_t capacity, size_t* n_bytes) {
  if (n_bytes) *n_bytes = 0;
  return capi::guarded([&] {
    const auto& m = *capi::require(model, "model").m;
    if (n_tokens && !tokens) fail(errc::invalid_argument, "tokens is NULL");
    std::string s = m.tok().decode(std::span<const int32_t>(tokens, n_tokens), skip_special);
    capi::copy_out(s.data(), s.size(), text, capacity, n_bytes);
  });
}

DIANOIA_API dianoia_status dianoia_chat_apply_template(const dianoia_model* model, const char* tmpl,
                                                       const dianoia_chat_message* messages, size_t n_messages,
                                                       bool add_generation_prompt, const char* chat_template_kwargs,
                                                       char* out, size_t capacity, size_t* n_bytes) {
  if (n_bytes) *n_bytes = 0;
  return capi::guarded([&] {
    const auto msgs = capi::read_messages(messages, n_messages);
    const std::string kwargs = capi::read_kwargs(chat_template_kwargs);
    std::string_view source;
    if (tmpl) {
      source = tmpl;
    } else {
      if (!model) fail(errc::invalid_argument, "model and template are both NULL");
      if (model->m->chat_template().empty()) fail(errc::unsupported, "the model file has no chat template");
      source = model->m->chat_template();
    }
    const std::string s =
        detail::render_chat(source, model ? &model->m->tok() : nullptr, msgs, add_generation_prompt, kwargs);
    capi::copy_out(s.data(), s.size(), out, capacity, n_bytes);
  });
}

}  // extern "C"
