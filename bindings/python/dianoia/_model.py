"""Model, Session and Conversation over the C handles."""
from __future__ import annotations

import ctypes as C
import os
import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import _ffi
from ._errors import check, error_for
from ._events import Event, convert
from ._ffi import lib
from ._params import GenerateOptions, Messages
from ._params import template_kwargs as _kwargs_json

Message = Mapping[str, Any]


def _fill(call: Callable[[Any, int, Any], int], ctype: Any, guess: int) -> Any:
    """Runs a size-query call (buffer, capacity, &needed), growing the buffer once if it was too small."""
    need = C.c_size_t(0)
    buf = (ctype * max(guess, 1))()
    st = call(buf, len(buf), C.byref(need))
    if st == _ffi.ERR_BUFFER_TOO_SMALL:
        buf = (ctype * max(need.value, 1))()
        st = call(buf, len(buf), C.byref(need))
    check(st)
    return buf, need.value


@dataclass(frozen=True)
class ModelInfo:
    architecture: str
    name: str
    n_params: int
    n_vocab: int
    n_layers: int
    n_embd: int
    context_length: int
    context_length_train: int
    has_chat_template: bool
    bos_token: int
    eos_token: int
    format: str
    file_bytes: int
    memory_bytes: int
    tensor_types: str
    tokenizer_kind: str
    reasoning_family: str


