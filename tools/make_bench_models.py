#!/usr/bin/env python3
"""Random-weight llama GGUF files for the load benchmark (bench/bench_load.py), written with the gguf
package. Not fixtures: they go to /work/bench-models (or --out), never into the repository.

  load-100m.gguf  ~100 MB: 4 layers, n_embd 1024, n_ff 2816, F16 matrices
  load-1g.gguf    ~1 GB:  10 layers, n_embd 2048, n_ff 5632, F16 matrices

Both carry stories260K's 512-token SentencePiece vocabulary (so both engines accept them) and a
context length of 512. The weights are noise: only loading is measured.

Usage: /work/venv/bin/python tools/make_bench_models.py [--out /work/bench-models] [--data-dir ../shared/data]
"""
import argparse
from pathlib import Path

import gguf
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"load-100m.gguf": (1024, 2816, 4), "load-1g.gguf": (2048, 5632, 10)}


def write(path, d, ff, n_layer, vocab_reader, rng):
    n_head, n_kv = d // 64, d // 256
    hd = 64
    f = vocab_reader.fields
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name(path.stem)
    w.add_context_length(512)
    w.add_embedding_length(d)
    w.add_feed_forward_length(ff)
    w.add_block_count(n_layer)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_rope_dimension_count(hd)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_tokenizer_model("llama")
    w.add_token_list([bytes(f["tokenizer.ggml.tokens"].parts[i]) for i in f["tokenizer.ggml.tokens"].data])
    w.add_token_scores([float(x) for x in f["tokenizer.ggml.scores"].contents()])
    w.add_token_types([int(x) for x in f["tokenizer.ggml.token_type"].contents()])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    mat = lambda r, c: (rng.standard_normal((r, c), dtype=np.float32) * 0.02).astype(np.float16)
    ones = lambda n: np.ones(n, dtype=np.float32)
    w.add_tensor("token_embd.weight", mat(512, d))
    for l in range(n_layer):
        p = f"blk.{l}."
        w.add_tensor(p + "attn_norm.weight", ones(d))
        w.add_tensor(p + "attn_q.weight", mat(n_head * hd, d))
        w.add_tensor(p + "attn_k.weight", mat(n_kv * hd, d))
        w.add_tensor(p + "attn_v.weight", mat(n_kv * hd, d))
        w.add_tensor(p + "attn_output.weight", mat(d, n_head * hd))
        w.add_tensor(p + "ffn_norm.weight", ones(d))
        w.add_tensor(p + "ffn_gate.weight", mat(ff, d))
        w.add_tensor(p + "ffn_up.weight", mat(ff, d))
        w.add_tensor(p + "ffn_down.weight", mat(d, ff))
    w.add_tensor("output_norm.weight", ones(d))
    w.add_tensor("output.weight", mat(512, d))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/work/bench-models")
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    vocab = gguf.GGUFReader(str(Path(args.data_dir) / "models/stories260K/stories260K.gguf"))
    rng = np.random.default_rng(7)
    for name, (d, ff, n_layer) in SIZES.items():
        write(out / name, d, ff, n_layer, vocab, rng)
        print(f"{out / name}: {(out / name).stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
