#!/usr/bin/env python3
"""Reference Unicode normalizations from Hugging Face tokenizers' normalizers (NFC, NFD, NFKC, NFKD):
tests/fixtures/tokenizer_unicode/normalization.json.

  "cases": [{"text", "nfc", "nfd", "nfkc", "nfkd"}, ...]   seeded random strings of starters, combining
           marks (out of canonical order), Hangul jamo and syllables, compatibility characters
  "all":   {"nfc": hash, ...}  FNV-1a 64 (over UTF-8 bytes) of the normalization of every code point
           U+0000..U+10FFFF except surrogates and "\\n", each followed by "\\n"

Run with /work/venv/bin/python; see tools/README.md.
"""
import argparse
import json
import os
import random
import unicodedata

from tokenizers import normalizers

SEED = 90


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="tests/fixtures/tokenizer_unicode/normalization.json")
    ap.add_argument("--cases", type=int, default=400)
    args = ap.parse_args()
    forms = {f.lower(): getattr(normalizers, f)() for f in ("NFC", "NFD", "NFKC", "NFKD")}

    rnd = random.Random(SEED)
    marks = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and unicodedata.combining(chr(c))]
    decomposable = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and unicodedata.decomposition(chr(c))]
    pool = (marks + decomposable + [chr(c) for c in range(0x41, 0x7B)] + [chr(c) for c in range(0x1100, 0x1200)] +
            [chr(c) for c in range(0xAC00, 0xAC80)] + [chr(c) for c in range(0x11A8, 0x11C3)] + [" ", "\u00e9"])
    cases = []
    for _ in range(args.cases):
        text = "".join(rnd.choice(pool) for _ in range(rnd.randint(1, 10)))
        case = {"text": text}
        for name, n in forms.items():
            case[name] = n.normalize_str(text)
        cases.append(case)

    every = "".join(chr(c) + "\n" for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF and c != 10)
    all_hashes = {name: fnv1a64(n.normalize_str(every).encode()) for name, n in forms.items()}
    import tokenizers

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump({"tokenizers": tokenizers.__version__, "seed": SEED, "hash": "fnv1a64-utf8", "all": all_hashes,
                   "cases": cases}, fh, ensure_ascii=True, indent=0)
        fh.write("\n")
    print(f"{len(cases)} cases, all-code-point hashes {all_hashes} -> {args.out}")


if __name__ == "__main__":
    main()
