//! Safe bindings of dianoia's C ABI: reasoning language models on the CPU, with the model's thinking and
//! its answer as separate event channels.
//!
//! ```no_run
//! let model = dianoia::Model::load("model.gguf")?;
//! let session = model.session(&dianoia::SessionOptions::default())?;
//! let mut opts = dianoia::GenerateOptions::default();
//! opts.max_reasoning_tokens = 256;
//! session.chat(&[dianoia::Message::user("What is 2+2?")], &opts, |ev| {
//!     if let dianoia::Event::Content { text, .. } = ev { print!("{text}"); }
//!     true
//! })?;
//! # Ok::<(), dianoia::Error>(())
//! ```
//!
//! Thread-safety is the C ABI's: a [`Model`] is `Send + Sync` (immutable, shared by any number of
//! sessions on any threads); a [`Session`] is `Send` but not `Sync` (one thread at a time), and its
//! [`Canceller`] is `Send + Sync` (dianoia_session_cancel is callable from any thread at any time).
use dianoia_sys as sys;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_void};
use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::Path;
use std::ptr;
use std::sync::{Arc, Mutex};

/// A failed call: the status code and the library's message (dianoia_last_error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub status: i32,
    pub message: String,
}

impl Error {
    /// The status's name, e.g. "DIANOIA_ERR_IO".
    pub fn status_name(&self) -> &'static str {
        // SAFETY: dianoia_status_string returns a static NUL-terminated string for any value.
        unsafe { CStr::from_ptr(sys::dianoia_status_string(self.status)) }.to_str().unwrap_or("?")
    }
    fn invalid(message: impl Into<String>) -> Error {
        Error { status: sys::DIANOIA_ERR_INVALID_ARGUMENT, message: message.into() }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.status_name())
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Converts a status; the message is read on the calling thread, which is the one that made the call.
fn check(status: sys::dianoia_status) -> Result<()> {
    if status == sys::DIANOIA_OK {
        return Ok(());
    }
    // SAFETY: dianoia_last_error never returns NULL.
    let message = unsafe { CStr::from_ptr(sys::dianoia_last_error()) }.to_string_lossy().into_owned();
    Err(Error { status, message })
}

fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::invalid("a string holds a NUL byte"))
}

/// Runs a size-query call (buffer, capacity, &needed), growing the buffer once.
fn fill<T: Copy + Default>(guess: usize, mut f: impl FnMut(*mut T, usize, &mut usize) -> sys::dianoia_status) -> Result<Vec<T>> {
    let mut buf = vec![T::default(); guess.max(1)];
    let mut need = 0usize;
    let mut st = f(buf.as_mut_ptr(), buf.len(), &mut need);
    if st == sys::DIANOIA_ERR_BUFFER_TOO_SMALL {
        buf = vec![T::default(); need.max(1)];
        st = f(buf.as_mut_ptr(), buf.len(), &mut need);
    }
    check(st)?;
    buf.truncate(need);
    Ok(buf)
}

/// The loaded library's version, e.g. "1.0.0".
pub fn version() -> String {
    // SAFETY: static string.
    unsafe { CStr::from_ptr(sys::dianoia_version_string()) }.to_string_lossy().into_owned()
}

/// The loaded library's version as (major, minor, patch).
pub fn version_info() -> (u32, u32, u32) {
    let v = unsafe { sys::dianoia_version() };
    (v / 10000, v / 100 % 100, v % 100)
}

/// What this process runs on: the CPU's instruction-set level and the kernels chosen under it.
pub fn system_info() -> String {
    // SAFETY: static string.
    unsafe { CStr::from_ptr(sys::dianoia_system_info()) }.to_string_lossy().into_owned()
}

/// Whether this library was built with the grammar engine (llguidance) that `GenerateOptions::grammar` needs.
pub fn has_grammar_engine() -> bool {
    // SAFETY: no arguments, no state.
    unsafe { sys::dianoia_has_grammar_engine() }
}

/// A constraint on the answer channel (the thought stays free): the answer must match it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grammar {
    /// A JSON schema, as JSON text: the answer is one JSON value it accepts.
    JsonSchema(String),
    /// A grammar in llguidance's Lark syntax, start rule `start`.
    Lark(String),
    /// A regular expression.
    Regex(String),
}

/// Log levels (dianoia_log_set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
    /// As a threshold: nothing.
    None,
}

impl LogLevel {
    fn raw(self) -> i32 {
        match self {
            LogLevel::Debug => sys::DIANOIA_LOG_DEBUG,
            LogLevel::Info => sys::DIANOIA_LOG_INFO,
            LogLevel::Warn => sys::DIANOIA_LOG_WARN,
            LogLevel::Error => sys::DIANOIA_LOG_ERROR,
            LogLevel::None => sys::DIANOIA_LOG_NONE,
        }
    }
    fn from_raw(v: i32) -> LogLevel {
        match v {
            sys::DIANOIA_LOG_DEBUG => LogLevel::Debug,
            sys::DIANOIA_LOG_INFO => LogLevel::Info,
            sys::DIANOIA_LOG_WARN => LogLevel::Warn,
            _ => LogLevel::Error,
        }
    }
}

