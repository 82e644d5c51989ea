/*
 * dianoia — an embeddable runtime for reasoning language models.
 *
 * This header is the whole stable ABI: plain C99, opaque handles, status codes. Every function is
 * safe to call with any argument: a null handle or pointer, an invalid parameter or a broken model file
 * returns an error status (never aborts, never throws across the boundary), and the thread-local
 * dianoia_last_error() then describes what went wrong.
 *
 * Threads:
 *   - Functions without a handle (version, status strings, dianoia_log_set, dianoia_system_info,
 *     dianoia_chat_apply_template with a NULL model) may be called from any thread at any time.
 *   - A dianoia_model is immutable once loaded: every function taking a `const dianoia_model*`
 *     (tokenize, detokenize, info, templates) and dianoia_session_create may run on any number of
 *     threads at once, and any number of sessions on one model may generate concurrently.
 *   - A dianoia_session, and a dianoia_conversation or dianoia_detokenizer, is used by one thread at a
 *     time (the caller serializes), except dianoia_session_cancel(), which any thread may call at any
 *     time, also from inside a callback.
 *   - *_free may not race with any other use of the same handle. A model must outlive its sessions and
 *     detokenizers; a session its conversations.
 *   - Callbacks (events, progress, samplers, extract) run on the thread that made the call; the log
 *     callback on whichever thread logs.
 *   - dianoia_last_error() is per thread.
 *
 * Strings (one convention everywhere):
 *   - All text in and out is UTF-8; invalid UTF-8 in is DIANOIA_ERR_INVALID_ARGUMENT.
 *   - Inputs are NUL-terminated (`const char*`), except text that may hold any byte sequence of a
 *     prompt (text to tokenize, prompts, a user turn), which is pointer + length (no terminator needed;
 *     NULL with length 0 is the empty string).
 *   - Outputs the caller receives by copy use a size query: (buffer, capacity, size_t* n_needed) writes
 *     up to `capacity` elements (text: no terminator) and stores the full count in *n_needed; when it
 *     does not fit the call returns DIANOIA_ERR_BUFFER_TOO_SMALL and writes nothing useful — call again
 *     with a buffer of *n_needed (a NULL buffer with capacity 0 is a pure size query).
 *   - Text handed to callbacks is pointer + length (not NUL-terminated), valid only during the callback,
 *     and never splits a multi-byte character (TOKEN events' raw bytes excepted).
 *   - Strings the library owns (model info, status names, version, last error) are NUL-terminated; their
 *     lifetime is stated where they are returned.
 *
 * Pointer lifetimes: pointers inside params structs and message arrays (strings, stop lists, samplers,
 * logit biases) are read only during the call that receives them; nothing is kept afterwards, except
 * the progress callback (during dianoia_model_load) and the log callback (until replaced).
 *
 * Enumerations: every field or argument that holds one of a set of named constants is a fixed-width
 * int32_t (an enum's size is the compiler's choice). The library rejects a value it does not know with
 * DIANOIA_ERR_INVALID_ARGUMENT; a caller must expect values it does not know in what the library
 * returns (later versions add event types and stop reasons) and ignore them.
 *
 * Versioning: the ABI is stable within a major version (SONAME libdianoia.so.MAJOR). Parameter structs
 * begin with `struct_size` and only grow at the end; always start from the *_default_params() functions
 * (inline: they ask the library to fill exactly the caller's struct size), so that a program built
 * against an older header keeps working with a newer library. dianoia_chat_message and
 * dianoia_tool_call are frozen (arrays of them are stepped through by their size): members a later
 * version needs go through their extra_json text.
 */
#ifndef DIANOIA_H
#define DIANOIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIANOIA_VERSION_MAJOR 1
#define DIANOIA_VERSION_MINOR 0
#define DIANOIA_VERSION_PATCH 0

#if defined(DIANOIA_BUILDING_LIBRARY)
#define DIANOIA_API __attribute__((visibility("default")))
#else
#define DIANOIA_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------------
 * Status, errors, version
 * ------------------------------------------------------------------------------------------------ */

/* Every function that can fail returns one of these. Later versions may add codes: treat an unknown one
 * as an error. */
typedef int32_t dianoia_status;
enum {
  DIANOIA_OK = 0,
  DIANOIA_ERR_INVALID_ARGUMENT = 1, /* null handle/pointer, out-of-range parameter, invalid UTF-8 */
  DIANOIA_ERR_IO = 2,               /* file missing or unreadable */
  DIANOIA_ERR_FORMAT = 3,           /* malformed or hostile model file, broken template */
  DIANOIA_ERR_UNSUPPORTED = 4,      /* valid but not supported: architecture, tensor type, template */
  DIANOIA_ERR_OUT_OF_MEMORY = 5,
  DIANOIA_ERR_CONTEXT_FULL = 6, /* prompt does not fit in the context window */
  DIANOIA_ERR_CANCELLED = 7,    /* model loading aborted by the progress callback */
  DIANOIA_ERR_BUFFER_TOO_SMALL = 8, /* output buffer too small: the needed size was stored */
  DIANOIA_ERR_INTERNAL = 9
};

/* Text of the last error on the calling thread ("" if none). Valid until the next dianoia call on the
 * same thread. Never NULL. */
DIANOIA_API const char* dianoia_last_error(void);
/* Static name of a status code, e.g. "DIANOIA_ERR_FORMAT" ("DIANOIA_ERR_UNKNOWN" for a value this
 * library does not know). Never NULL. */
DIANOIA_API const char* dianoia_status_string(dianoia_status status);
/* Library version as MAJOR*10000 + MINOR*100 + PATCH, and as a static string. Compare with
 * DIANOIA_VERSION_* to detect a header/library mismatch. */
DIANOIA_API uint32_t dianoia_version(void);
DIANOIA_API const char* dianoia_version_string(void);
/* What this process runs on, as a static one-line string: the CPU's best instruction-set level, the
 * default ceiling (DIANOIA_ISA) and the level each kernel family uses under it, e.g.
 * "cpu: avx512_bf16 | ceiling: avx512_bf16 | int8 gemm: avx512_vnni | gemv: avx2". Never NULL; thread-safe. */
