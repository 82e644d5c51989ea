"""docs/deploy.md, tried: two `dianoia serve` replicas behind nginx with the nginx configuration taken
from that page (ports replaced by free loopback ones). Both replicas answer; after one is stopped every
request still succeeds through the other.

Usage: serve_nginx_test.py CLI MODEL DEPLOY_MD. Skipped (77) without nginx.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from server import Server, check, skip


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_snippet(deploy_md):
    text = open(deploy_md, encoding="utf-8").read()
    m = re.search(r"```nginx\n(.*?)```", text, re.S)
    if not m:
        raise SystemExit(f"no nginx block in {deploy_md}")
    return m.group(1)


def ask(url, i):
    body = {"prompt": "Once upon a time", "max_tokens": 8, "temperature": 0, "stream": i % 2 == 1}
    req = urllib.request.Request(url + "/v1/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        text = r.read().decode()
    if i % 2:
        chunks = [json.loads(b[6:]) for b in text.split("\n\n") if b.startswith("data: {")]
        assert text.rstrip().endswith("data: [DONE]"), f"truncated stream {text[-80:]!r}"
        return chunks[0]["model"]
    return json.loads(text)["model"]


def main():
    cli, model, deploy_md = sys.argv[1:4]
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not nginx:
        skip("nginx is not installed")
    tmp = tempfile.mkdtemp(prefix="dianoia-nginx-")
    with Server(cli, model, "--alias", "replica-a", "-t", "1") as a, Server(cli, model, "--alias", "replica-b", "-t", "1") as b:
        port = free_port()
        snippet = nginx_snippet(deploy_md)
        snippet = snippet.replace("127.0.0.1:8081", a.url[7:]).replace("127.0.0.1:8082", b.url[7:])
        snippet = snippet.replace("listen 127.0.0.1:8080", f"listen 127.0.0.1:{port}")
        temps = "".join(f"{k}_temp_path {tmp}/{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf = (("user root;\n" if os.geteuid() == 0 else "") +
                f"daemon off;\nworker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
                f"events {{ worker_connections 256; }}\nhttp {{\naccess_log off;\n{temps}{snippet}\n}}\n")
        with open(f"{tmp}/nginx.conf", "w") as f:
            f.write(conf)
        proc = subprocess.Popen([nginx, "-e", f"{tmp}/error.log", "-p", tmp, "-c", f"{tmp}/nginx.conf"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None:
                        raise SystemExit(f"nginx did not start: {open(tmp + '/error.log').read()}")
                    time.sleep(0.05)
            seen = [ask(url, i) for i in range(12)]
            check(set(seen) == {"replica-a", "replica-b"}, f"both replicas answer through nginx: {sorted(set(seen))}")
            a.stop()
            after = [ask(url, i) for i in range(8)]
            check(after == ["replica-b"] * 8, "with replica a stopped every request succeeds on b")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
