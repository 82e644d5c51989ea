/*
 * dianoia — an embeddable runtime for reasoning language models.
 *
 * This header is the whole stable ABI: plain C99, opaque handles, status codes. Every function is
 * safe to call with any argument: a null handle or pointer, an invalid parameter or a broken model file
 * returns an error status (never aborts, never throws across the boundary), and the thread-local
 * dianoia_last_error() then describes what went wrong.
 *
 * Threads: a dianoia_model is immutable once loaded and may be shared by any number of sessions on any
 * threads. A dianoia_session is used by one thread at a time, except dianoia_session_cancel(), which any
 * thread may call at any time.
 *
 * Strings: all text in and out is UTF-8. Input text is given as pointer + length (no terminator needed);
 * text handed to callbacks is valid UTF-8 and never splits a multi-byte character.
 *
 * Versioning: the ABI is stable within a major version. Parameter structs begin with `struct_size`;
 * always start from the *_default_params() function, so that a program built against an older header
 * keeps working with a newer library.
 */
#ifndef DIANOIA_H
#define DIANOIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIANOIA_VERSION_MAJOR 0
#define DIANOIA_VERSION_MINOR 1
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

typedef enum dianoia_status {
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
} dianoia_status;

/* Text of the last error on the calling thread ("" if none). Valid until the next dianoia call on the
 * same thread. Never NULL. */
DIANOIA_API const char* dianoia_last_error(void);
/* Static name of a status code, e.g. "DIANOIA_ERR_FORMAT". Never NULL. */
DIANOIA_API const char* dianoia_status_string(dianoia_status status);
/* Library version as MAJOR*10000 + MINOR*100 + PATCH, and as a static string. Compare with
 * DIANOIA_VERSION_* to detect a header/library mismatch. */
DIANOIA_API uint32_t dianoia_version(void);
DIANOIA_API const char* dianoia_version_string(void);

/* ---------------------------------------------------------------------------------------------------
 * Models
 * ------------------------------------------------------------------------------------------------ */

typedef struct dianoia_model dianoia_model;

/* Called during loading with progress in [0, 1]. Return false to abort (load returns
 * DIANOIA_ERR_CANCELLED). Called on the loading thread. */
typedef bool (*dianoia_progress_fn)(float progress, void* user_data);

typedef struct dianoia_model_params {
  size_t struct_size;          /* sizeof(dianoia_model_params), set by dianoia_model_default_params */
  uint32_t context_length;     /* 0: the model file's training context; else overrides it */
  dianoia_progress_fn progress; /* optional */
  void* progress_user_data;
  bool vocab_only; /* load only the tokenizer and chat template (e.g. a vocab-only GGUF); sessions fail */
} dianoia_model_params;

DIANOIA_API dianoia_model_params dianoia_model_default_params(void);

/* Loads a GGUF model file (memory-mapped). `params` may be NULL for defaults. On success stores a new
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
} dianoia_model_info;

/* Fills *info (set info->struct_size = sizeof *info first; fields past it are not written). */
DIANOIA_API dianoia_status dianoia_model_get_info(const dianoia_model* model, dianoia_model_info* info);

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

/* ---------------------------------------------------------------------------------------------------
 * Chat templates
 * ------------------------------------------------------------------------------------------------ */

typedef struct dianoia_chat_message {
  const char* role;    /* "system", "user", "assistant", ... (NUL-terminated UTF-8) */
  const char* content; /* NUL-terminated UTF-8 */
} dianoia_chat_message;

/* Renders a conversation with a Jinja chat template: `tmpl` (NUL-terminated), or the model's own
 * template when tmpl is NULL (model may be NULL when tmpl is given). Output as for dianoia_detokenize.
 * DIANOIA_ERR_UNSUPPORTED if the model has no template; DIANOIA_ERR_FORMAT for a template error (the
 * message gives line and column). */
DIANOIA_API dianoia_status dianoia_chat_apply_template(const dianoia_model* model, const char* tmpl,
                                                       const dianoia_chat_message* messages, size_t n_messages,
                                                       bool add_generation_prompt, char* out, size_t capacity,
                                                       size_t* n_bytes);

/* ---------------------------------------------------------------------------------------------------
 * Sessions and generation
 * ------------------------------------------------------------------------------------------------ */

typedef struct dianoia_session dianoia_session;

typedef enum dianoia_kv_type {
  DIANOIA_KV_F16 = 0, /* half the memory; llama.cpp's default numerics (default) */
  DIANOIA_KV_F32 = 1  /* exact attention, for reference comparisons */
} dianoia_kv_type;

