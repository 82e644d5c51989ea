"""ctypes declarations of the C ABI (capi/dianoia.h, version 1) and the library lookup.

Structs mirror the header field by field; parameter structs are filled by the library's *_params_init
with their ctypes size, so this module keeps working with a newer libdianoia.so.1 that grew them.
"""
from __future__ import annotations

import ctypes as C
import os
from pathlib import Path

c_size = C.c_size_t
c_str = C.c_char_p
c_status = C.c_int32


class ModelParams(C.Structure):
    _fields_ = [
        ("struct_size", c_size),
        ("context_length", C.c_uint32),
        ("progress", C.c_void_p),
        ("progress_user_data", C.c_void_p),
        ("vocab_only", C.c_bool),
        ("max_memory_bytes", C.c_uint64),
    ]


PROGRESS_FN = C.CFUNCTYPE(C.c_bool, C.c_float, C.c_void_p)


class ModelInfo(C.Structure):
    _fields_ = [
        ("struct_size", c_size),
        ("architecture", c_str),
        ("name", c_str),
        ("n_params", C.c_uint64),
        ("n_vocab", C.c_uint32),
        ("n_layers", C.c_uint32),
        ("n_embd", C.c_uint32),
        ("context_length", C.c_uint32),
        ("context_length_train", C.c_uint32),
        ("has_chat_template", C.c_bool),
        ("bos_token", C.c_int32),
        ("eos_token", C.c_int32),
        ("format", c_str),
        ("file_bytes", C.c_uint64),
        ("memory_bytes", C.c_uint64),
        ("repacked_bytes", C.c_uint64),
        ("tensor_types", c_str),
        ("tokenizer_kind", c_str),
        ("reasoning_family", c_str),
    ]


class SessionParams(C.Structure):
    _fields_ = [
        ("struct_size", c_size),
        ("context_length", C.c_uint32),
        ("n_threads", C.c_int32),
        ("kv_type", C.c_int32),
        ("max_isa", C.c_int32),
        ("numerics", C.c_int32),
    ]


class LogitBias(C.Structure):
    _fields_ = [("token", C.c_int32), ("bias", C.c_float)]


class GenerateParams(C.Structure):
    _fields_ = [
        ("struct_size", c_size),
        ("max_tokens", C.c_int32),
        ("temperature", C.c_float),
        ("top_k", C.c_int32),
        ("top_p", C.c_float),
        ("min_p", C.c_float),
        ("seed", C.c_uint64),
        ("reasoning", C.c_int32),
        ("max_reasoning_tokens", C.c_int32),
        ("ignore_eos", C.c_bool),
        ("min_reasoning_tokens", C.c_int32),
        ("continue_text", c_str),
        ("wrap_up_text", c_str),
        ("open_tag", c_str),
        ("close_tag", c_str),
        ("stop", C.POINTER(c_str)),
        ("n_stop", c_size),
        ("logprobs", C.c_int32),
        ("repeat_penalty", C.c_float),
        ("frequency_penalty", C.c_float),
        ("presence_penalty", C.c_float),
        ("penalty_last_n", C.c_int32),
        ("dry_multiplier", C.c_float),
        ("dry_base", C.c_float),
        ("dry_allowed_length", C.c_int32),
        ("dry_penalty_last_n", C.c_int32),
        ("dry_sequence_breakers", C.POINTER(c_str)),
        ("n_dry_sequence_breakers", c_size),
        ("dynatemp_range", C.c_float),
        ("dynatemp_exponent", C.c_float),
        ("typical_p", C.c_float),
        ("xtc_probability", C.c_float),
        ("xtc_threshold", C.c_float),
        ("top_n_sigma", C.c_float),
        ("mirostat", C.c_int32),
        ("mirostat_tau", C.c_float),
        ("mirostat_eta", C.c_float),
        ("logit_bias", C.POINTER(LogitBias)),
        ("n_logit_bias", c_size),
        ("sampler_order", c_str),
        ("custom_samplers", C.c_void_p),
        ("n_custom_samplers", c_size),
        ("chat_template_kwargs", c_str),
        ("tools", c_str),
        ("tool_call_syntax", C.c_int32),
        ("vote", C.c_int32),
        ("confidence_top_k", C.c_int32),
        ("confidence_window", C.c_uint32),
        ("confidence_score", C.c_int32),
        ("confidence_keep_percent", C.c_float),
        ("confidence_warmup", C.c_uint32),
        ("confidence_consensus", C.c_float),
        ("grammar_kind", C.c_int32),
        ("grammar", c_str),
    ]


