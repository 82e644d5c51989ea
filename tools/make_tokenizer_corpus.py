#!/usr/bin/env python3
"""Draws the tokenizer parity corpus: tests/fixtures/tokenizer_corpus/corpus.txt.

A deterministic (seeded) mix of documents of 1-4 KB each, >= 2 MB in all: prose in many languages
(Faker's word lists), source code found on this machine (Python stdlib, C/C++ headers, Go, JavaScript,
Perl, shell, CMake), generated LaTeX, emoji and ZWJ sequences, combining marks in and out of canonical
order (Hangul jamo, decomposed Vietnamese), RTL scripts with bidi controls, whitespace runs, long digit
runs, and text made of invalid UTF-8 / unpaired surrogates after replacement (U+FFFD, '?').

File format (plain UTF-8): each document is a header line "@@doc <index> <category> <bytes>\\n", then
exactly <bytes> bytes of text, then "\\n". Documents never contain the text of a special or added token
of the reference tokenizers, so parse_special does not matter for them.

Run with /work/venv/bin/python (needs faker); see tools/README.md.
"""
import argparse
import glob
import json
import os
import random
import sys
import sysconfig

SEED = 20261128
TARGET_BYTES = 2_300_000

PROSE_LOCALES = {
    "en": ["en_US"],
    "zh": ["zh_CN", "zh_TW"],
    "other": ["ja_JP", "ru_RU", "de_DE", "fr_FR", "el_GR", "th_TH", "vi_VN", "pl_PL", "uk_UA", "hy_AM",
              "bn_BD", "cs_CZ", "es_ES", "it_IT", "az_AZ"],
    "rtl": ["ar_AA", "he_IL", "fa_IR"],
}

# (category, weight). Weights are shares of documents, not bytes.
CATEGORIES = [
    ("prose_en", 12), ("prose_zh", 12), ("prose_other", 14), ("code", 24), ("latex", 7), ("emoji", 6),
    ("combining", 6), ("rtl", 5), ("whitespace", 4), ("digits", 4), ("broken", 4), ("mixed", 10),
]


def code_files():
    roots = [
        (os.path.join(sysconfig.get_paths()["stdlib"], "*.py"), "python"),
        ("/usr/include/*.h", "c"),
        ("/usr/include/c++/*/bits/*.h", "cpp"),
        ("/usr/local/go/src/*/*.go", "go"),
        ("/usr/lib/node_modules/npm/lib/**/*.js", "js"),
        ("/usr/share/perl/*/*.pm", "perl"),
        ("/usr/share/perl5/**/*.pm", "perl"),
        ("/usr/share/cmake-*/Modules/*.cmake", "cmake"),
        ("/usr/bin/*.sh", "shell"),
        ("/usr/share/doc/**/*.sh", "shell"),
    ]
    out = []
    for pattern, lang in roots:
        files = sorted(f for f in glob.glob(pattern, recursive=True) if os.path.isfile(f))
        out.append((lang, pattern, files))
    return out