DIANOIA_API const char* dianoia_system_info(void);

/* Log levels (dianoia_log_set). */
typedef int32_t dianoia_log_level;
enum {
  DIANOIA_LOG_DEBUG = 0,
  DIANOIA_LOG_INFO = 1,
  DIANOIA_LOG_WARN = 2,
  DIANOIA_LOG_ERROR = 3,
  DIANOIA_LOG_NONE = 4 /* as min_level: nothing */
};
/* Receives one log message (NUL-terminated, no trailing newline, valid during the call). Called from
 * whichever thread logs, possibly several at once; it must not call back into dianoia. */
typedef void (*dianoia_log_fn)(dianoia_log_level level, const char* message, void* user_data);
/* Routes the library's log messages at or above `min_level` to `fn` (NULL: the default, which writes
 * them to stderr as "dianoia LEVEL: message"). Default: stderr, DIANOIA_LOG_WARN. Thread-safe: after it
 * returns no message reaches the previous callback. DIANOIA_ERR_INVALID_ARGUMENT for an unknown level. */
DIANOIA_API dianoia_status dianoia_log_set(dianoia_log_fn fn, void* user_data, dianoia_log_level min_level);

/* ---------------------------------------------------------------------------------------------------
 * Models
 * ------------------------------------------------------------------------------------------------ */

typedef struct dianoia_model dianoia_model;

/* Called during loading with progress in [0, 1]. Return false to abort (load returns
 * DIANOIA_ERR_CANCELLED). Called on the loading thread. */
typedef bool (*dianoia_progress_fn)(float progress, void* user_data);

typedef struct dianoia_model_params {
  size_t struct_size;          /* sizeof(dianoia_model_params), set by dianoia_model_default_params() */
  uint32_t context_length;     /* 0: the model file's training context; else overrides it */
  dianoia_progress_fn progress; /* optional */
  void* progress_user_data;
  bool vocab_only; /* load only the tokenizer and chat template (e.g. a vocab-only GGUF); sessions fail */
  /* Refuse (DIANOIA_ERR_OUT_OF_MEMORY) a model whose weights need more bytes than this; 0: the machine's
   * available memory (MemAvailable). */
  uint64_t max_memory_bytes;
  /* true (default): the weight files are memory-mapped, read from disk as they are used and
   * shared with the page cache. Then the files must not change while the model is loaded: if one is
   * truncated, the next read of a weight past its new end kills the process with SIGBUS (as in
   * llama.cpp), and bytes rewritten in place are used as they now are; the library cannot detect or
   * prevent either. Replacing a file by renaming another over it is safe (the mapping keeps the old one).
   * false (llama.cpp's --no-mmap): the files are read into memory the model owns, which costs their size
   * in RAM (checked against max_memory_bytes before reading) and the time to read them, and the model
   * no longer depends on them. Ignored with vocab_only. */
  bool use_mmap;
} dianoia_model_params;

/* Fills the first `size` bytes of *p with the defaults and sets p->struct_size = size. The inline
 * dianoia_model_default_params() below passes the size of the struct as the caller was compiled, so
 * a program built against an older (smaller) struct keeps working with a newer library. */
DIANOIA_API void dianoia_model_params_init(dianoia_model_params* p, size_t size);
static inline dianoia_model_params dianoia_model_default_params(void) {
  dianoia_model_params p;
  dianoia_model_params_init(&p, sizeof p);
  return p;
}

/* Loads a model: a GGUF file (or the first of its splits, NAME-00001-of-0000N.gguf) or a Hugging Face
 * model directory (config.json, tokenizer.json, *.safetensors; memory-mapped unless params->use_mmap is
 * false). `params` may be NULL for defaults. On success stores a new
 * handle in *out_model (free it with dianoia_model_free). On failure *out_model is set to NULL. */
DIANOIA_API dianoia_status dianoia_model_load(const char* path, const dianoia_model_params* params,
                                              dianoia_model** out_model);
/* Frees a model. NULL is ignored. All sessions created from it must be freed first. */
DIANOIA_API void dianoia_model_free(dianoia_model* model);

typedef struct dianoia_model_info {
  size_t struct_size;
  const char* architecture; /* e.g. "llama"; owned by the model */
  const char* name;         /* general.name or "" */
  uint64_t n_params;
  uint32_t n_vocab;
  uint32_t n_layers;
  uint32_t n_embd;
  uint32_t context_length; /* effective (after override) */
  uint32_t context_length_train;
  bool has_chat_template;
  int32_t bos_token; /* -1 if none */
  int32_t eos_token; /* -1 if none */
  const char* format;         /* "gguf", "safetensors" or "tokenizer.json"; owned by the model */
  uint64_t file_bytes;        /* all files holding weights (splits, shards) */
  uint64_t memory_bytes;      /* expected resident weight bytes: mapped + repacked (sessions add KV) */
  uint64_t repacked_bytes;    /* weights converted at load into buffers the model owns */
  const char* tensor_types;   /* e.g. "Q4_1 x 211, F32 x 61"; owned by the model */
  const char* tokenizer_kind; /* "spm" or "bpe (<pre-tokenizer>)"; owned by the model */
  /* since 0.2: how the model family thinks, from its chat template and vocabulary: "deepseek-r1" (the
   * template opens <think>), "qwen3" (enable_thinking), "think-tags" (the vocab has <think>/</think>),
   * or "none"; owned by the model */
  const char* reasoning_family;
} dianoia_model_info;

/* Fills *info (set info->struct_size = sizeof *info first; fields past it are not written). */
DIANOIA_API dianoia_status dianoia_model_get_info(const dianoia_model* model, dianoia_model_info* info);

struct dianoia_generate_params; /* defined below, with the sessions */

/* Overwrites the sampling fields of *params (temperature, top_p, top_k, min_p) with the defaults the
 * model ships in generation_config.json, where it has them (do_sample = false there means greedy:
 * temperature 0). Models without one (every GGUF) leave *params unchanged. */