type Logger = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;
// The one process-wide logger (the C ABI has one). Cloned out of the lock before the call, so a logger
// that logs from several threads at once does not serialize them, and replacing it never waits for one.
static LOGGER: Mutex<Option<Logger>> = Mutex::new(None);

unsafe extern "C" fn log_trampoline(level: i32, message: *const c_char, _user: *mut c_void) {
    let logger = LOGGER.lock().ok().and_then(|g| g.clone());
    if let (Some(f), false) = (logger, message.is_null()) {
        let text = CStr::from_ptr(message).to_string_lossy();
        // A panic must not unwind into C: a logger that panics loses that message.
        let _ = catch_unwind(AssertUnwindSafe(|| f(LogLevel::from_raw(level), &text)));
    }
}

/// Routes the library's log messages at or above `min_level` to `f`, which may run on any thread, several
/// at once (it must not call back into dianoia).
pub fn set_logger(min_level: LogLevel, f: impl Fn(LogLevel, &str) + Send + Sync + 'static) -> Result<()> {
    let prev = LOGGER.lock().unwrap_or_else(|e| e.into_inner()).replace(Arc::new(f));
    let st = check(unsafe { sys::dianoia_log_set(Some(log_trampoline), ptr::null_mut(), min_level.raw()) });
    if st.is_err() {
        // Refused: the previous logger stays.
        *LOGGER.lock().unwrap_or_else(|e| e.into_inner()) = prev;
    }
    st
}

/// Back to the library's default: messages at or above `min_level` on stderr.
pub fn reset_logger(min_level: LogLevel) -> Result<()> {
    let st = check(unsafe { sys::dianoia_log_set(None, ptr::null_mut(), min_level.raw()) });
    *LOGGER.lock().unwrap_or_else(|e| e.into_inner()) = None;
    st
}

/// A loaded model. Immutable: `Send + Sync`, as the C ABI documents.
pub struct Model {
    h: *mut sys::dianoia_model,
}

// SAFETY: the C ABI documents a model as immutable once loaded and usable from any thread.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: sessions borrow the model, so none outlives it.
        unsafe { sys::dianoia_model_free(self.h) }
    }
}

/// Model metadata (dianoia_model_info).
#[derive(Debug, Clone)]
pub struct ModelInfo {
    pub architecture: String,
    pub n_params: u64,
    pub n_vocab: u32,
    pub context_length: u32,
    pub has_chat_template: bool,
    pub format: String,
    pub reasoning_family: String,
}

impl Model {
    /// Loads a GGUF file or a Hugging Face folder.
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        Self::load_with(path, 0, false)
    }

    /// Loads with a context length override (0: the file's) and, optionally, only the vocabulary.
    pub fn load_with(path: impl AsRef<Path>, context_length: u32, vocab_only: bool) -> Result<Model> {
        let p = path.as_ref().to_str().ok_or_else(|| Error::invalid("the path is not UTF-8"))?;
        let cpath = cstring(p)?;
        // SAFETY: params_init fills the struct it is given, of the size given.
        let mut params: sys::dianoia_model_params = unsafe { std::mem::zeroed() };
        unsafe { sys::dianoia_model_params_init(&mut params, std::mem::size_of::<sys::dianoia_model_params>()) };
        params.context_length = context_length;
        params.vocab_only = vocab_only;
        let mut h = ptr::null_mut();
        check(unsafe { sys::dianoia_model_load(cpath.as_ptr(), &params, &mut h) })?;
        Ok(Model { h })
    }

    pub fn info(&self) -> Result<ModelInfo> {
        // SAFETY: struct_size tells the library how much to write.
        let mut i: sys::dianoia_model_info = unsafe { std::mem::zeroed() };
        i.struct_size = std::mem::size_of::<sys::dianoia_model_info>();
        check(unsafe { sys::dianoia_model_get_info(self.h, &mut i) })?;
        let s = |p: *const c_char| if p.is_null() { String::new() } else { unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned() };
        Ok(ModelInfo {
            architecture: s(i.architecture),
            n_params: i.n_params,
            n_vocab: i.n_vocab,
            context_length: i.context_length,
            has_chat_template: i.has_chat_template,
            format: s(i.format),
            reasoning_family: s(i.reasoning_family),
        })
    }

    pub fn tokenize(&self, text: &str, add_special: bool, parse_special: bool) -> Result<Vec<i32>> {
        fill(text.len() + 2, |b, cap, need| unsafe {
            sys::dianoia_tokenize(self.h, text.as_ptr().cast(), text.len(), add_special, parse_special, b, cap, need)
        })
    }

    pub fn detokenize(&self, tokens: &[i32], skip_special: bool) -> Result<String> {
        let b: Vec<u8> = fill(tokens.len() * 8 + 16, |b: *mut u8, cap, need| unsafe {
            sys::dianoia_detokenize(self.h, tokens.as_ptr(), tokens.len(), skip_special, b.cast(), cap, need)
        })?;
        String::from_utf8(b).map_err(|_| Error::invalid("the library returned invalid UTF-8"))
    }

    /// Renders messages with the model's chat template (or `template`), as Hugging Face's
    /// apply_chat_template(tokenize=False); `template_vars` is a JSON object of template variables
    /// (`{"tools": [...], "enable_thinking": false}`).
    pub fn apply_chat_template(&self, messages: &[Message], template: Option<&str>, add_generation_prompt: bool,
                               template_vars: Option<&str>) -> Result<String> {
        render(self.h, messages, template, add_generation_prompt, template_vars)
    }

    /// Overwrites the sampling fields of `opts` (temperature, top_p, top_k, min_p) with the defaults the
    /// model ships in generation_config.json, where it has them (a GGUF has none: `opts` is unchanged).
    pub fn apply_generation_defaults(&self, opts: &mut GenerateOptions) -> Result<()> {
        let mut c = opts.c()?;
        check(unsafe { sys::dianoia_model_apply_generation_defaults(self.h, &mut c.p) })?;
        opts.temperature = c.p.temperature;
        opts.top_p = c.p.top_p;
        opts.top_k = c.p.top_k;
        opts.min_p = c.p.min_p;
        Ok(())
    }

    /// A session (KV cache and decode loop) on this model.
    pub fn session(&self, opts: &SessionOptions) -> Result<Session<'_>> {
        let mut p: sys::dianoia_session_params = unsafe { std::mem::zeroed() };
        unsafe { sys::dianoia_session_params_init(&mut p, std::mem::size_of::<sys::dianoia_session_params>()) };
        p.context_length = opts.context_length;
        p.n_threads = opts.n_threads;
        let mut h = ptr::null_mut();
        check(unsafe { sys::dianoia_session_create(self.h, &p, &mut h) })?;
        Ok(Session { h, _model: PhantomData })
    }
}