typedef struct dianoia_session_params {
  size_t struct_size;
  uint32_t context_length; /* 0: the model's (effective) context length */
  int32_t n_threads;       /* 0: min(2, hardware threads) */
  dianoia_kv_type kv_type;
} dianoia_session_params;

DIANOIA_API dianoia_session_params dianoia_session_default_params(void);

/* Creates a session (KV cache + scratch) on a model. The model must outlive the session. */
DIANOIA_API dianoia_status dianoia_session_create(dianoia_model* model, const dianoia_session_params* params,
                                                  dianoia_session** out_session);
DIANOIA_API void dianoia_session_free(dianoia_session* session);

/* Asks a running generation on `session` to stop before its next token. Safe from any thread, also
 * from inside the event callback; a no-op when nothing runs. The flag is cleared when the next
 * generation starts. */
DIANOIA_API void dianoia_session_cancel(dianoia_session* session);

typedef enum dianoia_reasoning_mode {
  DIANOIA_REASONING_AUTO = 0, /* split thinking when the prompt or the output opens a <think> block */
  DIANOIA_REASONING_ON = 1,   /* as AUTO, and open a "<think>\n" block after the prompt if it does not */
  DIANOIA_REASONING_OFF = 2   /* no splitting: all output is content, tags included */
} dianoia_reasoning_mode;

typedef struct dianoia_generate_params {
  size_t struct_size;
  int32_t max_tokens;           /* new tokens in all (reasoning + content); <= 0: until the context is full */
  float temperature;            /* <= 0: greedy */
  int32_t top_k;                /* <= 0: off */
  float top_p;                  /* >= 1: off */
  float min_p;                  /* <= 0: off */
  uint64_t seed;                /* same seed + same inputs => same output */
  dianoia_reasoning_mode reasoning;
  int32_t max_reasoning_tokens; /* < 0: unlimited. At the limit the thought is closed and the answer follows */
  bool ignore_eos;              /* never pick end-of-generation tokens (benchmarks) */
} dianoia_generate_params;

DIANOIA_API dianoia_generate_params dianoia_generate_default_params(void);

typedef enum dianoia_event_type {
  DIANOIA_EVENT_REASONING = 1, /* text of the model's thinking (tags removed) */
  DIANOIA_EVENT_CONTENT = 2,   /* text of the answer */
  DIANOIA_EVENT_DONE = 3       /* last event of a generation; counts and stop reason set */
} dianoia_event_type;

typedef enum dianoia_stop_reason {
  DIANOIA_STOP_NONE = 0,
  DIANOIA_STOP_EOS = 1,          /* the model ended its turn */
  DIANOIA_STOP_MAX_TOKENS = 2,   /* max_tokens reached */
  DIANOIA_STOP_CONTEXT_FULL = 3, /* the context window is full */
  DIANOIA_STOP_CANCELLED = 4,    /* dianoia_session_cancel() */
  DIANOIA_STOP_CALLBACK = 5      /* the event callback returned false */
} dianoia_stop_reason;

typedef struct dianoia_event {
  size_t struct_size;
  dianoia_event_type type;
  const char* text; /* REASONING/CONTENT: UTF-8 text, not NUL-terminated; valid only during the callback */
  size_t text_len;
  /* DONE only: */
  dianoia_stop_reason stop_reason;
  uint32_t prompt_tokens;
  uint32_t reasoning_tokens;
  uint32_t content_tokens;
  double prompt_seconds; /* prefill time */
  double generate_seconds;
} dianoia_event;

/* Receives each event in order, on the generating thread. Return false to stop the generation
 * (DONE still follows, with DIANOIA_STOP_CALLBACK). */
typedef bool (*dianoia_event_fn)(const dianoia_event* event, void* user_data);

/* Generates a reply to a conversation: renders the model's chat template with a generation prompt,
 * evaluates it, and streams events. The session's KV cache is reset first. `params` may be NULL. */
DIANOIA_API dianoia_status dianoia_session_chat(dianoia_session* session, const dianoia_chat_message* messages,
                                                size_t n_messages, const dianoia_generate_params* params,
                                                dianoia_event_fn on_event, void* user_data);

/* Plain completion: BOS (when the vocab asks for it) + `prompt` as text, no template. Output is content
 * unless reasoning == DIANOIA_REASONING_ON. */
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

/* Evaluates `tokens` at the start of an empty context and copies the logits of the last `n_logits`
 * positions (n_logits * n_vocab floats, position-major) to `logits`. For tests and scoring. */
DIANOIA_API dianoia_status dianoia_session_eval_logits(dianoia_session* session, const int32_t* tokens,
                                                       size_t n_tokens, size_t n_logits, float* logits,
                                                       size_t capacity);

#ifdef __cplusplus
}
#endif

#endif /* DIANOIA_H */