DIANOIA_API dianoia_status dianoia_model_apply_generation_defaults(const dianoia_model* model,
                                                                   struct dianoia_generate_params* params);

/* ---------------------------------------------------------------------------------------------------
 * Tokens
 * ------------------------------------------------------------------------------------------------ */

/* Tokenizes `text` (UTF-8, `text_len` bytes). add_special: add BOS/EOS as the model's vocab asks.
 * parse_special: text of special tokens (e.g. "<|im_start|>") becomes those tokens; otherwise it is
 * tokenized as plain text. Writes up to `capacity` ids to `tokens` and the full count to *n_tokens; if
 * capacity is too small returns DIANOIA_ERR_BUFFER_TOO_SMALL (call again with *n_tokens). Invalid UTF-8
 * returns DIANOIA_ERR_INVALID_ARGUMENT. */
DIANOIA_API dianoia_status dianoia_tokenize(const dianoia_model* model, const char* text, size_t text_len,
                                            bool add_special, bool parse_special, int32_t* tokens,
                                            size_t capacity, size_t* n_tokens);

/* Converts ids back to UTF-8 text (invalid byte sequences become U+FFFD). skip_special: control tokens
 * (BOS, EOS, <|im_end|>, ...) are left out. Writes up to `capacity` bytes (no terminator) and the full
 * length to *n_bytes; DIANOIA_ERR_BUFFER_TOO_SMALL if it does not fit. Unknown ids are
 * DIANOIA_ERR_INVALID_ARGUMENT. */
DIANOIA_API dianoia_status dianoia_detokenize(const dianoia_model* model, const int32_t* tokens, size_t n_tokens,
                                              bool skip_special, char* text, size_t capacity, size_t* n_bytes);

/* Streaming detokenization: ids in one at a time, text out as whole UTF-8 characters (bytes of a
 * character split across tokens are held back until it completes). The concatenated output of every
 * push and the final flush equals dianoia_detokenize of all the ids. One detokenizer per stream; the
 * model must outlive it. */
typedef struct dianoia_detokenizer dianoia_detokenizer;
DIANOIA_API dianoia_status dianoia_detokenizer_create(const dianoia_model* model, bool skip_special,
                                                      dianoia_detokenizer** out);
DIANOIA_API void dianoia_detokenizer_free(dianoia_detokenizer* detokenizer);
/* Appends `token`; *text / *text_len receive the text it completes (possibly empty), owned by the
 * detokenizer and valid until its next call. An unknown id is DIANOIA_ERR_INVALID_ARGUMENT. */
DIANOIA_API dianoia_status dianoia_detokenizer_push(dianoia_detokenizer* detokenizer, int32_t token, const char** text,
                                                    size_t* text_len);
/* Ends the stream: what is held back (an unfinished character becomes U+FFFD); the detokenizer can then
 * start a new stream. */
DIANOIA_API dianoia_status dianoia_detokenizer_flush(dianoia_detokenizer* detokenizer, const char** text,
                                                     size_t* text_len);

/* ---------------------------------------------------------------------------------------------------
 * Chat templates
 * ------------------------------------------------------------------------------------------------ */

/* A tool call made by an assistant turn, as the template sees it (OpenAI / Hugging Face shape:
 * {"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}). Frozen layout. */
typedef struct dianoia_tool_call {
  const char* id;        /* NULL: no "id" key */
  const char* name;      /* the function's name; required */
  const char* arguments; /* JSON text, usually an object ("{\"x\": 1}"); NULL: {} */
} dianoia_tool_call;

/* One message of a conversation, with what chat templates use. Every string is NUL-terminated UTF-8;
 * NULL means the key is absent for the template. Zero-initialize, then set what you need (in C:
 * {.role = "user", .content = "hi"}). Frozen layout: new keys go through extra_json. */
typedef struct dianoia_chat_message {
  const char* role;              /* "system", "user", "assistant", "tool", ...; required */
  const char* content;           /* NULL: None (an assistant turn of only tool calls), or the content
                                    extra_json gives (e.g. a list of parts) */
  const char* reasoning_content; /* an assistant turn's thought (also seen as `thinking`) */
  const dianoia_tool_call* tool_calls; /* assistant turn: n_tool_calls calls */
  size_t n_tool_calls;
  const char* tool_call_id;      /* tool result: the call it answers */
  const char* name;              /* tool result (or a named participant): the name */
  const char* extra_json;        /* a JSON object of further keys, e.g. "{\"images\": []}" */
} dianoia_chat_message;

/* Renders a conversation with a Jinja chat template the way Hugging Face's apply_chat_template does:
 * `tmpl` (NUL-terminated), or the model's own template when tmpl is NULL (model may be NULL when tmpl
 * is given; bos_token/eos_token then are ""). chat_template_kwargs (NULL: none) is a JSON object of
 * template variables — apply_chat_template's tools= and documents= (arrays) and **kwargs:
 * {"tools": [...], "enable_thinking": false, ...}. Output by size query (see Strings).
 * DIANOIA_ERR_UNSUPPORTED if the model has no template; DIANOIA_ERR_FORMAT for a template error or
 * raise_exception() (the message gives line and column); DIANOIA_ERR_INVALID_ARGUMENT for malformed
 * JSON or a message without a role. */
DIANOIA_API dianoia_status dianoia_chat_apply_template(const dianoia_model* model, const char* tmpl,
                                                       const dianoia_chat_message* messages, size_t n_messages,
                                                       bool add_generation_prompt, const char* chat_template_kwargs,
                                                       char* out, size_t capacity, size_t* n_bytes);

/* ---------------------------------------------------------------------------------------------------
 * Sessions and generation
 * ------------------------------------------------------------------------------------------------ */

typedef struct dianoia_session dianoia_session;

typedef int32_t dianoia_kv_type;
enum {
  DIANOIA_KV_F16 = 0, /* half the memory; llama.cpp's default numerics (default) */
  DIANOIA_KV_F32 = 1  /* exact attention, for reference comparisons */
};

