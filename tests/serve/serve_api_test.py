"""`dianoia serve` as clients see it, on the default model (SmolLM2-135M-Instruct).

  serve_api_test.py curl   CLI MODEL [SMALL_MODEL]   # with curl: shapes, streaming = non-streaming, errors, auth, cancel
  serve_api_test.py openai CLI MODEL   # with the openai Python package (run by the venv's python)
"""
import json
import shutil
import socket
import subprocess
import sys
import time

from server import Server, check, skip, sse_events

CHAT = [{"role": "user", "content": "What is 2+2? Answer in one short sentence."}]


def curl(url, body=None, *args):
    cmd = ["curl", "-sS", "-N", "-w", "\n%{http_code}", url, *args]
    data = None
    if body is not None:
        cmd += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
        data = body if isinstance(body, str) else json.dumps(body)
    out = subprocess.run(cmd, input=data, capture_output=True, text=True, timeout=300).stdout
    text, _, code = out.rpartition("\n")
    return int(code), text


def error_shape(status, text, want_status, param=None, code=None):
    e = json.loads(text).get("error", {})
    return (status == want_status and isinstance(e.get("message"), str) and e.get("type")
            and (param is None or e.get("param") == param) and (code is None or e.get("code") == code))


def curl_checks(s, model_id):
    code, text = curl(s.url + "/health")
    check(code == 200 and json.loads(text)["status"] == "ok", "GET /health")
    code, text = curl(s.url + "/v1/models")
    check(code == 200 and json.loads(text)["data"][0]["id"] == model_id, "GET /v1/models names the model")

    # Greedy output depends a little on how much of the prompt came from the cache (a batch of prompt
    # tokens and single decode steps round differently), so each comparison below is made between two
    # requests after the same prompt: each first runs once to set the cache.
    body = {"model": model_id, "messages": CHAT, "max_tokens": 16, "temperature": 0}
    curl(s.url + "/v1/chat/completions", body)
    code, text = curl(s.url + "/v1/chat/completions", body)
    r = json.loads(text)
    msg, usage = r["choices"][0]["message"], r["usage"]
    check(code == 200 and r["object"] == "chat.completion" and msg["role"] == "assistant" and msg["content"],
          f"chat completion: {msg['content']!r}")
    check(usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] and
          usage["completion_tokens_details"]["reasoning_tokens"] == 0, "usage adds up")

    code, text = curl(s.url + "/v1/chat/completions", {**body, "stream": True, "stream_options": {"include_usage": True}})
    events = sse_events(text)
    streamed = "".join(e["choices"][0]["delta"].get("content", "") for e in events if e["choices"])
    finish = [e["choices"][0]["finish_reason"] for e in events if e["choices"] and e["choices"][0]["finish_reason"]]
    check(code == 200 and streamed == msg["content"] and finish == [r["choices"][0]["finish_reason"]],
          "streamed deltas join to the non-streamed answer (greedy)")
    check(events[-1]["choices"] == [] and events[-1]["usage"]["completion_tokens"] == usage["completion_tokens"],
          "include_usage: a last chunk with the usage")

    # Thinking: reasoning_effort opens a <think> block; the budget closes it after 8 tokens.
    think = {"messages": CHAT, "max_tokens": 24, "temperature": 0, "reasoning_effort": "low", "max_reasoning_tokens": 8}
    curl(s.url + "/v1/chat/completions", think)
    code, text = curl(s.url + "/v1/chat/completions", think)
    r = json.loads(text)
    rt = r["usage"]["completion_tokens_details"]["reasoning_tokens"]
    check(code == 200 and r["choices"][0]["message"].get("reasoning_content") and 1 <= rt <= 9,
          f"reasoning_content with a budget: {rt} reasoning tokens")
    code, text = curl(s.url + "/v1/chat/completions", {**think, "stream": True})
    reasoning = "".join(e["choices"][0]["delta"].get("reasoning_content", "") for e in sse_events(text) if e["choices"])
    check(reasoning == r["choices"][0]["message"]["reasoning_content"], "reasoning_content in stream deltas")

    # A second turn extends the first: its prompt is served from the cached prefix.
    turn2 = CHAT + [{"role": "assistant", "content": msg["content"]}, {"role": "user", "content": "And 3+3?"}]
    curl(s.url + "/v1/chat/completions", body)
    code, text = curl(s.url + "/v1/chat/completions", {**body, "messages": turn2})
    cached = json.loads(text)["usage"]["prompt_tokens_details"]["cached_tokens"]
    check(code == 200 and cached >= usage["prompt_tokens"] - 1, f"second turn reuses {cached} cached prompt tokens")

    code, text = curl(s.url + "/v1/chat/completions", {**body, "logprobs": True, "top_logprobs": 2})
    lp = json.loads(text)["choices"][0]["logprobs"]["content"]
    check(code == 200 and lp and all(len(t["top_logprobs"]) == 2 and t["logprob"] <= 0 for t in lp),
          "logprobs with 2 alternatives per token")
    code, text = curl(s.url + "/v1/chat/completions", {**body, "n": 3, "max_tokens": 8, "temperature": 0.8, "seed": 7})
    r = json.loads(text)
    check(code == 200 and len(r["choices"]) == 3 and "answers" in r["vote"], "n = 3: three choices and a vote")
    code, text = curl(s.url + "/v1/chat/completions", {**body, "n": 2, "max_tokens": 8, "temperature": 0.8, "stream": True})
    events = sse_events(text)
    check({c["index"] for e in events for c in e["choices"]} == {0, 1} and "answers" in events[-1]["vote"],
          "n = 2 streamed: deltas of both choices, then the vote")
    # A tool round trip's history (a model without a tool syntax in its template, so nothing is parsed:
    # the request side only; tests/serve/serve_tools_test.py runs the whole trip on a tool-trained model).
    tool_turns = CHAT + [
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 2}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "4"}]
    tools = [{"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}]
    code, text = curl(s.url + "/v1/chat/completions", {**body, "messages": tool_turns, "tools": tools, "max_tokens": 4})
    check(code == 200 and json.loads(text)["usage"]["prompt_tokens"] > usage["prompt_tokens"],
          "a history with tool_calls and a tool result is rendered")
    code, text = curl(s.url + "/v1/completions", {"prompt": "Once upon a time", "max_tokens": 8, "stop": ["\n"]})
    check(code == 200 and json.loads(text)["object"] == "text_completion", "POST /v1/completions")

    bad = [("{not json", 400, None, None), ('{"messages": []}', 400, "messages", None),
           ({"model": "gpt-9", "messages": CHAT}, 404, "model", "model_not_found"),
           ({"messages": CHAT, "temperature": 7}, 400, "temperature", None),
           ({"messages": CHAT, "max_tokens": 10**9}, 400, "max_tokens", None),
           ({"messages": CHAT, "frobnicate": 1}, 400, "frobnicate", None),
           ({"messages": CHAT, "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "required"},
            400, "tool_choice", None),
           ({"messages": CHAT, "tools": [{"function": {"name": "f"}}]}, 400, "tools", None),
           ({"messages": [{"role": "tool", "content": "18"}]}, 400, "messages", None),
           ({"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{x"}}]}]},
            400, "messages", None),
           ({"messages": [{"role": "wizard", "content": "x"}]}, 400, "messages", None),
           ("[" * 5000, 400, None, None)]
    for body_, want, param, code_ in bad:
        code, text = curl(s.url + "/v1/chat/completions", body_)
        check(error_shape(code, text, want, param, code_), f"{want} for {str(body_)[:40]!r}")
    code, text = curl(s.url + "/v1/chat/completions", "x" * (2 << 20))
    check(error_shape(code, text, 413), "413 for a 2 MiB body")
    code, text = curl(s.url + "/v1/nothing")
    check(error_shape(code, text, 404), "404 for an unknown path")
    check_cancel(s, True)
    check_cancel(s, False)


