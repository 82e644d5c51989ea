#!/usr/bin/env python3
"""dianoia vs llama.cpp (via llama-cpp-python) on GGUF models: prefill and decode speed, time to first
token of a short chat prompt, peak RSS, decode as a share of the machine's read bandwidth, and the cost
per million tokens at a stated machine price. Prints one Markdown table to paste into bench/results/.

Every measurement is a fresh subprocess (one engine, one thread count, one model load), and measures in
this order: time to first token of the chat prompt (the first evaluation after load), a warm-up, the
prefill of a PROMPT_TOKENS-token prompt, GEN_TOKENS single-token decode steps, and the process's peak
RSS (VmHWM). Rounds are interleaved: each round measures every (threads, engine) pair once, the engine
order alternating between rounds. The table shows medians over rounds.

llama.cpp: low-level llama-cpp-python API, n_batch = n_ubatch = 512, only llama_decode (+ synchronize,
+ the argmax of the first token for TTFT) is timed. The chat prompt is the model's own chat template
(tokenizer.chat_template, rendered with Jinja2 as llama-cpp-python's chat formatter does) with one user
message and the generation prompt, tokenized with special tokens parsed and nothing added.

dianoia: `dianoia bench -m MODEL -t THREADS -p N -n N --chat-prompt TEXT --json` (its CLI; one JSON
line with prefill/decode tokens and seconds, ttft_seconds, chat_prompt_tokens, peak_rss_kib and
system_info, the library's dianoia_system_info(): CPU level, ceiling, level of each kernel family). --dianoia-env KEY=VALUE passes environment variables to it (DIANOIA_ISA=avx2 caps its
kernels at AVX2).

The read bandwidth is measured in the same run, before and after the models, by bench_bandwidth
(bench/bandwidth_probe.cpp). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import _bench_util as U

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = os.path.join(os.environ.get("DIANOIA_HOME") or os.path.expanduser("~/.cache/dianoia"),
                             "SmolLM2-135M-Instruct.Q4_1.gguf")
DEFAULT_DIANOIA = REPO / "build" / "examples" / "dianoia"
# A short request of the kind a coding assistant gets: 41 tokens once Qwen2.5's template has wrapped it
# (with its default system message) and added the assistant prompt.
DEFAULT_CHAT = "Write a Python function that returns the n-th Fibonacci number."
# An assumed on-demand price of a 2-vCPU x86 cloud VM, of the order of AWS c5a/c6a.large (Linux,
# us-east-1): nothing is looked up, the output states it, --usd-per-hour replaces it.
DEFAULT_USD_PER_HOUR = 0.0774
# CPUs taken by other processes during a measurement above which the header calls the run unreliable: on
# 2 vCPUs a quarter of one already moves 2-thread numbers by more than the rounds' spread.
NOISY_CPUS = 0.25

# Fixed text used to build the llama.cpp prompt (repeated until long enough).
# Token content does not influence speed; it only has to be deterministic.
PROMPT_TEXT = (
    "The history of computing is a story of abstractions built on abstractions. "
    "Early machines were programmed by rewiring panels; later, stored programs "
    "allowed instructions to live in memory alongside data. Assemblers, compilers "
    "and operating systems followed, each hiding the details of the layer below. "
    "Today a language model running on a laptop multiplies quantized matrices "
    "billions of times per second, yet the programmer who calls it sees only text "
    "going in and text coming out. "
)


# ----------------------------------------------------------------------------
# worker: llama.cpp, runs inside its own subprocess


def render_chat(L, mdl, vocab, text: str) -> str:
    """The model's chat template with one user message and the generation prompt, rendered the way
    llama-cpp-python's Jinja2ChatFormatter renders it for create_chat_completion."""
    import ctypes

    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    key = b"tokenizer.chat_template"
    n = L.llama_model_meta_val_str(mdl, key, None, 0)
    if n < 0:
        raise RuntimeError("the model has no tokenizer.chat_template")
    buf = ctypes.create_string_buffer(n + 1)
    L.llama_model_meta_val_str(mdl, key, buf, n + 1)

    def piece(tok: int) -> str:
        if tok < 0:
            return ""
        out = ctypes.create_string_buffer(256)
        k = L.llama_token_to_piece(vocab, tok, out, len(out), 0, True)
        return out.raw[:max(k, 0)].decode("utf-8", "replace")

    fmt = Jinja2ChatFormatter(buf.value.decode("utf-8"), eos_token=piece(L.llama_vocab_eos(vocab)),
                              bos_token=piece(L.llama_vocab_bos(vocab)), add_generation_prompt=True)
    return fmt(messages=[{"role": "user", "content": text}]).prompt


