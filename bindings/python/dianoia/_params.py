"""Keyword options -> the C parameter structs, and Python messages -> dianoia_chat_message arrays."""
from __future__ import annotations

import ctypes as C
import json
from collections.abc import Mapping, Sequence
from typing import Any

from . import _ffi
from ._ffi import lib

_REASONING = {"auto": _ffi.REASONING_AUTO, "on": _ffi.REASONING_ON, "off": _ffi.REASONING_OFF,
              True: _ffi.REASONING_ON, False: _ffi.REASONING_OFF, None: _ffi.REASONING_AUTO}
_STRING_FIELDS = {"continue_text", "wrap_up_text", "open_tag", "close_tag", "sampler_order", "tools"}
# The answer's grammar (dianoia_generate_params.grammar_kind / grammar): at most one of these keywords.
_GRAMMARS = {"json_schema": 1, "lark": 2, "regex": 3}  # DIANOIA_GRAMMAR_*
_LIST_FIELDS = {"stop": "n_stop", "dry_sequence_breakers": "n_dry_sequence_breakers"}
_NUMBER_FIELDS = {name for name, _ in _ffi.GenerateParams._fields_} - _STRING_FIELDS - set(_LIST_FIELDS) - {
    "struct_size", "reasoning", "logit_bias", "n_logit_bias", "custom_samplers", "n_custom_samplers",
    "chat_template_kwargs", "n_stop", "n_dry_sequence_breakers", "grammar_kind", "grammar"}


def _utf8(s: str) -> bytes:
    return s.encode("utf-8")


class GenerateOptions:
    """dianoia_generate_params from keyword arguments; keeps every buffer the struct points into alive."""

    def __init__(self, chat_template_kwargs: Mapping[str, Any] | None = None, **options: Any):
        p = _ffi.GenerateParams()
        lib.dianoia_generate_params_init(C.byref(p), C.sizeof(p))
        self._keep: list[Any] = []
        for key, value in options.items():
            if value is None and key != "reasoning":
                continue
            if key == "reasoning":
                if value not in _REASONING:
                    raise ValueError(f"reasoning must be 'auto', 'on' or 'off', not {value!r}")
                p.reasoning = _REASONING[value]
            elif key in _GRAMMARS:
                if p.grammar_kind:
                    raise ValueError("json_schema, lark and regex exclude each other")
                if key == "json_schema" and not isinstance(value, (str, bytes)):
                    value = json.dumps(value, ensure_ascii=False)  # a schema given as a dict
                b = value if isinstance(value, bytes) else _utf8(value)
                self._keep.append(b)
                p.grammar_kind = _GRAMMARS[key]
                p.grammar = b
            elif key == "tools" and not isinstance(value, (str, bytes)):
                b = _utf8(json.dumps(list(value), ensure_ascii=False))
                self._keep.append(b)
                p.tools = b
            elif key == "logprobs":
                p.logprobs = -1 if value is False else int(value)
            elif key in _STRING_FIELDS:
                b = _utf8(value)
                self._keep.append(b)
                setattr(p, key, b)
            elif key in _LIST_FIELDS:
                arr = (C.c_char_p * len(value))(*[_utf8(s) for s in value])
                self._keep.append(arr)
                setattr(p, key, C.cast(arr, C.POINTER(C.c_char_p)))
                setattr(p, _LIST_FIELDS[key], len(value))
            elif key == "logit_bias":
                items = list(dict(value).items())
                arr = (_ffi.LogitBias * len(items))(*[_ffi.LogitBias(int(t), float(b)) for t, b in items])
                self._keep.append(arr)
                p.logit_bias = C.cast(arr, C.POINTER(_ffi.LogitBias))
                p.n_logit_bias = len(items)
            elif key in _NUMBER_FIELDS:
                setattr(p, key, value)
            else:
                raise TypeError(f"unknown generation option {key!r}")
        if chat_template_kwargs:
            b = _utf8(json.dumps(dict(chat_template_kwargs), ensure_ascii=False))
            self._keep.append(b)
            p.chat_template_kwargs = b
        self.params = p

    def ref(self):
        return C.byref(self.params)


_DIRECT = ("role", "content", "reasoning_content")


class Messages:
    """A dianoia_chat_message array for HF-style message dicts. role, a string content and
    reasoning_content go into their fields; every other key (tool_calls, tool_call_id, name, a list
    content, ...) travels unchanged as extra_json, so the template sees exactly the dict it was given."""

    def __init__(self, messages: Sequence[Mapping[str, Any]]):
        self._keep: list[bytes] = []
        arr = (_ffi.ChatMessage * max(1, len(messages)))()
        for i, m in enumerate(messages):
            if not isinstance(m, Mapping):
                raise TypeError(f"message {i} is not a mapping (a dict with 'role' and 'content')")
            if "role" not in m:
                raise ValueError(f"message {i} has no role")
            c = arr[i]
            c.role = self._b(m["role"])
            content = m.get("content")
            extra = {k: v for k, v in m.items() if k not in _DIRECT}
            if isinstance(content, str):
                c.content = self._b(content)
            elif content is not None:
                extra["content"] = content
            if m.get("reasoning_content") is not None:
                c.reasoning_content = self._b(m["reasoning_content"])
            if extra:
                c.extra_json = self._b(json.dumps(extra, ensure_ascii=False))
        self.array = arr
        self.count = len(messages)

    def _b(self, s: str) -> bytes:
        if not isinstance(s, str):
            raise TypeError(f"expected a string, got {type(s).__name__}")
        b = _utf8(s)
        self._keep.append(b)
        return b


def template_kwargs(tools: Any = None, documents: Any = None, **kwargs: Any) -> bytes | None:
    """apply_chat_template's tools=, documents= and **kwargs as the C ABI's one JSON object."""
    d = dict(kwargs)
    if tools is not None:
        d["tools"] = list(tools)
    if documents is not None:
        d["documents"] = list(documents)
    return _utf8(json.dumps(d, ensure_ascii=False)) if d else None
