"""The Python binding on real models: generation, reasoning channels and budget, errors, cancellation,
templates with tools (byte-identical to transformers' renderings in tests/fixtures/chat_templates.json)."""
from __future__ import annotations

import json
import threading

import pytest

import dianoia
from conftest import data_dir


def text_of(events, kind):
    return "".join(e.text for e in events if isinstance(e, kind))


def done_of(events) -> dianoia.Done:
    done = [e for e in events if isinstance(e, dianoia.Done)]
    assert len(done) == 1
    return done[0]


def test_version_and_info(stories_path):
    assert ".".join(map(str, dianoia.version_info())) == dianoia.version()
    assert dianoia.version().startswith("1.")
    with dianoia.Model(stories_path) as m:
        info = m.info
        assert info.architecture == "llama" and info.n_vocab == 512 and info.format == "gguf"
        assert m.generation_defaults()["top_k"] == 40  # a GGUF has no generation_config: the library's


def test_greedy_generation_matches_the_reference(stories_path, reference_outputs):
    ref = reference_outputs["greedy_once_upon_a_time"]
    with dianoia.Model(stories_path) as m, m.session(context_length=128) as s:
        assert m.tokenize(ref["prompt"]) == ref["prompt_ids"]
        events = list(s.complete(ref["prompt"], temperature=0, max_tokens=32))
        done = done_of(events)
        assert done.stop_reason == "max_tokens" and done.content_tokens == 32
        assert s.tokens == ref["prompt_ids"] + ref["generated_ids"][:32]
        assert text_of(events, dianoia.Content) == m.detokenize(ref["generated_ids"][:32])


def test_reasoning_channels_and_budget(smol_path):
    with dianoia.Model(smol_path) as m:
        events = list(m.chat([{"role": "user", "content": "What is 2+2? Think first."}], reasoning="on",
                             max_reasoning_tokens=12, max_tokens=40, temperature=0))
        done = done_of(events)
        assert 0 < done.reasoning_tokens <= 12
        assert text_of(events, dianoia.Reasoning).strip()
        assert done.content_tokens > 0 and text_of(events, dianoia.Content).strip()
        assert "<think>" not in text_of(events, dianoia.Content)
        # Reasoning off: everything is the answer.
        off = list(m.chat([{"role": "user", "content": "Hi"}], reasoning="off", max_tokens=8, temperature=0))
        assert done_of(off).reasoning_tokens == 0 and not text_of(off, dianoia.Reasoning)


def test_bad_files_raise_the_library_message(tmp_path, stories_path):
    with pytest.raises(dianoia.ModelIOError) as e:
        dianoia.Model(tmp_path / "missing.gguf")
    assert "missing.gguf" in str(e.value) and e.value.status_name == "DIANOIA_ERR_IO"
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(open(stories_path, "rb").read()[:5000])  # truncated
    with pytest.raises(dianoia.FormatError) as e:
        dianoia.Model(bad)
    assert "truncated" in str(e.value) and e.value.status == 3


def test_bad_arguments_raise(stories_path):
    with dianoia.Model(stories_path) as m, m.session(context_length=128) as s:
        with pytest.raises(dianoia.InvalidArgumentError, match="n_threads"):
            m.session(n_threads=-5)
        with pytest.raises(TypeError, match="bogus"):
            list(s.complete("Once", bogus=1))
        with pytest.raises(dianoia.UnsupportedError, match="chat template"):
            list(s.chat([{"role": "user", "content": "hi"}]))
        with pytest.raises(dianoia.ContextFullError):
            list(s.complete("Once upon a time " * 100))


def test_cancel_from_another_thread(smol_path):
    with dianoia.Model(smol_path) as m, m.session() as s:
        events = []
        for ev in s.complete("Once upon a time", temperature=0, max_tokens=400, ignore_eos=True):
            events.append(ev)
            if len(events) == 3:
                t = threading.Thread(target=s.cancel)
                t.start()
                t.join()
        done = done_of(events)
        assert done.stop_reason == "cancelled" and done.content_tokens < 400
        # The session is usable again, and leaving an iteration early cancels it.
        for _ in s.complete("Once upon a time", temperature=0, max_tokens=400, ignore_eos=True):
            break
        again = list(s.complete("Hello", temperature=0, max_tokens=4))
        assert done_of(again).stop_reason == "max_tokens"
        # Closing with an iterator left half-way cancels and waits instead of hanging.
        it = s.complete("Once upon a time", temperature=0, max_tokens=400, ignore_eos=True)
        next(it)
        s.close()
        rest = list(it)
        assert not rest or done_of(rest).stop_reason == "cancelled"


