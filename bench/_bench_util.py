"""Helpers of bench_vs_llamacpp.py: GGUF tensor sizes, child processes with their own peak RSS, the
bandwidth probe, machine facts. Standard library only, so the driver runs under any interpreter."""

from __future__ import annotations

import json
import os
import platform
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# ----------------------------------------------------------------------------
# GGUF tensor table. Parsed here rather than with the `gguf` package: that package is not in a venv
# made for llama-cpp-python, and when it was missing the roofline columns silently came out as "—".

# ggml type id -> (elements per block, bytes per block), from ggml's type traits.
GGML_BLOCKS = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 36),
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292),
    16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110),
    22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8),
    29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66), 39: (32, 17),
}
# Fixed-size GGUF metadata value types -> bytes (8 = string and 9 = array are variable).
_GGUF_SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


class _Reader:
    def __init__(self, f):
        self.f = f

    def u32(self) -> int:
        return struct.unpack("<I", self.f.read(4))[0]

    def u64(self) -> int:
        return struct.unpack("<Q", self.f.read(8))[0]

    def string(self) -> bytes:
        return self.f.read(self.u64())

    def skip_value(self, vtype: int) -> None:
        if vtype in _GGUF_SCALAR:
            self.f.seek(_GGUF_SCALAR[vtype], 1)
        elif vtype == 8:
            self.f.seek(self.u64(), 1)
        elif vtype == 9:
            etype, n = self.u32(), self.u64()
            if etype in _GGUF_SCALAR:
                self.f.seek(_GGUF_SCALAR[etype] * n, 1)
            else:
                for _ in range(n):
                    self.skip_value(etype)
        else:
            raise ValueError(f"unknown GGUF value type {vtype}")