def check_cancel(s, stream):
    # A request that would run 4000 tokens (end-of-turn banned); the client hangs up early. A stream
    # notices at its next token; a plain response at its next keep-alive space (within a second).
    body = {"messages": CHAT, "max_tokens": 4000, "stream": stream, "logit_bias": {"2": -100}}
    host, port = s.url[len("http://"):].split(":")
    raw = json.dumps(body).encode()
    sock = socket.create_connection((host, int(port)))
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(raw)).encode() + b"\r\n\r\n" + raw)
    got = b""
    while got.count(b"data: ") < 3 if stream else not got:
        got += sock.recv(4096)  # non-streaming: the status line and headers go out first
    sock.close()
    t0 = time.time()
    while time.time() - t0 < 20:
        h = json.loads(curl(s.url + "/health")[1])
        if h["busy"] == 0 and h["waiting"] == 0:
            break
        time.sleep(0.1)
    idle = time.time() - t0
    check(idle < 10, f"a {'streaming' if stream else 'waiting'} client that hangs up stops its generation "
                     f"({idle:.1f} s to idle)")


def openai_checks(s, model_id):
    try:
        import openai
    except ImportError:
        skip("the openai package is not installed (scripts/setup.sh puts it in a venv)")
    client = openai.OpenAI(base_url=s.url + "/v1", api_key="unused", max_retries=0)
    check([m.id for m in client.models.list()] == [model_id], "openai: models.list")
    r = client.chat.completions.create(model=model_id, messages=CHAT, max_tokens=24, temperature=0)
    check(r.choices[0].message.content and r.usage.completion_tokens > 0, f"openai: chat {r.choices[0].message.content!r}")
    reasoning, content, usage = "", "", None
    stream = client.chat.completions.create(model=model_id, messages=CHAT, max_tokens=48, temperature=0, stream=True,
                                            reasoning_effort="low", stream_options={"include_usage": True},
                                            extra_body={"max_reasoning_tokens": 16})
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for c in chunk.choices:
            reasoning += getattr(c.delta, "reasoning_content", None) or ""
            content += c.delta.content or ""
    check(reasoning and usage.completion_tokens_details.reasoning_tokens > 0,
          f"openai: streamed reasoning_content ({usage.completion_tokens_details.reasoning_tokens} tokens): {reasoning[:40]!r}")
    r = client.completions.create(model=model_id, prompt="Once upon a time", max_tokens=8, temperature=0)
    check(r.choices[0].text and r.object == "text_completion", "openai: completions")
    try:
        client.chat.completions.create(model="no-such-model", messages=CHAT)
        check(False, "openai: unknown model raises")
    except openai.NotFoundError as e:
        check(e.body.get("code") == "model_not_found", "openai: unknown model is NotFoundError / model_not_found")
    try:
        client.chat.completions.create(model=model_id, messages=CHAT, temperature=9)
        check(False, "openai: bad temperature raises")
    except openai.BadRequestError as e:
        check(e.body.get("param") == "temperature", "openai: bad temperature is BadRequestError on 'temperature'")
    client.close()  # an idle keep-alive connection would hold the server's shutdown for its timeout


def main():
    mode, cli, model = sys.argv[1:4]
    if mode == "curl" and not shutil.which("curl"):
        skip("curl is not installed")
    model_id = "smol"
    with Server(cli, model, "--alias", model_id) as s:
        (curl_checks if mode == "curl" else openai_checks)(s, model_id)
    if mode == "curl":
        # Authentication needs no chat: the small model (if given) loads faster, sanitizer builds included.
        small = sys.argv[4] if len(sys.argv) > 4 else model
        with Server(cli, small, "--api-key", "sesame") as s:
            code, text = curl(s.url + "/v1/models")
            check(error_shape(code, text, 401, code="invalid_api_key"), "401 without the API key")
            code, _ = curl(s.url + "/v1/models", None, "-H", "Authorization: Bearer sesame")
            check(code == 200, "200 with it")
            code, _ = curl(s.url + "/health")
            check(code == 200, "/health needs no key")
    print("PASS")


if __name__ == "__main__":
    main()