def tokenize(L, vocab, text: str, parse_special: bool) -> list[int]:
    data = text.encode()
    cap = len(data) + 8
    buf = (L.llama_token * cap)()
    n = L.llama_tokenize(vocab, data, len(data), buf, cap, False, parse_special)
    if n < 0:
        raise RuntimeError("llama_tokenize failed")
    return list(buf[:n])


def llamacpp_worker(model: str, threads: int, n_prompt: int, n_gen: int, warmup: bool, chat: str) -> dict:
    import ctypes

    import numpy as np
    import llama_cpp as L

    @L.llama_log_callback
    def quiet(level, text, user_data):  # noqa: ARG001
        pass

    L.llama_log_set(quiet, ctypes.c_void_p(0))
    L.llama_backend_init()
    # What Python, numpy and llama-cpp-python cost before any model: the dianoia CLI has no such share.
    rss_before_load = U.proc_status_kib("VmRSS")
    mp = L.llama_model_default_params()
    mp.n_gpu_layers = 0
    t0 = time.perf_counter()
    mdl = L.llama_model_load_from_file(model.encode(), mp)
    if not mdl:
        raise RuntimeError(f"cannot load {model}")
    vocab = L.llama_model_get_vocab(mdl)
    n_vocab = L.llama_vocab_n_tokens(vocab)
    chat_ids = tokenize(L, vocab, render_chat(L, mdl, vocab, chat), True) if chat else []
    n_batch = 512
    cp = L.llama_context_default_params()
    cp.n_ctx = (max(n_prompt + n_gen, len(chat_ids) + 1) + 255) // 256 * 256
    cp.n_batch = n_batch
    cp.n_ubatch = n_batch
    cp.n_seq_max = 1
    cp.n_threads = threads
    cp.n_threads_batch = threads
    ctx = L.llama_init_from_model(mdl, cp)
    if not ctx:
        raise RuntimeError("cannot create context")
    load_s = time.perf_counter() - t0

    text = PROMPT_TEXT
    while len(prompt := tokenize(L, vocab, text, False)) < n_prompt:
        text += PROMPT_TEXT
    prompt = prompt[:n_prompt]

    batch = L.llama_batch_init(max(n_batch, 1), 0, 1)
    state = {"pos": 0}

    def fill(ids: list[int]) -> None:
        batch.n_tokens = len(ids)
        for i, t in enumerate(ids):
            batch.token[i] = t
            batch.pos[i] = state["pos"] + i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = 1 if i == len(ids) - 1 else 0

    def run_batch(n: int) -> None:
        rc = L.llama_decode(ctx, batch)
        L.llama_synchronize(ctx)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")
        state["pos"] += n

    def decode(ids: list[int]) -> float:
        """llama_decode ids (<= n_batch); returns seconds spent in the call."""
        fill(ids)
        t = time.perf_counter()
        run_batch(len(ids))
        return time.perf_counter() - t

    def argmax_last() -> int:
        p = L.llama_get_logits_ith(ctx, -1)
        return int(np.argmax(np.ctypeslib.as_array(p, shape=(n_vocab,))))

    def prefill(ids: list[int]) -> float:
        return sum(decode(ids[i:i + n_batch]) for i in range(0, len(ids), n_batch))

    def clear():
        L.llama_memory_clear(L.llama_get_memory(ctx), True)
        state["pos"] = 0

    ttft = None
    if chat_ids:
        # First evaluation after load, as a user's first request is (dianoia's bench does the same).
        # Chunks are filled outside the clock, as for prefill; the greedy pick of the first token is in.
        ttft = 0.0
        for i in range(0, len(chat_ids), n_batch):
            fill(chat_ids[i:i + n_batch])
            t = time.perf_counter()
            run_batch(len(chat_ids[i:i + n_batch]))
            if i + n_batch >= len(chat_ids):
                argmax_last()
            ttft += time.perf_counter() - t
        clear()

    if warmup:
        prefill(prompt)
        for _ in range(4):
            decode([argmax_last()])
        clear()

    prefill_s = prefill(prompt)
    decode_s = 0.0
    for _ in range(n_gen):
        decode_s += decode([argmax_last()])
    peak = U.proc_status_kib("VmHWM")

    L.llama_batch_free(batch)
    L.llama_free(ctx)
    L.llama_model_free(mdl)
    out = {
        "prefill_tokens": n_prompt,
        "prefill_seconds": prefill_s,
        "decode_tokens": n_gen,
        "decode_seconds": decode_s,
        "load_seconds": load_s,
        "peak_rss_kib": peak,
        "rss_before_load_kib": rss_before_load,
        "llama_cpp_python_version": L.__version__,
    }
    if chat_ids:
        out.update(chat_prompt_tokens=len(chat_ids), ttft_seconds=ttft)
    return out