def read_gguf(path: str, u32_values: dict[str, int] | None = None) -> tuple[set[str], list[tuple[str, list[int], int]]]:
    """(metadata keys, [(name, shape, bytes)] of every tensor) of a GGUF file (v2/v3). Sizes come from
    the type's block layout; a type this table does not know is sized by the gap to the next tensor.
    u32_values, if given, receives every UINT32 metadata value by key."""
    size = os.path.getsize(path)
    keys = set()
    with open(path, "rb") as f:
        r = _Reader(f)
        if f.read(4) != b"GGUF":
            raise ValueError(f"{path}: not a GGUF file")
        version = r.u32()
        if version < 2:
            raise ValueError(f"{path}: GGUF version {version} is not supported")
        n_tensors, n_kv = r.u64(), r.u64()
        alignment = 32
        for _ in range(n_kv):
            key, vtype = r.string(), r.u32()
            keys.add(key.decode("utf-8", "replace"))
            if key == b"general.alignment" and vtype == 4:
                alignment = r.u32()
            elif vtype == 4 and u32_values is not None:
                u32_values[key.decode("utf-8", "replace")] = r.u32()
            else:
                r.skip_value(vtype)
        infos = []
        for _ in range(n_tensors):
            name = r.string().decode("utf-8", "replace")
            dims = [r.u64() for _ in range(r.u32())]
            infos.append((name, dims, r.u32(), r.u64()))
        data_start = (f.tell() + alignment - 1) // alignment * alignment
    ends = sorted(o for *_, o in infos) + [size - data_start]
    out = []
    for name, dims, ttype, offset in infos:
        n = 1
        for d in dims:
            n *= d
        if ttype in GGML_BLOCKS:
            blk, nbytes = GGML_BLOCKS[ttype]
            out.append((name, dims, n // blk * nbytes))
        else:
            out.append((name, dims, min(e for e in ends if e > offset) - offset))
    return keys, out


def weight_bytes_per_token(model: str) -> int:
    """Every tensor is read once per token, except the token embedding when the model has a separate
    output matrix (then one row of it) and stacked MoE experts (`*_exps`), of which a token reads
    expert_used_count of expert_count. Tied embeddings are read whole, as the output projection."""
    meta: dict[str, int] = {}
    tensors = read_gguf(model, meta)[1]
    names = {t[0] for t in tensors}
    used = next((v for k, v in meta.items() if k.endswith(".expert_used_count")), 0)
    n_exp = next((v for k, v in meta.items() if k.endswith(".expert_count")), 0)
    total = 0
    for name, dims, nbytes in tensors:
        if "_exps." in name and n_exp and used:
            total += nbytes * used // n_exp
        elif name == "token_embd.weight" and "output.weight" in names:
            total += nbytes // (dims[-1] if len(dims) > 1 else 1)
        else:
            total += nbytes
    return total


# ----------------------------------------------------------------------------
# child processes


def cpu_seconds() -> tuple[float, float]:
    """(busy, stolen) CPU seconds of the whole machine since boot, from /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    hz = os.sysconf("SC_CLK_TCK")
    # user nice system idle iowait irq softirq steal ...; guest time is already inside user.
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / hz, (v[7] if len(v) > 7 else 0) / hz


def run_child(cmd: list[str], env: dict[str, str], timeout: float) -> dict:
    """Runs cmd; returns {code, stdout, stderr, maxrss_kib, other_cpus, steal_cpus}.

    other_cpus: CPUs kept busy by other processes during the run, on average (the machine's busy time
    minus this child's, over the wall time). Unlike the load average it does not count the measurement
    itself, whose spin-waiting threads raise the load average as much as a competing compile does.
    steal_cpus: the same for time the hypervisor gave to other guests.

    maxrss_kib (wait4's ru_maxrss) is only an upper bound of the child's peak: Linux keeps the pre-exec
    image's peak in it, and Python spawns with vfork, so it is at least this driver's own peak RSS.
    Children therefore report their VmHWM themselves (reset at exec); this value is the fallback.
    getrusage(RUSAGE_CHILDREN) would be worse still: the maximum over every child reaped so far."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        busy0, steal0 = cpu_seconds()
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        fired = threading.Event()

        def kill():
            fired.set()
            p.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, ru = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
        wall = max(time.monotonic() - t0, 1e-3)
        busy1, steal1 = cpu_seconds()
        # Reaped by us: tell Popen, or its finaliser would wait for the pid again.
        p.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if fired.is_set():
        raise subprocess.TimeoutExpired(cmd, timeout, stdout, stderr)
    child = ru.ru_utime + ru.ru_stime
    return {"code": code, "stdout": stdout, "stderr": stderr, "maxrss_kib": int(ru.ru_maxrss),
            "other_cpus": round(max(busy1 - busy0 - child, 0.0) / wall, 2),
            "steal_cpus": round((steal1 - steal0) / wall, 2)}


def parse_json_line(out: str) -> dict:
    for line in reversed(out.strip().splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            return json.loads(line)
    raise ValueError("no JSON line in output")


def proc_status_kib(field: str) -> int | None:
    """A kB field of /proc/self/status (VmRSS, VmHWM), in KiB."""
    try:
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


# ----------------------------------------------------------------------------
# machine


def default_probe(dianoia: str, repo: Path) -> str:
    """The probe of the build tree the dianoia binary comes from (<build>/examples/dianoia ->
    <build>/bench/bench_bandwidth), else the repository's build/."""
    sibling = Path(dianoia).resolve().parent.parent / "bench" / "bench_bandwidth"
    return str(sibling) if sibling.is_file() else str(repo / "build" / "bench" / "bench_bandwidth")


def measure_bandwidth(probe: str, threads: list[int]) -> tuple[dict[int, float], str | None]:
    """({threads: GB/s, best pass}, None), or ({}, why not) when the probe is missing or fails."""
    if not (os.path.isfile(probe) and os.access(probe, os.X_OK)):
        return {}, f"probe {probe} not found (build the bench_bandwidth target, or pass --bandwidth-probe)"
    try:
        p = subprocess.run([probe, "--mib", "1024", "--threads", ",".join(map(str, threads))],
                           capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return {}, f"probe {probe} timed out"
    out = {}
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            d = json.loads(line)
            out[int(d["threads"])] = float(d["gb_s"])
    if p.returncode != 0 or not out:
        return {}, f"probe {probe} failed (exit {p.returncode}): {p.stderr.strip()[-300:]}"
    return out, None


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags() -> str:
    """The SIMD extensions that matter to the kernels of either engine, from /proc/cpuinfo."""
    want = ("avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx_vnni",
            "amx_tile")
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("flags"):
                have = set(line.split(":", 1)[1].split())
                return " ".join(f for f in want if f in have) or "none of AVX2/AVX-512"
    except OSError:
        pass
    return "unknown"


def llamacpp_system_info(python: str) -> tuple[str, str]:
    """(llama-cpp-python version, llama_print_system_info()) of the interpreter the workers use."""
    code = ("import llama_cpp as L; print(L.__version__); "
            "print(L.llama_print_system_info().decode(errors='replace').strip())")
    try:
        p = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "?", f"unavailable ({e})"
    if p.returncode != 0:
        return "?", f"unavailable ({p.stderr.strip()[-200:]})"
    version, _, info = p.stdout.strip().partition("\n")
    return version, info


def dianoia_version(exe: str) -> str:
    try:
        p = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
        return p.stdout.strip() or "?"
    except (OSError, subprocess.TimeoutExpired):
        return "?"


def usd_per_million(tok_per_s: float, usd_per_hour: float) -> float:
    return usd_per_hour / 3600.0 / tok_per_s * 1e6 if tok_per_s > 0 else float("inf")


def warn(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def git_commit(repo: Path) -> dict:
    """The checkout's commit, whether it has uncommitted changes (tracked files), and its branch, so that
    records from different commits can be told apart. Empty values outside a git checkout."""
    def git(*a: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(repo), *a], capture_output=True, text=True, timeout=30,
                                  check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    commit = git("rev-parse", "HEAD")
    return {"commit": commit or None,
            "commit_dirty": bool(git("status", "--porcelain", "--untracked-files=no")) if commit else None,
            "commit_subject": git("log", "-1", "--format=%s") or None,
            "branch": git("rev-parse", "--abbrev-ref", "HEAD") or None}


def memory_gib() -> float | None:
    """MemTotal of the machine, GiB."""
    try:
        for line in open("/proc/meminfo", encoding="ascii"):
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1048576, 1)
    except (OSError, ValueError):
        pass
    return None