def test_samples_vote_and_order(stories_path):
    with dianoia.Model(stories_path) as m, m.session(context_length=128) as s:
        with pytest.raises(dianoia.UnsupportedError):
            list(s.chat([{"role": "user", "content": "x"}], n_samples=2))


def test_samples_with_votes(smol_path):
    with dianoia.Model(smol_path) as m:
        events = list(m.chat([{"role": "user", "content": "What is 3+4? Answer with a number."}], n_samples=3,
                             max_tokens=16, temperature=0.7, extract=lambda c: c.strip()[:1] or None))
        dones = [e for e in events if isinstance(e, dianoia.Done)]
        assert [d.sample for d in dones] == [0, 1, 2]
        assert isinstance(events[-1], dianoia.Vote)
        vote = events[-1]
        assert sum(v.count for v in vote.entries) + vote.abstained == 3


def _fixture_cases(fx, names):
    for case in fx["cases"]:
        if case["template"] not in names:
            continue
        conv = fx["conversations"][case["conversation"]]
        yield case, conv


def _template_source(fx, name):
    t = fx["templates"][name]
    if "source" in t:
        return t["source"]
    text = (data_dir() / t["path"]).read_text()
    return json.loads(text)[t["key"]] if "key" in t else text


@pytest.mark.parametrize("name", ["qwen3", "deepseek-r1-distill", "deepseek-v3", "qwen2.5", "llama-3.1"])
def test_templates_with_tools_render_as_transformers(template_fixtures, name):
    fx = template_fixtures
    tmpl = _template_source(fx, name)
    checked = 0
    for case, conv in _fixture_cases(fx, {name}):
        kwargs = dict(conv.get("extra", {}))
        if "enable_thinking" in case:
            kwargs["enable_thinking"] = case["enable_thinking"]
        tools = fx["tool_sets"][conv["tools"]] if "tools" in conv else None
        args = dict(tools=tools, add_generation_prompt=case["add_generation_prompt"], bos_token=case["bos_token"],
                    eos_token=case["eos_token"], **kwargs)
        if "error" in case:
            with pytest.raises(dianoia.FormatError):
                dianoia.apply_chat_template(conv["messages"], tmpl, **args)
        else:
            got = dianoia.apply_chat_template(conv["messages"], tmpl, **args)
            assert got == case["expected"], (case["conversation"], case.get("enable_thinking"))
        checked += 1
    assert checked >= 80