class Gen:
    def __init__(self, rnd):
        import faker

        self.rnd = rnd
        self.fakers = {}
        for group in PROSE_LOCALES.values():
            for loc in group:
                f = faker.Faker(loc)
                f.seed_instance(rnd.randrange(1 << 30))
                self.fakers[loc] = f
        self.code = [(lang, pat, files) for lang, pat, files in code_files() if files]
        self.sources = sorted({f"{lang}: {pat}" for lang, pat, _ in self.code})

    # ---- pieces -----------------------------------------------------------------------------------
    def prose(self, group):
        loc = self.rnd.choice(PROSE_LOCALES[group])
        f = self.fakers[loc]
        r = self.rnd.random()
        if r < 0.7:
            return f.paragraph(nb_sentences=self.rnd.randint(2, 8)) + "\n\n"
        if r < 0.85:
            return f"{f.name()}\n{f.address()}\n{f.phone_number()}\n\n"
        return " ".join(f.words(self.rnd.randint(5, 30))) + "\n"

    def code_piece(self, limit):
        lang, _, files = self.rnd.choice(self.code)
        path = self.rnd.choice(files)
        try:
            with open(path, encoding="utf-8") as fh:
                lines = fh.read().splitlines(keepends=True)
        except (UnicodeDecodeError, OSError):
            return ""
        if not lines:
            return ""
        start = self.rnd.randrange(len(lines))
        out = []
        size = 0
        for line in lines[start:]:
            if size + len(line.encode()) > limit:
                break
            out.append(line)
            size += len(line.encode())
        return "".join(out)

    def latex(self):
        r = self.rnd
        greek = ["\\alpha", "\\beta", "\\gamma", "\\delta", "\\epsilon", "\\theta", "\\lambda", "\\mu", "\\pi",
                 "\\sigma", "\\phi", "\\omega", "\\Omega", "\\Gamma", "\\Delta"]
        ops = ["+", "-", "\\cdot", "\\times", "=", "\\leq", "\\geq", "\\neq", "\\approx", "\\to", "\\in"]
        def term(d=0):
            c = r.random()
            if d > 2 or c < 0.3:
                return r.choice(greek + ["x", "y", "z", "n", "k", str(r.randint(0, 999)), "i", "e"])
            if c < 0.45:
                return f"\\frac{{{term(d + 1)}}}{{{term(d + 1)}}}"
            if c < 0.55:
                return f"{term(d + 1)}^{{{term(d + 1)}}}"
            if c < 0.65:
                return f"\\sqrt{{{term(d + 1)}}}"
            if c < 0.75:
                return f"\\sum_{{{r.choice('ijkn')}=0}}^{{\\infty}} {term(d + 1)}"
            if c < 0.82:
                return f"\\int_{{0}}^{{1}} {term(d + 1)}\\,d{r.choice('xyt')}"
            if c < 0.9:
                return f"\\left( {term(d + 1)} {r.choice(ops)} {term(d + 1)} \\right)"
            return f"\\mathbb{{{r.choice('RNZCQ')}}}"
        expr = " ".join(f"{term()} {r.choice(ops)}" for _ in range(r.randint(1, 4))) + " " + term()
        form = r.random()
        if form < 0.3:
            return f"Let ${expr}$ for all $n \\geq {r.randint(1, 9)}$. Then\n"
        if form < 0.6:
            return f"\\begin{{equation}}\n  {expr}\n\\end{{equation}}\n"
        if form < 0.8:
            return f"\\begin{{align*}}\n  f(x) &= {expr} \\\\\n  &= {term()}\n\\end{{align*}}\n"
        unicode_math = "∀x∈ℝ: ∑ᵢ₌₀ⁿ xᵢ² ≤ ∫₀¹ f(t) dt ⇒ ∂f/∂x ≠ ∞, √2 ≈ 1.414, ∮ ⊗ ⊕ ℵ₀ ∅ ⊂ ⊆ ∧ ∨ ¬ ≡"
        return f"{expr} % {unicode_math[: r.randint(10, len(unicode_math))]}\n"

    def emoji(self):
        r = self.rnd
        base = ["😀", "😂", "🥲", "🤖", "🧠", "🚀", "🎉", "🔥", "💡", "🌍", "🍕", "🐍", "🦀", "❤️", "✨", "👍", "🙏"]
        people = ["👨", "👩", "🧑", "👧", "👦"]
        tones = ["", "\U0001F3FB", "\U0001F3FC", "\U0001F3FD", "\U0001F3FE", "\U0001F3FF"]
        zwj = "\u200d"
        seqs = [
            zwj.join(r.sample(people, 3)),
            r.choice(people) + r.choice(tones) + zwj + r.choice(["💻", "🔬", "🚀", "🎨", "🍳", "⚕️"]),
            "🏳️" + zwj + "🌈", "🏴" + zwj + "☠️", "❤️" + zwj + "🔥", "🧑" + zwj + "🤝" + zwj + "🧑",
            "".join(chr(0x1F1E6 + r.randrange(26)) for _ in range(2)),  # regional indicators (flag-like)
            r.choice("0123456789#*") + "\ufe0f\u20e3",  # keycap
            "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F",  # tag sequence (Scotland)
            r.choice(base) * r.randint(1, 6),
        ]
        words = self.fakers["en_US"].words(r.randint(2, 8))
        out = []
        for w in words:
            out.append(w)
            if r.random() < 0.6:
                out.append(r.choice(seqs) if r.random() < 0.5 else r.choice(base) + r.choice(tones[:1] + tones))
        return " ".join(out) + r.choice(["\n", " ", "!!\n", " 🎉🎉\n"])

    def combining(self):
        r = self.rnd
        marks = ([chr(c) for c in range(0x300, 0x370)] + [chr(c) for c in range(0x1DC0, 0x1DE7)] +
                 [chr(c) for c in range(0x20D0, 0x20F1)] + ["\u0591", "\u05B0", "\u05BC", "\u064B", "\u0651",
                                                            "\u093C", "\u094D", "\u0E48", "\u3099", "\u309A"])
        c = r.random()
        if c < 0.35:  # Latin letters with 1-4 marks in random order (NFC reorders and composes)
            return "".join(r.choice("aeiouAEIOUnNcCsSzZyY ") + "".join(r.choice(marks) for _ in range(r.randint(0, 4)))
                           for _ in range(r.randint(10, 60))) + "\n"
        if c < 0.55:  # decomposed Vietnamese / French / German prose
            import unicodedata
            f = self.fakers[r.choice(["vi_VN", "fr_FR", "de_DE", "cs_CZ", "pl_PL"])]
            return unicodedata.normalize(r.choice(["NFD", "NFKD", "NFC"]), f.paragraph(nb_sentences=3)) + "\n"
        if c < 0.75:  # conjoining Hangul jamo: L V (T), which NFC composes into syllables
            out = []
            for _ in range(r.randint(10, 80)):
                s = chr(0x1100 + r.randrange(19)) + chr(0x1161 + r.randrange(21))
                if r.random() < 0.5:
                    s += chr(0x11A8 + r.randrange(27))
                out.append(s if r.random() < 0.8 else " ")
            return "".join(out) + "\n"
        if c < 0.9:  # Zalgo-like stacks
            return "".join(ch + "".join(r.choice(marks) for _ in range(r.randint(3, 12)))
                           for ch in self.fakers["en_US"].word()) + " "
        # Compatibility characters NFC keeps but NFKC would change, and singletons NFC changes (Ω, Å, ﬁ)
        return "".join(r.choice(["\u2126", "\u212B", "\u212A", "ﬁ", "ﬀ", "①", "²", "½", "ｶ", "㎏", "Å", "Ω", "\u0344",
                                 "\u0958", "\u2000", "\u1E9B\u0323", "\u0F73"]) for _ in range(r.randint(5, 40))) + "\n"

    def rtl(self):
        r = self.rnd
        text = self.prose("rtl")
        if r.random() < 0.5:
            text = r.choice(["\u200f", "\u202b", "\u2067", "\u200e"]) + text.strip() + r.choice(["\u202c", "\u2069", ""])
            text += " " + self.fakers["en_US"].sentence() + " (" + str(r.randint(1, 9999)) + ")\n"
        return text

    def whitespace(self):
        r = self.rnd
        ws = [" ", "  ", "\t", "\n", "\r\n", "\n\n\n", "\u00a0", "\u3000", "\u2028", "\u2009", "\u200b", "\v", "\f",
              " " * 17, "\t" * 5, "\n" * 9, " \n \n", "\r"]
        out = []
        for _ in range(r.randint(5, 40)):
            out.append("".join(r.choice(ws) for _ in range(r.randint(1, 6))))
            if r.random() < 0.7:
                out.append(r.choice([self.fakers["en_US"].word(), "x", "def", "{", "}", "//", "—", "中"]))
        return "".join(out)

    def digits(self):
        r = self.rnd
        c = r.random()
        if c < 0.4:
            return "".join(r.choice("0123456789") for _ in range(r.randint(20, 400))) + r.choice([" ", "\n", ".5\n"])
        if c < 0.6:
            return " ".join(f"{r.uniform(-1e9, 1e9):.{r.randint(0, 12)}f}" for _ in range(r.randint(3, 20))) + "\n"
        if c < 0.75:  # non-ASCII digits: Arabic-Indic, Devanagari, fullwidth, superscripts, Roman numerals
            sets = ["٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९", "０１２３４５６７８９", "⁰¹²³⁴⁵⁶⁷⁸⁹", "ⅠⅡⅢⅣⅤⅥⅦ", "①②③④⑤"]
            s = r.choice(sets)
            return "".join(r.choice(s) for _ in range(r.randint(5, 80))) + " "
        return ", ".join(str(r.randint(0, 10 ** r.randint(1, 30))) for _ in range(r.randint(5, 30))) + "\n"

    def broken(self):
        r = self.rnd
        c = r.random()
        if c < 0.4:  # invalid UTF-8 byte strings decoded with replacement (U+FFFD per maximal subpart)
            junk = [b"\xff", b"\xfe", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xc0\xaf",
                    b"\xf4\x90\x80\x80", b"\x80\x80", b"\xf0\x9f\x98"]
            parts = []
            for _ in range(r.randint(5, 30)):
                parts.append(self.fakers["en_US"].word().encode())
                parts.append(r.choice(junk))
            return b" ".join(parts).decode("utf-8", errors="replace") + "\n"
        if c < 0.7:  # unpaired UTF-16 surrogates, replaced when encoding to UTF-8
            s = "".join(r.choice([self.fakers["en_US"].word(), chr(0xD800 + r.randrange(0x800)), " ", "😀"])
                        for _ in range(r.randint(10, 50)))
            return s.encode("utf-8", errors="replace").decode("utf-8") + "\n"
        # mojibake: UTF-8 text read as Latin-1 / cp1252, and C0/C1 controls
        src = self.prose(r.choice(["zh", "other", "rtl"]))
        moj = src.encode("utf-8").decode(r.choice(["latin-1", "cp1252"]), errors="replace")
        ctrl = "".join(chr(r.choice(list(range(1, 9)) + [0x0E, 0x1B, 0x7F, 0x85, 0x9B])) for _ in range(r.randint(1, 5)))
        return moj + ctrl + "\n"

    def piece(self, cat, room):
        if cat == "prose_en":
            return self.prose("en")
        if cat == "prose_zh":
            return self.prose("zh")
        if cat == "prose_other":
            return self.prose("other")
        if cat == "code":
            return self.code_piece(room)
        if cat == "mixed":
            sub = self.rnd.choice(["prose_en", "prose_en", "code", "latex", "emoji", "prose_zh", "digits", "rtl"])
            p = self.piece(sub, min(room, 800))
            if sub == "code":
                p = "```\n" + p + "```\n"
            return p
        return getattr(self, cat)()

    def document(self, cat):
        target = self.rnd.randint(1024, 4096)
        out = ""
        size = 0
        tries = 0
        while size < target and tries < 500:
            tries += 1
            p = self.piece(cat, target - size)
            out += p
            size += len(p.encode())
        data = out.encode()[:4096]
        # Cut on a character boundary: drop a trailing partial sequence.
        return data.decode("utf-8", errors="ignore")


