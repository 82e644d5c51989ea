#!/usr/bin/env python3
"""Reference tokenizations of the parity corpus (tests/fixtures/tokenizer_corpus/corpus.txt).

For each tokenizer, writes tests/fixtures/tokenizer_corpus/<name>.json:
  {"tokenizer", "reference", "versions", "hash": "fnv1a64-u32le",
   "docs": [[n_tokens, "<16 hex digits>"], ...],          # every document
   "full_ids": {"<doc index>": "id id id ...", ...}}      # the first --full documents
All encodings use add_special_tokens=False (HF) / add_special=False, parse_special=False (llama.cpp).

Tokenizers:
  deepseek-v3, qwen3: Hugging Face `tokenizers` on shared/data/tokenizers/<name>/tokenizer.json.
  smollm2: transformers' fast tokenizer built from the GGUF (AutoTokenizer.from_pretrained(dir,
           gguf_file=...)), with its pre-tokenizer set to SmolLM2's own (Digits(individual_digits) +
           ByteLevel): transformers' converter drops the digit split that tokenizer.ggml.pre="smollm"
           stands for. Documents where the unmodified conversion differs are listed under
           "transformers_gguf_unmodified_differs"; llama.cpp (llama-cpp-python, vocab_only) is run too and
           documents where it differs are listed under "llamacpp_differs" (index, first differing position).
"round_trip_lossy" lists documents whose reference ids do not decode back to the normalized text
(bytes the vocabulary cannot spell: SmolLM2 lacks some C0 control bytes).

The hash of a document's ids: FNV-1a 64 over the ids, each as 4 bytes little-endian uint32
(offset basis 0xcbf29ce484222325, prime 0x100000001b3). tests/tokenizer/corpus_test.cpp uses the same.

Run with /work/venv/bin/python; TOKENIZERS_PARALLELISM is irrelevant (one document at a time).
"""
import argparse
import json
import os
import struct
import sys


def fnv1a64(ids):
    h = 0xCBF29CE484222325
    for b in b"".join(struct.pack("<I", i & 0xFFFFFFFF) for i in ids):
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def read_corpus(path):
    with open(path, "rb") as fh:
        data = fh.read()
    docs = []
    pos = 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        header = data[pos:nl].decode().split()
        assert header[0] == "@@doc" and int(header[1]) == len(docs), header
        n = int(header[3])
        docs.append(data[nl + 1 : nl + 1 + n].decode("utf-8"))
        pos = nl + 1 + n + 1
    return docs


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def lossy_docs(tok, docs, all_ids):
    """Documents whose ids do not decode back to the (normalized) text: bytes the vocabulary cannot spell."""
    out = []
    for i, (d, ids) in enumerate(zip(docs, all_ids)):
        want = tok.normalizer.normalize_str(d) if tok.normalizer is not None else d
        if tok.decode(ids, skip_special_tokens=False) != want:
            out.append(i)
    return out