/* Instruction-set levels (dianoia_session_params.max_isa): the kernels use the best level the CPU has up
 * to this ceiling. A level above what the CPU has is the same as AUTO. */
#define DIANOIA_ISA_AUTO 0        /* the best the CPU has (or the DIANOIA_ISA environment variable) */
#define DIANOIA_ISA_SCALAR 1      /* baseline x86-64, no SIMD kernels */
#define DIANOIA_ISA_AVX2 2        /* AVX2 + FMA + F16C */
#define DIANOIA_ISA_AVX_VNNI 3    /* + AVX-VNNI (256-bit int8 dot products) */
#define DIANOIA_ISA_AVX512 4      /* + AVX-512 F/BW/DQ/VL */
#define DIANOIA_ISA_AVX512_VNNI 5 /* + AVX-512 VNNI */
#define DIANOIA_ISA_AVX512_BF16 6 /* + AVX-512 BF16 */

/* Arithmetic of prompt batches (dianoia_session_params.numerics). */
#define DIANOIA_NUMERICS_FAST 0     /* int8 GEMM on quantized weights (default) */
#define DIANOIA_NUMERICS_LLAMACPP 1 /* llama.cpp's AVX2 CPU arithmetic for every batch: slower; for comparing
                                       batched logits with llama.cpp's (decode is the same either way) */

typedef struct dianoia_session_params {
  size_t struct_size;
  uint32_t context_length; /* 0: the model's (effective) context length */
  int32_t n_threads;       /* 0: min(2, hardware threads) */
  dianoia_kv_type kv_type; /* DIANOIA_KV_* */
  int32_t max_isa;  /* DIANOIA_ISA_*: ceiling on the SIMD level the session's matrix kernels use (0: auto) */
  int32_t numerics; /* DIANOIA_NUMERICS_* */
} dianoia_session_params;

/* Fills the first `size` bytes of *p with the defaults and sets p->struct_size = size. The inline
 * dianoia_session_default_params() below passes the size of the struct as the caller was compiled, so
 * a program built against an older (smaller) struct keeps working with a newer library. */
DIANOIA_API void dianoia_session_params_init(dianoia_session_params* p, size_t size);
static inline dianoia_session_params dianoia_session_default_params(void) {
  dianoia_session_params p;
  dianoia_session_params_init(&p, sizeof p);
  return p;
}

/* Creates a session (KV cache + scratch) on a model. The model must outlive the session. Thread-safe
 * with respect to the model (sessions may be created on several threads at once). */
DIANOIA_API dianoia_status dianoia_session_create(dianoia_model* model, const dianoia_session_params* params,
                                                  dianoia_session** out_session);
DIANOIA_API void dianoia_session_free(dianoia_session* session);

/* Asks a running generation on `session` to stop: before its next token, or, while the prompt is being
 * evaluated, before its next chunk of 512 tokens (the generation then ends with DONE,
 * DIANOIA_STOP_CANCELLED and no tokens; the cache keeps the chunks evaluated). Safe from any thread,
 * also from inside the event callback; a no-op when nothing runs. The flag is cleared when the next
 * generation starts, so a cancel that comes before a generation starts is lost. */
DIANOIA_API void dianoia_session_cancel(dianoia_session* session);

typedef int32_t dianoia_reasoning_mode;
enum {
  DIANOIA_REASONING_AUTO = 0, /* split thinking when the prompt or the output opens a <think> block */
  DIANOIA_REASONING_ON = 1,   /* as AUTO, and open a "<think>\n" block after the prompt if it does not */
  DIANOIA_REASONING_OFF = 2   /* no splitting: all output is content, tags included; Qwen3-style
                                 templates get enable_thinking = false */
};