class ToolCall(C.Structure):
    _fields_ = [("id", c_str), ("name", c_str), ("arguments", c_str)]


class ChatMessage(C.Structure):
    _fields_ = [
        ("role", c_str),
        ("content", c_str),
        ("reasoning_content", c_str),
        ("tool_calls", C.POINTER(ToolCall)),
        ("n_tool_calls", c_size),
        ("tool_call_id", c_str),
        ("name", c_str),
        ("extra_json", c_str),
    ]


class VoteEntry(C.Structure):
    _fields_ = [
        ("answer", C.c_void_p),
        ("answer_len", c_size),
        ("count", C.c_uint32),
        ("first_sample", C.c_uint32),
    ]


class Event(C.Structure):
    _fields_ = [
        ("struct_size", c_size),
        ("type", C.c_int32),
        ("text", C.c_void_p),
        ("text_len", c_size),
        ("stop_reason", C.c_int32),
        ("prompt_tokens", C.c_uint32),
        ("reasoning_tokens", C.c_uint32),
        ("content_tokens", C.c_uint32),
        ("prompt_seconds", C.c_double),
        ("generate_seconds", C.c_double),
        ("sample_index", C.c_uint32),
        ("injected_tokens", C.c_uint32),
        ("prompt_reused", C.c_uint32),
        ("stop_string", C.c_void_p),
        ("stop_string_len", c_size),
        ("token", C.c_int32),
        ("channel", C.c_int32),
        ("is_tag", C.c_bool),
        ("injected", C.c_bool),
        ("logprob", C.c_float),
        ("top_tokens", C.POINTER(C.c_int32)),
        ("top_logprobs", C.POINTER(C.c_float)),
        ("n_top", c_size),
        ("votes", C.POINTER(VoteEntry)),
        ("n_votes", c_size),
        ("abstained", C.c_uint32),
        ("tie", C.c_bool),
    ]


EVENT_FN = C.CFUNCTYPE(C.c_bool, C.POINTER(Event), C.c_void_p)
EXTRACT_FN = C.CFUNCTYPE(C.c_bool, C.c_void_p, c_size, C.POINTER(C.c_void_p), C.POINTER(c_size), C.c_void_p)
LOG_FN = C.CFUNCTYPE(None, C.c_int32, c_str, C.c_void_p)

# Constants (capi/dianoia.h).
OK, ERR_BUFFER_TOO_SMALL = 0, 8
EVENT_REASONING, EVENT_CONTENT, EVENT_DONE, EVENT_TOKEN, EVENT_VOTE = 1, 2, 3, 4, 5
REASONING_AUTO, REASONING_ON, REASONING_OFF = 0, 1, 2
KV_F16, KV_F32 = 0, 1
MESSAGE_ROLE, MESSAGE_CONTENT, MESSAGE_REASONING, MESSAGE_EXTRA_JSON = 0, 1, 2, 3

