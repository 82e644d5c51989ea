// C ABI: sessions and generation.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "chat_glue.hpp"
#include "events.hpp"
#include "options.hpp"
#include "runtime/chat_prompt.hpp"
#include "runtime/memory_budget.hpp"
#include "runtime/session_file.hpp"
#include "runtime/vote.hpp"
#include "guard.hpp"
#include "handles.hpp"

using namespace dianoia;
using detail::errc;
using detail::fail;

namespace {

// Runs a generation, forwarding text (and token, and tool-call) events and the final DONE event to the host
// callback.
void run(dianoia_session& s, std::span<const int32_t> prompt, const detail::generate_options& opt,
         dianoia_event_fn on_event, void* user, bool allow_auto_reasoning) {
  if (!on_event) fail(errc::invalid_argument, "on_event is NULL");
  capi::event_emitter ev(on_event, user);
  const auto st = s.s->generate(prompt, opt, ev.text_sink(), allow_auto_reasoning, ev.token_sink(opt),
                                opt.tool_calls != detail::tool_syntax::none ? ev.tool_sink() : detail::tool_sink());
  ev.done(st);
}

std::vector<int32_t> chat_prompt(const dianoia_session& s, const std::vector<detail::chat_message>& msgs,
                                 const detail::generate_options& opt, const std::string& tools_json = {}) {
  const auto& m = *s.model->m;
  return detail::chat_prompt_tokens(m.chat_template(), m.tok(), s.model->reasoning(), msgs, opt, tools_json);
}

// Extracts the answers of samples, with the host's extractor or the default one.
struct answer_extractor {
  dianoia_extract_fn fn;
  void* user;
  std::optional<std::string> operator()(const std::string& content) const {
    if (!fn) return detail::extract_answer(content);
    const char* a = nullptr;
    size_t n = 0;
    if (fn(content.data(), content.size(), &a, &n, user) && (a || n == 0))
      return std::string(capi::text_arg(a, n, "extracted answer"));
    return std::nullopt;
  }
};

}  // namespace