typedef struct dianoia_generate_params {
  size_t struct_size;
  int32_t max_tokens;           /* new tokens in all (reasoning + content); <= 0: until the context is full */
  float temperature;            /* <= 0: greedy */
  int32_t top_k;                /* <= 0: off */
  float top_p;                  /* >= 1: off */
  float min_p;                  /* <= 0: off */
  uint64_t seed;                /* same seed + same inputs => same output */
  dianoia_reasoning_mode reasoning; /* DIANOIA_REASONING_* */
  int32_t max_reasoning_tokens; /* < 0: unlimited. At the limit the thought is closed and the answer follows */
  bool ignore_eos;              /* never pick end-of-generation tokens (benchmarks) */

  /* --- since 0.2: reasoning control --- */
  int32_t min_reasoning_tokens; /* 0: off. While fewer reasoning tokens were generated, an attempt to end
                                   the thought (close tag or end of turn) is replaced by continue_text
                                   (s1 budget forcing; also guards against R1's empty <think></think>) */
  const char* continue_text;    /* NULL: "\nWait" */
  const char* wrap_up_text;     /* NULL/"": none. At max_reasoning_tokens this text is fed to the model (and
                                   shown as reasoning) before the thought is closed, e.g. "\n\nConsidering
                                   the limited time, I have to answer now.\n" */
  const char* open_tag;         /* NULL: "<think>" */
  const char* close_tag;        /* NULL: "</think>" */
  const char* const* stop;      /* stop strings (NUL-terminated UTF-8), matched across token boundaries on
                                   the raw output; never partly emitted. NULL/0: none */
  size_t n_stop;
  int32_t logprobs;             /* < 0: no TOKEN events. >= 0: a TOKEN event per token with the sampled
                                   token's log-probability and this many alternatives (at most 100) */

  /* --- since 0.2: samplers beyond the basic four (llama.cpp's semantics; defaults: off) --- */
  float repeat_penalty;         /* 1: off */
  float frequency_penalty;      /* 0: off */
  float presence_penalty;       /* 0: off */
  int32_t penalty_last_n;       /* window of recent tokens the penalties look at; -1: the context */
  float dry_multiplier;         /* 0: off */
  float dry_base;
  int32_t dry_allowed_length;
  int32_t dry_penalty_last_n;   /* -1: the context */
  const char* const* dry_sequence_breakers; /* NULL: "\n", ":", "\"", "*" */
  size_t n_dry_sequence_breakers;
  float dynatemp_range;         /* 0: off; > 0: temperature +- range, by entropy */
  float dynatemp_exponent;
  float typical_p;              /* >= 1: off */
  float xtc_probability;        /* 0: off */
  float xtc_threshold;
  float top_n_sigma;            /* <= 0: off */
  int32_t mirostat;             /* 0: off, 2: mirostat 2.0 (replaces the random pick) */
  float mirostat_tau;
  float mirostat_eta;
  const struct dianoia_logit_bias* logit_bias; /* added to the logits first (-INFINITY bans a token) */
  size_t n_logit_bias;
  const char* sampler_order;    /* NULL: "penalties;dry;top_n_sigma;top_k;typ_p;top_p;min_p;xtc;temperature";
                                   names as llama.cpp's --samplers, plus "host" for custom samplers */
  const struct dianoia_sampler* const* custom_samplers; /* n_custom_samplers pointers to host stages, see
                                                          dianoia_sampler (each table may be of any
                                                          version: its struct_size says) */
  size_t n_custom_samplers;

  /* --- since 1.0 --- */
  const char* chat_template_kwargs; /* chat generations (session chat, samples, conversations): template
                                       variables as a JSON object, as for dianoia_chat_apply_template;
                                       an "enable_thinking" here wins over the one `reasoning` implies */
  /* --- tool calls (DIANOIA_TOOL_SYNTAX_*, DIANOIA_EVENT_TOOL_CALL) --- */
  const char* tools;            /* NULL: none. A JSON array of tool definitions, as transformers'
                                   apply_chat_template(tools=...) and OpenAI's `tools` take them; rendered into
                                   the chat template (chat and conversation calls). Calls in the answer then
                                   arrive as TOOL_CALL events, never as CONTENT text */
  int32_t tool_call_syntax;     /* DIANOIA_TOOL_SYNTAX_*; AUTO: the chat template's, when tools are given */

  /* --- confidence-aware self-consistency (DeepConf; samples only; DIANOIA_VOTE_*) --- */
  int32_t vote;                 /* DIANOIA_VOTE_MAJORITY (default), _CONFIDENCE (offline) or _CONFIDENCE_ONLINE */
  int32_t confidence_top_k;     /* token confidence = -mean log-probability of the top k tokens (default 20) */
  uint32_t confidence_window;   /* tokens per group confidence (sliding window; default 2048) */
  int32_t confidence_score;     /* DIANOIA_CONFIDENCE_LOWEST_GROUP (default) or _BOTTOM_10 */
  float confidence_keep_percent; /* eta: offline, the top share of traces that vote; online, the share of
                                    warm-up traces above the threshold (default 10) */
  uint32_t confidence_warmup;   /* online: traces that set the threshold (default 16) */
  float confidence_consensus;   /* online: stop sampling once the leading answer holds this share of the
                                   confidence-weighted vote (default 0.95; > 1: never) */

  /* --- grammar-constrained answers (DIANOIA_GRAMMAR_*) --- */
  int32_t grammar_kind;         /* DIANOIA_GRAMMAR_NONE (default), _JSON_SCHEMA, _LARK or _REGEX */
  const char* grammar;          /* NUL-terminated UTF-8 text of that kind; required unless NONE. Constrains the
                                   answer channel only: the thought is free. With reasoning the grammar
                                   starts at the first token after the close tag (also when
                                   max_reasoning_tokens closes the thought); without, at the first token.
                                   Once the grammar is complete the answer ends (DIANOIA_STOP_EOS). Each
                                   sample follows the grammar on its own. A grammar the engine refuses is
                                   DIANOIA_ERR_INVALID_ARGUMENT with the engine's message (before any
                                   event); a library built without the engine (dianoia_has_grammar_engine)
                                   returns DIANOIA_ERR_UNSUPPORTED */
} dianoia_generate_params;

typedef struct dianoia_logit_bias {
  int32_t token;
  float bias;
} dianoia_logit_bias;

/* A candidate token as custom samplers see it. Same layout as llama.cpp's llama_token_data. */
typedef struct dianoia_candidate {
  int32_t id;
  float logit;
  float p; /* probability; only meaningful where the previous stage computed it */
} dianoia_candidate;

/* A sampler stage implemented by the host (a versioned callback table: set struct_size = sizeof). It
 * runs where "host" appears in sampler_order (else just before the pick); with picks = true it replaces
 * the pick. apply() sees the candidates as the chain left them and may permute them, lower *n (not to
 * 0), change logits and p, and set *selected to an index < *n to choose that token (required when picks).
 * It must not add entries or change ids; the runtime checks and fails the generation with
 * DIANOIA_ERR_INVALID_ARGUMENT if it does, or if apply returns non-zero. Called on the generating thread. */
typedef struct dianoia_sampler {
  size_t struct_size;
  const char* name;                                /* for messages; may be NULL */
  int (*apply)(void* user_data, dianoia_candidate* candidates, size_t* n, int64_t* selected);
  void (*accept)(void* user_data, int32_t token); /* optional: the token finally chosen */
  void (*reset)(void* user_data);                  /* optional: a generation (each sample of a samples
                                                      call) starts, before its first apply */
  void* user_data;
  bool picks;
} dianoia_sampler;

/* Fills the first `size` bytes of *p with the defaults and sets p->struct_size = size. The inline
 * dianoia_generate_default_params() below passes the size of the struct as the caller was compiled, so
 * a program built against an older (smaller) struct keeps working with a newer library. */
DIANOIA_API void dianoia_generate_params_init(dianoia_generate_params* p, size_t size);
static inline dianoia_generate_params dianoia_generate_default_params(void) {
  dianoia_generate_params p;
  dianoia_generate_params_init(&p, sizeof p);
  return p;
}

/* Later versions may add event types (and stop reasons): a callback should ignore types it does not
 * know. */