/// Renders with a template and no model (bos_token/eos_token come from `template_vars`, else "").
pub fn apply_chat_template(messages: &[Message], template: &str, add_generation_prompt: bool,
                           template_vars: Option<&str>) -> Result<String> {
    render(ptr::null_mut(), messages, Some(template), add_generation_prompt, template_vars)
}

fn render(model: *const sys::dianoia_model, messages: &[Message], template: Option<&str>, add_generation_prompt: bool,
          template_vars: Option<&str>) -> Result<String> {
    let c = CMessages::new(messages)?;
    let tmpl = template.map(cstring).transpose()?;
    let vars = template_vars.map(cstring).transpose()?;
    let b: Vec<u8> = fill(4096, |b: *mut u8, cap, need| unsafe {
        sys::dianoia_chat_apply_template(model, tmpl.as_ref().map_or(ptr::null(), |t| t.as_ptr()), c.msgs.as_ptr(),
            c.msgs.len(), add_generation_prompt, vars.as_ref().map_or(ptr::null(), |v| v.as_ptr()), b.cast(), cap, need)
    })?;
    String::from_utf8(b).map_err(|_| Error::invalid("the library returned invalid UTF-8"))
}

/// A tool call of an assistant turn.
#[derive(Debug, Clone, Default)]
pub struct ToolCall {
    pub id: Option<String>,
    pub name: String,
    /// JSON text, usually an object; None: {}.
    pub arguments: Option<String>,
}

/// One message as chat templates see it.
#[derive(Debug, Clone, Default)]
pub struct Message {
    pub role: String,
    /// None: the content is None (an assistant turn of only tool calls).
    pub content: Option<String>,
    pub reasoning_content: Option<String>,
    pub tool_calls: Vec<ToolCall>,
    pub tool_call_id: Option<String>,
    pub name: Option<String>,
    /// Further keys as a JSON object.
    pub extra_json: Option<String>,
}

impl Message {
    pub fn new(role: &str, content: &str) -> Message {
        Message { role: role.into(), content: Some(content.into()), ..Default::default() }
    }
    pub fn user(content: &str) -> Message {
        Self::new("user", content)
    }
    pub fn system(content: &str) -> Message {
        Self::new("system", content)
    }
    pub fn assistant(content: &str) -> Message {
        Self::new("assistant", content)
    }
}

/// The C view of messages, owning every string it points to.
struct CMessages {
    _strings: Vec<CString>,
    _calls: Vec<Vec<sys::dianoia_tool_call>>,
    msgs: Vec<sys::dianoia_chat_message>,
}