def write_ref(path, name, reference, versions, all_ids, n_full, extra=None):
    out = {
        "tokenizer": name,
        "reference": reference,
        "versions": versions,
        "hash": "fnv1a64-u32le",
        "docs": [[len(ids), f"{fnv1a64(ids):016x}"] for ids in all_ids],
        "full_ids": {str(i): " ".join(map(str, all_ids[i])) for i in range(min(n_full, len(all_ids)))},
    }
    if extra:
        out.update(extra)
    with open(path, "w") as fh:
        json.dump(out, fh, ensure_ascii=False, separators=(",", ":"))
        fh.write("\n")
    print(f"{name}: {len(all_ids)} documents, {sum(map(len, all_ids))} tokens -> {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="tests/fixtures/tokenizer_corpus")
    ap.add_argument("--shared", default="../shared/data")
    ap.add_argument("--model", default=os.path.expanduser("~/.cache/dianoia/SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--full", type=int, default=50, help="documents stored with their full ids")
    ap.add_argument("--only", nargs="*", default=["deepseek-v3", "qwen3", "smollm2"])
    args = ap.parse_args()

    import tokenizers

    docs = read_corpus(os.path.join(args.dir, "corpus.txt"))
    versions = {"tokenizers": tokenizers.__version__, "python": sys.version.split()[0]}

    for name in ("deepseek-v3", "qwen3"):
        if name not in args.only:
            continue
        tok = tokenizers.Tokenizer.from_file(os.path.join(args.shared, "tokenizers", name, "tokenizer.json"))
        ids = [tok.encode(d, add_special_tokens=False).ids for d in docs]
        write_ref(os.path.join(args.dir, f"{name}.json"), name,
                  f"tokenizers.Tokenizer.from_file(shared/data/tokenizers/{name}/tokenizer.json)"
                  ".encode(doc, add_special_tokens=False)", versions, ids, args.full,
                  {"round_trip_lossy": lossy_docs(tok, docs, ids)})

    if "smollm2" in args.only:
        import transformers  # before the stand-in below, so that transformers knows torch is absent

        if "torch" not in sys.modules:
            try:
                import torch  # noqa: F401
            except ImportError:
                # transformers' GGUF reader imports torch at module level only to name tensor dtypes; the
                # tokenizer path reads metadata alone. A stand-in with those names avoids a 2 GB install.
                import types

                stub = types.ModuleType("torch")
                stub.float32, stub.float16, stub.bfloat16 = "float32", "float16", "bfloat16"
                stub.Tensor = object
                sys.modules["torch"] = stub
        import llama_cpp

        hf = transformers.AutoTokenizer.from_pretrained(os.path.dirname(args.model),
                                                        gguf_file=os.path.basename(args.model))
        # transformers' GGUF converter ignores tokenizer.ggml.pre ("smollm") and gives the plain GPT-2
        # ByteLevel pre-tokenizer; SmolLM2's own tokenizer.json splits digits first. The reference is the
        # converted tokenizer with that pre-tokenizer restored; the unmodified conversion is compared too.
        raw = hf.backend_tokenizer
        tok = tokenizers.Tokenizer.from_str(raw.to_str())
        tok.pre_tokenizer = tokenizers.pre_tokenizers.Sequence([
            tokenizers.pre_tokenizers.Digits(individual_digits=True),
            tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
        hf_ids = [tok.encode(d, add_special_tokens=False).ids for d in docs]
        raw_ids = [raw.encode(d, add_special_tokens=False).ids for d in docs]
        llm = llama_cpp.Llama(model_path=args.model, vocab_only=True, verbose=False)
        lc_ids = [llm.tokenize(d.encode("utf-8"), add_bos=False, special=False) for d in docs]
        lc_differs = [[i, first_diff(a, b)] for i, (a, b) in enumerate(zip(hf_ids, lc_ids)) if a != b]
        raw_differs = [[i, first_diff(a, b)] for i, (a, b) in enumerate(zip(hf_ids, raw_ids)) if a != b]
        v = dict(versions, transformers=transformers.__version__, llama_cpp_python=llama_cpp.__version__)
        write_ref(os.path.join(args.dir, "smollm2.json"), "smollm2",
                  f"transformers.AutoTokenizer.from_pretrained(dir, gguf_file={os.path.basename(args.model)})"
                  ".backend_tokenizer with pre_tokenizer = Sequence[Digits(individual_digits=True), "
                  "ByteLevel(add_prefix_space=False, use_regex=True)] (SmolLM2's tokenizer.json), "
                  ".encode(doc, add_special_tokens=False)", v, hf_ids, args.full,
                  {"round_trip_lossy": lossy_docs(tok, docs, hf_ids),
                   "llamacpp": "llama_cpp.Llama(vocab_only=True).tokenize(doc, add_bos=False, special=False)",
                   "llamacpp_differs": lc_differs,
                   "transformers_gguf_unmodified_differs": raw_differs})
        print(f"smollm2: llama.cpp differs from the reference on {len(lc_differs)} of {len(docs)} documents: "
              f"{lc_differs[:20]}")
        print(f"smollm2: transformers' unmodified GGUF conversion differs on {len(raw_differs)} documents")


if __name__ == "__main__":
    main()