typedef int32_t dianoia_event_type;
enum {
  DIANOIA_EVENT_REASONING = 1, /* text of the model's thinking (tags removed) */
  DIANOIA_EVENT_CONTENT = 2,   /* text of the answer */
  DIANOIA_EVENT_DONE = 3,      /* last event of a generation; counts and stop reason set */
  DIANOIA_EVENT_TOKEN = 4,     /* (logprobs >= 0) a token entered the context: id, logprobs, raw bytes */
  DIANOIA_EVENT_VOTE = 5       /* (samples) after every sample's DONE: the majority vote */
};

typedef int32_t dianoia_stop_reason;
enum {
  DIANOIA_STOP_NONE = 0,
  DIANOIA_STOP_EOS = 1,          /* the model ended its turn */
  DIANOIA_STOP_MAX_TOKENS = 2,   /* max_tokens reached */
  DIANOIA_STOP_CONTEXT_FULL = 3, /* the context window is full */
  DIANOIA_STOP_CANCELLED = 4,    /* dianoia_session_cancel() */
  DIANOIA_STOP_CALLBACK = 5,     /* the event callback returned false */
  DIANOIA_STOP_STRING = 6        /* a stop string appeared (not included in the output) */
};

typedef struct dianoia_vote_entry {
  const char* answer; /* UTF-8, not NUL-terminated */
  size_t answer_len;
  uint32_t count;
  uint32_t first_sample; /* the first sample that gave this answer */
} dianoia_vote_entry;

typedef struct dianoia_event {
  size_t struct_size;
  dianoia_event_type type; /* DIANOIA_EVENT_* */
  const char* text; /* REASONING/CONTENT: UTF-8 text, not NUL-terminated; valid only during the callback */
  size_t text_len;
  /* DONE only: */
  dianoia_stop_reason stop_reason; /* DIANOIA_STOP_* */
  uint32_t prompt_tokens;
  uint32_t reasoning_tokens;
  uint32_t content_tokens;
  double prompt_seconds; /* prefill time */
  double generate_seconds;

  /* --- since 0.2 --- */
  uint32_t sample_index;     /* samples: which sample this event belongs to (0 otherwise) */
  /* DONE: */
  uint32_t injected_tokens;  /* tokens the runtime fed: budget close, wrap-up, continuation */
  uint32_t prompt_reused;    /* prompt tokens whose KV cache was reused from the previous call */
  const char* stop_string;   /* STOP_STRING: the string that matched (not NUL-terminated) */
  size_t stop_string_len;
  /* TOKEN (text/text_len are then the token's raw bytes, which may end inside a UTF-8 character): */
  int32_t token;
  dianoia_event_type channel; /* DIANOIA_EVENT_REASONING or DIANOIA_EVENT_CONTENT */
  bool is_tag;               /* the token is the open or close tag itself (shown in neither channel) */
  bool injected;             /* fed by the runtime, not sampled (logprob 0, no alternatives) */
  float logprob;             /* log-probability under the model's raw distribution (before samplers) */
  const int32_t* top_tokens; /* the n_top most likely tokens, best first */
  const float* top_logprobs;
  size_t n_top;
  /* VOTE: */
  const dianoia_vote_entry* votes; /* by count, descending (ties: the earlier answer first) */
  size_t n_votes;
  uint32_t abstained;        /* samples without an extractable answer */
  bool tie;                  /* the top count is shared; the winner (votes[0]) is the earlier answer */

  /* TOOL_CALL: one call of a tool in the answer (text/text_len are empty) */
  const char* tool_call_id;  /* "call_<n>", n counting the calls of the generation (of the conversation) */
  size_t tool_call_id_len;
  const char* tool_name;
  size_t tool_name_len;
  const char* tool_arguments; /* a JSON object, compact */
  size_t tool_arguments_len;
  /* DONE, with a confidence vote: the sample's trace score (NaN otherwise, or before any sampled token) */
  double confidence;
  /* VOTE, with a confidence vote (NULL / NaN otherwise); votes[] is then ordered by weight: */
  const double* vote_weights;       /* votes[i]'s summed confidence */
  const double* sample_confidences; /* per reported sample: its trace score */
  const bool* sample_voted;         /* per reported sample: whether its answer counted */
  size_t n_samples;                 /* entries of the two arrays above: the samples reported */
  double confidence_threshold;      /* online: the threshold the warm-up set */
} dianoia_event;

/* further event types and stop reasons (dianoia_event.type / .stop_reason values) */
#define DIANOIA_EVENT_TOOL_CALL 6     /* a tool call in the answer: tool_call_id, tool_name, tool_arguments */
#define DIANOIA_STOP_LOW_CONFIDENCE 7 /* online confidence vote: the trace's confidence fell below the threshold */

/* dianoia_generate_params.tool_call_syntax */
#define DIANOIA_TOOL_SYNTAX_AUTO 0     /* the chat template's (from its markers), when tools are given */
#define DIANOIA_TOOL_SYNTAX_NONE 1     /* no parsing: calls stay content text */
#define DIANOIA_TOOL_SYNTAX_HERMES 2   /* Qwen2.5/Qwen3/Hermes: <tool_call>{"name": .., "arguments": ..}</tool_call> */
#define DIANOIA_TOOL_SYNTAX_DEEPSEEK 3 /* DeepSeek-V3/R1: <｜tool▁calls▁begin｜>...<｜tool▁calls▁end｜> */
#define DIANOIA_TOOL_SYNTAX_LLAMA3 4   /* Llama 3.1+: the answer is {"name": .., "parameters": ..} */

/* dianoia_generate_params.vote and .confidence_score (DeepConf, Fu et al. 2025,
 * arXiv 2508.15260). A trace's score is its lowest group confidence (or the mean of its bottom 10% of
 * groups), a group being the mean token confidence over a sliding window of confidence_window tokens. */
#define DIANOIA_VOTE_MAJORITY 0          /* one vote per sample */
#define DIANOIA_VOTE_CONFIDENCE 1        /* offline: the top confidence_keep_percent% of the samples vote, each
                                            weighted by its score */
