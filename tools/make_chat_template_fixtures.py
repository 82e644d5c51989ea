#!/usr/bin/env python3
"""Builds tests/fixtures/chat_templates.json: real chat templates rendered by the Python reference.

The reference is transformers' own chat-template renderer (transformers.utils.chat_template_utils.
render_jinja_template, the function apply_chat_template calls), so the jinja2 environment, globals
(raise_exception, strftime_now, namespace, dict), the tojson override and the message preprocessing
(reasoning-field aliasing) are exactly HF's. It needs no torch:

    /work/venv/bin/pip install gguf jinja2 transformers
    /work/venv/bin/python tools/make_chat_template_fixtures.py [--data-dir ../shared/data] [--gguf PATH]

Templates: SmolLM2-135M-Instruct's (from the GGUF's tokenizer.chat_template; stored inline), the two
.jinja files under <data>/chat_templates, and the chat_template of <data>/tokenizers/{qwen3,deepseek-v3}/
tokenizer_config.json (stored as paths relative to the data dir). Tool-call conversations are not
covered yet: the C++ chat_message has no tool_calls field.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def load_gguf_template(path):
    from gguf import GGUFReader

    r = GGUFReader(path)
    f = r.fields["tokenizer.chat_template"]
    tmpl = bytes(f.parts[f.data[0]]).decode("utf-8")
    tokens = r.fields["tokenizer.ggml.tokens"]

    def token(key):
        fid = r.fields[key]
        idx = int(fid.parts[fid.data[0]][0])
        return bytes(tokens.parts[tokens.data[idx]]).decode("utf-8")

    return tmpl, token("tokenizer.ggml.bos_token_id"), token("tokenizer.ggml.eos_token_id")


def special(cfg, key):
    v = cfg.get(key)
    if isinstance(v, dict):
        v = v.get("content")
    return v or ""  # the C++ side always defines bos/eos; "" stands for HF's None


THINK = "<think>\nThe user greets me. I should answer briefly.\n</think>\n\nHello! How can I help?"
THINK2 = "<think>Two plus two is four.</think>The answer is 4."

# Conversations: (name, messages). Each template renders every one with and without a generation
# prompt; Qwen3 additionally with enable_thinking True / False on a few.
CONVERSATIONS = [
    ("user_only", [{"role": "user", "content": "Hello!"}]),
    ("system_user", [{"role": "system", "content": "You are a terse assistant."},
                     {"role": "user", "content": "What is 2+2?"}]),
    ("multi_turn", [{"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello! How can I help?"},
                    {"role": "user", "content": "Tell me a joke."}]),
    ("system_multi_turn", [{"role": "system", "content": "Be kind."},
                           {"role": "user", "content": "Hi"},
                           {"role": "assistant", "content": "Hey there."},
                           {"role": "user", "content": "Thanks"},
                           {"role": "assistant", "content": "You're welcome!"}]),
    ("think_history", [{"role": "user", "content": "Hi"},
                       {"role": "assistant", "content": THINK},
                       {"role": "user", "content": "What is 2+2?"}]),
    ("think_last", [{"role": "system", "content": "Reason first."},
                    {"role": "user", "content": "What is 2+2?"},
                    {"role": "assistant", "content": THINK2}]),
    ("think_many", [{"role": "user", "content": "a"},
                    {"role": "assistant", "content": "<think>\nx\n</think>\n\nA1"},
                    {"role": "user", "content": "b"},
                    {"role": "assistant", "content": "<think>y</think>\n\nA2"},
                    {"role": "user", "content": "c"},
                    {"role": "assistant", "content": "no thinking here"}]),
    ("unicode", [{"role": "system", "content": "Réponds en français — s'il te plaît."},
                 {"role": "user", "content": "Ünïcödé: 日本語 ✓ 🤖 عربى Ελληνικά\u00a0nbsp"}]),
    ("empty_content", [{"role": "user", "content": ""},
                       {"role": "assistant", "content": ""},
                       {"role": "user", "content": ""}]),
    ("system_only", [{"role": "system", "content": "Only a system prompt."}]),
    ("tricky_text", [{"role": "user", "content": "{{ not a tag }} {% nope %} {# nor this #} 'q' \"dq\" \\ \t tab"},
                     {"role": "assistant", "content": "  leading and trailing spaces  \n\n"},
                     {"role": "user", "content": "\n\nnewlines first"}]),
    ("two_systems", [{"role": "system", "content": "First system."},
                     {"role": "system", "content": "Second system."},
                     {"role": "user", "content": "Go."}]),
    ("tool_response_user", [{"role": "user", "content": "Look this up"},
                            {"role": "assistant", "content": "<think>need data</think>Checking."},
                            {"role": "user", "content": "<tool_response>\n{\"x\": 1}\n</tool_response>"}]),
    ("reasoning_field", [{"role": "user", "content": "Hi"},
                         {"role": "assistant", "content": "Hello.", "reasoning_content": "Say hello."},
                         {"role": "user", "content": "Again"}]),
]

QWEN3_THINKING_CONVERSATIONS = {"user_only", "system_user", "think_history", "multi_turn", "think_last"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=os.path.join(REPO, "..", "shared", "data"))
    ap.add_argument("--gguf", default=os.path.expanduser("~/.cache/dianoia/SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "fixtures", "chat_templates.json"))
    args = ap.parse_args()

    import jinja2
    import transformers
    from transformers.utils.chat_template_utils import render_jinja_template

    data = os.path.abspath(args.data_dir)
    templates = {}  # name -> fixture entry
    sources = {}  # name -> (template text, bos, eos)

    smol, smol_bos, smol_eos = load_gguf_template(args.gguf)
    templates["smollm2"] = {"source": smol}
    sources["smollm2"] = (smol, smol_bos, smol_eos)

    for name, rel, bos, eos in [
        ("qwen2.5", "chat_templates/Qwen-Qwen2.5-7B-Instruct.jinja", "", "<|im_end|>"),
        ("deepseek-r1-distill", "chat_templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja",
         "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    ]:
        with open(os.path.join(data, rel), "rb") as f:
            text = f.read().decode("utf-8")
        templates[name] = {"path": rel}
        sources[name] = (text, bos, eos)

    for name in ["qwen3", "deepseek-v3"]:
        rel = f"tokenizers/{name}/tokenizer_config.json"
        with open(os.path.join(data, rel), "rb") as f:
            cfg = json.loads(f.read().decode("utf-8"))
        templates[name] = {"path": rel, "key": "chat_template"}
        sources[name] = (cfg["chat_template"], special(cfg, "bos_token"), special(cfg, "eos_token"))

    cases = []
    for tname, (text, bos, eos) in sources.items():
        for cname, messages in CONVERSATIONS:
            thinking = [None]
            if tname == "qwen3" and cname in QWEN3_THINKING_CONVERSATIONS:
                thinking = [None, True, False]
            for gen in (True, False):
                for think in thinking:
                    kwargs = {"bos_token": bos, "eos_token": eos}
                    if think is not None:
                        kwargs["enable_thinking"] = think
                    rendered, _ = render_jinja_template(
                        conversations=[messages], chat_template=text, add_generation_prompt=gen, **kwargs)
                    case = {"template": tname, "name": cname, "messages": messages,
                            "add_generation_prompt": gen}
                    if think is not None:
                        case["enable_thinking"] = think
                    case.update({"bos_token": bos, "eos_token": eos, "expected": rendered[0]})
                    cases.append(case)

    out = {
        "generator": "tools/make_chat_template_fixtures.py",
        "reference": f"transformers {transformers.__version__} render_jinja_template, jinja2 {jinja2.__version__}",
        "templates": templates,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    counts = {}
    for c in cases:
        counts[c["template"]] = counts.get(c["template"], 0) + 1
    print(f"wrote {len(cases)} cases to {args.out}: {counts}", file=sys.stderr)


if __name__ == "__main__":
    main()