impl CMessages {
    fn new(messages: &[Message]) -> Result<CMessages> {
        let mut strings = Vec::new();
        let mut keep = |s: &Option<String>| -> Result<*const c_char> {
            match s {
                None => Ok(ptr::null()),
                Some(s) => {
                    let c = cstring(s)?;
                    let p = c.as_ptr();
                    strings.push(c);
                    Ok(p)
                }
            }
        };
        let mut calls = Vec::new();
        let mut msgs = Vec::new();
        for m in messages {
            let mut tc = Vec::new();
            for c in &m.tool_calls {
                tc.push(sys::dianoia_tool_call { id: keep(&c.id)?, name: keep(&Some(c.name.clone()))?, arguments: keep(&c.arguments)? });
            }
            msgs.push(sys::dianoia_chat_message {
                role: keep(&Some(m.role.clone()))?,
                content: keep(&m.content)?,
                reasoning_content: keep(&m.reasoning_content)?,
                tool_calls: if tc.is_empty() { ptr::null() } else { tc.as_ptr() },
                n_tool_calls: tc.len(),
                tool_call_id: keep(&m.tool_call_id)?,
                name: keep(&m.name)?,
                extra_json: keep(&m.extra_json)?,
            });
            calls.push(tc); // moving the Vec keeps its heap buffer where tool_calls points
        }
        Ok(CMessages { _strings: strings, _calls: calls, msgs })
    }
}

/// Session parameters (0: defaults).
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    pub context_length: u32,
    pub n_threads: i32,
}

/// Reasoning modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reasoning {
    #[default]
    Auto,
    On,
    Off,
}

/// The common generation parameters; `Default` is the library's defaults.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub max_tokens: i32,
    pub temperature: f32,
    pub top_k: i32,
    pub top_p: f32,
    pub min_p: f32,
    pub seed: u64,
    pub reasoning: Reasoning,
    pub max_reasoning_tokens: i32,
    pub min_reasoning_tokens: i32,
    pub wrap_up_text: Option<String>,
    pub stop: Vec<String>,
    pub ignore_eos: bool,
    /// Chat: template variables as a JSON object.
    pub template_vars: Option<String>,
    /// Constrains the answer (not the thought); a bad grammar is an `Err` with the engine's message.
    pub grammar: Option<Grammar>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        let mut p: sys::dianoia_generate_params = unsafe { std::mem::zeroed() };
        unsafe { sys::dianoia_generate_params_init(&mut p, std::mem::size_of::<sys::dianoia_generate_params>()) };
        GenerateOptions {
            max_tokens: p.max_tokens,
            temperature: p.temperature,
            top_k: p.top_k,
            top_p: p.top_p,
            min_p: p.min_p,
            seed: p.seed,
            reasoning: Reasoning::Auto,
            max_reasoning_tokens: p.max_reasoning_tokens,
            min_reasoning_tokens: p.min_reasoning_tokens,
            wrap_up_text: None,
            stop: Vec::new(),
            ignore_eos: false,
            template_vars: None,
            grammar: None,
        }
    }
}

/// The C parameters and the strings they point to.
struct CParams {
    _strings: Vec<CString>,
    _stop: Vec<*const c_char>,
    p: sys::dianoia_generate_params,
}

impl GenerateOptions {
    fn c(&self) -> Result<CParams> {
        let mut p: sys::dianoia_generate_params = unsafe { std::mem::zeroed() };
        unsafe { sys::dianoia_generate_params_init(&mut p, std::mem::size_of::<sys::dianoia_generate_params>()) };
        p.max_tokens = self.max_tokens;
        p.temperature = self.temperature;
        p.top_k = self.top_k;
        p.top_p = self.top_p;
        p.min_p = self.min_p;
        p.seed = self.seed;
        p.reasoning = match self.reasoning {
            Reasoning::Auto => sys::DIANOIA_REASONING_AUTO,
            Reasoning::On => sys::DIANOIA_REASONING_ON,
            Reasoning::Off => sys::DIANOIA_REASONING_OFF,
        };
        p.max_reasoning_tokens = self.max_reasoning_tokens;
        p.min_reasoning_tokens = self.min_reasoning_tokens;
        p.ignore_eos = self.ignore_eos;
        let mut strings = Vec::new();
        if let Some(w) = &self.wrap_up_text {
            strings.push(cstring(w)?);
            p.wrap_up_text = strings.last().unwrap().as_ptr();
        }
        if let Some(v) = &self.template_vars {
            strings.push(cstring(v)?);
            p.chat_template_kwargs = strings.last().unwrap().as_ptr();
        }
        if let Some(g) = &self.grammar {
            let (kind, text) = match g {
                Grammar::JsonSchema(t) => (sys::DIANOIA_GRAMMAR_JSON_SCHEMA, t),
                Grammar::Lark(t) => (sys::DIANOIA_GRAMMAR_LARK, t),
                Grammar::Regex(t) => (sys::DIANOIA_GRAMMAR_REGEX, t),
            };
            strings.push(cstring(text)?);
            p.grammar_kind = kind;
            p.grammar = strings.last().unwrap().as_ptr();
        }
        let mut stop = Vec::new();
        for s in &self.stop {
            strings.push(cstring(s)?);
            stop.push(strings.last().unwrap().as_ptr());
        }
        p.stop = if stop.is_empty() { ptr::null() } else { stop.as_ptr() };
        p.n_stop = stop.len();
        Ok(CParams { _strings: strings, _stop: stop, p })
    }
}

