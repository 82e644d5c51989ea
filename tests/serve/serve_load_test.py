"""A bounded load test of `dianoia serve` on loopback: REQUESTS requests from CONCURRENCY client threads,
half of them streamed, on two sessions (--parallel 2), with the tiny stories260K model.

Every answer must be whole and its own: greedy text equal to the reference the same prompt got when asked
alone, a finish reason, a stream ending in [DONE] with one id throughout, ids unique across requests.
Prints latency percentiles. Usage: serve_load_test.py CLI MODEL [REQUESTS] [CONCURRENCY]
"""
import json
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from server import Server, check, sse_events

PROMPTS = ["Lily and Tom", "Once upon a time", "The cat", "One day, a big"]
MAX_TOKENS = 24


def post(url, body):
    req = urllib.request.Request(url + "/v1/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status, r.read().decode()


def one(url, i, refs):
    prompt = PROMPTS[i % len(PROMPTS)]
    stream = i % 2 == 1
    t0 = time.perf_counter()
    status, text = post(url, {"prompt": prompt, "max_tokens": MAX_TOKENS, "temperature": 0, "stream": stream})
    dt = time.perf_counter() - t0
    if stream:
        events = sse_events(text)
        ids = {e["id"] for e in events}
        got = "".join(e["choices"][0]["text"] for e in events)
        finish = [e["choices"][0]["finish_reason"] for e in events if e["choices"][0]["finish_reason"]]
        assert len(ids) == 1, f"request {i}: a stream with several ids {ids}"
        rid = ids.pop()
    else:
        r = json.loads(text)
        got, finish, rid = r["choices"][0]["text"], [r["choices"][0]["finish_reason"]], r["id"]
    assert status == 200, f"request {i}: status {status}"
    assert got == refs[prompt], f"request {i} ({'stream' if stream else 'json'}): {got!r} != {refs[prompt]!r}"
    assert len(finish) == 1 and finish[0] in ("length", "stop"), f"request {i}: finish reasons {finish}"
    return dt, rid


def main():
    cli, model = sys.argv[1:3]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    conc = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    with Server(cli, model, "--parallel", "2") as s:
        refs = {}
        for p in PROMPTS:
            _, text = post(s.url, {"prompt": p, "max_tokens": MAX_TOKENS, "temperature": 0})
            refs[p] = json.loads(text)["choices"][0]["text"]
        check(len(set(refs.values())) == len(PROMPTS), "the prompts have distinct references")
        t0 = time.perf_counter()
        with ThreadPoolExecutor(conc) as pool:
            results = list(pool.map(lambda i: one(s.url, i, refs), range(n)))
        wall = time.perf_counter() - t0
        lat = sorted(r[0] for r in results)
        ids = {r[1] for r in results}
        check(len(ids) == n, f"{n} requests, {n} distinct ids, none dropped, mixed or truncated")
        pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1e3
        print(f"latency ms: p50 {pct(0.5):.1f}  p90 {pct(0.9):.1f}  p99 {pct(0.99):.1f}  max {lat[-1] * 1e3:.1f}; "
              f"{n / wall:.1f} requests/s with {conc} clients")
    print("PASS")


if __name__ == "__main__":
    main()
