//! Raw declarations of libdianoia's C ABI, version 1 (`capi/dianoia.h`): field for field, function for
//! function. Every named constant of the header is an `i32` here, as in the header (enumerations are
//! `int32_t` so that an unknown value is never undefined behaviour). See the header for ownership,
//! thread-safety and errors; the `dianoia` crate is the safe layer.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_void};

pub type dianoia_status = i32;
pub const DIANOIA_OK: dianoia_status = 0;
pub const DIANOIA_ERR_INVALID_ARGUMENT: dianoia_status = 1;
pub const DIANOIA_ERR_IO: dianoia_status = 2;
pub const DIANOIA_ERR_FORMAT: dianoia_status = 3;
pub const DIANOIA_ERR_UNSUPPORTED: dianoia_status = 4;
pub const DIANOIA_ERR_OUT_OF_MEMORY: dianoia_status = 5;
pub const DIANOIA_ERR_CONTEXT_FULL: dianoia_status = 6;
pub const DIANOIA_ERR_CANCELLED: dianoia_status = 7;
pub const DIANOIA_ERR_BUFFER_TOO_SMALL: dianoia_status = 8;
pub const DIANOIA_ERR_INTERNAL: dianoia_status = 9;

pub const DIANOIA_VERSION_MAJOR: u32 = 1;

pub const DIANOIA_LOG_DEBUG: i32 = 0;
pub const DIANOIA_LOG_INFO: i32 = 1;
pub const DIANOIA_LOG_WARN: i32 = 2;
pub const DIANOIA_LOG_ERROR: i32 = 3;
pub const DIANOIA_LOG_NONE: i32 = 4;

pub const DIANOIA_KV_F16: i32 = 0;
pub const DIANOIA_KV_F32: i32 = 1;
pub const DIANOIA_REASONING_AUTO: i32 = 0;
pub const DIANOIA_REASONING_ON: i32 = 1;
pub const DIANOIA_REASONING_OFF: i32 = 2;
pub const DIANOIA_GRAMMAR_NONE: i32 = 0;
pub const DIANOIA_GRAMMAR_JSON_SCHEMA: i32 = 1;
pub const DIANOIA_GRAMMAR_LARK: i32 = 2;
pub const DIANOIA_GRAMMAR_REGEX: i32 = 3;

pub const DIANOIA_EVENT_REASONING: i32 = 1;
pub const DIANOIA_EVENT_CONTENT: i32 = 2;
pub const DIANOIA_EVENT_DONE: i32 = 3;
pub const DIANOIA_EVENT_TOKEN: i32 = 4;
pub const DIANOIA_EVENT_VOTE: i32 = 5;
pub const DIANOIA_EVENT_TOOL_CALL: i32 = 6;

pub const DIANOIA_STOP_NONE: i32 = 0;
pub const DIANOIA_STOP_EOS: i32 = 1;
pub const DIANOIA_STOP_MAX_TOKENS: i32 = 2;
pub const DIANOIA_STOP_CONTEXT_FULL: i32 = 3;
pub const DIANOIA_STOP_CANCELLED: i32 = 4;
pub const DIANOIA_STOP_CALLBACK: i32 = 5;
pub const DIANOIA_STOP_STRING: i32 = 6;

pub const DIANOIA_MESSAGE_ROLE: i32 = 0;
pub const DIANOIA_MESSAGE_CONTENT: i32 = 1;
pub const DIANOIA_MESSAGE_REASONING: i32 = 2;
pub const DIANOIA_MESSAGE_EXTRA_JSON: i32 = 3;

#[repr(C)]
pub struct dianoia_model {
    _private: [u8; 0],
}
#[repr(C)]
pub struct dianoia_session {
    _private: [u8; 0],
}
#[repr(C)]
pub struct dianoia_conversation {
    _private: [u8; 0],
}
#[repr(C)]
pub struct dianoia_detokenizer {
    _private: [u8; 0],
}