/// How a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    None,
    Eos,
    MaxTokens,
    ContextFull,
    Cancelled,
    Callback,
    StopString,
    /// A reason this crate does not know (a newer library).
    Unknown(i32),
}

impl StopReason {
    fn from_raw(v: i32) -> StopReason {
        match v {
            sys::DIANOIA_STOP_NONE => StopReason::None,
            sys::DIANOIA_STOP_EOS => StopReason::Eos,
            sys::DIANOIA_STOP_MAX_TOKENS => StopReason::MaxTokens,
            sys::DIANOIA_STOP_CONTEXT_FULL => StopReason::ContextFull,
            sys::DIANOIA_STOP_CANCELLED => StopReason::Cancelled,
            sys::DIANOIA_STOP_CALLBACK => StopReason::Callback,
            sys::DIANOIA_STOP_STRING => StopReason::StopString,
            other => StopReason::Unknown(other),
        }
    }
}

/// The summary a generation ends with.
#[derive(Debug, Clone)]
pub struct Done {
    pub stop_reason: StopReason,
    pub prompt_tokens: u32,
    pub reasoning_tokens: u32,
    pub content_tokens: u32,
    pub prompt_reused: u32,
    pub injected_tokens: u32,
    pub prompt_seconds: f64,
    pub generate_seconds: f64,
    pub sample: u32,
}

/// One generation event (borrowed text: valid during the callback).
#[derive(Debug)]
pub enum Event<'a> {
    Reasoning { text: &'a str, sample: u32 },
    Content { text: &'a str, sample: u32 },
    Token { id: i32, piece: &'a [u8], logprob: f32, sample: u32 },
    Done(Done),
    /// Self-consistency: after every sample's Done, the vote.
    Vote(Vote),
    /// A tool call in the answer (with `GenerateOptions::tools`).
    ToolCall { id: &'a str, name: &'a str, arguments: &'a str, sample: u32 },
    /// Event types this crate does not decode (a newer library).
    Other(i32),
}

/// One answer of a self-consistency vote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteEntry {
    pub answer: String,
    pub count: u32,
    /// The first sample that gave this answer.
    pub first_sample: u32,
}

/// The vote over the samples' answers: entries by count, descending (ties: the earlier answer first).
#[derive(Debug, Clone, Default)]
pub struct Vote {
    pub entries: Vec<VoteEntry>,
    /// Samples without an extractable answer.
    pub abstained: u32,
    /// The top count is shared; the winner (entries[0]) is the earlier answer.
    pub tie: bool,
}

/// A session on a model: `Send`, not `Sync` (one thread at a time); cancel through a [`Canceller`].
pub struct Session<'m> {
    h: *mut sys::dianoia_session,
    _model: PhantomData<&'m Model>,
}

// SAFETY: a session may move between threads; it is used by one at a time (it is not Sync).
unsafe impl Send for Session<'_> {}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        // SAFETY: Cancellers borrow the session, so none outlives it.
        unsafe { sys::dianoia_session_free(self.h) }
    }
}

/// Stops the session's running generation from any thread (dianoia_session_cancel).
#[derive(Clone, Copy)]
pub struct Canceller<'s> {
    h: *mut sys::dianoia_session,
    _session: PhantomData<&'s ()>,
}

// SAFETY: dianoia_session_cancel is documented as safe from any thread at any time, and the borrow
// keeps the session alive.
unsafe impl Send for Canceller<'_> {}
unsafe impl Sync for Canceller<'_> {}

impl Canceller<'_> {
    pub fn cancel(&self) {
        unsafe { sys::dianoia_session_cancel(self.h) }
    }
}

struct CallbackState<'f> {
    f: &'f mut dyn FnMut(&Event) -> bool,
    done: Option<Done>,
    vote: Option<Vote>,
    panic: Option<Box<dyn std::any::Any + Send>>,
}

/// A sample's answer from its content (None: the sample abstains), for [`Session::chat_samples`].
pub type Extract = dyn FnMut(&str) -> Option<String>;

struct ExtractState<'f> {
    f: &'f mut Extract,
    answer: String, // what the last call returned: the library reads it until the next call
    panic: Option<Box<dyn std::any::Any + Send>>,
}