#define DIANOIA_VOTE_CONFIDENCE_ONLINE 2 /* the first confidence_warmup samples run in full and set a threshold
                                            (the score that keeps confidence_keep_percent% of them); every later
                                            sample stops (DIANOIA_STOP_LOW_CONFIDENCE) when a window's confidence
                                            falls below it and does not vote; sampling stops once the leader
                                            is safe (confidence_consensus). Warm-up samples from the threshold
                                            up and later samples not stopped vote, weighted by score */
#define DIANOIA_CONFIDENCE_LOWEST_GROUP 0
#define DIANOIA_CONFIDENCE_BOTTOM_10 1

/* dianoia_generate_params.grammar_kind. The engine is llguidance: its JSON-schema subset, its Lark
 * dialect (https://github.com/guidance-ai/llguidance/blob/main/docs/syntax.md; %json{...} embeds a
 * schema) and Rust regex syntax (the whole answer must match). */
#define DIANOIA_GRAMMAR_NONE 0
#define DIANOIA_GRAMMAR_JSON_SCHEMA 1 /* a JSON schema (draft 2020-12 subset): the answer is one JSON value */
#define DIANOIA_GRAMMAR_LARK 2        /* a Lark grammar; its start rule is `start` */
#define DIANOIA_GRAMMAR_REGEX 3       /* a regular expression */

/* Whether this library was built with the grammar engine (grammar_kind other than NONE works).
 * Thread-safe. */
DIANOIA_API bool dianoia_has_grammar_engine(void);

/* Receives each event in order, on the generating thread. The event and every pointer in it are valid
 * only during the call. Return false to stop the generation: DONE still follows, with
 * DIANOIA_STOP_CALLBACK (during samples it stops every sample, see dianoia_session_chat_samples). The
 * return value of DONE and VOTE events is ignored. The callback may call dianoia_session_cancel on its
 * session, but no other function on it. */
typedef bool (*dianoia_event_fn)(const dianoia_event* event, void* user_data);

/* Generates a reply to a conversation: renders the model's chat template with a generation prompt and
 * params->chat_template_kwargs (see dianoia_chat_apply_template), evaluates it, and streams events, the
 * last being DONE. The prompt reuses the session's KV cache up to the first token where it differs from
 * the session's previous context (prefix reuse: DONE's prompt_reused says how many tokens); output is
 * the same as from an empty cache. `params` may be NULL. DIANOIA_ERR_CONTEXT_FULL when the prompt does
 * not fit; DIANOIA_ERR_UNSUPPORTED for a model without a chat template. */
DIANOIA_API dianoia_status dianoia_session_chat(dianoia_session* session, const dianoia_chat_message* messages,
                                                size_t n_messages, const dianoia_generate_params* params,
                                                dianoia_event_fn on_event, void* user_data);

/* Plain completion: BOS (when the vocab asks for it) + `prompt` as text (special-token text stays
 * literal), no template; prefix reuse as for dianoia_session_chat. Output is content unless
 * reasoning == DIANOIA_REASONING_ON. */
DIANOIA_API dianoia_status dianoia_session_complete(dianoia_session* session, const char* prompt, size_t prompt_len,
                                                    const dianoia_generate_params* params, dianoia_event_fn on_event,
                                                    void* user_data);

/* As dianoia_session_complete, from token ids (nothing added). */
DIANOIA_API dianoia_status dianoia_session_complete_tokens(dianoia_session* session, const int32_t* tokens,
                                                           size_t n_tokens, const dianoia_generate_params* params,
                                                           dianoia_event_fn on_event, void* user_data);

/* Copies the token ids in the session's context after the last generation: the prompt as evaluated
 * (with any template or thinking prefix), then every generated token in order, including tokens the
 * runtime injected (a closing </think> at the reasoning budget); the end-of-generation token that
 * stopped it is not included. Size query as for dianoia_tokenize. */
DIANOIA_API dianoia_status dianoia_session_get_tokens(const dianoia_session* session, int32_t* tokens, size_t capacity,
                                                      size_t* n_tokens);

/* Extracts the final answer from a sample's answer text (content channel). Return false when there is
 * none (the sample abstains); otherwise point *answer at UTF-8 text that stays valid until the next call
 * (it may point into `content`). */
typedef bool (*dianoia_extract_fn)(const char* content, size_t content_len, const char** answer, size_t* answer_len,
                                   void* user_data);

/* Self-consistency: n_samples replies to one conversation. The prompt is evaluated once (one copy of its
 * KV cache, whatever n); samples are decoded several per forward pass where the model supports it (each
 * holding its own KV for the positions after the prompt meanwhile; as many as fit in the session's
 * context), else one after another, and their events arrive as if one after another either way. Sample
 * i uses seed params->seed + i; in passes of up to 11 samples its text is the one a single generation
 * with that seed gives (larger passes multiply through the int8 GEMM, which rounds differently). Events of
 * sample i carry sample_index = i (each ends with its DONE; a DONE's generate_seconds is the wall time of
 * the group it was decoded in). Order: sample 0's text events and its DONE, then sample 1's, ...,
 * then one VOTE (every DONE precedes the VOTE). dianoia_session_cancel ends every started sample with
 * DIANOIA_STOP_CANCELLED (each still gets its DONE). An on_event that returns false (for any event of any
 * sample) stops all samples, not just that one: that sample's DONE has DIANOIA_STOP_CALLBACK and it is the
 * last reported; later samples are never started, or, if they were being decoded alongside, dropped
 * without any of their events (the VOTE counts the reported samples only). Then one VOTE
 * event: each sample's answer is extracted by `extract` (NULL: the content of the last \boxed{...}, else
 * the last number in the answer) and majority-voted. n_samples in [1, 1024].
 * Since 0.3: params->vote chooses a confidence-weighted vote (DIANOIA_VOTE_*): DONE events then carry
 * each sample's `confidence` and VOTE the weights, per-sample scores and which samples voted; the online
 * mode may stop samples early and end the sampling before n_samples (the samples not started are not
 * reported). Tools (params->tools) are not available with samples (DIANOIA_ERR_UNSUPPORTED). */