# ----------------------------------------------------------------------------
# driver


def run_llamacpp(args, model: str, threads: int, n_prompt: int, chat: str) -> dict:
    cmd = [args.python, str(Path(__file__).resolve()), "--_worker", "llamacpp",
           "--model", model, "--threads", str(threads), "--chat-prompt", chat,
           "--prompt-tokens", str(n_prompt), "--gen-tokens", str(args.gen_tokens)]
    if args.no_warmup:
        cmd.append("--no-warmup")
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    c = U.run_child(cmd, env, args.timeout)
    if c["code"] != 0:
        raise RuntimeError(f"llama.cpp worker failed ({c['code']}):\n{c['stderr'][-2000:]}")
    return child_result(c)


def run_dianoia(args, model: str, threads: int, n_prompt: int, chat: str) -> dict:
    cmd = [args.dianoia, "bench", "-m", model, "-t", str(threads),
           "-p", str(n_prompt), "-n", str(args.gen_tokens), "--json"]
    if chat and not args.dianoia_no_chat:
        cmd += ["--chat-prompt", chat]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), **args.dianoia_env)
    c = U.run_child(cmd, env, args.timeout)
    if c["code"] != 0 and "unknown argument '--chat-prompt'" in c["stderr"]:
        U.warn("note: this dianoia binary has no `bench --chat-prompt`: no time to first token for it")
        args.dianoia_no_chat = True
        return run_dianoia(args, model, threads, n_prompt, chat)
    if c["code"] != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed ({c['code']}):\n{c['stderr'][-2000:]}")
    return child_result(c)


def child_result(c: dict) -> dict:
    res = U.parse_json_line(c["stdout"])
    res.update(wait4_maxrss_kib=c["maxrss_kib"], other_cpus=c["other_cpus"], steal_cpus=c["steal_cpus"])
    return res