class _Handle:
    _free: Callable[[int], None]

    def __init__(self) -> None:
        self._h: int | None = None

    @property
    def handle(self) -> int:
        if not self._h:
            raise ValueError(f"{type(self).__name__} is closed")
        return self._h

    def close(self) -> None:
        """Frees the C handle (also on garbage collection and at the end of a with block)."""
        if self._h:
            type(self)._free(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


class Model(_Handle):
    """A loaded model (GGUF file or Hugging Face folder). Immutable: share it between threads freely."""

    _free = staticmethod(lib.dianoia_model_free)

    def __init__(self, path: str | os.PathLike[str], *, context_length: int = 0, vocab_only: bool = False,
                 max_memory_bytes: int = 0, progress: Callable[[float], bool] | None = None):
        super().__init__()
        p = _ffi.ModelParams()
        lib.dianoia_model_params_init(C.byref(p), C.sizeof(p))
        p.context_length = context_length
        p.vocab_only = vocab_only
        p.max_memory_bytes = max_memory_bytes
        if progress is not None:
            cb = _ffi.PROGRESS_FN(lambda x, _: bool(progress(x)))
            p.progress = C.cast(cb, C.c_void_p)
        h = C.c_void_p()
        check(lib.dianoia_model_load(os.fsencode(path), C.byref(p), C.byref(h)))
        self._h = h.value

    @property
    def info(self) -> ModelInfo:
        i = _ffi.ModelInfo()
        i.struct_size = C.sizeof(i)
        check(lib.dianoia_model_get_info(self.handle, C.byref(i)))
        s = lambda b: (b or b"").decode("utf-8", "replace")  # noqa: E731
        return ModelInfo(s(i.architecture), s(i.name), i.n_params, i.n_vocab, i.n_layers, i.n_embd,
                         i.context_length, i.context_length_train, i.has_chat_template, i.bos_token, i.eos_token,
                         s(i.format), i.file_bytes, i.memory_bytes, s(i.tensor_types), s(i.tokenizer_kind),
                         s(i.reasoning_family))

    def tokenize(self, text: str, add_special: bool = True, parse_special: bool = False) -> list[int]:
        """Token ids of `text`; add_special adds BOS/EOS as the vocabulary asks (as HF's encode)."""
        b = text.encode("utf-8")
        buf, n = _fill(lambda out, cap, need: lib.dianoia_tokenize(self.handle, b, len(b), add_special,
                                                                    parse_special, out, cap, need),
                       C.c_int32, len(b) + 2)
        return list(buf[:n])

    def detokenize(self, tokens: Sequence[int], skip_special: bool = False) -> str:
        ids = (C.c_int32 * len(tokens))(*tokens)
        buf, n = _fill(lambda out, cap, need: lib.dianoia_detokenize(self.handle, ids, len(tokens), skip_special,
                                                                      out, cap, need),
                       C.c_char, 8 * len(tokens) + 16)
        return buf.raw[:n].decode("utf-8")

    def apply_chat_template(self, conversation: Sequence[Message], tools: Sequence[Mapping[str, Any]] | None = None,
                            documents: Sequence[Mapping[str, Any]] | None = None, chat_template: str | None = None,
                            add_generation_prompt: bool = False, tokenize: bool = True,
                            **template_kwargs: Any) -> str | list[int]:
        """As transformers' tokenizer.apply_chat_template: renders with the model's template (or
        chat_template); tools/documents/**template_kwargs (enable_thinking, ...) reach the template; with
        tokenize=True (the default, as in HF) returns the token ids, special tokens parsed, none added."""
        text = apply_chat_template(conversation, chat_template, tools=tools, documents=documents,
                                   add_generation_prompt=add_generation_prompt, _model=self, **template_kwargs)
        return self.tokenize(text, add_special=False, parse_special=True) if tokenize else text

    def generation_defaults(self) -> dict[str, float]:
        """The sampling defaults the model ships (generation_config.json), over the library's: a dict of
        temperature, top_p, top_k and min_p to pass on as generation options."""
        p = _ffi.GenerateParams()
        lib.dianoia_generate_params_init(C.byref(p), C.sizeof(p))
        check(lib.dianoia_model_apply_generation_defaults(self.handle, C.byref(p)))
        return {"temperature": p.temperature, "top_p": p.top_p, "top_k": p.top_k, "min_p": p.min_p}

    def session(self, **params: Any) -> Session:
        return Session(self, **params)

    def chat(self, messages: Sequence[Message], *, context_length: int = 0, n_threads: int = 0,
             **options: Any) -> Iterator[Event]:
        """Generates a reply on a new session: an iterator of Reasoning / Content / Token / Done (/ Vote with
        n_samples) events. Options as Session.chat."""
        s = Session(self, context_length=context_length, n_threads=n_threads)
        try:
            yield from s.chat(messages, **options)
        finally:
            s.close()

    def complete(self, prompt: str, *, context_length: int = 0, **options: Any) -> Iterator[Event]:
        s = Session(self, context_length=context_length)
        try:
            yield from s.complete(prompt, **options)
        finally:
            s.close()


class Detokenizer(_Handle):
    """Streaming detokenization: ids in, whole UTF-8 characters out (the model must outlive it)."""

    _free = staticmethod(lib.dianoia_detokenizer_free)

    def __init__(self, model: Model, skip_special: bool = False):
        super().__init__()
        h = C.c_void_p()
        check(lib.dianoia_detokenizer_create(model.handle, skip_special, C.byref(h)))
        self._h = h.value
        self.model = model

    def push(self, token: int) -> str:
        """The text `token` completes (possibly "")."""
        text, n = C.c_void_p(), C.c_size_t()
        check(lib.dianoia_detokenizer_push(self.handle, token, C.byref(text), C.byref(n)))
        return C.string_at(text.value, n.value).decode("utf-8") if n.value else ""

    def flush(self) -> str:
        """What was held back; the stream starts over."""
        text, n = C.c_void_p(), C.c_size_t()
        check(lib.dianoia_detokenizer_flush(self.handle, C.byref(text), C.byref(n)))
        return C.string_at(text.value, n.value).decode("utf-8") if n.value else ""


class Session(_Handle):
    """A KV cache and decode loop on a model. One thread at a time (enforced); cancel() from any thread."""

    _free = staticmethod(lib.dianoia_session_free)

    def __init__(self, model: Model, *, context_length: int = 0, n_threads: int = 0, kv_type: str = "f16",
                 max_isa: int = 0, numerics: int = 0):
        super().__init__()
        p = _ffi.SessionParams()
        lib.dianoia_session_params_init(C.byref(p), C.sizeof(p))
        p.context_length = context_length
        p.n_threads = n_threads
        if kv_type not in ("f16", "f32"):
            raise ValueError("kv_type must be 'f16' or 'f32'")
        p.kv_type = _ffi.KV_F32 if kv_type == "f32" else _ffi.KV_F16
        p.max_isa = max_isa
        p.numerics = numerics
        h = C.c_void_p()
        check(lib.dianoia_session_create(model.handle, C.byref(p), C.byref(h)))
        self._h = h.value
        self.model = model  # the model must outlive the session
        self._busy = threading.Lock()

    def close(self) -> None:
        """Frees the session; a generation still running (an iterator not consumed to its end) is
        cancelled and waited for first."""
        worker = getattr(self, "_worker", None)
        if worker is not None and worker.is_alive():
            self.cancel()
            worker.join()
        super().close()

    def cancel(self) -> None:
        """Stops the running generation (its Done says 'cancelled'). Thread-safe; no-op when idle."""
        if self._h:
            lib.dianoia_session_cancel(self._h)

    def _stream(self, call: Callable[[Any], int]) -> Iterator[Event]:
        """Runs the C call on a worker thread; its callback feeds a queue this generator drains. Leaving
        the iteration early cancels the generation."""
        if not self._busy.acquire(blocking=False):
            raise RuntimeError("this session is already generating (a session is used by one thread at a time)")
        q: queue.Queue[Any] = queue.Queue()
        stop = threading.Event()
        end = object()

        def on_event(ev: Any, _: Any) -> bool:
            try:
                e = convert(ev.contents)
                if e is not None:
                    q.put(e)
                return not stop.is_set()
            except BaseException as exc:  # never let an exception unwind through C
                q.put(exc)
                return False

        fn = _ffi.EVENT_FN(on_event)

        def run() -> None:
            try:
                st = call(fn)
                q.put(error_for(st) if st else end)
            except BaseException as exc:
                q.put(exc)

        worker = threading.Thread(target=run, name="dianoia-generate", daemon=True)
        self._worker = worker
        worker.start()
        try:
            while True:
                item = q.get()
                if item is end:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            if worker.is_alive():
                stop.set()
                self.cancel()
            worker.join()
            self._busy.release()

    def chat(self, messages: Sequence[Message], *, n_samples: int | None = None,
             extract: Callable[[str], str | None] | None = None, tools: Sequence[Mapping[str, Any]] | None = None,
             chat_template_kwargs: Mapping[str, Any] | None = None, **options: Any) -> Iterator[Event]:
        """Generates a reply to `messages` (HF-style dicts). options: max_tokens, temperature, top_k, top_p,
        min_p, seed, reasoning ('auto'|'on'|'off'), max_reasoning_tokens, min_reasoning_tokens, wrap_up_text,
        stop, logprobs, and every other field of dianoia_generate_params. tools / chat_template_kwargs reach
        the template. n_samples: self-consistency (events of every sample, then a Vote); extract(content)
        returns a sample's answer or None."""
        kw = dict(chat_template_kwargs or {})
        if tools is not None:
            kw["tools"] = list(tools)
        opt = GenerateOptions(chat_template_kwargs=kw, **options)
        msgs = Messages(messages)
        if n_samples is None:
            return self._stream(lambda fn: lib.dianoia_session_chat(self.handle, msgs.array, msgs.count, opt.ref(),
                                                                    fn, None))
        return self._samples(msgs, n_samples, opt, extract)

    def _samples(self, msgs: Messages, n: int, opt: GenerateOptions,
                 extract: Callable[[str], str | None] | None) -> Iterator[Event]:
        keep: list[bytes] = []

        def on_extract(content: int, n_bytes: int, answer: Any, answer_len: Any, _: Any) -> bool:
            try:
                a = extract(C.string_at(content, n_bytes).decode("utf-8")) if extract else None
            except Exception:
                return False  # an extractor that fails abstains
            if a is None:
                return False
            b = a.encode("utf-8")
            keep.append(b)
            answer[0] = C.cast(C.c_char_p(b), C.c_void_p).value
            answer_len[0] = len(b)
            return True

        ex = _ffi.EXTRACT_FN(on_extract) if extract else _ffi.EXTRACT_FN()
        yield from self._stream(lambda fn: lib.dianoia_session_chat_samples(self.handle, msgs.array, msgs.count, n,
                                                                            opt.ref(), ex, None, fn, None))

    def complete(self, prompt: str | Sequence[int], **options: Any) -> Iterator[Event]:
        """Plain completion of text (BOS as the vocabulary asks) or of token ids (nothing added)."""
        opt = GenerateOptions(**options)
        if isinstance(prompt, str):
            b = prompt.encode("utf-8")
            return self._stream(lambda fn: lib.dianoia_session_complete(self.handle, b, len(b), opt.ref(), fn, None))
        ids = (C.c_int32 * len(prompt))(*prompt)
        return self._stream(lambda fn: lib.dianoia_session_complete_tokens(self.handle, ids, len(prompt), opt.ref(),
                                                                           fn, None))

    @property
    def tokens(self) -> list[int]:
        """Prompt + generated token ids of the last generation."""
        buf, n = _fill(lambda out, cap, need: lib.dianoia_session_get_tokens(self.handle, out, cap, need),
                       C.c_int32, 256)
        return list(buf[:n])

    def eval_logits(self, tokens: Sequence[int], n_logits: int = 1) -> list[list[float]]:
        """Logits of the last n_logits positions of `tokens`, evaluated from an empty context."""
        ids = (C.c_int32 * len(tokens))(*tokens)
        buf, n = _fill(lambda out, cap, need: lib.dianoia_session_eval_logits(self.handle, ids, len(tokens), n_logits,
                                                                              out, cap, need), C.c_float, 0)
        v = n // max(n_logits, 1)
        return [list(buf[i * v:(i + 1) * v]) for i in range(n_logits)]

    def save(self, path: str | os.PathLike[str]) -> None:
        check(lib.dianoia_session_save(self.handle, os.fsencode(path)))

    def load(self, path: str | os.PathLike[str]) -> None:
        check(lib.dianoia_session_load(self.handle, os.fsencode(path)))


class Conversation(_Handle):
    """Multi-turn chat that keeps the session's KV cache between turns."""

    _free = staticmethod(lib.dianoia_conversation_free)

    def __init__(self, session: Session, messages: Sequence[Message] = ()):
        super().__init__()
        h = C.c_void_p()
        check(lib.dianoia_conversation_create(session.handle, C.byref(h)))
        self._h = h.value
        self.session = session
        for m in messages:
            self.add(m)

    def add(self, message: Message) -> None:
        msgs = Messages([message])
        check(lib.dianoia_conversation_add(self.handle, msgs.array))

    def send(self, text: str, **options: Any) -> Iterator[Event]:
        """The user's turn; the reply streams and is appended."""
        kw = options.pop("chat_template_kwargs", None)
        opt = GenerateOptions(chat_template_kwargs=kw, **options)
        b = text.encode("utf-8")
        return self.session._stream(lambda fn: lib.dianoia_conversation_send(self.handle, b, len(b), opt.ref(), fn,
                                                                             None))

    def add_tool_result(self, content: str, tool_call_id: str | None = None, name: str | None = None) -> None:
        """Appends a tool's result for the call tool_call_id (the id of a ToolCall event) of tool name."""
        enc = (lambda v: None if v is None else v.encode("utf-8"))
        check(lib.dianoia_conversation_add_tool_result(self.handle, enc(tool_call_id), enc(name), enc(content)))

    def reply(self, **options: Any) -> Iterator[Event]:
        """The assistant's next turn for the messages as they stand (e.g. after tool results), appended;
        options as send()."""
        kw = options.pop("chat_template_kwargs", None)
        opt = GenerateOptions(chat_template_kwargs=kw, **options)
        return self.session._stream(lambda fn: lib.dianoia_conversation_reply(self.handle, opt.ref(), fn, None))

    @property
    def messages(self) -> list[dict[str, Any]]:
        import json
        n = C.c_size_t()
        check(lib.dianoia_conversation_message_count(self.handle, C.byref(n)))
        out = []
        for i in range(n.value):
            def part(p: int) -> str:
                buf, k = _fill(lambda o, cap, need: lib.dianoia_conversation_get_message(self.handle, i, p, o, cap,
                                                                                         need), C.c_char, 256)
                return buf.raw[:k].decode("utf-8")
            m: dict[str, Any] = {"role": part(_ffi.MESSAGE_ROLE), "content": part(_ffi.MESSAGE_CONTENT)}
            r = part(_ffi.MESSAGE_REASONING)
            if r:
                m["reasoning_content"] = r
            extra = part(_ffi.MESSAGE_EXTRA_JSON)
            if extra:
                m.update(json.loads(extra))
            out.append(m)
        return out

    def save(self, path: str | os.PathLike[str]) -> None:
        check(lib.dianoia_conversation_save(self.handle, os.fsencode(path)))

    def load(self, path: str | os.PathLike[str]) -> None:
        check(lib.dianoia_conversation_load(self.handle, os.fsencode(path)))


def apply_chat_template(conversation: Sequence[Message], chat_template: str | None = None, *,
                        tools: Sequence[Mapping[str, Any]] | None = None,
                        documents: Sequence[Mapping[str, Any]] | None = None, add_generation_prompt: bool = False,
                        _model: Model | None = None, **template_kwargs: Any) -> str:
    """Renders a conversation with a Jinja chat template as transformers' apply_chat_template(...,
    tokenize=False) does. Without a model, bos_token/eos_token are "" unless given as keywords."""
    for t in tools or ():
        if not isinstance(t, Mapping):
            raise TypeError("tools must be JSON-schema dicts (Python functions are not converted)")
    msgs = Messages(conversation)
    kw = _kwargs_json(tools=tools, documents=documents, **template_kwargs)
    tmpl = chat_template.encode("utf-8") if chat_template is not None else None
    buf, n = _fill(lambda out, cap, need: lib.dianoia_chat_apply_template(
        _model.handle if _model else None, tmpl, msgs.array, msgs.count, add_generation_prompt, kw, out, cap, need),
                   C.c_char, 4096)
    return buf.raw[:n].decode("utf-8")
