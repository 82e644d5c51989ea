#!/usr/bin/env python3
"""Encode throughput on the tokenizer parity corpus: dianoia vs Hugging Face tokenizers vs llama.cpp.

For each tokenizer (DeepSeek-V3 and Qwen3 from shared/data tokenizer.json, SmolLM2 from the default GGUF)
every engine encodes the corpus (tests/fixtures/tokenizer_corpus/corpus.txt, ~2.3 MB, 894 documents)
document by document, without special tokens, on one thread:

  dianoia     bench_tokenizer (C++), with its pre-token cache and with --no-cache
  hf          tokenizers.Tokenizer.encode per document, RAYON_NUM_THREADS=1, TOKENIZERS_PARALLELISM=false
  hf-batch-2  tokenizers.Tokenizer.encode_batch over all documents, RAYON_NUM_THREADS=2 (information only:
              two threads)
  llama.cpp   llama_cpp.Llama(vocab_only=True).tokenize per document (llama-cpp-python). For tokenizer.json
              vocabularies a vocab-only GGUF is written to a temporary directory (same tokens, merges and
              tokenizer.ggml.pre); llama.cpp applies no NFC, so its Qwen3 ids differ on non-NFC documents.

Each measurement is a fresh process; rounds are interleaved (engine order alternates) and the table shows
the best round (least disturbed by other load), with the median in the JSON. Only encoding is timed, not
loading. Both wall time and the process's CPU time are recorded: on a shared machine the CPU time of the
one-thread engines is the steadier figure (time spent waiting for a core is not counted); the 2-thread
batch row is wall time only (its CPU time adds both threads). Run with /work/venv/bin/python (tokenizers, llama-cpp-python, gguf).

  bench/bench_tokenizer.py --bench-bin build/bench/bench_tokenizer --rounds 3 --out bench/results/DATE-tokenizer.md
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def read_corpus(path):
    with open(path, "rb") as fh:
        data = fh.read()
    docs, pos = [], 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        n = int(data[pos:nl].split()[3])
        docs.append(data[nl + 1 : nl + 1 + n].decode("utf-8"))
        pos = nl + 1 + n + 1
    return docs


# ---- workers (run in their own process) -----------------------------------------------------------------

def worker(args):
    docs = read_corpus(args.corpus)
    nbytes = sum(len(d.encode()) for d in docs)
    if args.worker in ("hf", "hf-batch-2"):
        import tokenizers

        if args.tokenizer.endswith(".gguf"):
            tok = smollm2_hf(args.tokenizer)
        else:
            tok = tokenizers.Tokenizer.from_file(args.tokenizer)
        tok.encode(docs[0], add_special_tokens=False)
        t, c = time.perf_counter(), time.process_time()
        if args.worker == "hf":
            n = sum(len(tok.encode(d, add_special_tokens=False).ids) for d in docs)
        else:
            n = sum(len(e.ids) for e in tok.encode_batch(docs, add_special_tokens=False))
        dt, cpu = time.perf_counter() - t, time.process_time() - c
    else:
        import llama_cpp

        llm = llama_cpp.Llama(model_path=args.tokenizer, vocab_only=True, verbose=False)
        enc = [d.encode() for d in docs]
        t, c = time.perf_counter(), time.process_time()
        n = sum(len(llm.tokenize(b, add_bos=False, special=False)) for b in enc)
        dt, cpu = time.perf_counter() - t, time.process_time() - c
    print(json.dumps({"bytes": nbytes, "tokens": n, "seconds": dt, "cpu_seconds": cpu}))


def smollm2_hf(gguf_path):
    # As tools/make_tokenizer_corpus_refs.py: transformers' conversion of the GGUF with SmolLM2's own
    # pre-tokenizer restored (Digits(individual_digits) + ByteLevel).
    import tokenizers
    import transformers

    if "torch" not in sys.modules:
        try:
            import torch  # noqa: F401
        except ImportError:
            import types

            stub = types.ModuleType("torch")
            stub.float32, stub.float16, stub.bfloat16, stub.Tensor = "float32", "float16", "bfloat16", object
            sys.modules["torch"] = stub
    hf = transformers.AutoTokenizer.from_pretrained(os.path.dirname(gguf_path), gguf_file=os.path.basename(gguf_path))
    tok = tokenizers.Tokenizer.from_str(hf.backend_tokenizer.to_str())
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Sequence([
        tokenizers.pre_tokenizers.Digits(individual_digits=True),
        tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    return tok


def vocab_gguf(tokenizer_json, out, pre, arch):
    """A vocab-only GGUF holding tokenizer.json's byte-level BPE, for llama.cpp."""
    import gguf

    with open(tokenizer_json, encoding="utf-8") as fh:
        j = json.load(fh)
    vocab = j["model"]["vocab"]
    added = {a["id"]: a for a in j["added_tokens"]}
    n = max(max(vocab.values()), max(added, default=0)) + 1
    toks = [""] * n
    types = [gguf.TokenType.UNUSED] * n
    for t, i in vocab.items():
        toks[i], types[i] = t, gguf.TokenType.NORMAL
    for i, a in added.items():
        toks[i] = a["content"]
        types[i] = gguf.TokenType.CONTROL if a["special"] else gguf.TokenType.USER_DEFINED
    toks = [t or f"[PAD{i}]" for i, t in enumerate(toks)]
    merges = [m if isinstance(m, str) else " ".join(m) for m in j["model"]["merges"]]
    w = gguf.GGUFWriter(out, arch)
    # llama.cpp reads the architecture's hyperparameters even for vocab_only loads.
    w.add_context_length(4096)
    w.add_embedding_length(64)
    w.add_block_count(1)
    w.add_feed_forward_length(64)
    w.add_head_count(1)
    w.add_head_count_kv(1)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(pre)
    w.add_token_list(toks)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_add_bos_token(False)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