pub type dianoia_progress_fn = Option<unsafe extern "C" fn(progress: f32, user_data: *mut c_void) -> bool>;
pub type dianoia_log_fn = Option<unsafe extern "C" fn(level: i32, message: *const c_char, user_data: *mut c_void)>;
pub type dianoia_event_fn = Option<unsafe extern "C" fn(event: *const dianoia_event, user_data: *mut c_void) -> bool>;
pub type dianoia_extract_fn = Option<
    unsafe extern "C" fn(
        content: *const c_char,
        content_len: usize,
        answer: *mut *const c_char,
        answer_len: *mut usize,
        user_data: *mut c_void,
    ) -> bool,
>;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct dianoia_model_params {
    pub struct_size: usize,
    pub context_length: u32,
    pub progress: dianoia_progress_fn,
    pub progress_user_data: *mut c_void,
    pub vocab_only: bool,
    pub max_memory_bytes: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct dianoia_model_info {
    pub struct_size: usize,
    pub architecture: *const c_char,
    pub name: *const c_char,
    pub n_params: u64,
    pub n_vocab: u32,
    pub n_layers: u32,
    pub n_embd: u32,
    pub context_length: u32,
    pub context_length_train: u32,
    pub has_chat_template: bool,
    pub bos_token: i32,
    pub eos_token: i32,
    pub format: *const c_char,
    pub file_bytes: u64,
    pub memory_bytes: u64,
    pub repacked_bytes: u64,
    pub tensor_types: *const c_char,
    pub tokenizer_kind: *const c_char,
    pub reasoning_family: *const c_char,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct dianoia_tool_call {
    pub id: *const c_char,
    pub name: *const c_char,
    pub arguments: *const c_char,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct dianoia_chat_message {
    pub role: *const c_char,
    pub content: *const c_char,
    pub reasoning_content: *const c_char,
    pub tool_calls: *const dianoia_tool_call,
    pub n_tool_calls: usize,
    pub tool_call_id: *const c_char,
    pub name: *const c_char,
    pub extra_json: *const c_char,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct dianoia_session_params {
    pub struct_size: usize,
    pub context_length: u32,
    pub n_threads: i32,
    pub kv_type: i32,
    pub max_isa: i32,
    pub numerics: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct dianoia_logit_bias {
    pub token: i32,
    pub bias: f32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct dianoia_candidate {
    pub id: i32,
    pub logit: f32,
    pub p: f32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct dianoia_sampler {
    pub struct_size: usize,
    pub name: *const c_char,
    pub apply: Option<
        unsafe extern "C" fn(user_data: *mut c_void, candidates: *mut dianoia_candidate, n: *mut usize, selected: *mut i64) -> i32,
    >,
    pub accept: Option<unsafe extern "C" fn(user_data: *mut c_void, token: i32)>,
    pub reset: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
    pub user_data: *mut c_void,
    pub picks: bool,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct dianoia_generate_params {
    pub struct_size: usize,
    pub max_tokens: i32,
    pub temperature: f32,
    pub top_k: i32,
    pub top_p: f32,
    pub min_p: f32,
    pub seed: u64,
    pub reasoning: i32,
    pub max_reasoning_tokens: i32,
    pub ignore_eos: bool,
    pub min_reasoning_tokens: i32,
    pub continue_text: *const c_char,
    pub wrap_up_text: *const c_char,
    pub open_tag: *const c_char,
    pub close_tag: *const c_char,
    pub stop: *const *const c_char,
    pub n_stop: usize,
    pub logprobs: i32,
    pub repeat_penalty: f32,
    pub frequency_penalty: f32,
    pub presence_penalty: f32,
    pub penalty_last_n: i32,
    pub dry_multiplier: f32,
    pub dry_base: f32,
    pub dry_allowed_length: i32,
    pub dry_penalty_last_n: i32,
    pub dry_sequence_breakers: *const *const c_char,
    pub n_dry_sequence_breakers: usize,
    pub dynatemp_range: f32,
    pub dynatemp_exponent: f32,
    pub typical_p: f32,
    pub xtc_probability: f32,
    pub xtc_threshold: f32,
    pub top_n_sigma: f32,
    pub mirostat: i32,
    pub mirostat_tau: f32,
    pub mirostat_eta: f32,
    pub logit_bias: *const dianoia_logit_bias,
    pub n_logit_bias: usize,
    pub sampler_order: *const c_char,
    pub custom_samplers: *const *const dianoia_sampler,
    pub n_custom_samplers: usize,
    pub chat_template_kwargs: *const c_char,
    pub tools: *const c_char,
    pub tool_call_syntax: i32,
    pub vote: i32,
    pub confidence_top_k: i32,
    pub confidence_window: u32,
    pub confidence_score: i32,
    pub confidence_keep_percent: f32,
    pub confidence_warmup: u32,
    pub confidence_consensus: f32,
    pub grammar_kind: i32,
    pub grammar: *const c_char,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct dianoia_vote_entry {
    pub answer: *const c_char,
    pub answer_len: usize,
    pub count: u32,
    pub first_sample: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct dianoia_event {
    pub struct_size: usize,
    pub type_: i32,
    pub text: *const c_char,
    pub text_len: usize,
    pub stop_reason: i32,
    pub prompt_tokens: u32,
    pub reasoning_tokens: u32,
    pub content_tokens: u32,
    pub prompt_seconds: f64,
    pub generate_seconds: f64,
    pub sample_index: u32,
    pub injected_tokens: u32,
    pub prompt_reused: u32,
    pub stop_string: *const c_char,
    pub stop_string_len: usize,
    pub token: i32,
    pub channel: i32,
    pub is_tag: bool,
    pub injected: bool,
    pub logprob: f32,
    pub top_tokens: *const i32,
    pub top_logprobs: *const f32,
    pub n_top: usize,
    pub votes: *const dianoia_vote_entry,
    pub n_votes: usize,
    pub abstained: u32,
    pub tie: bool,
    /* TOOL_CALL (read only when struct_size covers them) */
    pub tool_call_id: *const c_char,
    pub tool_call_id_len: usize,
    pub tool_name: *const c_char,
    pub tool_name_len: usize,
    pub tool_arguments: *const c_char,
    pub tool_arguments_len: usize,
}

extern "C" {
    pub fn dianoia_last_error() -> *const c_char;
    pub fn dianoia_status_string(status: dianoia_status) -> *const c_char;
    pub fn dianoia_version() -> u32;
    pub fn dianoia_version_string() -> *const c_char;
    pub fn dianoia_system_info() -> *const c_char;
    pub fn dianoia_has_grammar_engine() -> bool;
    pub fn dianoia_log_set(f: dianoia_log_fn, user_data: *mut c_void, min_level: i32) -> dianoia_status;

    pub fn dianoia_model_params_init(p: *mut dianoia_model_params, size: usize);
    pub fn dianoia_model_load(path: *const c_char, params: *const dianoia_model_params, out: *mut *mut dianoia_model)
        -> dianoia_status;
    pub fn dianoia_model_free(model: *mut dianoia_model);
    pub fn dianoia_model_get_info(model: *const dianoia_model, info: *mut dianoia_model_info) -> dianoia_status;
    pub fn dianoia_model_apply_generation_defaults(model: *const dianoia_model, params: *mut dianoia_generate_params)
        -> dianoia_status;

    pub fn dianoia_tokenize(model: *const dianoia_model, text: *const c_char, text_len: usize, add_special: bool,
        parse_special: bool, tokens: *mut i32, capacity: usize, n_tokens: *mut usize) -> dianoia_status;
    pub fn dianoia_detokenize(model: *const dianoia_model, tokens: *const i32, n_tokens: usize, skip_special: bool,
        text: *mut c_char, capacity: usize, n_bytes: *mut usize) -> dianoia_status;
    pub fn dianoia_detokenizer_create(model: *const dianoia_model, skip_special: bool, out: *mut *mut dianoia_detokenizer)
        -> dianoia_status;
    pub fn dianoia_detokenizer_free(d: *mut dianoia_detokenizer);
    pub fn dianoia_detokenizer_push(d: *mut dianoia_detokenizer, token: i32, text: *mut *const c_char,
        text_len: *mut usize) -> dianoia_status;
    pub fn dianoia_detokenizer_flush(d: *mut dianoia_detokenizer, text: *mut *const c_char, text_len: *mut usize)
        -> dianoia_status;

    pub fn dianoia_chat_apply_template(model: *const dianoia_model, tmpl: *const c_char,
        messages: *const dianoia_chat_message, n_messages: usize, add_generation_prompt: bool,
        chat_template_kwargs: *const c_char, out: *mut c_char, capacity: usize, n_bytes: *mut usize) -> dianoia_status;

    pub fn dianoia_session_params_init(p: *mut dianoia_session_params, size: usize);
    pub fn dianoia_session_create(model: *mut dianoia_model, params: *const dianoia_session_params,
        out: *mut *mut dianoia_session) -> dianoia_status;
    pub fn dianoia_session_free(session: *mut dianoia_session);
    pub fn dianoia_session_cancel(session: *mut dianoia_session);
    pub fn dianoia_generate_params_init(p: *mut dianoia_generate_params, size: usize);
    pub fn dianoia_session_chat(session: *mut dianoia_session, messages: *const dianoia_chat_message, n_messages: usize,
        params: *const dianoia_generate_params, on_event: dianoia_event_fn, user_data: *mut c_void) -> dianoia_status;
    pub fn dianoia_session_complete(session: *mut dianoia_session, prompt: *const c_char, prompt_len: usize,
        params: *const dianoia_generate_params, on_event: dianoia_event_fn, user_data: *mut c_void) -> dianoia_status;
    pub fn dianoia_session_complete_tokens(session: *mut dianoia_session, tokens: *const i32, n_tokens: usize,
        params: *const dianoia_generate_params, on_event: dianoia_event_fn, user_data: *mut c_void) -> dianoia_status;
    pub fn dianoia_session_get_tokens(session: *const dianoia_session, tokens: *mut i32, capacity: usize,
        n_tokens: *mut usize) -> dianoia_status;
    pub fn dianoia_session_chat_samples(session: *mut dianoia_session, messages: *const dianoia_chat_message,
        n_messages: usize, n_samples: u32, params: *const dianoia_generate_params, extract: dianoia_extract_fn,
        extract_user_data: *mut c_void, on_event: dianoia_event_fn, user_data: *mut c_void) -> dianoia_status;
    pub fn dianoia_session_save(session: *mut dianoia_session, path: *const c_char) -> dianoia_status;
    pub fn dianoia_session_load(session: *mut dianoia_session, path: *const c_char) -> dianoia_status;
    pub fn dianoia_session_eval_logits(session: *mut dianoia_session, tokens: *const i32, n_tokens: usize,
        n_logits: usize, logits: *mut f32, capacity: usize, n_floats: *mut usize) -> dianoia_status;

    pub fn dianoia_conversation_create(session: *mut dianoia_session, out: *mut *mut dianoia_conversation)
        -> dianoia_status;
    pub fn dianoia_conversation_free(conversation: *mut dianoia_conversation);
    pub fn dianoia_conversation_add(conversation: *mut dianoia_conversation, message: *const dianoia_chat_message)
        -> dianoia_status;
    pub fn dianoia_conversation_send(conversation: *mut dianoia_conversation, text: *const c_char, text_len: usize,
        params: *const dianoia_generate_params, on_event: dianoia_event_fn, user_data: *mut c_void) -> dianoia_status;
    pub fn dianoia_conversation_message_count(conversation: *const dianoia_conversation, n: *mut usize)
        -> dianoia_status;
    pub fn dianoia_conversation_get_message(conversation: *const dianoia_conversation, index: usize, part: i32,
        out: *mut c_char, capacity: usize, n_bytes: *mut usize) -> dianoia_status;
    pub fn dianoia_conversation_add_tool_result(conversation: *mut dianoia_conversation, tool_call_id: *const c_char,
        name: *const c_char, content: *const c_char) -> dianoia_status;
    pub fn dianoia_conversation_reply(conversation: *mut dianoia_conversation, params: *const dianoia_generate_params,
        on_event: dianoia_event_fn, user_data: *mut c_void) -> dianoia_status;
    pub fn dianoia_conversation_save(conversation: *mut dianoia_conversation, path: *const c_char) -> dianoia_status;
    pub fn dianoia_conversation_load(conversation: *mut dianoia_conversation, path: *const c_char) -> dianoia_status;
}
