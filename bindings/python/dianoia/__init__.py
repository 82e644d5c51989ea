"""dianoia: reasoning language models on the CPU, through libdianoia's C ABI.

    import dianoia
    with dianoia.Model("model.gguf") as model:
        for ev in model.chat([{"role": "user", "content": "What is 2+2?"}], max_reasoning_tokens=256):
            if isinstance(ev, dianoia.Reasoning): print(ev.text, end="")
            elif isinstance(ev, dianoia.Content): print(ev.text, end="")

The shared library is found through DIANOIA_LIBRARY, a source checkout's build/ or the loader's path.
"""
from __future__ import annotations

import ctypes as _C
from collections.abc import Callable as _Callable

from . import _ffi
from ._errors import (CancelledError, ContextFullError, DianoiaError, FormatError, InternalError,
                      InvalidArgumentError, ModelIOError, OutOfMemoryError, UnsupportedError)
from ._events import Content, Done, Event, Reasoning, Token, Vote, VoteEntry
from ._model import Conversation, Detokenizer, Model, ModelInfo, Session, apply_chat_template

__all__ = [
    "Model", "Session", "Conversation", "Detokenizer", "ModelInfo", "apply_chat_template", "Event", "Reasoning", "Content", "Token",
    "Done", "Vote", "VoteEntry", "DianoiaError", "InvalidArgumentError", "ModelIOError", "FormatError",
    "UnsupportedError", "OutOfMemoryError", "ContextFullError", "CancelledError", "InternalError", "version",
    "version_info", "has_grammar_engine",
    "system_info", "set_log",
]

LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_NONE = 0, 1, 2, 3, 4
_log_keep: list[object] = []


def has_grammar_engine() -> bool:
    """Whether the library was built with its grammar engine (the json_schema=, lark= and regex= options)."""
    return bool(_ffi.lib.dianoia_has_grammar_engine())


def version() -> str:
    """The loaded library's version, e.g. "1.0.0"."""
    return _ffi.lib.dianoia_version_string().decode()


def version_info() -> tuple[int, int, int]:
    """The loaded library's version as (major, minor, patch)."""
    v = _ffi.lib.dianoia_version()
    return v // 10000, v // 100 % 100, v % 100


def system_info() -> str:
    return _ffi.lib.dianoia_system_info().decode()


def set_log(fn: _Callable[[int, str], None] | None, min_level: int = LOG_WARN) -> None:
    """Routes the library's log messages (level, text) to fn; None restores stderr. fn may run on any thread."""
    if fn is None:
        cb = _ffi.LOG_FN()
    else:
        cb = _ffi.LOG_FN(lambda lvl, msg, _: fn(lvl, msg.decode("utf-8", "replace")))
    from ._errors import check
    check(_ffi.lib.dianoia_log_set(cb, None, min_level))
    _log_keep[:] = [cb]  # the library calls it until replaced


del _C
