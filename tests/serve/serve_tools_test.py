"""OpenAI tool calling through `dianoia serve`, with the openai Python package and a model trained for tools
(Qwen2.5-Coder-0.5B-Instruct, Hermes syntax; bash scripts/fetch-models.sh fetches it; skipped without it).

A full round trip as an agent runs it: the model calls get_weather (message.tool_calls, finish_reason
"tool_calls"), the client runs the tool and sends its result back (role "tool", tool_call_id), the model
answers from it. Then the same call streamed (delta.tool_calls, accumulated as the openai client's users
do), tool_choice "none", parallel_tool_calls = false, and the refusals (a forced tool_choice, tools with n > 1).

  serve_tools_test.py CLI MODEL    (run by the venv's python, which has the openai package)
"""
import json
import sys

from server import Server, check, skip

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city name"}},
                   "required": ["city"]}}}]
QUESTION = [{"role": "user", "content": "What is the weather like in Paris right now?"}]
RESULT = '{"temperature_c": 18, "sky": "sunny"}'


def get_weather(city):
    return RESULT if city == "Paris" else '{"error": "unknown city"}'


def round_trip(client, model):
    r = client.chat.completions.create(model=model, messages=QUESTION, tools=TOOLS, temperature=0, max_tokens=96)
    choice = r.choices[0]
    calls = choice.message.tool_calls or []
    check(choice.finish_reason == "tool_calls" and len(calls) == 1 and calls[0].type == "function" and
          calls[0].function.name == "get_weather" and json.loads(calls[0].function.arguments) == {"city": "Paris"},
          f"a tool call: {calls[0].function.name if calls else None}({calls[0].function.arguments if calls else ''})")
    check(choice.message.content is None and calls[0].id.startswith("call_"),
          f"the message is only the call (content null), id {calls[0].id}")
    history = QUESTION + [choice.message.model_dump(exclude_none=True)]
    for c in calls:
        history.append({"role": "tool", "tool_call_id": c.id,
                        "content": get_weather(**json.loads(c.function.arguments))})
    r2 = client.chat.completions.create(model=model, messages=history, tools=TOOLS, temperature=0, max_tokens=96)
    answer = r2.choices[0].message
    print(f"answer after the tool: {answer.content!r}")
    check(r2.choices[0].finish_reason == "stop" and not answer.tool_calls and answer.content and "18" in answer.content,
          "the model answers from the tool's result (no further call)")
    check(r2.usage.prompt_tokens_details.cached_tokens > 150,
          f"the second turn reuses the first's prompt cache ({r2.usage.prompt_tokens_details.cached_tokens} tokens)")
    return calls[0]


def streamed(client, model, want):
    calls, finish, content = {}, None, ""
    stream = client.chat.completions.create(model=model, messages=QUESTION, tools=TOOLS, temperature=0,
                                            max_tokens=96, stream=True)
    for chunk in stream:
        for c in chunk.choices:
            content += c.delta.content or ""
            for d in c.delta.tool_calls or []:  # accumulated by index, as OpenAI's own streams are
                acc = calls.setdefault(d.index, {"id": "", "name": "", "arguments": ""})
                acc["id"] = d.id or acc["id"]
                acc["name"] += (d.function.name or "") if d.function else ""
                acc["arguments"] += (d.function.arguments or "") if d.function else ""
            finish = c.finish_reason or finish
    check(finish == "tool_calls" and list(calls) == [0] and calls[0]["name"] == want.function.name and
          calls[0]["arguments"] == want.function.arguments and calls[0]["id"].startswith("call_") and not content,
          "streamed: delta.tool_calls at index 0 join to the same call, finish_reason tool_calls")


def choices_and_refusals(client, model, openai):
    r = client.chat.completions.create(model=model, messages=QUESTION, tools=TOOLS, tool_choice="none",
                                       temperature=0, max_tokens=48)
    check(r.choices[0].finish_reason != "tool_calls" and not r.choices[0].message.tool_calls,
          f"tool_choice none: no call ({r.choices[0].message.content[:40]!r})")
    two = [{"role": "user", "content": "What is the weather like in Paris and in Rome right now? Call the tool for each."}]
    r = client.chat.completions.create(model=model, messages=two, tools=TOOLS, temperature=0, max_tokens=128,
                                       parallel_tool_calls=False)
    # (This model makes one call here either way; the server ends the answer after the first call when
    # parallel_tool_calls is false, which tests/serve/test_serve_writer.cpp checks on scripted events.)
    check(len(r.choices[0].message.tool_calls or []) == 1 and r.choices[0].finish_reason == "tool_calls",
          "parallel_tool_calls = false: one call")
    for kwargs, param in [({"tool_choice": "required"}, "tool_choice"),
                          ({"tool_choice": {"type": "function", "function": {"name": "get_weather"}}}, "tool_choice"),
                          ({"n": 2}, "n"),
                          ({"tools": [{"type": "function", "function": {"name": "bad name"}}]}, "tools")]:
        try:
            client.chat.completions.create(model=model, messages=QUESTION, **{"tools": TOOLS, **kwargs})
            check(False, f"{kwargs} is refused")
        except openai.BadRequestError as e:
            check(e.body.get("param") == param, f"400 on '{param}' for {str(kwargs)[:50]}: {e.body.get('message')[:60]}")


def main():
    cli, model_path = sys.argv[1:3]
    try:
        import openai
    except ImportError:
        skip("the openai package is not installed (scripts/setup.sh puts it in a venv)")
    with Server(cli, model_path, "--alias", "qwen", "-c", "2048") as s:
        client = openai.OpenAI(base_url=s.url + "/v1", api_key="unused", max_retries=0)
        call = round_trip(client, "qwen")
        streamed(client, "qwen", call)
        choices_and_refusals(client, "qwen", openai)
        client.close()
    print("PASS")


if __name__ == "__main__":
    main()