unsafe extern "C" fn extract_trampoline(content: *const c_char, content_len: usize, answer: *mut *const c_char,
                                        answer_len: *mut usize, user: *mut c_void) -> bool {
    let st = &mut *(user as *mut ExtractState);
    if st.panic.is_some() {
        return false;
    }
    let bytes = if content.is_null() || content_len == 0 { &[][..] } else { std::slice::from_raw_parts(content.cast::<u8>(), content_len) };
    let text = String::from_utf8_lossy(bytes);
    match catch_unwind(AssertUnwindSafe(|| (st.f)(&text))) {
        Ok(Some(a)) => {
            st.answer = a;
            *answer = st.answer.as_ptr().cast();
            *answer_len = st.answer.len();
            true
        }
        Ok(None) => false,
        Err(p) => {
            st.panic = Some(p);
            false
        }
    }
}

fn path_cstring(path: &Path) -> Result<CString> {
    cstring(path.to_str().ok_or_else(|| Error::invalid("the path is not UTF-8"))?)
}

unsafe extern "C" fn trampoline(ev: *const sys::dianoia_event, user: *mut c_void) -> bool {
    let st = &mut *(user as *mut CallbackState);
    if st.panic.is_some() {
        return false;
    }
    let ev = &*ev;
    let bytes = |p: *const c_char, n: usize| if p.is_null() || n == 0 { &[][..] } else { std::slice::from_raw_parts(p.cast::<u8>(), n) };
    let text = || std::str::from_utf8(bytes(ev.text, ev.text_len)).unwrap_or("");
    let event = match ev.type_ {
        sys::DIANOIA_EVENT_REASONING => Event::Reasoning { text: text(), sample: ev.sample_index },
        sys::DIANOIA_EVENT_CONTENT => Event::Content { text: text(), sample: ev.sample_index },
        sys::DIANOIA_EVENT_TOKEN => Event::Token { id: ev.token, piece: bytes(ev.text, ev.text_len), logprob: ev.logprob, sample: ev.sample_index },
        sys::DIANOIA_EVENT_DONE => {
            let d = Done {
                stop_reason: StopReason::from_raw(ev.stop_reason),
                prompt_tokens: ev.prompt_tokens,
                reasoning_tokens: ev.reasoning_tokens,
                content_tokens: ev.content_tokens,
                prompt_reused: ev.prompt_reused,
                injected_tokens: ev.injected_tokens,
                prompt_seconds: ev.prompt_seconds,
                generate_seconds: ev.generate_seconds,
                sample: ev.sample_index,
            };
            st.done = Some(d.clone());
            Event::Done(d)
        }
        sys::DIANOIA_EVENT_VOTE => {
            let entries = if ev.votes.is_null() { &[][..] } else { std::slice::from_raw_parts(ev.votes, ev.n_votes) };
            let v = Vote {
                entries: entries
                    .iter()
                    .map(|e| VoteEntry {
                        answer: String::from_utf8_lossy(bytes(e.answer, e.answer_len)).into_owned(),
                        count: e.count,
                        first_sample: e.first_sample,
                    })
                    .collect(),
                abstained: ev.abstained,
                tie: ev.tie,
            };
            st.vote = Some(v.clone());
            Event::Vote(v)
        }
        sys::DIANOIA_EVENT_TOOL_CALL
            if ev.struct_size >= std::mem::offset_of!(sys::dianoia_event, tool_arguments_len) + std::mem::size_of::<usize>() =>
        {
            let s = |p, n| std::str::from_utf8(bytes(p, n)).unwrap_or("");
            Event::ToolCall {
                id: s(ev.tool_call_id, ev.tool_call_id_len),
                name: s(ev.tool_name, ev.tool_name_len),
                arguments: s(ev.tool_arguments, ev.tool_arguments_len),
                sample: ev.sample_index,
            }
        }
        other => Event::Other(other),
    };
    // A panic must not unwind through C: it stops the generation and is resumed after the call.
    match catch_unwind(AssertUnwindSafe(|| (st.f)(&event))) {
        Ok(go_on) => go_on,
        Err(p) => {
            st.panic = Some(p);
            false
        }
    }
}