# ---- driver ---------------------------------------------------------------------------------------------

def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", choices=["hf", "hf-batch-2", "llamacpp"], help=argparse.SUPPRESS)
    ap.add_argument("--tokenizer", help=argparse.SUPPRESS)
    ap.add_argument("--corpus", default=os.path.join(ROOT, "tests/fixtures/tokenizer_corpus/corpus.txt"))
    ap.add_argument("--shared", default=os.path.join(ROOT, "../shared/data"))
    ap.add_argument("--model", default=os.path.expanduser("~/.cache/dianoia/SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--bench-bin", default=os.path.join(ROOT, "build/bench/bench_tokenizer"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", nargs="*", default=["deepseek-v3", "qwen3", "smollm2"])
    ap.add_argument("--out", help="markdown file to write")
    args = ap.parse_args()
    if args.worker:
        return worker(args)

    tmp = tempfile.mkdtemp(prefix="dianoia-bench-tok-")
    targets = []
    for name, pre, arch in (("deepseek-v3", "deepseek-v3", "deepseek2"), ("qwen3", "qwen2", "qwen2")):
        if name in args.only:
            tj = os.path.join(args.shared, "tokenizers", name, "tokenizer.json")
            g = os.path.join(tmp, f"{name}-vocab.gguf")
            vocab_gguf(tj, g, pre, arch)
            targets.append((name, tj, tj, g))
    if "smollm2" in args.only and os.path.exists(args.model):
        targets.append(("smollm2", args.model, args.model, args.model))

    env1 = dict(os.environ, RAYON_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS="1")
    env2 = dict(os.environ, RAYON_NUM_THREADS="2", TOKENIZERS_PARALLELISM="true", OMP_NUM_THREADS="1")
    me = [sys.executable, os.path.abspath(__file__), "--corpus", args.corpus]
    engines = {
        "dianoia": lambda t: run([args.bench_bin, t[1], args.corpus, "1"], env1),
        "dianoia (no cache)": lambda t: run([args.bench_bin, t[1], args.corpus, "1", "--no-cache"], env1),
        "hf tokenizers": lambda t: run(me + ["--worker", "hf", "--tokenizer", t[2]], env1),
        "llama.cpp": lambda t: run(me + ["--worker", "llamacpp", "--tokenizer", t[3]], env1),
        "hf batch, 2 threads": lambda t: run(me + ["--worker", "hf-batch-2", "--tokenizer", t[2]], env2),
    }
    results = {t[0]: {e: [] for e in engines} for t in targets}
    max_load = 0.0
    for r in range(args.rounds):
        order = list(engines) if r % 2 == 0 else list(reversed(engines))
        for t in targets:
            for e in order:
                max_load = max(max_load, os.getloadavg()[0])
                res = engines[e](t)
                results[t[0]][e].append(res)
                print(f"round {r + 1} {t[0]:12s} {e:20s} {res['bytes'] / res['seconds'] / 1e6:7.2f} MB/s "
                      f"{res['tokens'] / res['seconds']:10.0f} tok/s", file=sys.stderr)

    lines = [f"# Tokenizer encode throughput, {datetime.date.today().isoformat()}", "",
             f"Corpus: `tests/fixtures/tokenizer_corpus/corpus.txt` ({results[targets[0][0]]['dianoia'][0]['bytes']} "
             f"bytes, 894 documents), encoded document by document without special tokens. Best of {args.rounds} "
             f"interleaved rounds, one process per measurement. Highest 1-minute load average seen: {max_load:.1f} "
             f"(2 vCPUs; numbers above ~2 mean other work competed for the CPUs).", "",
             "MB/s and tokens/s from CPU time (wall time in brackets); the ratio compares CPU times with HF's "
             "one-thread encode (wall times for the 2-thread row).", "",
             "| tokenizer | engine | threads | MB/s | tokens/s | tokens | vs HF (1 thread) |",
             "|---|---|---:|---:|---:|---:|---:|"]
    summary = {}
    for name, rows in results.items():
        best = {e: min(rows[e], key=lambda x: x["seconds"]) for e in rows}
        best_cpu = {e: min(x.get("cpu_seconds", x["seconds"]) for x in rows[e]) for e in rows}
        hf_s, hf_cpu = best["hf tokenizers"]["seconds"], best_cpu["hf tokenizers"]
        for e, b in best.items():
            two = "2 threads" in e
            s = b["seconds"] if two else best_cpu[e]
            ratio = (hf_s if two else hf_cpu) / s
            lines.append(f"| {name} | {e} | {2 if two else 1} | {b['bytes'] / s / 1e6:.2f} "
                         f"({b['bytes'] / b['seconds'] / 1e6:.2f}) | {b['tokens'] / s:.0f} | {b['tokens']} | "
                         f"{ratio:.2f}x |")
        summary[name] = {e: {"best_seconds": best[e]["seconds"], "best_cpu_seconds": best_cpu[e],
                             "median_seconds": statistics.median(x["seconds"] for x in rows[e]),
                             "tokens": best[e]["tokens"], "bytes": best[e]["bytes"]} for e in rows}
    lines += ["", "Raw numbers (best and median seconds per engine):", "", "```json",
              json.dumps(summary, indent=1), "```", ""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
