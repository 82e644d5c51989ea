"""Starts `dianoia serve` on a free loopback port for a test and stops it (SIGTERM) afterwards.

The server is asked for port 0 and prints the one it got; nothing races for a port.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

SKIP = 77


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(SKIP)


class Server:
    def __init__(self, cli, model, *extra):
        if not os.path.exists(model):
            skip(f"model {model} is missing")
        self.proc = subprocess.Popen([cli, "serve", "-m", model, "--port", "0", *extra],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = ""
        deadline = time.time() + 120
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            m = re.search(r"listening on http://([^:]+):(\d+)", line)
            if m:
                self.url = f"http://{m.group(1)}:{m.group(2)}"
                return
        self.proc.kill()
        raise SystemExit(f"server did not start: {line!r}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise SystemExit("server did not stop within 30 s of SIGTERM")
        if rc != 0:
            raise SystemExit(f"server exited with {rc}: {self.proc.stderr.read()}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.stop()
        else:
            self.proc.kill()

    def request(self, path, body=None, headers=None, raw=None, method=None):
        """(status, parsed JSON or text) of one request."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        h = {"Content-Type": "application/json", **(headers or {})}
        req = urllib.request.Request(self.url + path, data=data, headers=h, method=method)
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text


def sse_events(text):
    """The JSON objects of an SSE body; asserts it ends with [DONE] and nothing follows."""
    events, done = [], False
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        assert not done, f"data after [DONE]: {block!r}"
        assert block.startswith("data: "), f"not an SSE data line: {block!r}"
        payload = block[len("data: "):]
        if payload == "[DONE]":
            done = True
        else:
            events.append(json.loads(payload))
    assert done, "stream did not end with data: [DONE]"
    return events


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")
    print(f"ok: {what}")