impl Session<'_> {
    /// A handle that cancels this session's running generation from another thread.
    pub fn canceller(&self) -> Canceller<'_> {
        Canceller { h: self.h, _session: PhantomData }
    }

    fn run(&self, f: &mut dyn FnMut(&Event) -> bool,
           call: impl FnOnce(sys::dianoia_event_fn, *mut c_void) -> sys::dianoia_status) -> Result<Done> {
        let (done, _) = self.run_full(f, call)?;
        done.ok_or_else(|| Error { status: sys::DIANOIA_ERR_INTERNAL, message: "no DONE event".into() })
    }

    fn run_full(&self, f: &mut dyn FnMut(&Event) -> bool,
                call: impl FnOnce(sys::dianoia_event_fn, *mut c_void) -> sys::dianoia_status)
                -> Result<(Option<Done>, Option<Vote>)> {
        let mut st = CallbackState { f, done: None, vote: None, panic: None };
        let status = call(Some(trampoline), (&mut st as *mut CallbackState).cast());
        if let Some(p) = st.panic.take() {
            resume_unwind(p);
        }
        check(status)?;
        Ok((st.done, st.vote))
    }

    /// Generates a reply to `messages`; `on_event` returns false to stop. Returns the last Done.
    pub fn chat(&self, messages: &[Message], opts: &GenerateOptions, mut on_event: impl FnMut(&Event) -> bool) -> Result<Done> {
        let msgs = CMessages::new(messages)?;
        let p = opts.c()?;
        self.run(&mut on_event, |cb, ud| unsafe {
            sys::dianoia_session_chat(self.h, msgs.msgs.as_ptr(), msgs.msgs.len(), &p.p, cb, ud)
        })
    }

    /// Plain completion of text (BOS as the vocabulary asks).
    pub fn complete(&self, prompt: &str, opts: &GenerateOptions, mut on_event: impl FnMut(&Event) -> bool) -> Result<Done> {
        let p = opts.c()?;
        self.run(&mut on_event, |cb, ud| unsafe {
            sys::dianoia_session_complete(self.h, prompt.as_ptr().cast(), prompt.len(), &p.p, cb, ud)
        })
    }

    /// Completion from token ids (nothing added: no BOS, no template).
    pub fn complete_tokens(&self, tokens: &[i32], opts: &GenerateOptions, mut on_event: impl FnMut(&Event) -> bool)
                           -> Result<Done> {
        let p = opts.c()?;
        self.run(&mut on_event, |cb, ud| unsafe {
            sys::dianoia_session_complete_tokens(self.h, tokens.as_ptr(), tokens.len(), &p.p, cb, ud)
        })
    }

    /// Self-consistency: `n_samples` replies to `messages` (sample i with seed opts.seed + i), their events
    /// one sample after another (each ending with its Done), then the vote, which is also returned.
    /// `extract` picks a sample's answer from its content (None: abstain); without it the library takes
    /// the last \boxed{...}, else the last number.
    pub fn chat_samples(&self, messages: &[Message], n_samples: u32, opts: &GenerateOptions,
                        extract: Option<&mut Extract>,
                        mut on_event: impl FnMut(&Event) -> bool) -> Result<Vote> {
        let msgs = CMessages::new(messages)?;
        let p = opts.c()?;
        let mut ex = extract.map(|f| ExtractState { f, answer: String::new(), panic: None });
        let (fn_ptr, ex_ud): (sys::dianoia_extract_fn, *mut c_void) = match ex.as_mut() {
            Some(e) => (Some(extract_trampoline), (e as *mut ExtractState).cast()),
            None => (None, ptr::null_mut()),
        };
        let result = self.run_full(&mut on_event, |cb, ud| unsafe {
            sys::dianoia_session_chat_samples(self.h, msgs.msgs.as_ptr(), msgs.msgs.len(), n_samples, &p.p, fn_ptr,
                                              ex_ud, cb, ud)
        });
        if let Some(panic) = ex.and_then(|mut e| e.panic.take()) {
            resume_unwind(panic);
        }
        result?.1.ok_or_else(|| Error { status: sys::DIANOIA_ERR_INTERNAL, message: "no VOTE event".into() })
    }

    /// Saves the context (token ids and KV cache) to a file, written atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let c = path_cstring(path.as_ref())?;
        check(unsafe { sys::dianoia_session_save(self.h, c.as_ptr()) })
    }

    /// Loads a context saved by [`Session::save`] from a session of the same model and KV type; a
    /// generation whose prompt extends the saved tokens continues where it stood. On error the session
    /// is left empty.
    pub fn load(&self, path: impl AsRef<Path>) -> Result<()> {
        let c = path_cstring(path.as_ref())?;
        check(unsafe { sys::dianoia_session_load(self.h, c.as_ptr()) })
    }

    /// Prompt and generated ids of the last generation.
    pub fn tokens(&self) -> Result<Vec<i32>> {
        fill(256, |b, cap, need| unsafe { sys::dianoia_session_get_tokens(self.h, b, cap, need) })
    }
}

impl Session<'_> {
    /// Logits of the last `n_logits` positions of `tokens`, evaluated from an empty context (n_logits x
    /// vocabulary, position-major).
    pub fn eval_logits(&self, tokens: &[i32], n_logits: usize) -> Result<Vec<f32>> {
        fill(0, |b, cap, need| unsafe {
            sys::dianoia_session_eval_logits(self.h, tokens.as_ptr(), tokens.len(), n_logits, b, cap, need)
        })
    }

    /// A multi-turn conversation on this session (the model needs a chat template).
    pub fn conversation(&self) -> Result<Conversation<'_>> {
        let mut h = ptr::null_mut();
        check(unsafe { sys::dianoia_conversation_create(self.h, &mut h) })?;
        Ok(Conversation { h, session: self })
    }
}

/// Multi-turn chat that keeps the session's KV cache between turns.
pub struct Conversation<'s> {
    h: *mut sys::dianoia_conversation,
    session: &'s Session<'s>,
}

