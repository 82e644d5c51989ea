#!/usr/bin/env python3
"""A small synthetic byte-level BPE tokenizer.json exercising HF added-token flags, and HF's encodings:
tests/fixtures/tokenizer_flags/tokenizer.json and cases.json.

The tokenizer: every byte (GPT-2 byte map) plus a few merges, Qwen3's NFC normalizer and pre-tokenizer,
and added tokens with lstrip / rstrip / normalized set in different ways (special and not). cases.json
holds {"text", "ids"} from tokenizers.Tokenizer.encode(text, add_special_tokens=False), which matches
special added tokens in any text (dianoia: parse_special=true).

Run with /work/venv/bin/python; see tools/README.md.
"""
import argparse
import json
import os

import tokenizers


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="tests/fixtures/tokenizer_flags")
    ap.add_argument("--shared", default="../shared/data")
    args = ap.parse_args()
    with open(os.path.join(args.shared, "tokenizers/qwen3/tokenizer.json"), encoding="utf-8") as fh:
        qwen = json.load(fh)

    b2u = bytes_to_unicode()
    vocab = {b2u[b]: i for i, b in enumerate(range(256))}
    merges = []
    for a, b in [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("a", "b"), ("Ġ", "Ġ"), ("e", "x")]:
        merges.append(f"{a} {b}")
        vocab.setdefault(a + b, len(vocab))
    n = len(vocab)

    def added(i, content, special, lstrip=False, rstrip=False, normalized=False):
        return {"id": n + i, "content": content, "single_word": False, "lstrip": lstrip, "rstrip": rstrip,
                "normalized": normalized, "special": special}

    added_tokens = [
        added(0, "<|L|>", True, lstrip=True),
        added(1, "<|R|>", True, rstrip=True),
        added(2, "<|LR|>", False, lstrip=True, rstrip=True),
        added(3, "cafe\u0301", False, normalized=True),   # matched after NFC, as "café"
        added(4, "\u00f1o", False, normalized=False),     # ño, matched in the raw text only
        added(5, "<|plain|>", True),
        added(6, "ab<|x", False, normalized=True),
    ]
    tok_json = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added_tokens,
        "normalizer": {"type": "NFC"}, "pre_tokenizer": qwen["pre_tokenizer"], "post_processor": None,
        "decoder": qwen["decoder"],
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }
    os.makedirs(args.dir, exist_ok=True)
    path = os.path.join(args.dir, "tokenizer.json")
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(tok_json, fh, ensure_ascii=False, indent=1)
        fh.write("\n")

    tok = tokenizers.Tokenizer.from_file(path)
    texts = [
        "the <|L|> the", "the   <|L|>the", "the\t\n <|L|>", "<|L|>", "   <|L|>   ", "x\u3000\u00a0<|L|>y",
        "the <|R|> the", "the<|R|>   \n\tthe", "<|R|>\u2003\u2003x", "a <|R|> <|L|> b", "a <|L|> <|R|> b",
        "a <|LR|> b", "a   <|LR|>   b", "<|LR|><|LR|>", " <|LR|> <|LR|> ",
        "café and cafe\u0301 and CAFE\u0301", "cafe\u0301s", "ño and n\u0303o and N\u0303o",
        "the <|plain|> the", " <|plain|> ", "ab<|x ab<|L|> ab<|xab<|x", "he the then in ex ab",
        "<|L|><|R|><|LR|><|plain|>", "\u2028<|L|>\u2029<|R|>\u2028",
    ]
    cases = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in texts]
    with open(os.path.join(args.dir, "cases.json"), "w", encoding="utf-8") as fh:
        json.dump({"tokenizers": tokenizers.__version__, "cases": cases}, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    for c in cases:
        print(repr(c["text"]), c["ids"])


if __name__ == "__main__":
    main()