def test_template_with_tools_through_the_model(smol_path):
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    tmpl = "{% for t in tools %}{{ t.function.name }};{% endfor %}{{ enable_thinking }}|{{ messages[1].tool_calls[0].function.arguments.city }}"
    with dianoia.Model(smol_path) as m:
        msgs = [{"role": "user", "content": "weather?"},
                {"role": "assistant", "content": None,
                 "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}]
        assert m.apply_chat_template(msgs, tools=tools, chat_template=tmpl, tokenize=False,
                                     enable_thinking=False) == "get_weather;False|Paris"
        ids = m.apply_chat_template([{"role": "user", "content": "Hi"}], add_generation_prompt=True)
        assert ids == m.tokenize(m.apply_chat_template([{"role": "user", "content": "Hi"}], add_generation_prompt=True,
                                                       tokenize=False), add_special=False, parse_special=True)
        with pytest.raises(dianoia.FormatError, match="line 1"):
            m.apply_chat_template(msgs, chat_template="{% if %}", tokenize=False)


def test_conversation_keeps_messages(smol_path):
    with dianoia.Model(smol_path) as m, m.session() as s, dianoia.Conversation(s) as c:
        c.add({"role": "system", "content": "Be brief."})
        a = list(c.send("Name a color.", max_tokens=8, temperature=0))
        b = list(c.send("Another.", max_tokens=8, temperature=0))
        assert done_of(b).prompt_reused > 0
        msgs = c.messages
        assert [x["role"] for x in msgs] == ["system", "user", "assistant", "user", "assistant"]
        assert msgs[2]["content"] == text_of(a, dianoia.Content)
        c.add({"role": "tool", "content": "18 C", "tool_call_id": "c1", "name": "weather"})
        assert c.messages[-1] == {"role": "tool", "content": "18 C", "tool_call_id": "c1", "name": "weather"}
        c.add_tool_result("20 C", tool_call_id="c2", name="weather")
        assert c.messages[-1] == {"role": "tool", "content": "20 C", "tool_call_id": "c2", "name": "weather"}
        r = list(c.reply(max_tokens=6, temperature=0))
        assert done_of(r).content_tokens > 0
        assert c.messages[-1]["role"] == "assistant"
        assert c.messages[-1]["content"] == text_of(r, dianoia.Content)


def test_sessions_in_threads_match_sequential_runs(stories_path):
    prompts = ["Once upon a time", "The cat", "Lily and Ben", "One day"]
    with dianoia.Model(stories_path) as m:
        def run(p):
            with m.session(context_length=128) as s:
                return text_of(list(s.complete(p, temperature=0, max_tokens=24)), dianoia.Content)
        sequential = [run(p) for p in prompts]
        results = [None] * len(prompts)

        def worker(i):
            results[i] = run(prompts[i])
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(prompts))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == sequential


def test_log_callback(stories_path):
    got = []
    dianoia.set_log(lambda lvl, msg: got.append((lvl, msg)), dianoia.LOG_INFO)
    try:
        dianoia.Model(stories_path).close()
    finally:
        dianoia.set_log(None)
    assert any(lvl == dianoia.LOG_INFO and "stories260K" in msg for lvl, msg in got)


def test_eval_logits_and_detokenizer_roundtrip(stories_path, reference_outputs):
    with dianoia.Model(stories_path) as m, m.session(context_length=128) as s:
        logits = s.eval_logits([1, 403, 407], 2)
        assert len(logits) == 2 and len(logits[0]) == 512
        ids = reference_outputs["greedy_once_upon_a_time"]["generated_ids"][:20]
        with dianoia.Detokenizer(m) as d:
            assert "".join(d.push(t) for t in ids) + d.flush() == m.detokenize(ids)


_PERSON = {"type": "object", "additionalProperties": False, "required": ["name", "age"],
           "properties": {"name": {"type": "string", "maxLength": 12},
                          "age": {"type": "integer", "minimum": 0, "maximum": 120}}}


@pytest.mark.skipif(not dianoia.has_grammar_engine(), reason="library built without the grammar engine")
def test_json_schema_constrains_the_answer(stories_path):
    import json
    with dianoia.Model(stories_path) as m, m.session(context_length=256) as s:
        events = list(s.complete("Once upon a time", max_tokens=64, temperature=0, reasoning="off",
                                 json_schema=_PERSON))
        text = "".join(e.text for e in events if isinstance(e, dianoia.Content))
        person = json.loads(text)
        assert set(person) == {"name", "age"} and isinstance(person["age"], int)
        assert events[-1].stop_reason == "eos"
        text = "".join(e.text for e in s.complete("Once upon a time", max_tokens=16, temperature=0,
                                                   reasoning="off", regex="(yes|no)!")
                       if isinstance(e, dianoia.Content))
        assert text in ("yes!", "no!")


def test_bad_grammars_raise_the_engine_message(stories_path):
    with dianoia.Model(stories_path) as m, m.session(context_length=128) as s:
        with pytest.raises(ValueError, match="exclude each other"):
            list(s.complete("Once", regex="a", lark="start: \"a\""))
        if not dianoia.has_grammar_engine():
            with pytest.raises(dianoia.UnsupportedError, match="DIANOIA_WITH_LLGUIDANCE"):
                list(s.complete("Once", regex="a"))
            return
        with pytest.raises(dianoia.InvalidArgumentError, match="invalid JSON schema"):
            list(s.complete("Once", json_schema='{"type": 5}'))
        with pytest.raises(dianoia.InvalidArgumentError, match="invalid Lark grammar"):
            list(s.complete("Once", lark="start: nowhere"))