def load_forbidden(paths):
    texts = set()
    for p in paths:
        with open(p, encoding="utf-8") as fh:
            j = json.load(fh)
        texts.update(a["content"] for a in j.get("added_tokens", []))
    return texts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="tests/fixtures/tokenizer_corpus/corpus.txt")
    ap.add_argument("--shared", default="../shared/data", help="shared data dir (tokenizer.json files)")
    ap.add_argument("--bytes", type=int, default=TARGET_BYTES)
    args = ap.parse_args()

    import faker

    forbidden = load_forbidden([os.path.join(args.shared, "tokenizers", t, "tokenizer.json") for t in ("qwen3", "deepseek-v3")])
    forbidden.update(["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<repo_name>", "<reponame>", "<file_sep>",
                      "<filename>", "<gh_stars>", "<issue_start>", "<issue_comment>", "<issue_closed>",
                      "<jupyter_start>", "<jupyter_text>", "<jupyter_code>", "<jupyter_output>",
                      "<jupyter_script>", "<empty_output>"])
    rnd = random.Random(SEED)
    gen = Gen(rnd)
    names = [c for c, _ in CATEGORIES]
    weights = [w for _, w in CATEGORIES]
    docs = []
    total = 0
    while total < args.bytes:
        cat = rnd.choices(names, weights)[0]
        text = gen.document(cat)
        if not text or any(t in text for t in forbidden):
            continue
        docs.append((cat, text))
        total += len(text.encode())

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "wb") as fh:
        for i, (cat, text) in enumerate(docs):
            b = text.encode()
            fh.write(f"@@doc {i} {cat} {len(b)}\n".encode())
            fh.write(b)
            fh.write(b"\n")
    meta = {
        "seed": SEED, "documents": len(docs), "bytes": total, "faker": faker.VERSION,
        "python": sys.version.split()[0], "code_sources": gen.sources,
        "categories": {c: sum(1 for d in docs if d[0] == c) for c in names},
    }
    with open(os.path.join(os.path.dirname(args.out), "corpus_meta.json"), "w") as fh:
        json.dump(meta, fh, indent=1, sort_keys=True)
        fh.write("\n")
    print(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
