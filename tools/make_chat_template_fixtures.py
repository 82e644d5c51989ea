#!/usr/bin/env python3
"""Builds the chat-template fixtures from the Python reference (transformers' own renderer).

tests/fixtures/chat_templates.json: real chat templates rendered for many conversations, exactly as
apply_chat_template renders them: the messages go through transformers' _normalize_chat_messages (keys
whose value is None are dropped) and then render_jinja_template (HF's sandboxed jinja2 environment with
its globals raise_exception, strftime_now, namespace, dict, its tojson override and the reasoning-field
aliasing). bos_token/eos_token are passed as apply_chat_template passes the special tokens, and
enable_thinking / date_string / builtin_tools / tools_in_user_message as extra template variables
(apply_chat_template's **kwargs). strftime_now reads a fixed clock (FIXED_NOW, also stored in the
fixture) so the references do not change with the date. A render that raises is recorded with its
exception type and message.

tests/fixtures/chat_jinja_features.json: small templates exercising single engine features, rendered by
the same jinja2 environment (HF's compiled template), with the variables given.

Needs no torch:

    /work/venv/bin/pip install gguf jinja2 transformers
    /work/venv/bin/python tools/make_chat_template_fixtures.py [--data-dir ../shared/data] [--gguf PATH]

Templates: SmolLM2-135M-Instruct's (from the GGUF's tokenizer.chat_template; stored inline), the two
.jinja files under <data>/chat_templates, the chat_template of <data>/tokenizers/{qwen3,deepseek-v3}/
tokenizer_config.json (stored as paths relative to the data dir), and Meta's Llama-3.1-8B-Instruct and
Llama-3.2-3B-Instruct templates (stored inline; there is no copy in the shared data, so their text below
is written out from the official tokenizer_config.json chat_template as published by Meta on the
Hugging Face Hub: the gated repositories cannot be downloaded here).
"""
import argparse
import json
import os
import sys
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

FIXED_NOW = datetime(2025, 3, 7, 14, 5, 9)

# Llama-3.1 8B Instruct
LLAMA31 = r'''{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\n\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- "<|python_tag|>" + tool_call.name + ".call(" }}
            {%- for arg_name, arg_val in tool_call.arguments | items %}
                {{- arg_name + '="' + arg_val + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
                {%- endfor %}
            {{- ")" }}
        {%- else  %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- '{"name": "' + tool_call.name + '", ' }}
            {{- '"parameters": ' }}
            {{- tool_call.arguments | tojson }}
            {{- "}" }}
        {%- endif %}
        {%- if builtin_tools is defined %}
            {#- This means we're in ipython mode #}
            {{- "<|eom_id|>" }}
        {%- else %}
            {{- "<|eot_id|>" }}
        {%- endif %}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
'''

# Llama-3.2 3B Instruct
LLAMA32 = r'''{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- if strftime_now is defined %}
        {%- set date_string = strftime_now("%d %b %Y") %}
    {%- else %}
        {%- set date_string = "26 Jul 2024" %}
    {%- endif %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
'''


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