def parse_env(items: list[str], ap: argparse.ArgumentParser) -> dict[str, str]:
    env = {}
    for it in items:
        key, eq, value = it.partition("=")
        if not eq or not key:
            ap.error(f"--dianoia-env wants KEY=VALUE, got {it!r}")
        env[key] = value
    return env


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", nargs="+", default=[DEFAULT_MODEL],
                    help="GGUF file(s), measured one after the other (default: %(default)s)")
    ap.add_argument("--dianoia", default=str(DEFAULT_DIANOIA), help="dianoia CLI binary (default: %(default)s)")
    ap.add_argument("--dianoia-env", action="append", default=[], metavar="KEY=VALUE",
                    help="environment variable for the dianoia runs (repeatable), e.g. DIANOIA_ISA=avx2")
    ap.add_argument("--bandwidth-probe",
                    help="read-bandwidth probe (default: bench/bench_bandwidth of the dianoia binary's build "
                         "tree, else build/bench/bench_bandwidth)")
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter with llama-cpp-python for the llama.cpp worker (default: this one)")
    ap.add_argument("--engines", default="llamacpp,dianoia", help="comma list of llamacpp,dianoia")
    ap.add_argument("--threads", default="1,2", help="comma list of thread counts (default: %(default)s)")
    ap.add_argument("--prompt-tokens", default="512",
                    help="prompt length, or a comma list for a context-length sweep: each length is a prefill "
                         "and then --gen-tokens decode steps at that context (default: %(default)s)")
    ap.add_argument("--gen-tokens", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chat-prompt", default=DEFAULT_CHAT,
                    help="user message of the time-to-first-token prompt ('' to skip TTFT; default: %(default)r)")
    ap.add_argument("--usd-per-hour", type=float, default=DEFAULT_USD_PER_HOUR,
                    help="machine price for the cost columns (default: %(default)s, an assumed on-demand price "
                         "of a 2-vCPU cloud VM; the whole machine is charged whatever the thread count)")
    ap.add_argument("--label", help="title of the table (e.g. 'AVX2 only')")
    ap.add_argument("--md-out", help="also write the Markdown here")
    ap.add_argument("--json-out", help="also write the run's record here: commit, machine, settings, every raw "
                                       "measurement and the summary (bench/plot_bench.py draws it)")
    ap.add_argument("--plot-out", help="also draw the record as a PNG here (needs matplotlib; see bench/plot_bench.py)")
    ap.add_argument("--no-warmup", action="store_true", help="llama.cpp: skip the warm-up pass")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per measurement subprocess")
    ap.add_argument("--_worker", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args._worker == "llamacpp":
        res = llamacpp_worker(args.model[0], int(args.threads), int(args.prompt_tokens), args.gen_tokens,
                              not args.no_warmup, args.chat_prompt)
        print(json.dumps(res))
        return 0

    args.dianoia_env = parse_env(args.dianoia_env, ap)
    args.dianoia_no_chat = False
    threads = [int(t) for t in args.threads.split(",") if t]
    try:
        args.prompt_lengths = [int(n) for n in args.prompt_tokens.split(",") if n]
    except ValueError:
        ap.error(f"--prompt-tokens wants a number or a comma list of numbers, got {args.prompt_tokens!r}")
    if not args.prompt_lengths or min(args.prompt_lengths) < 1:
        ap.error("--prompt-tokens: lengths must be positive")
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in engines:
        if e not in ("llamacpp", "dianoia"):
            ap.error(f"unknown engine {e}")
    for m in args.model:
        if not os.path.isfile(m):
            ap.error(f"model not found: {m}")

    if "llamacpp" in engines:
        p = subprocess.run([args.python, "-c", "import llama_cpp"], capture_output=True, text=True)
        if p.returncode != 0:
            U.warn(f"note: llama_cpp not importable by {args.python}; skipping llama.cpp")
            engines.remove("llamacpp")
    if "dianoia" in engines:
        exe = args.dianoia if os.sep in args.dianoia else shutil.which(args.dianoia)
        if not exe or not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            U.warn(f"note: dianoia CLI not found at {args.dianoia}; skipping dianoia "
                   "(build it, or pass --dianoia PATH)")
            engines.remove("dianoia")
        else:
            args.dianoia = exe
    if not engines:
        U.warn("error: no engine left to benchmark")
        return 1
    probe = args.bandwidth_probe or U.default_probe(args.dianoia, REPO)

    run = {"record": "dianoia-bench-vs-llamacpp", "record_version": 2,
           "time": time.strftime("%Y-%m-%d %H:%M %z"), **U.git_commit(REPO), "cpu": U.cpu_name(),
           "logical_cpus": os.cpu_count(), "cpu_flags": U.cpu_flags(), "memory_gib": U.memory_gib(),
           "kernel": os.uname().release, "engines": engines, "threads": threads, "label": args.label,
           "prompt_tokens": args.prompt_lengths, "gen_tokens": args.gen_tokens, "rounds": args.rounds,
           "chat_prompt": args.chat_prompt, "usd_per_hour": args.usd_per_hour, "dianoia_env": args.dianoia_env}
    if "llamacpp" in engines:
        run["llama_cpp_python"], run["llama_system_info"] = U.llamacpp_system_info(args.python)
        U.warn(f"llama.cpp: llama-cpp-python {run['llama_cpp_python']}, {run['llama_system_info']}")
    if "dianoia" in engines:
        run["dianoia_version"] = U.dianoia_version(args.dianoia)

    U.warn(f"load before the run: {open('/proc/loadavg').read().strip()}")
    bw_before, why = U.measure_bandwidth(probe, threads)
    docs = [bench_model(args, model, engines, threads) for model in args.model]
    bw_after, why_after = U.measure_bandwidth(probe, threads) if not why else ({}, why)
    U.warn(f"load after the run: {open('/proc/loadavg').read().strip()}")
    bw = {t: max(bw_before.get(t, 0.0), bw_after.get(t, 0.0)) for t in threads if t in bw_before or t in bw_after}
    run.update(bandwidth_gb_s={"before": bw_before, "after": bw_after, "used": bw},
               bandwidth_missing=why or why_after, bandwidth_probe=probe)
    for d in docs:
        add_derived(d, bw, args.usd_per_hour)

    md = render_markdown(run, docs)
    print(md)
    if args.md_out:
        Path(args.md_out).write_text(md + "\n", encoding="utf-8")
    record = {"run": run, "models": docs}
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    if args.plot_out:
        try:
            import plot_bench
            plot_bench.plot([record], args.plot_out)
        except ImportError as ex:
            U.warn(f"note: no plot ({ex}): pip install matplotlib, or run bench/plot_bench.py on the --json-out record")
    return 0


def bench_model(args, model: str, engines: list[str], threads: list[int]) -> dict:
    keys, _ = U.read_gguf(model)
    chat = args.chat_prompt if "tokenizer.chat_template" in keys else ""
    if args.chat_prompt and not chat:
        U.warn(f"note: {os.path.basename(model)} has no chat template: no time to first token for it")
    runners = {"llamacpp": run_llamacpp, "dianoia": run_dianoia}
    lengths = args.prompt_lengths
    raw: dict[tuple[str, int, int], list[dict]] = {(e, t, n): [] for e in engines for t in threads for n in lengths}
    failed: set[str] = set()
    for r in range(args.rounds):
        order = engines if r % 2 == 0 else list(reversed(engines))
        for t, n in ((t, n) for t in threads for n in lengths):
            for e in order:
                if e in failed:
                    continue
                load_before = os.getloadavg()[0]
                try:
                    res = runners[e](args, model, t, n, chat)
                except (RuntimeError, ValueError, subprocess.TimeoutExpired) as ex:
                    U.warn(f"warning: {e} failed on {os.path.basename(model)}, dropping it: {ex}")
                    failed.add(e)
                    continue
                res["loadavg_1min_before"] = round(load_before, 2)
                raw[(e, t, n)].append(res)
                ttft = res.get("ttft_seconds")
                U.warn(f"{os.path.basename(model)} round {r + 1}/{args.rounds} {e:8s} t={t} p={n}: "
                       f"prefill {res['prefill_tokens'] / res['prefill_seconds']:8.1f} tok/s, "
                       f"decode {res['decode_tokens'] / res['decode_seconds']:7.1f} tok/s, "
                       f"TTFT {'—' if ttft is None else f'{ttft * 1e3:.0f} ms'}, "
                       f"peak RSS {(res.get('peak_rss_kib') or 0) / 1024:.0f} MiB "
                       f"(other processes: {res['other_cpus']:.2f} CPUs, steal {res['steal_cpus']:.2f})")

    summary = []
    for t, n in ((t, n) for t in threads for n in lengths):
        for e in engines:
            runs = raw[(e, t, n)]
            if not runs:
                continue
            pfs = [x["prefill_tokens"] / x["prefill_seconds"] for x in runs]
            dcs = [x["decode_tokens"] / x["decode_seconds"] for x in runs]
            ttfts = [x["ttft_seconds"] for x in runs if x.get("ttft_seconds") is not None]
            # The child's own VmHWM; wait4's figure only when the child did not report one (an upper bound).
            rss = [x.get("peak_rss_kib") or x["wait4_maxrss_kib"] for x in runs]
            summary.append({
                "engine": e, "threads": t, "prompt_tokens": n, "runs": len(runs),
                "prefill_tok_s": statistics.median(pfs), "decode_tok_s": statistics.median(dcs),
                "prefill_tok_s_min_max": [min(pfs), max(pfs)], "decode_tok_s_min_max": [min(dcs), max(dcs)],
                "ttft_s": statistics.median(ttfts) if ttfts else None,
                "ttft_s_min_max": [min(ttfts), max(ttfts)] if ttfts else None,
                "peak_rss_mib": statistics.median(rss) / 1024,
                "peak_rss_self_reported": all(x.get("peak_rss_kib") for x in runs),
                "chat_prompt_tokens": runs[0].get("chat_prompt_tokens"),
            })
    first = {e: next((x for (e2, _, _), xs in raw.items() if e2 == e for x in xs), {}) for e in engines}
    chat_tokens = {e: first[e].get("chat_prompt_tokens") for e in engines}
    if len({n for n in chat_tokens.values() if n is not None}) > 1:
        U.warn(f"warning: the engines tokenized the chat prompt differently: {chat_tokens}")
    return {
        "model": model,
        "weight_bytes_per_token": U.weight_bytes_per_token(model),
        "chat_prompt_tokens": chat_tokens,
        "python_rss_before_load_mib": (first.get("llamacpp", {}).get("rss_before_load_kib") or 0) / 1024 or None,
        "dianoia_system_info": first.get("dianoia", {}).get("system_info"),
        "max_other_cpus": max((x["other_cpus"] for xs in raw.values() for x in xs), default=0.0),
        "max_steal_cpus": max((x["steal_cpus"] for xs in raw.values() for x in xs), default=0.0),
        "summary": summary,
        "raw": [{"engine": e, "threads": t, "prompt_tokens": n, "runs": xs} for (e, t, n), xs in raw.items()],
    }


def add_derived(doc: dict, bw: dict[int, float], usd_per_hour: float) -> None:
    wbytes = doc["weight_bytes_per_token"]
    base = {(s["threads"], s["prompt_tokens"]): s for s in doc["summary"] if s["engine"] == "llamacpp"}
    for s in doc["summary"]:
        s["usd_per_m_prompt"] = U.usd_per_million(s["prefill_tok_s"], usd_per_hour)
        s["usd_per_m_generated"] = U.usd_per_million(s["decode_tok_s"], usd_per_hour)
        s["weight_gb_s"] = wbytes * s["decode_tok_s"] / 1e9
        b = bw.get(s["threads"])
        s["roofline_fraction"] = s["weight_gb_s"] / b if b else None
        ref = base.get((s["threads"], s["prompt_tokens"]))
        for k, r in (("prefill_tok_s", "prefill_ratio"), ("decode_tok_s", "decode_ratio"), ("ttft_s", "ttft_ratio"),
                     ("peak_rss_mib", "peak_rss_ratio")):
            ok = ref and s["engine"] != "llamacpp" and s[k] is not None and ref[k]
            s[r] = s[k] / ref[k] if ok else None


def render_markdown(run: dict, docs: list[dict]) -> str:
    names = {"llamacpp": "llama.cpp", "dianoia": "dianoia"}
    env = " ".join(f"{k}={v}" for k, v in run["dianoia_env"].items())
    out = [f"### {run['label'] or 'dianoia vs llama.cpp'}", ""]
    out.append(f"- Run {run['time']} on {run['cpu']} ({run['logical_cpus']} logical CPUs; {run['cpu_flags']}).")
    if "llama_system_info" in run:
        out.append(f"- llama.cpp: llama-cpp-python {run['llama_cpp_python']}, `llama_print_system_info()`: "
                   f"`{run['llama_system_info']}`")
    if "dianoia_version" in run:
        info = next((d["dianoia_system_info"] for d in docs if d["dianoia_system_info"]), None)
        level = f"`dianoia_system_info()`: `{info}`" if info else "CPU level not reported by this binary"
        out.append(f"- dianoia: {run['dianoia_version']}, CLI `bench`, {level}"
                   + (f"; environment `{env}`" if env else "") + ".")
    chat = "; ".join(f"{Path(d['model']).name}: " + " / ".join(
        f"{n} ({names[e]})" for e, n in d["chat_prompt_tokens"].items() if n is not None)
        for d in docs if any(n is not None for n in d["chat_prompt_tokens"].values()))
    lengths = run["prompt_tokens"]
    plen = " / ".join(str(n) for n in lengths)
    out.append(f"- Workload: prefill of a {plen}-token prompt, {run['gen_tokens']} greedy decode "
               f"steps after it, medians of {run['rounds']} interleaved rounds, each measurement a fresh process.")
    if run.get("commit"):
        out.append(f"- Commit {run['commit'][:12]}{' (with uncommitted changes)' if run.get('commit_dirty') else ''}.")
    if run["chat_prompt"]:
        out.append(f"- TTFT: the user message \"{run['chat_prompt']}\" in the model's chat template with the "
                   "generation prompt, from the start of its evaluation to the first (greedy) token, as the first "
                   "evaluation after model load (no warm-up)."
                   + (f" Prompt tokens: {chat}." if chat else ""))
    py = [d["python_rss_before_load_mib"] for d in docs if d["python_rss_before_load_mib"]]
    out.append("- Peak RSS: the measuring process's VmHWM (model, KV cache, compute buffers of the "
               f"{plen}-token batch)."
               + (f" llama.cpp's includes Python, numpy and llama-cpp-python: {min(py):.0f} MiB before the "
                  "model was loaded." if py else ""))
    bw = run["bandwidth_gb_s"]["used"]
    if bw:
        out.append("- Read bandwidth (bench_bandwidth: AVX2 read-only sum over 1 GiB, best of 7 passes, the "
                   "better of before and after the models): "
                   + ", ".join(f"{bw[t]:.1f} GB/s with {t} thread{'s' if t > 1 else ''}" for t in sorted(bw))
                   + ". \"Decode GB/s\" = bytes of weights one token reads × decode tok/s (KV cache not counted).")
    else:
        out.append(f"- Read bandwidth not measured: {run['bandwidth_missing']}.")
    out.append(f"- Cost: **assumes ${run['usd_per_hour']:g}/hour** for the whole 2-vCPU machine serving one stream "
               "(an on-demand cloud price; --usd-per-hour), whatever the thread count.")
    other = max((d["max_other_cpus"] for d in docs), default=0.0)
    steal = max((d["max_steal_cpus"] for d in docs), default=0.0)
    out.append(f"- Other processes kept at most {other:.2f} CPUs busy during a measurement (average over it), "
               f"the hypervisor stole at most {steal:.2f}"
               + (" — **other work competed for the CPUs: the numbers are not reliable**"
                  if other + steal > NOISY_CPUS else "") + ".")
    out += ["", "(×r) = dianoia ÷ llama.cpp at the same thread count: above 1 is faster for speeds, "
            "below 1 is better for TTFT and RSS.", ""]
    sweep = len(lengths) > 1  # a context-length sweep: a column for the prompt length
    out.append("| model | threads | " + ("context | " if sweep else "") + "engine | prefill tok/s | decode tok/s | TTFT ms "
               "| peak RSS MiB | decode GB/s (% of bandwidth) | $/1M prompt tokens | $/1M generated tokens |")
    out.append("|---|---:|" + ("---:|" if sweep else "") + "---|---:|---:|---:|---:|---:|---:|---:|")

    def cell(v, fmt, ratio=None):
        if v is None:
            return "—"
        return format(v, fmt) + ("" if ratio is None else f" (×{ratio:.2f})")

    for d in docs:
        name = Path(d["model"]).name.removesuffix(".gguf")
        for s in d["summary"]:
            pct = "" if s["roofline_fraction"] is None else f" ({100 * s['roofline_fraction']:.0f}%)"
            rss = cell(s["peak_rss_mib"], ".0f", s["peak_rss_ratio"]) + ("" if s["peak_rss_self_reported"] else "*")
            ctx = f"{s['prompt_tokens']} | " if sweep else ""
            out.append(f"| {name} | {s['threads']} | {ctx}{names[s['engine']]} "
                       f"| {cell(s['prefill_tok_s'], '.1f', s['prefill_ratio'])} "
                       f"| {cell(s['decode_tok_s'], '.1f', s['decode_ratio'])} "
                       f"| {cell(s['ttft_s'] and 1e3 * s['ttft_s'], '.0f', s['ttft_ratio'])} | {rss} "
                       f"| {s['weight_gb_s']:.2f}{pct} | {s['usd_per_m_prompt']:.4f} | {s['usd_per_m_generated']:.4f} |")
    if any(not s["peak_rss_self_reported"] for d in docs for s in d["summary"]):
        out += ["", "\\* not reported by the process itself: wait4's ru_maxrss, an upper bound."]
    out += ["", "Weights read per decoded token: " + ", ".join(
        f"{Path(d['model']).name} {d['weight_bytes_per_token'] / 1e6:.1f} MB" for d in docs) + "."]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