# name: (restype, argtypes)
_P = C.c_void_p
_SIGNATURES = {
    "dianoia_last_error": (c_str, []),
    "dianoia_status_string": (c_str, [c_status]),
    "dianoia_version": (C.c_uint32, []),
    "dianoia_version_string": (c_str, []),
    "dianoia_has_grammar_engine": (C.c_bool, []),
    "dianoia_system_info": (c_str, []),
    "dianoia_log_set": (c_status, [LOG_FN, _P, C.c_int32]),
    "dianoia_model_params_init": (None, [C.POINTER(ModelParams), c_size]),
    "dianoia_model_load": (c_status, [c_str, C.POINTER(ModelParams), C.POINTER(_P)]),
    "dianoia_model_free": (None, [_P]),
    "dianoia_model_get_info": (c_status, [_P, C.POINTER(ModelInfo)]),
    "dianoia_model_apply_generation_defaults": (c_status, [_P, C.POINTER(GenerateParams)]),
    "dianoia_tokenize": (c_status, [_P, C.c_char_p, c_size, C.c_bool, C.c_bool, C.POINTER(C.c_int32), c_size,
                                    C.POINTER(c_size)]),
    "dianoia_detokenize": (c_status, [_P, C.POINTER(C.c_int32), c_size, C.c_bool, C.c_char_p, c_size,
                                      C.POINTER(c_size)]),
    "dianoia_detokenizer_create": (c_status, [_P, C.c_bool, C.POINTER(_P)]),
    "dianoia_detokenizer_free": (None, [_P]),
    "dianoia_detokenizer_push": (c_status, [_P, C.c_int32, C.POINTER(C.c_void_p), C.POINTER(c_size)]),
    "dianoia_detokenizer_flush": (c_status, [_P, C.POINTER(C.c_void_p), C.POINTER(c_size)]),
    "dianoia_chat_apply_template": (c_status, [_P, c_str, C.POINTER(ChatMessage), c_size, C.c_bool, c_str,
                                               C.c_char_p, c_size, C.POINTER(c_size)]),
    "dianoia_session_params_init": (None, [C.POINTER(SessionParams), c_size]),
    "dianoia_session_create": (c_status, [_P, C.POINTER(SessionParams), C.POINTER(_P)]),
    "dianoia_session_free": (None, [_P]),
    "dianoia_session_cancel": (None, [_P]),
    "dianoia_generate_params_init": (None, [C.POINTER(GenerateParams), c_size]),
    "dianoia_session_chat": (c_status, [_P, C.POINTER(ChatMessage), c_size, C.POINTER(GenerateParams), EVENT_FN,
                                        _P]),
    "dianoia_session_complete": (c_status, [_P, C.c_char_p, c_size, C.POINTER(GenerateParams), EVENT_FN, _P]),
    "dianoia_session_complete_tokens": (c_status, [_P, C.POINTER(C.c_int32), c_size, C.POINTER(GenerateParams),
                                                   EVENT_FN, _P]),
    "dianoia_session_get_tokens": (c_status, [_P, C.POINTER(C.c_int32), c_size, C.POINTER(c_size)]),
    "dianoia_session_chat_samples": (c_status, [_P, C.POINTER(ChatMessage), c_size, C.c_uint32,
                                                C.POINTER(GenerateParams), EXTRACT_FN, _P, EVENT_FN, _P]),
    "dianoia_session_save": (c_status, [_P, c_str]),
    "dianoia_session_load": (c_status, [_P, c_str]),
    "dianoia_session_eval_logits": (c_status, [_P, C.POINTER(C.c_int32), c_size, c_size, C.POINTER(C.c_float),
                                               c_size, C.POINTER(c_size)]),
    "dianoia_conversation_create": (c_status, [_P, C.POINTER(_P)]),
    "dianoia_conversation_free": (None, [_P]),
    "dianoia_conversation_add": (c_status, [_P, C.POINTER(ChatMessage)]),
    "dianoia_conversation_send": (c_status, [_P, C.c_char_p, c_size, C.POINTER(GenerateParams), EVENT_FN, _P]),
    "dianoia_conversation_message_count": (c_status, [_P, C.POINTER(c_size)]),
    "dianoia_conversation_get_message": (c_status, [_P, c_size, C.c_int32, C.c_char_p, c_size, C.POINTER(c_size)]),
    "dianoia_conversation_add_tool_result": (c_status, [_P, c_str, c_str, c_str]),
    "dianoia_conversation_reply": (c_status, [_P, C.POINTER(GenerateParams), EVENT_FN, _P]),
    "dianoia_conversation_save": (c_status, [_P, c_str]),
    "dianoia_conversation_load": (c_status, [_P, c_str]),
}


def _candidates() -> list[str]:
    env = os.environ.get("DIANOIA_LIBRARY")
    if env:
        return [env]
    out = []
    # A source checkout: bindings/python/dianoia/_ffi.py -> <repo>/build/capi/libdianoia.so
    repo = Path(__file__).resolve().parents[3]
    for build in ("build", "build-asan", "build-debug"):
        p = repo / build / "capi" / "libdianoia.so.1"
        if p.exists():
            out.append(str(p))
    out.append("libdianoia.so.1")  # installed, on the loader's path
    return out


def _load() -> C.CDLL:
    errors = []
    for path in _candidates():
        try:
            lib = C.CDLL(path)
            break
        except OSError as e:
            errors.append(f"{path}: {e}")
    else:
        raise ImportError("cannot load libdianoia (set DIANOIA_LIBRARY to its path): " + "; ".join(errors))
    for name, (res, args) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    major = lib.dianoia_version() // 10000
    if major != 1:
        raise ImportError(f"libdianoia {lib.dianoia_version_string().decode()} has ABI {major}; this package needs 1")
    return lib


lib = _load()