TOOL_SETS = {
    "weather_search": [
        {"type": "function", "function": {
            "name": "get_weather", "description": "Get the current weather in a city.",
            "parameters": {"type": "object", "properties": {
                "city": {"type": "string", "description": "City name, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                "required": ["city"]}}},
        {"type": "function", "function": {
            "name": "search", "description": "Cherche sur le web — résultats « frais » 🔎.",
            "parameters": {"type": "object", "properties": {
                "query": {"type": "string"},
                "max_results": {"type": "integer", "default": 5, "minimum": 1},
                "score": {"type": "number", "default": 0.5},
                "safe": {"type": "boolean", "default": True},
                "lang": {"type": ["string", "null"], "default": None},
                "tags": {"type": "array", "items": {"type": "string"}}},
                "required": ["query"]}}},
    ],
    "calculator": [
        {"type": "function", "function": {
            "name": "calc", "description": "Evaluate an arithmetic expression like \"2*(3+4)\".",
            "parameters": {"type": "object", "properties": {"expr": {"type": "string"}}, "required": ["expr"]}}},
    ],
    "empty": [],
}

WEATHER_CALL = {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}
SEARCH_CALL = {"type": "function", "function": {"name": "search", "arguments": {"query": "jinja2 \"tojson\"", "max_results": 3, "safe": False}}}
WEATHER_RESULT = "{\"temperature\": 18, \"sky\": \"cloudy\"}"

# Conversations: name -> (messages, options). options: "tools" names a TOOL_SETS entry, "extra" holds
# further template variables. Each template renders every one with and without a generation prompt.
CONVERSATIONS = [
    ("user_only", [{"role": "user", "content": "Hello!"}], {}),
    ("system_user", [{"role": "system", "content": "You are a terse assistant."},
                     {"role": "user", "content": "What is 2+2?"}], {}),
    ("multi_turn", [{"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello! How can I help?"},
                    {"role": "user", "content": "Tell me a joke."}], {}),
    ("system_multi_turn", [{"role": "system", "content": "Be kind."},
                           {"role": "user", "content": "Hi"},
                           {"role": "assistant", "content": "Hey there."},
                           {"role": "user", "content": "Thanks"},
                           {"role": "assistant", "content": "You're welcome!"}], {}),
    ("think_history", [{"role": "user", "content": "Hi"},
                       {"role": "assistant", "content": THINK},
                       {"role": "user", "content": "What is 2+2?"}], {}),
    ("think_last", [{"role": "system", "content": "Reason first."},
                    {"role": "user", "content": "What is 2+2?"},
                    {"role": "assistant", "content": THINK2}], {}),
    ("think_many", [{"role": "user", "content": "a"},
                    {"role": "assistant", "content": "<think>\nx\n</think>\n\nA1"},
                    {"role": "user", "content": "b"},
                    {"role": "assistant", "content": "<think>y</think>\n\nA2"},
                    {"role": "user", "content": "c"},
                    {"role": "assistant", "content": "no thinking here"}], {}),
    ("unicode", [{"role": "system", "content": "Réponds en français — s'il te plaît."},
                 {"role": "user", "content": "Ünïcödé: 日本語 ✓ 🤖 عربى Ελληνικά\u00a0nbsp"}], {}),
    ("empty_content", [{"role": "user", "content": ""},
                       {"role": "assistant", "content": ""},
                       {"role": "user", "content": ""}], {}),
    ("system_only", [{"role": "system", "content": "Only a system prompt."}], {}),
    ("tricky_text", [{"role": "user", "content": "{{ not a tag }} {% nope %} {# nor this #} 'q' \"dq\" \\ \t tab"},
                     {"role": "assistant", "content": "  leading and trailing spaces  \n\n"},
                     {"role": "user", "content": "\n\nnewlines first"}], {}),
    ("two_systems", [{"role": "system", "content": "First system."},
                     {"role": "system", "content": "Second system."},
                     {"role": "user", "content": "Go."}], {}),
    ("tool_response_user", [{"role": "user", "content": "Look this up"},
                            {"role": "assistant", "content": "<think>need data</think>Checking."},
                            {"role": "user", "content": "<tool_response>\n{\"x\": 1}\n</tool_response>"}], {}),
    ("reasoning_field", [{"role": "user", "content": "Hi"},
                         {"role": "assistant", "content": "Hello.", "reasoning_content": "Say hello."},
                         {"role": "user", "content": "Again"}], {}),
    ("reasoning_multi", [{"role": "system", "content": "Think step by step."},
                         {"role": "user", "content": "What is 3*3?"},
                         {"role": "assistant", "content": "9", "reasoning_content": "\nThree threes.\n"},
                         {"role": "user", "content": "And 4*4?"},
                         {"role": "assistant", "content": "\n16", "reasoning_content": "Four fours."}], {}),
    ("thinking_alias", [{"role": "user", "content": "Hi"},
                        {"role": "assistant", "content": "Hello.", "thinking": "Greet back."},
                        {"role": "user", "content": "Bye"},
                        {"role": "assistant", "content": "Bye!", "reasoning": "Say bye.", "reasoning_content": None}], {}),
    ("tools_user", [{"role": "user", "content": "What's the weather in Paris?"}], {"tools": "weather_search"}),
    ("tools_system_user", [{"role": "system", "content": "You can call tools.  "},
                           {"role": "user", "content": "  Compute 2*(3+4).  "}], {"tools": "calculator"}),
    ("tools_empty_list", [{"role": "system", "content": "No tools today."},
                          {"role": "user", "content": "Hi"}], {"tools": "empty"}),
    ("tool_call_roundtrip", [{"role": "user", "content": "What's the weather in Paris?"},
                             {"role": "assistant", "content": "", "tool_calls": [WEATHER_CALL]},
                             {"role": "tool", "name": "get_weather", "content": WEATHER_RESULT},
                             {"role": "assistant", "content": "It is 18 °C and cloudy in Paris."},
                             {"role": "user", "content": "And tomorrow?"}], {"tools": "weather_search"}),
    ("tool_call_pending", [{"role": "system", "content": "Use tools when needed."},
                           {"role": "user", "content": "Weather in Paris?"},
                           {"role": "assistant", "content": "Let me check.", "tool_calls": [WEATHER_CALL]},
                           {"role": "tool", "name": "get_weather", "content": WEATHER_RESULT}], {"tools": "weather_search"}),
    ("tool_call_think", [{"role": "user", "content": "Weather in Paris?"},
                         {"role": "assistant", "content": "<think>\nI need the weather tool.\n</think>\n\n",
                          "tool_calls": [WEATHER_CALL]},
                         {"role": "tool", "name": "get_weather", "content": WEATHER_RESULT}], {"tools": "weather_search"}),
    ("tool_call_reasoning_field", [{"role": "user", "content": "Weather in Paris?"},
                                   {"role": "assistant", "content": "", "reasoning_content": "Call the tool.",
                                    "tool_calls": [WEATHER_CALL]},
                                   {"role": "tool", "name": "get_weather", "content": WEATHER_RESULT},
                                   {"role": "assistant", "content": "18 °C.", "reasoning_content": "Report it."}],
     {"tools": "weather_search"}),
    ("parallel_tool_calls", [{"role": "user", "content": "Weather in Paris, then search jinja."},
                             {"role": "assistant", "content": "",
                              "tool_calls": [dict(WEATHER_CALL, id="call_1"), dict(SEARCH_CALL, id="call_2")]},
                             {"role": "tool", "tool_call_id": "call_1", "content": WEATHER_RESULT},
                             {"role": "tool", "tool_call_id": "call_2", "content": "[\"jinja.palletsprojects.com\"]"}],
     {"tools": "weather_search"}),
    ("tool_multi_step", [{"role": "user", "content": "Weather in Paris and news about it?"},
                         {"role": "assistant", "content": "", "tool_calls": [WEATHER_CALL]},
                         {"role": "tool", "name": "get_weather", "content": WEATHER_RESULT},
                         {"role": "assistant", "content": "<think>Now search.</think>", "tool_calls": [SEARCH_CALL]},
                         {"role": "tool", "name": "search", "content": "No news."}], {"tools": "weather_search"}),
    ("tool_call_string_args", [{"role": "user", "content": "Search jinja"},
                               {"role": "assistant", "content": "",
                                "tool_calls": [{"id": "call_9", "type": "function",
                                                "function": {"name": "search", "arguments": "{\"query\": \"jinja\"}"}}]},
                               {"role": "tool", "tool_call_id": "call_9", "content": "found"},
                               {"role": "assistant", "content": "Found it."}], {"tools": "weather_search"}),
    ("tool_call_no_content", [{"role": "user", "content": "Weather?"},
                              {"role": "assistant", "content": None, "tool_calls": [WEATHER_CALL]},
                              {"role": "tool", "content": WEATHER_RESULT}], {"tools": "weather_search"}),
    ("tools_in_system", [{"role": "system", "content": "Sys."},
                         {"role": "user", "content": "Weather in Paris?"}],
     {"tools": "weather_search", "extra": {"tools_in_user_message": False}}),
    ("builtin_tools", [{"role": "system", "content": "Sys."},
                       {"role": "user", "content": "Search the web for llamas."},
                       {"role": "assistant", "content": "",
                        "tool_calls": [{"type": "function", "function": {"name": "brave_search", "arguments": {"query": "llamas"}}}]},
                       {"role": "ipython", "content": "Llamas are camelids."}],
     {"extra": {"builtin_tools": ["brave_search", "wolfram_alpha", "code_interpreter"]}}),
    ("date_string", [{"role": "user", "content": "What day is it?"}], {"extra": {"date_string": "01 Jan 2026"}}),
]

THINKING_CONVERSATIONS = {"user_only", "system_user", "think_history", "multi_turn", "think_last",
                          "tool_call_roundtrip", "reasoning_multi"}

# Single-feature templates: (template, variables). Rendered in HF's environment; see tests/chat/
# test_jinja_fixture_features.cpp.
FEATURES = [
    ("{% filter upper | replace('A', '4') %}abc {{ 'x' }}{% endfilter %}", {}),
    ("{% macro each(items) %}{% for i in items %}{{ caller(i, loop.index) }}{% endfor %}{% endmacro %}"
     "{% call(x, n) each(['a', 'b']) %}[{{ n }}:{{ x }}]{% endcall %}", {}),
    ("{% macro box(t) %}<{{ t }}|{{ caller() }}|{{ caller() }}>{% endmacro %}{% call box('b') %}{{ 1 + 1 }}{% endcall %}", {}),
    ("{% for x in l %}{{ loop.previtem | default('^') }}{{ x }}{{ loop.nextitem | default('$') }}"
     "{{ loop.cycle('a', 'b', 'c') }}|{% endfor %}", {"l": [1, 2, 3, 4]}),
    ("{% for x in l %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %}", {"l": [1, 1, 2, 2, 1]}),
    ("{% for x in l %}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }} {% endfor %}",
     {"l": ["a", "b"]}),
    ("{{ x is defined }}{{ y is defined }}{{ n is none }}{{ x is none }}{{ s is string }}{{ x is string }}"
     "{{ d is mapping }}{{ l is mapping }}{{ l is iterable }}{{ s is iterable }}{{ x is iterable }}{{ d is iterable }}"
     "{{ y is iterable }}{{ l is sequence }}{{ d is sequence }}{{ x is number }}{{ f is number }}{{ x is integer }}"
     "{{ f is float }}{{ b is boolean }}{{ x is boolean }}{{ b is true }}{{ b is false }}",
     {"x": 1, "n": None, "s": "str", "d": {"a": 1}, "l": [1], "f": 1.5, "b": True}),
    ("{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ 6 is divisibleby(3) }}{{ 7 is divisibleby 3 }}{{ 3 is eq 3 }}"
     "{{ 3 is ne 3 }}{{ 2 is lt 3 }}{{ 2 is gt 3 }}{{ 2 is in [1, 2] }}{{ 'x' is not in 'abc' }}{{ none is sameas none }}"
     "{{ range is callable }}{{ 'upper' is filter }}{{ 'odd' is test }}{{ 'nope' is filter }}", {}),
    ("{{ d | items | list }}|{% for k, v in d | items %}{{ k }}={{ v }},{% endfor %}|{{ d.items() | list }}",
     {"d": {"b": 1, "a": [2]}}),
    ("{{ users | map(attribute='name') | list }}|{{ users | map(attribute='info.age') | list }}|"
     "{{ users | map(attribute='info.zip', default='-') | join(',') }}|{{ ['1', ' 2 '] | map('trim') | map('int') | sum }}",
     {"users": [{"name": "ann", "info": {"age": 31}}, {"name": "bob", "info": {"age": 25}}]}),
    ("{{ l | reject('in', [2, 3]) | list }}|{{ users | rejectattr('age', 'gt', 30) | map(attribute='name') | join(',') }}|"
     "{{ users | selectattr('role', 'in', ['admin', 'dev']) | map(attribute='name') | list }}|"
     "{{ users | selectattr('role', 'defined') | list | length }}|{{ users | rejectattr('role') | list | length }}|"
     "{{ l | select('gt', 2) | list }}|{{ l | select | list }}",
     {"l": [0, 1, 2, 3, 4], "users": [{"name": "ann", "age": 31, "role": "admin"}, {"name": "bob", "age": 25},
                                      {"name": "cy", "age": 40, "role": "dev"}]}),
    ("{{ ['a', 'A', 'b'] | unique | list }}|{{ ['a', 'A', 'b'] | unique(case_sensitive=true) | list }}|"
     "{{ users | unique(attribute='role') | map(attribute='name') | list }}",
     {"users": [{"name": "ann", "role": "x"}, {"name": "bob", "role": "X"}, {"name": "cy", "role": "y"}]}),
    ("{{ d | dictsort }}|{{ d | dictsort(true) }}|{{ d | dictsort(false, 'value') }}|{{ d | dictsort(reverse=true) }}",
     {"d": {"b": 2, "A": 3, "a": 1}}),
    ("{{ t | indent }}|{{ t | indent(width='> ', first=true) }}|{{ t | indent(2, blank=true) }}|{{ t | indent(1, true, true) }}",
     {"t": "one\n\ntwo\nthree\n"}),
    ("{{ ' a b '.split() }}{{ 'a::b::c'.split('::') }}{{ 'a b c'.rsplit(' ', 1) }}{{ 'abc'.startswith(('x', 'a')) }}"
     "{{ 'abc'.endswith('bc') }}{{ '\\n x \\t'.strip() }}|{{ '--x--'.lstrip('-') }}|{{ '--x--'.rstrip('-') }}|"
     "{{ 'aaa'.replace('a', 'b', 2) }}{{ 'MiXeD'.lower() }}{{ 'MiXeD'.upper() }}{{ 'hello wide world'.title() }}"
     "{{ 'hELLO'.capitalize() }}", {}),
    ("{{ '{} and {}'.format('a', 1) }}|{{ '{0}{1}{0}'.format('x', 'y') }}|{{ '{name}!'.format(name='N') }}|"
     "{{ '{:>5}|{:<4}|{:^7}|{:.2f}|{!r}|{:05d}|{:+d}|{:x}|{:,}'.format('a', 'b', 'c', 3.14159, 'q', 42, 7, 255, 1234567) }}|"
     "{{ '{{literal}} {}'.format(1) }}|{{ '{:*^9}'.format('mid') }}|{{ '{:.3}'.format('abcdef') }}|{{ '{:e}'.format(12345.678) }}",
     {}),
    ("{{ '%s-%d' | format('a', 3) }}|{{ '%05.1f' | format(2.25) }}|{{ '%r %%' | format('q') }}|{{ '%-4s|%4s' | format('l', 'r') }}|"
     "{{ '%x %o %i' | format(255, 8, 3) }}|{{ '%.3s' | format('abcdef') }}", {}),
    ("{{ 'a' in 'cat' }}{{ 2 in (1, 2) }}{{ 'k' in d }}{{ 'z' not in d }}{{ none in [none] }}{{ [1] in [[1], 2] }}",
     {"d": {"k": 1}}),
    ("{{ l[::2] }}{{ l[1::2] }}{{ l[-1:0:-2] }}{{ s[::-2] }}{{ l[10:] }}{{ l[-100:2] }}{{ s[1:-1] }}{{ l[::-1][0] }}"
     "{{ (1, 2, 3)[1:] }}{{ s[-2:] }}{{ l[:-10] }}", {"l": [0, 1, 2, 3, 4, 5], "s": "abcdefg"}),
    ("{{ 1 ~ 2 ~ [3] ~ {'a': none} ~ none ~ true ~ 1.5 }}|{{ x ~ 'y' }}", {}),
    ("{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ d | tojson(sort_keys=true) }}|{{ u | tojson }}|{{ u | tojson(ensure_ascii=true) }}|"
     "{{ d | tojson(separators=(',', ':')) }}|{{ 1.5e300 | tojson }}|{{ -0.0 | tojson }}|{{ 1e-7 | tojson }}|{{ 100.0 | tojson }}|"
     "{{ [] | tojson }}|{{ {} | tojson(indent=4) }}|{{ (1, 'a') | tojson }}|{{ d | tojson(indent=0) }}",
     {"d": {"z": [1, 2.5, None, True], "a": {"k": "v\n\"q\""}}, "u": "é 日 😀 \u0001 \u007f"}),
    ("{{ 'a=b=c'.partition('=') }}{{ 'a=b=c'.rpartition('=') }}{{ 'abc'.partition('x') }}{{ '7'.zfill(3) }}{{ '-7'.zfill(4) }}"
     "{{ 'ab'.center(6, '*') }}{{ 'ab'.ljust(4) }}|{{ 'ab'.rjust(4, '-') }}{{ 'Ab'.swapcase() }}"
     "{{ 'x.txt'.removesuffix('.txt') }}{{ 'pre_x'.removeprefix('pre_') }}{{ 'ABC'.casefold() }}{{ '12'.isnumeric() }}"
     "{{ 'a1'.isalnum() }}{{ ' '.isspace() }}{{ 'Ab Cd'.istitle() }}{{ 'abcabc'.find('c', 3) }}{{ 'a\\tb'.expandtabs(4) }}", {}),
    ("{{ d.keys() | list }}{{ d.values() | list }}{{ d.get('a') }}{{ d.get('zz') }}{{ d.get('zz', 0) }}{{ d | length }}"
     "{{ d.copy() }}{{ 'a' in d.keys() }}{{ d | list }}{{ d | first }}", {"d": {"a": 1, "b": 2}}),
    ("{% set ns = namespace(a=1, l=[]) %}{% set ns.a = ns.a + 1 %}{% set ns.l = ns.l + [ns.a] %}{{ ns.a }}{{ ns.l }}"
     "{% set ns2 = namespace(d={'x': 1}) %}{{ ns2.d.x }}{{ ns.missing is defined }}", {}),
    ("{{ l | batch(2) | list }}|{{ l | batch(2, 'x') | list }}|{{ l | slice(2) | list }}|{{ l | slice(3, 0) | list }}",
     {"l": [1, 2, 3, 4, 5]}),
    ("[{{ 'ab' | center(6) }}]|{{ 'hello world foo' | truncate(9) }}|{{ 'hello world' | truncate(5, true, '..') }}|"
     "{{ 'short' | truncate(10) }}|{{ 'hello big world' | truncate(12, false, '~', 0) }}", {}),
    ("{% for g in users | groupby('role') %}{{ g.grouper }}:{{ g.list | map(attribute='name') | join(',') }};{% endfor %}|"
     "{% for role, items in users | groupby('role') %}{{ role }}{{ items | length }}{% endfor %}|"
     "{{ (users | groupby('role'))[0] | tojson }}|{{ (users | groupby('role') | first)[0] }}|{{ users | groupby('role') | list | length }}",
     {"users": [{"name": "ann", "role": "b"}, {"name": "bob", "role": "a"}, {"name": "cy", "role": "b"}]}),
    ("{{ users | sum(attribute='n') }}|{{ users | max(attribute='n') }}|{{ users | min(attribute='n') }}|"
     "{{ [[1], [2]] | sum(start=[]) }}|{{ users | map(attribute='n') | join('+') }}",
     {"users": [{"n": 3}, {"n": 1}, {"n": 2}]}),
    ("{{ l | string }}|{{ d | string }}|{{ d | list }}|{{ 'abc' | first }}|{{ 'abc' | last }}|"
     "{{ users | join(', ', attribute='name') }}|{{ 'abc' | list | reverse | join }}|{{ 10 / 3 }}|{{ 1e-7 }}|{{ 2 ** 62 }}|"
     "{{ 7 // -2 }}|{{ -7 % 3 }}|{{ 1.0 * 3 }}|{{ 0.1 * 3 }}",
     {"l": [1, "a", None, 2.0], "d": {"k": [1, 2]}, "users": [{"name": "a"}, {"name": "b"}]}),
    ("{% for i in range(10, 0, -3) %}{{ i }},{% endfor %}|{{ range(3) | list }}|{{ range(0) | list }}|"
     "{% for i in range(3) if i != 1 %}{{ loop.index }}{{ i }}{% endfor %}", {}),
    ("{% set x %}a{{ 1 }}b{% endset %}{{ x | length }}{{ x }}|{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}|"
     "{{ 'y' if x }}{{ 'n' if not x else 'z' }}[{{ 'w' if false }}]", {}),
    ("{{ 'Hello' | replace('l', 'L') }}{{ 'x' | replace('', '-') }}|{{ '  Hi  ' | trim | lower }}|{{ 'a\\n' | trim('\\n') }}|"
     "{{ 'TITLE of thing' | title }}|{{ 'word count here' | wordcount }}|{{ -3.7 | abs }}|{{ 2.5 | round }}|{{ 3.5 | round }}|"
     "{{ 2.45 | round(1) }}|{{ 17 | round(-1) }}|{{ '3' | int * 2 }}|{{ 'ff' | int(base=16) }}|{{ '0x1f' | int(0, 16) }}|{{ 3 | float }}",
     {}),
    ("{{ messages | selectattr('role', 'equalto', 'tool') | list | length }}|"
     "{{ (messages | selectattr('tool_calls', 'defined') | first).tool_calls[0].function.arguments | tojson }}|"
     "{{ messages[1].tool_calls | map(attribute='function.name') | join }}|{{ messages[-1].content | tojson }}",
     {"messages": [{"role": "user", "content": "u"},
                   {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": {"a": [1, {"b": None}]}}}]},
                   {"role": "tool", "content": "{\"r\": 1}"}]}),
    ("{{ '%s and %d' % ('a', 2) }}|{{ '%.1f%%' % 25.55 }}|{{ '%s!' % 'x' }}|{{ '%(a)s-%(b)03d' % {'a': 1, 'b': 7} }}|"
     "{{ 'ab' * 3 }}|{{ [0] * 3 }}|{{ 3 * 'x' }}", {}),
    ("{{ tools | map(attribute='function') | map(attribute='name') | list }}|"
     "{% for k, v in d.items() | sort %}{{ k }}{{ v }}{% endfor %}|{{ s.split('\n') | map('trim') | select | join('|') }}|"
     "{{ 'y' if z is defined and z }}{{ 'n' if z is not defined or z is none }}|{{ (1, 2) | join('-') }}|"
     "{{ '' | default('x', boolean=true) }}{{ none | default('d') }}{{ none | default('d', true) }}|{{ range(5) | batch(2) | map('sum') | list }}",
     {"tools": [{"type": "function", "function": {"name": "a"}}, {"type": "function", "function": {"name": "b"}}],
      "d": {"b": 2, "a": 1}, "s": " one \n\n two "}),
    ("{% for m in messages %}{% if m.content is string %}{{ m.content }}{% elif m.content is iterable %}"
     "{% for c in m.content %}{% if c.type == 'text' %}<{{ c.text }}>{% elif c['type'] == 'image' %}[img]{% endif %}{% endfor %}"
     "{% endif %};{% endfor %}|{{ messages | rejectattr('role', 'eq', 'system') | list | length }}|"
     "{{ messages[0].content[1] is mapping }}",
     {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image"}, {"type": "text", "text": "!"}]},
                   {"role": "system", "content": "s"}]}),
    ("{%- if x %}\n  a\n{%- endif %}\n{% set a, b = 'xy' %}{{ b }}{{ a }}|{{ 1 if none else 2 }}|[{{ d['nope'] }}]|"
     "{{ '\u2028'|length }}|{{ 'é'|upper }}{{ 'ÉΣ'|lower }}|{{ 'ß'.upper() }}",
     {"x": True, "d": {}}),
    ("{{ raise_exception('Only user and assistant roles are supported!') }}", {}),
    ("{% macro m(x) %}{% if x > 2 %}{{ raise_exception('too big: ' ~ x) }}{% endif %}{{ x }}{% endmacro %}{{ m(1) }}{{ m(3) }}", {}),
    ("{{ strftime_now('%Y-%m-%d %H:%M:%S %a %b %j') }}|{{ strftime_now('%d %B %Y') }}", {}),
    ("{{ dict(a=1, b=[2]) }}|{{ dict([('x', 1), ('y', 2)]) }}|{{ dict({'k': 1}, z=2) }}|{{ dict.fromkeys(['a', 'b'], 0) }}", {}),
    ("{% set d = {'b': 1, 'a': 2} %}{% for k in d | sort %}{{ k }}{% endfor %}|{{ d | dictsort | map('first') | join }}|"
     "{{ [3, 1, 2] | sort | first }}|{{ ['b', 'a'] | sort(reverse=true) | join }}|{{ users | sort(attribute='n,name') | map(attribute='name') | join }}",
     {"users": [{"n": 2, "name": "x"}, {"n": 1, "name": "z"}, {"n": 1, "name": "y"}]}),
    ("{% for a in [1, 2] %}{% for b in [3, 4] %}{% if b == 4 %}{% break %}{% endif %}{{ a }}{{ b }}{% endfor %}"
     "{% if a == 1 %}{% continue %}{% endif %}!{% endfor %}", {}),
]


def render_case(render, text, messages, tools, gen, kwargs):
    try:
        rendered, _ = render(conversations=[messages], tools=tools, chat_template=text,
                             add_generation_prompt=gen, **kwargs)
        return {"expected": rendered[0]}
    except Exception as e:  # recorded: the C++ side must fail too
        return {"error": str(e), "error_type": type(e).__name__}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=os.path.join(REPO, "..", "shared", "data"))
    ap.add_argument("--gguf", default=os.path.expanduser("~/.cache/dianoia/SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "fixtures", "chat_templates.json"))
    ap.add_argument("--features-out", default=os.path.join(REPO, "tests", "fixtures", "chat_jinja_features.json"))
    args = ap.parse_args()

    import jinja2
    import transformers
    from transformers.utils import chat_template_utils as ctu

    # strftime_now() calls datetime.now() of this module: fix the clock.
    class fixed_datetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return FIXED_NOW

    ctu.datetime = fixed_datetime
    normalize = ctu._normalize_chat_messages  # what apply_chat_template does to the messages first

    data = os.path.abspath(args.data_dir)
    templates = {}  # name -> fixture entry
    sources = {}  # name -> (template text, bos, eos)

    smol, smol_bos, smol_eos = load_gguf_template(args.gguf)
    templates["smollm2"] = {"source": smol, "origin": "tokenizer.chat_template of SmolLM2-135M-Instruct.Q4_1.gguf"}
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

    for name, text in [("llama-3.1", LLAMA31), ("llama-3.2", LLAMA32)]:
        model = "Llama-3.1-8B-Instruct" if name == "llama-3.1" else "Llama-3.2-3B-Instruct"
        templates[name] = {"source": text, "origin": f"meta-llama/{model} tokenizer_config.json chat_template, "
                                                     "written out in tools/make_chat_template_fixtures.py"}
        sources[name] = (text, "<|begin_of_text|>", "<|eot_id|>")

    cases = []
    conversations = {}
    for cname, messages, opts in CONVERSATIONS:
        entry = {"messages": messages}
        if "tools" in opts:
            entry["tools"] = opts["tools"]
        if "extra" in opts:
            entry["extra"] = opts["extra"]
        conversations[cname] = entry
    for tname, (text, bos, eos) in sources.items():
        for cname, messages, opts in CONVERSATIONS:
            thinking = [None, True, False] if cname in THINKING_CONVERSATIONS else [None]
            tools = TOOL_SETS[opts["tools"]] if "tools" in opts else None
            for gen in (True, False):
                for think in thinking:
                    kwargs = {"bos_token": bos, "eos_token": eos}
                    kwargs.update(opts.get("extra", {}))
                    if think is not None:
                        kwargs["enable_thinking"] = think
                    case = {"template": tname, "conversation": cname, "add_generation_prompt": gen}
                    if think is not None:
                        case["enable_thinking"] = think
                    case.update({"bos_token": bos, "eos_token": eos})
                    case.update(render_case(ctu.render_jinja_template, text, normalize(messages), tools, gen, kwargs))
                    cases.append(case)

    reference = f"transformers {transformers.__version__} render_jinja_template, jinja2 {jinja2.__version__}"
    out = {
        "generator": "tools/make_chat_template_fixtures.py",
        "reference": reference,
        "now": FIXED_NOW.strftime("%Y-%m-%d %H:%M:%S"),
        "templates": templates,
        "tool_sets": TOOL_SETS,
        "conversations": conversations,
        "cases": cases,
    }
    write_json(args.out, out)
    counts = {}
    for c in cases:
        t = counts.setdefault(c["template"], [0, 0])
        t[0] += 1
        t[1] += "error" in c
    print(f"wrote {len(cases)} cases to {args.out}: (cases, of which errors) {counts}", file=sys.stderr)

    feats = []
    for tmpl, variables in FEATURES:
        entry = {"template": tmpl, "variables": variables}
        try:
            entry["expected"] = ctu._compile_jinja_template(tmpl).render(**variables)
        except Exception as e:
            entry.update({"error": str(e), "error_type": type(e).__name__})
        feats.append(entry)
    write_json(args.features_out, {"generator": "tools/make_chat_template_fixtures.py", "reference": reference,
                                   "now": out["now"], "cases": feats})
    print(f"wrote {len(feats)} feature cases to {args.features_out}", file=sys.stderr)


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