impl Drop for Conversation<'_> {
    fn drop(&mut self) {
        unsafe { sys::dianoia_conversation_free(self.h) }
    }
}

impl Conversation<'_> {
    /// Appends a message without generating.
    pub fn add(&mut self, message: &Message) -> Result<()> {
        let c = CMessages::new(std::slice::from_ref(message))?;
        check(unsafe { sys::dianoia_conversation_add(self.h, c.msgs.as_ptr()) })
    }

    /// Appends the user's turn and generates the reply (appended too).
    pub fn send(&mut self, text: &str, opts: &GenerateOptions, mut on_event: impl FnMut(&Event) -> bool) -> Result<Done> {
        let p = opts.c()?;
        let h = self.h;
        self.session.run(&mut on_event, |cb, ud| unsafe {
            sys::dianoia_conversation_send(h, text.as_ptr().cast(), text.len(), &p.p, cb, ud)
        })
    }

    /// Appends a tool's result for the call `tool_call_id` (an [`Event::ToolCall`]'s id) of tool `name`.
    pub fn add_tool_result(&mut self, content: &str, tool_call_id: Option<&str>, name: Option<&str>) -> Result<()> {
        let c = cstring(content)?;
        let id = tool_call_id.map(cstring).transpose()?;
        let n = name.map(cstring).transpose()?;
        check(unsafe {
            sys::dianoia_conversation_add_tool_result(self.h, id.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
                n.as_ref().map_or(ptr::null(), |s| s.as_ptr()), c.as_ptr())
        })
    }

    /// Generates the assistant's next turn for the messages as they stand (e.g. after tool results) and
    /// appends it. On error the conversation is unchanged.
    pub fn reply(&mut self, opts: &GenerateOptions, mut on_event: impl FnMut(&Event) -> bool) -> Result<Done> {
        let p = opts.c()?;
        let h = self.h;
        self.session.run(&mut on_event, |cb, ud| unsafe { sys::dianoia_conversation_reply(h, &p.p, cb, ud) })
    }

    /// Saves the messages with the session's context; [`Conversation::load`] restores both.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let c = path_cstring(path.as_ref())?;
        check(unsafe { sys::dianoia_conversation_save(self.h, c.as_ptr()) })
    }

    pub fn load(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let c = path_cstring(path.as_ref())?;
        check(unsafe { sys::dianoia_conversation_load(self.h, c.as_ptr()) })
    }

    /// The messages so far: (role, content, reasoning, further keys as JSON).
    pub fn messages(&self) -> Result<Vec<(String, String, String, String)>> {
        let mut n = 0usize;
        check(unsafe { sys::dianoia_conversation_message_count(self.h, &mut n) })?;
        let part = |i: usize, p: i32| -> Result<String> {
            let b: Vec<u8> = fill(256, |b: *mut u8, cap, need| unsafe {
                sys::dianoia_conversation_get_message(self.h, i, p, b.cast(), cap, need)
            })?;
            String::from_utf8(b).map_err(|_| Error::invalid("the library returned invalid UTF-8"))
        };
        (0..n)
            .map(|i| {
                Ok((part(i, sys::DIANOIA_MESSAGE_ROLE)?, part(i, sys::DIANOIA_MESSAGE_CONTENT)?,
                    part(i, sys::DIANOIA_MESSAGE_REASONING)?, part(i, sys::DIANOIA_MESSAGE_EXTRA_JSON)?))
            })
            .collect()
    }
}

/// Streaming detokenization: ids in, whole UTF-8 characters out.
pub struct Detokenizer<'m> {
    h: *mut sys::dianoia_detokenizer,
    _model: PhantomData<&'m Model>,
}

impl Drop for Detokenizer<'_> {
    fn drop(&mut self) {
        unsafe { sys::dianoia_detokenizer_free(self.h) }
    }
}

impl Model {
    pub fn detokenizer(&self, skip_special: bool) -> Result<Detokenizer<'_>> {
        let mut h = ptr::null_mut();
        check(unsafe { sys::dianoia_detokenizer_create(self.h, skip_special, &mut h) })?;
        Ok(Detokenizer { h, _model: PhantomData })
    }
}

impl Detokenizer<'_> {
    /// The text `token` completes (possibly empty).
    pub fn push(&mut self, token: i32) -> Result<String> {
        let (mut t, mut n) = (ptr::null(), 0usize);
        check(unsafe { sys::dianoia_detokenizer_push(self.h, token, &mut t, &mut n) })?;
        Ok(if n == 0 { String::new() } else { String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(t.cast::<u8>(), n) }).into_owned() })
    }

    /// What was held back; the stream starts over.
    pub fn flush(&mut self) -> Result<String> {
        let (mut t, mut n) = (ptr::null(), 0usize);
        check(unsafe { sys::dianoia_detokenizer_flush(self.h, &mut t, &mut n) })?;
        Ok(if n == 0 { String::new() } else { String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(t.cast::<u8>(), n) }).into_owned() })
    }
}