DIANOIA_API dianoia_status dianoia_session_chat_samples(dianoia_session* session, const dianoia_chat_message* messages,
                                                        size_t n_messages, uint32_t n_samples,
                                                        const dianoia_generate_params* params, dianoia_extract_fn extract,
                                                        void* extract_user_data, dianoia_event_fn on_event,
                                                        void* user_data);

/* Saves the session's context (token ids and KV cache) to a file (written atomically), and loads one
 * back into a session of the same model and KV type, after which a generation whose prompt extends the
 * saved tokens continues exactly where the saved session stood. A corrupt or truncated file is
 * DIANOIA_ERR_FORMAT; a file from another model or KV type, or larger than the context,
 * DIANOIA_ERR_INVALID_ARGUMENT; the session is then left empty. */
DIANOIA_API dianoia_status dianoia_session_save(dianoia_session* session, const char* path);
DIANOIA_API dianoia_status dianoia_session_load(dianoia_session* session, const char* path);

/* ---------------------------------------------------------------------------------------------------
 * Conversations: multi-turn chat that keeps the KV cache between turns
 * ------------------------------------------------------------------------------------------------ */
typedef struct dianoia_conversation dianoia_conversation;

/* A conversation on a session (which must outlive it and should not be used for other generations in
 * between, or the cache reuse is lost — results stay correct). Needs a model with a chat template. */
DIANOIA_API dianoia_status dianoia_conversation_create(dianoia_session* session, dianoia_conversation** out);
DIANOIA_API void dianoia_conversation_free(dianoia_conversation* conversation);
/* Appends a message without generating: a system prompt, earlier turns (with their reasoning_content and
 * tool calls), a tool result. The message is copied. */
DIANOIA_API dianoia_status dianoia_conversation_add(dianoia_conversation* conversation,
                                                    const dianoia_chat_message* message);
/* Appends the user's turn and generates the assistant's reply, which is appended too (answer as content,
 * thought as reasoning_content; the template decides whether later prompts show it). Only the tokens
 * after the longest cached prefix are evaluated. Events as for dianoia_session_chat. On failure the
 * conversation is unchanged. For Qwen3-style templates, reasoning = OFF sets enable_thinking = false. */
DIANOIA_API dianoia_status dianoia_conversation_send(dianoia_conversation* conversation, const char* text,
                                                     size_t text_len, const dianoia_generate_params* params,
                                                     dianoia_event_fn on_event, void* user_data);
DIANOIA_API dianoia_status dianoia_conversation_message_count(const dianoia_conversation* conversation, size_t* n);
typedef int32_t dianoia_message_part;
enum {
  DIANOIA_MESSAGE_ROLE = 0,
  DIANOIA_MESSAGE_CONTENT = 1,
  DIANOIA_MESSAGE_REASONING = 2, /* "" when the message has none */
  DIANOIA_MESSAGE_EXTRA_JSON = 3 /* further keys (tool_calls, tool_call_id, name, ...) as a JSON object;
                                    "" when none */
};
/* Copies one part of message `index` (size query as for dianoia_detokenize). */
DIANOIA_API dianoia_status dianoia_conversation_get_message(const dianoia_conversation* conversation, size_t index,
                                                            dianoia_message_part part, char* out, size_t capacity,
                                                            size_t* n_bytes);
/* DIANOIA_MESSAGE_EXTRA_JSON of a conversation message: {"tool_calls": [...]} on an assistant turn that
 * called tools (OpenAI's shape: id, type, function.name, function.arguments), {"tool_call_id": ..,
 * "name": ..} on a tool result. */

/* Tool calls in conversations. With params->tools set, dianoia_conversation_send renders the
 * tools into the template, delivers the reply's calls as TOOL_CALL events and keeps them on the assistant
 * message (DIANOIA_MESSAGE_EXTRA_JSON). The host runs the tools, appends each result with
 * dianoia_conversation_add_tool_result, then asks for the model's next turn with dianoia_conversation_reply.
 * Tool-call ids count across the conversation. */
/* Appends a tool's result for the call `tool_call_id` of tool `name` (either may be NULL); NUL-terminated
 * UTF-8. */
DIANOIA_API dianoia_status dianoia_conversation_add_tool_result(dianoia_conversation* conversation,
                                                                const char* tool_call_id, const char* name,
                                                                const char* content);
/* Generates the assistant's next turn for the messages as they stand (no new user turn), e.g. after tool
 * results, and appends it. Events as for dianoia_conversation_send; on failure the conversation is
 * unchanged. A conversation without messages is DIANOIA_ERR_INVALID_ARGUMENT. */
DIANOIA_API dianoia_status dianoia_conversation_reply(dianoia_conversation* conversation,
                                                      const dianoia_generate_params* params,
                                                      dianoia_event_fn on_event, void* user_data);

/* Save/load the messages together with the session's context (see dianoia_session_save). */
DIANOIA_API dianoia_status dianoia_conversation_save(dianoia_conversation* conversation, const char* path);
DIANOIA_API dianoia_status dianoia_conversation_load(dianoia_conversation* conversation, const char* path);

/* Evaluates `tokens` at the start of an empty context and copies the logits of the last `n_logits`
 * positions (n_logits * n_vocab floats, position-major) to `logits`. For tests and scoring. Size query
 * (see Strings): *n_floats (may be NULL) receives n_logits * n_vocab; a too small buffer returns
 * DIANOIA_ERR_BUFFER_TOO_SMALL before evaluating anything. */
DIANOIA_API dianoia_status dianoia_session_eval_logits(dianoia_session* session, const int32_t* tokens,
                                                       size_t n_tokens, size_t n_logits, float* logits,
                                                       size_t capacity, size_t* n_floats);

#ifdef __cplusplus
}
#endif

#endif /* DIANOIA_H */