extern "C" {

DIANOIA_API void dianoia_session_params_init(dianoia_session_params* out, size_t size) {
  dianoia_session_params p{};
  p.struct_size = sizeof p;
  capi::init_params(out, size, p);
}

DIANOIA_API void dianoia_generate_params_init(dianoia_generate_params* out, size_t size) {
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
  p.logprobs = -1;
  // The extended samplers start from the runtime's defaults (llama.cpp's, all off).
  const detail::sampler_params d;
  p.repeat_penalty = d.repeat_penalty;
  p.frequency_penalty = d.frequency_penalty;
  p.presence_penalty = d.presence_penalty;
  p.penalty_last_n = d.penalty_last_n;
  p.dry_multiplier = d.dry_multiplier;
  p.dry_base = d.dry_base;
  p.dry_allowed_length = d.dry_allowed_length;
  p.dry_penalty_last_n = d.dry_penalty_last_n;
  p.dynatemp_range = d.dynatemp_range;
  p.dynatemp_exponent = d.dynatemp_exponent;
  p.typical_p = d.typical_p;
  p.xtc_probability = d.xtc_probability;
  p.xtc_threshold = d.xtc_threshold;
  p.top_n_sigma = d.top_n_sigma;
  p.mirostat = d.mirostat;
  p.mirostat_tau = d.mirostat_tau;
  p.mirostat_eta = d.mirostat_eta;
  p.tool_call_syntax = DIANOIA_TOOL_SYNTAX_AUTO;
  const detail::deepconf_options dc;  // the paper's settings
  p.vote = DIANOIA_VOTE_MAJORITY;
  p.confidence_top_k = dc.top_k;
  p.confidence_window = dc.window;
  p.confidence_score = DIANOIA_CONFIDENCE_LOWEST_GROUP;
  p.confidence_keep_percent = static_cast<float>(dc.keep_percent);
  p.confidence_warmup = dc.warmup;
  p.confidence_consensus = static_cast<float>(dc.consensus);
  capi::init_params(out, size, p);
}

static_assert(DIANOIA_ISA_SCALAR - 1 == static_cast<int>(detail::isa::scalar));
static_assert(DIANOIA_ISA_AVX2 - 1 == static_cast<int>(detail::isa::avx2));
static_assert(DIANOIA_ISA_AVX_VNNI - 1 == static_cast<int>(detail::isa::avx_vnni));
static_assert(DIANOIA_ISA_AVX512 - 1 == static_cast<int>(detail::isa::avx512));
static_assert(DIANOIA_ISA_AVX512_VNNI - 1 == static_cast<int>(detail::isa::avx512_vnni));
static_assert(DIANOIA_ISA_AVX512_BF16 - 1 == static_cast<int>(detail::isa::avx512_bf16));

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
    const int32_t kv = p.kv_type;
    if (kv != DIANOIA_KV_F16 && kv != DIANOIA_KV_F32) fail(errc::invalid_argument, "kv_type {} is invalid", kv);
    // The KV cache is the session's big allocation: refuse it up front if it cannot fit (with the model's
    // weights, under the cap given at load; else in the memory the machine has available now).
    detail::memory_estimate need;
    need.kv_bytes = detail::estimate_kv_bytes(m.m->net().hp(), n_ctx, kv == DIANOIA_KV_F32);
    if (m.m->max_memory_bytes()) {
      need.mapped_bytes = m.m->memory().mapped_bytes;
      need.owned_bytes = m.m->memory().owned_bytes;
    }
    detail::check_memory_budget(need, m.m->max_memory_bytes(), "session");
    if (p.max_isa < DIANOIA_ISA_AUTO || p.max_isa > DIANOIA_ISA_AVX512_BF16)
      fail(errc::invalid_argument, "max_isa {} is not a DIANOIA_ISA_* level", p.max_isa);
    if (p.numerics != DIANOIA_NUMERICS_FAST && p.numerics != DIANOIA_NUMERICS_LLAMACPP)
      fail(errc::invalid_argument, "numerics {} is not a DIANOIA_NUMERICS_* value", p.numerics);
    detail::numerics_options num;
    if (p.max_isa != DIANOIA_ISA_AUTO) num.isa_ceiling = static_cast<detail::isa>(p.max_isa - 1);
    num.llamacpp_batches = p.numerics == DIANOIA_NUMERICS_LLAMACPP;
    h->s = std::make_unique<detail::session>(m.m->net(), m.m->tok(), n_ctx, threads, kv == DIANOIA_KV_F32);
    h->s->set_numerics(num);
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
    auto opt = capi::to_options(params);
    const auto tools = capi::read_tools(params, s.model->m->chat_template());
    opt.tool_calls = tools.syntax;
    const auto ids = chat_prompt(s, msgs, opt, tools.tools_json);
    run(s, ids, opt, on_event, user_data, true);
  });
}

