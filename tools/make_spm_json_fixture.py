#!/usr/bin/env python3
"""SentencePiece-style (Llama-2 family) tokenizer.json fixture and HF tokenizers' encodings of it:
tests/fixtures/tokenizer_spm_json/{tokenizer.json, tokenizer_config.json, cases.json}.

The tokenizer is the stories260K SentencePiece BPE model (tok512.model, 512 pieces) converted by
transformers' SentencePieceExtractor (vocab + merges ordered by piece score, <0xHH> byte pieces), laid out
the way Llama-2 / TinyLlama tokenizer.json files are ("legacy" layout): BPE with byte_fallback and
fuse_unk, normalizer Sequence[Prepend("▁"), Replace(" ", "▁")], no pre-tokenizer, post-processor
TemplateProcessing "<s> $A", decoder Replace/ByteFallback/Fuse/Strip. transformers 5 itself writes a
Metaspace(prepend_scheme="first") layout instead; that one is not the fixture (see tools/README.md).

cases.json: {"text", "ids", "ids_special", "decoded"} for every llama.cpp test string of
ggml-vocab-llama-spm.gguf.inp plus extra strings; ids = Tokenizer.encode(text, add_special_tokens=False),
ids_special = ... add_special_tokens=True, decoded = Tokenizer.decode(ids, skip_special_tokens=False).
HF matches special added tokens ("<s>") in any text: dianoia's parse_special=true.

--gguf FILE --out DIR builds the same layout from a GGUF "llama" vocabulary (tokens + scores, merges by
transformers' generate_merges) instead: used once on ggml-vocab-llama-spm.gguf (Llama-2's 32000 tokens, too
big to commit) to check the loader beyond the 512-token fixture (see tools/README.md).

Run with /work/venv/bin/python (needs sentencepiece + protobuf); see tools/README.md.
"""
import argparse
import json
import os

import tokenizers
from tokenizers import decoders, normalizers, processors
from tokenizers.models import BPE
from transformers.convert_slow_tokenizer import SentencePieceExtractor

EXTRA = [
    "", " ", "  ", "   Hello", "Hello   ", "Hello  world", "a  b   c    d", "\n", "\n\n", "line one\nline two\n",
    " \n ", "\t tab", "Once upon a time, there was a little girl named Lily.", "éàü ñ ß", "Привет мир",
    "日本語のテキスト", "😀", "emoji 👍🏽 and 🇫🇷 flags", "\u00a0nbsp", "\u2581 literal marker", "▁▁x",
    "<s>", "<s>Hello", "Hello<s>", "<s> Hello </s>", "a<s>b", "</s></s>", "<unk>", "x <s>  y",
    "<0x41>", "tom's 3.14 $5", "zero\x00byte", "\u200b\u200d", "𝔘𝔫𝔦", "caf\u0065\u0301",
]


def split_inp(path):
    text = open(path, encoding="utf-8", newline="").read()
    parts = text.split("\n__ggml_vocab_test__\n")
    return parts[:-1]  # the text after the last separator is not a case


def vocab_and_merges():
    if not args.gguf:
        kw = SentencePieceExtractor(args.model).extract(BPE)
        return kw["vocab"], kw["merges"]
    # A GGUF "llama" vocabulary (tokens + scores), with merges made as transformers' converter makes them.
    import gguf
    from transformers.convert_slow_tokenizer import generate_merges
    r = gguf.GGUFReader(args.gguf)
    f = r.fields
    toks = [bytes(f["tokenizer.ggml.tokens"].parts[i]).decode("utf-8") for i in f["tokenizer.ggml.tokens"].data]
    scores = [float(f["tokenizer.ggml.scores"].parts[i][0]) for i in f["tokenizer.ggml.scores"].data]
    vocab = {t: i for i, t in enumerate(toks)}
    return vocab, generate_merges(vocab, {t: s for t, s in zip(toks, scores)})


def build():
    vocab, merges = vocab_and_merges()
    tok = tokenizers.Tokenizer(BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.add_special_tokens([tokenizers.AddedToken(t, normalized=False, special=True) for t in ("<unk>", "<s>", "</s>")])
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", vocab["<s>"])])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    return tok


parser = argparse.ArgumentParser()
parser.add_argument("--model", default="/work/shared/data/models/stories260K/tok512.model")
parser.add_argument("--gguf", help="take the vocabulary from this GGUF file instead (a check, not the fixture)")
parser.add_argument("--inp", default="/work/shared/data/vocab/ggml-vocab-llama-spm.gguf.inp")
parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "../tests/fixtures/tokenizer_spm_json"))
args = parser.parse_args()

tok = build()
os.makedirs(args.out, exist_ok=True)
tok.save(os.path.join(args.out, "tokenizer.json"))
config = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
          "unk_token": "<unk>", "legacy": True, "tokenizer_class": "LlamaTokenizer"}
with open(os.path.join(args.out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
    json.dump(config, f, indent=2, ensure_ascii=False)
    f.write("\n")

# Reload from the saved file, so the references are those of the committed JSON.
tok = tokenizers.Tokenizer.from_file(os.path.join(args.out, "tokenizer.json"))
cases = []
for text in split_inp(args.inp) + EXTRA:
    ids = tok.encode(text, add_special_tokens=False).ids
    cases.append({"text": text, "ids": ids, "ids_special": tok.encode(text, add_special_tokens=True).ids,
                  "decoded": tok.decode(ids, skip_special_tokens=False)})
with open(os.path.join(args.out, "cases.json"), "w", encoding="utf-8") as f:
    json.dump({"tokenizers_version": tokenizers.__version__, "cases": cases}, f, ensure_ascii=False, indent=0)
    f.write("\n")
print(f"{len(cases)} cases, {sum(c['decoded'] == c['text'] for c in cases)} round-trip")
