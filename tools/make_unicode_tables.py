#!/usr/bin/env python3
"""Generates lib/tokenizer/unicode_tables.cpp: the Unicode data behind NFC/NFD/NFKC/NFKD.

Tables (all sorted, searched by binary search; Hangul syllables are left to the algorithm):
  k_ccc          ranges [first, last] of equal non-zero canonical combining class
  k_decomp       code point -> full (recursive) decomposition in k_decomp_pool; a flag marks
                 compatibility-only decompositions (NFKD/NFKC use them, NFD/NFC skip them)
  k_compose      (first, second) -> primary composite, for canonical composition
  k_nfc_unsafe   ranges of code points that NFC may change or that affect a neighbour (ccc != 0,
                 NFC_Quick_Check No or Maybe); text without any is already NFC
  k_nfkc_unsafe  the same for NFKC
  k_white_space  ranges of the White_Space property (what Rust's char::is_whitespace tests, so what HF
                 strips for added tokens with lstrip/rstrip): Python's str.isspace() minus U+001C..U+001F,
                 which isspace() counts (bidi class B/S) and White_Space does not. White_Space has not
                 changed since Unicode 6.3, so the interpreter's own data is used for it.

Unicode version: Hugging Face tokenizers (0.23) normalizes with the Rust crate
unicode-normalization-alignments, whose tables are Unicode 9.0.0 (checked: its NFC/NFD/NFKC/NFKD agree
with unicodedata2 9.0.0 on every code point and on every combining mark placed out of canonical order,
while Unicode 10+ marks keep class 0 there). So the tables come from a module with unidata_version 9.0.0:
unicodedata2==9.0.0.post4 (PyPI sdist; it builds on Python 3.11 after two small fixes, see
tools/README.md). --allow-version accepts another version for experiments.

Composition pairs are derived, not read from CompositionExclusions.txt: a canonical pair decomposition
(a, b) of c composes back iff NFC(a + b) == c under the same module (this drops singletons, non-starter
decompositions and the exclusion list in one rule).
"""
import argparse
import importlib
import sys

HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3


def all_code_points():
    return (c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)


def parse_decomp(ud, c):
    d = ud.decomposition(chr(c))
    if not d:
        return None, False
    parts = d.split()
    compat = parts[0].startswith("<")
    if compat:
        parts = parts[1:]
    return [int(p, 16) for p in parts], compat


def full_decomp(ud, c, compat, memo):
    key = (c, compat)
    if key in memo:
        return memo[key]
    if HANGUL_FIRST <= c <= HANGUL_LAST:
        r = [ord(x) for x in ud.normalize("NFD", chr(c))]
    else:
        d, is_compat = parse_decomp(ud, c)
        if d is None or (is_compat and not compat):
            r = [c]
        else:
            r = []
            for x in d:
                r.extend(full_decomp(ud, x, compat, memo))
    memo[key] = r
    return r


def ranges(pred):
    out = []
    start = None
    for c in range(0x110001):
        ok = c <= 0x10FFFF and not 0xD800 <= c <= 0xDFFF and pred(c)
        if ok and start is None:
            start = c
        elif not ok and start is not None:
            out.append((start, c - 1))
            start = None
    return out


