"""Typed generation events (copies: valid after the callback returned)."""
from __future__ import annotations

import ctypes as C
from dataclasses import dataclass, field

from . import _ffi

STOP_REASONS = {0: "none", 1: "eos", 2: "max_tokens", 3: "context_full", 4: "cancelled", 5: "callback",
                6: "stop_string"}


@dataclass(frozen=True)
class Reasoning:
    """Text of the model's thinking (tags removed)."""
    text: str
    sample: int = 0


@dataclass(frozen=True)
class Content:
    """Text of the answer."""
    text: str
    sample: int = 0


@dataclass(frozen=True)
class Token:
    """A token that entered the context (with logprobs=N): its raw bytes may end inside a character."""
    id: int
    piece: bytes
    channel: str  # "reasoning" or "content"
    logprob: float
    top: list[tuple[int, float]]
    is_tag: bool
    injected: bool
    sample: int = 0


@dataclass(frozen=True)
class Done:
    """The last event of a generation (of each sample)."""
    stop_reason: str  # eos, max_tokens, context_full, cancelled, callback, stop_string (or "unknown:N")
    prompt_tokens: int
    reasoning_tokens: int
    content_tokens: int
    injected_tokens: int
    prompt_reused: int
    prompt_seconds: float
    generate_seconds: float
    stop_string: str = ""
    sample: int = 0


@dataclass(frozen=True)
class VoteEntry:
    answer: str
    count: int
    first_sample: int


@dataclass(frozen=True)
class Vote:
    """Self-consistency: after every sample's Done, the majority vote over their answers."""
    entries: list[VoteEntry] = field(default_factory=list)
    abstained: int = 0
    tie: bool = False

    @property
    def winner(self) -> str | None:
        return self.entries[0].answer if self.entries else None


Event = Reasoning | Content | Token | Done | Vote


def _text(ptr: int | None, n: int) -> bytes:
    return C.string_at(ptr, n) if ptr and n else b""


def convert(ev: _ffi.Event) -> Event | None:
    """The Python event for a C event; None for a type this package does not know (a newer library)."""
    t = ev.type
    if t in (_ffi.EVENT_REASONING, _ffi.EVENT_CONTENT):
        text = _text(ev.text, ev.text_len).decode("utf-8")
        return (Reasoning if t == _ffi.EVENT_REASONING else Content)(text, ev.sample_index)
    if t == _ffi.EVENT_DONE:
        return Done(STOP_REASONS.get(ev.stop_reason, f"unknown:{ev.stop_reason}"), ev.prompt_tokens,
                    ev.reasoning_tokens, ev.content_tokens, ev.injected_tokens, ev.prompt_reused, ev.prompt_seconds,
                    ev.generate_seconds, _text(ev.stop_string, ev.stop_string_len).decode("utf-8"), ev.sample_index)
    if t == _ffi.EVENT_TOKEN:
        top = [(ev.top_tokens[i], ev.top_logprobs[i]) for i in range(ev.n_top)]
        ch = "reasoning" if ev.channel == _ffi.EVENT_REASONING else "content"
        return Token(ev.token, _text(ev.text, ev.text_len), ch, ev.logprob, top, ev.is_tag, ev.injected,
                     ev.sample_index)
    if t == _ffi.EVENT_VOTE:
        entries = [VoteEntry(_text(v.answer, v.answer_len).decode("utf-8"), v.count, v.first_sample)
                   for v in (ev.votes[i] for i in range(ev.n_votes))]
        return Vote(entries, ev.abstained, ev.tie)
    return None