DIANOIA_API dianoia_status dianoia_session_chat_samples(dianoia_session* session, const dianoia_chat_message* messages,
                                                        size_t n_messages, uint32_t n_samples,
                                                        const dianoia_generate_params* params, dianoia_extract_fn extract,
                                                        void* extract_user_data, dianoia_event_fn on_event,
                                                        void* user_data) {
  return capi::guarded([&] {
    auto& s = capi::require(session, "session");
    if (!on_event) fail(errc::invalid_argument, "on_event is NULL");
    const auto msgs = capi::read_messages(messages, n_messages);
    auto opt = capi::to_options(params);
    if (opt.logprobs >= 0) fail(errc::unsupported, "logprobs are not available with samples");
    if (!capi::read_tools(params, {}).tools_json.empty()) fail(errc::unsupported, "tools are not available with samples");
    const auto dc = capi::read_deepconf(params);
    if (dc) detail::apply_deepconf(*dc, opt);
    const auto ids = chat_prompt(s, msgs, opt);
    capi::event_emitter ev(on_event, user_data);
    const answer_extractor extract_one{extract, extract_user_data};
    std::vector<std::string> answers(n_samples);
    std::optional<detail::deepconf_online> online;
    if (dc && dc->how == detail::deepconf_options::mode::online)
      online.emplace(*dc, [&](uint32_t i) { return extract_one(answers.at(i)); });
    auto stats = s.s->generate_samples(
        ids, n_samples, opt,
        [&](uint32_t i, detail::channel ch, std::string_view t) {
          if (ch == detail::channel::content) answers.at(i) += t;
          return ev.text(ch, t, i);
        },
        true, online ? &online->control() : nullptr);
    std::vector<std::optional<std::string>> extracted;
    for (uint32_t i = 0; i < stats.size(); ++i) {
      ev.done(stats[i], i, dc ? detail::trace_score(*dc, stats[i]) : std::nan(""));
      extracted.push_back(extract_one(answers[i]));
    }
    if (!dc) {
      ev.vote(detail::majority_vote(extracted));
      return;
    }
    std::vector<bool> used;
    const std::optional<double> threshold = online ? online->threshold() : std::nullopt;
    const auto r = detail::deepconf_vote(*dc, extracted, stats, threshold, used);
    std::vector<double> scores;
    for (const auto& st : stats) scores.push_back(detail::trace_score(*dc, st));
    ev.vote(r, &scores, &used, threshold);
  });
}

DIANOIA_API dianoia_status dianoia_session_save(dianoia_session* session, const char* path) {
  return capi::guarded([&] {
    auto& s = capi::require(session, "session");
    if (!path) fail(errc::invalid_argument, "path is NULL");
    detail::save_session(*s.s, s.model->m->tok(), path);
  });
}

DIANOIA_API dianoia_status dianoia_session_load(dianoia_session* session, const char* path) {
  return capi::guarded([&] {
    auto& s = capi::require(session, "session");
    if (!path) fail(errc::invalid_argument, "path is NULL");
    detail::load_session(*s.s, s.model->m->tok(), path);
  });
}

DIANOIA_API dianoia_status dianoia_session_complete(dianoia_session* session, const char* prompt, size_t prompt_len,
                                                    const dianoia_generate_params* params, dianoia_event_fn on_event,
                                                    void* user_data) {
  return capi::guarded([&] {
    auto& s = capi::require(session, "session");
    const std::string_view text = capi::text_arg(prompt, prompt_len, "prompt");
    const auto ids = detail::completion_prompt_tokens(s.model->m->tok(), text);
    run(s, ids, capi::to_options(params), on_event, user_data, false);
  });
}

DIANOIA_API dianoia_status dianoia_session_complete_tokens(dianoia_session* session, const int32_t* tokens,
                                                           size_t n_tokens, const dianoia_generate_params* params,
                                                           dianoia_event_fn on_event, void* user_data) {
  return capi::guarded([&] {
    auto& s = capi::require(session, "session");
    if (n_tokens && !tokens) fail(errc::invalid_argument, "tokens is NULL");
    run(s, std::span<const int32_t>(tokens, n_tokens), capi::to_options(params), on_event, user_data, false);
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
                                                       size_t n_logits, float* logits, size_t capacity,
                                                       size_t* n_floats) {
  if (n_floats) *n_floats = 0;
  return capi::guarded([&] {
    auto& s = capi::require(session, "session");
    if (n_tokens && !tokens) fail(errc::invalid_argument, "tokens is NULL");
    const size_t n_vocab = s.model->m->hp().n_vocab;
    if (n_logits > (size_t{1} << 24)) fail(errc::invalid_argument, "n_logits {} is too large", n_logits);
    const size_t need = n_logits * n_vocab;
    if (n_floats) *n_floats = need;
    if (need > capacity)
      fail(errc::buffer_too_small, "the logits need {} floats, the buffer holds {}", need, capacity);
    auto out = s.s->eval_logits(std::span<const int32_t>(tokens, n_tokens), n_logits);
    capi::copy_out(out.data(), out.size(), logits, capacity, n_floats);
  });
}

}  // extern "C"