def emit_array(name, ctype, items, per_line=8):
    lines = [f"extern const {ctype} {name}[] = {{"]
    for i in range(0, len(items), per_line):
        lines.append("    " + " ".join(f"{x}," for x in items[i : i + per_line]))
    lines.append("};")
    lines.append(f"extern const size_t {name}_size = {len(items)};")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--module", default="unicodedata2", help="module providing the Unicode data")
    ap.add_argument("--allow-version", default="9.0.0")
    ap.add_argument("--out", default="lib/tokenizer/unicode_tables.cpp")
    args = ap.parse_args()
    ud = importlib.import_module(args.module)
    if ud.unidata_version != args.allow_version:
        sys.exit(f"{args.module} has Unicode {ud.unidata_version}, expected {args.allow_version}")

    ccc = {c: ud.combining(chr(c)) for c in all_code_points()}
    ccc_ranges = []
    for c in sorted(k for k, v in ccc.items() if v):
        if ccc_ranges and ccc_ranges[-1][1] == c - 1 and ccc_ranges[-1][2] == ccc[c]:
            ccc_ranges[-1][1] = c
        else:
            ccc_ranges.append([c, c, ccc[c]])

    memo = {}
    decomp = []  # (cp, seq, compat_only)
    for c in all_code_points():
        if HANGUL_FIRST <= c <= HANGUL_LAST:
            continue
        canon = full_decomp(ud, c, False, memo)
        compat = full_decomp(ud, c, True, memo)
        if canon != [c]:
            decomp.append((c, canon, False))
            if compat != canon:
                # Both forms differ: compat-only entry shadows the canonical one for NFK*.
                decomp.append((c, compat, True))
        elif compat != [c]:
            decomp.append((c, compat, True))
    pool = []
    entries = []
    for c, seq, compat_only in decomp:
        assert len(seq) < 32 and len(pool) < (1 << 16)
        entries.append((c, len(pool), len(seq), compat_only))
        pool.extend(seq)

    compose = []
    for c in all_code_points():
        if HANGUL_FIRST <= c <= HANGUL_LAST:
            continue
        d, is_compat = parse_decomp(ud, c)
        if d and not is_compat and len(d) == 2 and ud.normalize("NFC", chr(d[0]) + chr(d[1])) == chr(c):
            compose.append((d[0], d[1], c))
    compose.sort()
    seconds = {b for _, b, _ in compose}

    def unsafe(form):
        def pred(c):
            ch = chr(c)
            if ccc.get(c, 0) or c in seconds:
                return True
            if 0x1161 <= c <= 0x1175 or 0x11A8 <= c <= 0x11C2:  # Hangul V and T jamo compose with a preceding L / LV
                return True
            return ud.normalize(form, ch) != ch
        return pred

    white_space = ranges(lambda c: chr(c).isspace() and not 0x1C <= c <= 0x1F)
    nfc_unsafe = ranges(unsafe("NFC"))
    nfkc_unsafe = ranges(unsafe("NFKC"))

    out = [
        "// GENERATED by tools/make_unicode_tables.py from Unicode " + ud.unidata_version + " (" + args.module +
        "): do not edit.",
        "// Unicode 9.0.0 is what Hugging Face tokenizers' normalizers use; see the script for how that was checked.",
        "#include <cstddef>",
        "#include <cstdint>",
        "",
        "namespace dianoia::detail::unicode_data {",
        "",
        f'extern const char k_version[] = "{ud.unidata_version}";',
        "",
        "// {first, last, ccc} packed as first | last << 21 | uint64(ccc) << 42",
        emit_array("k_ccc", "uint64_t", [f"0x{a | b << 21 | c << 42:x}" for a, b, c in ccc_ranges], 6),
        "",
        "// cp | pool offset << 21 | length << 37 | compat_only << 42; sorted by cp, canonical entry first",
        emit_array("k_decomp", "uint64_t",
                   [f"0x{c | off << 21 | n << 37 | int(k) << 42:x}" for c, off, n, k in entries], 6),
        "",
        emit_array("k_decomp_pool", "uint32_t", [f"0x{x:x}" for x in pool], 10),
        "",
        "// first << 21 | second (sorted) -> composite in k_compose_to at the same index",
        emit_array("k_compose_key", "uint64_t", [f"0x{a << 21 | b:x}" for a, b, _ in compose], 7),
        emit_array("k_compose_to", "uint32_t", [f"0x{c:x}" for _, _, c in compose], 10),
        "",
        "// {first, last} as first | last << 21",
        emit_array("k_nfc_unsafe", "uint64_t", [f"0x{a | b << 21:x}" for a, b in nfc_unsafe], 6),
        emit_array("k_nfkc_unsafe", "uint64_t", [f"0x{a | b << 21:x}" for a, b in nfkc_unsafe], 6),
        emit_array("k_white_space", "uint64_t", [f"0x{a | b << 21:x}" for a, b in white_space], 6),
        "",
        "}  // namespace dianoia::detail::unicode_data",
        "",
    ]
    with open(args.out, "w") as fh:
        fh.write("\n".join(out))
    print(f"Unicode {ud.unidata_version}: {len(ccc_ranges)} ccc ranges, {len(entries)} decompositions "
          f"({len(pool)} pool code points), {len(compose)} compositions, {len(nfc_unsafe)} NFC-unsafe ranges, "
          f"{len(nfkc_unsafe)} NFKC-unsafe ranges -> {args.out}")


if __name__ == "__main__":
    main()
