#!/usr/bin/env python3
"""Draws bench_vs_llamacpp.py records (--json-out) as one PNG: prefill and decode tokens/s against the
thread count (at the first context length of the sweep) and against the context length (at the most
threads), one line per engine and record, one row of panels per model.

Several records (from different commits or machines) go on the same axes, each labelled by its commit,
so a change shows as two lines apart:

  python bench/plot_bench.py RECORD.json [RECORD.json ...] -o plot.png

Needs matplotlib (pip install matplotlib, e.g. in the bench venv /work/venv).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ENGINES = {"dianoia": "dianoia", "llamacpp": "llama.cpp"}
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]


def record_label(run: dict) -> str:
    commit = (run.get("commit") or "")[:8] or "no commit"
    dirty = "+" if run.get("commit_dirty") else ""
    return f"{commit}{dirty} {run.get('time', '')[:10]}".strip()


def series(records: list[dict]):
    """(model name, record label, engine, summary rows) for every line to draw."""
    for rec in records:
        label = record_label(rec["run"])
        for doc in rec["models"]:
            name = Path(doc["model"]).name.removesuffix(".gguf")
            for engine in rec["run"]["engines"]:
                rows = [s for s in doc["summary"] if s["engine"] == engine]
                if rows:
                    yield name, label, engine, rows


def plot(records: list[dict], out: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    models = sorted({Path(d["model"]).name.removesuffix(".gguf") for r in records for d in r["models"]})
    fig, axes = plt.subplots(len(models), 2, figsize=(11, 3.6 * len(models)), squeeze=False)
    styles: dict[tuple[str, str], tuple[str, str]] = {}
    for name, label, engine, rows in series(records):
        row = models.index(name)
        key = (label, engine)
        if key not in styles:
            styles[key] = (MARKERS[len(styles) % len(MARKERS)], f"C{len(styles) % 10}")
        marker, color = styles[key]
        lengths = sorted({s["prompt_tokens"] for s in rows if "prompt_tokens" in s}) or [None]
        threads = sorted({s["threads"] for s in rows})
        # Left: against threads, at the first context length of the sweep.
        at_len = [s for s in rows if s.get("prompt_tokens") == lengths[0]]
        ax = axes[row][0]
        for metric, ls in (("prefill_tok_s", "-"), ("decode_tok_s", "--")):
            pts = sorted((s["threads"], s[metric]) for s in at_len)
            ax.plot([p[0] for p in pts], [p[1] for p in pts], ls, marker=marker, color=color,
                    label=f"{ENGINES.get(engine, engine)} {metric.split('_')[0]} ({label})")
        ax.set_title(f"{name}: tokens/s vs threads" + (f" (context {lengths[0]})" if lengths[0] else ""), fontsize=9)
        ax.set_xlabel("threads")
        ax.set_xticks(threads)
        # Right: against context length, at the most threads.
        ax = axes[row][1]
        at_t = [s for s in rows if s["threads"] == threads[-1] and s.get("prompt_tokens")]
        for metric, ls in (("prefill_tok_s", "-"), ("decode_tok_s", "--")):
            pts = sorted((s["prompt_tokens"], s[metric]) for s in at_t)
            ax.plot([p[0] for p in pts], [p[1] for p in pts], ls, marker=marker, color=color,
                    label=f"{ENGINES.get(engine, engine)} {metric.split('_')[0]} ({label})")
        ax.set_title(f"{name}: tokens/s vs context length ({threads[-1]} threads)", fontsize=9)
        ax.set_xlabel("context length (prompt tokens; decode runs after it)")
        shown = sorted({s["prompt_tokens"] for s in at_t})
        if len(shown) > 1:
            ax.set_xscale("log", base=2)
            ax.set_xticks(shown)
            ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    for ax in axes.flat:
        ax.set_ylabel("tokens/s")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    runs = [r["run"] for r in records]
    fig.suptitle("prefill (solid) and decode (dashed) — " + "; ".join(
        f"{record_label(r)}: {r.get('cpu', '?')}, {r.get('rounds', '?')} rounds" for r in runs), fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("records", nargs="+", help="JSON records written by bench_vs_llamacpp.py --json-out")
    ap.add_argument("-o", "--out", required=True, help="PNG file to write")
    args = ap.parse_args()
    records = []
    for path in args.records:
        try:
            rec = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as ex:
            print(f"plot_bench: cannot read {path}: {ex}", file=sys.stderr)
            return 2
        if not isinstance(rec, dict) or "run" not in rec or "models" not in rec:
            print(f"plot_bench: {path} is not a bench_vs_llamacpp.py record", file=sys.stderr)
            return 2
        records.append(rec)
    try:
        plot(records, args.out)
    except ImportError:
        print("plot_bench: needs matplotlib (pip install matplotlib)", file=sys.stderr)
        return 2
    print(f"plot_bench: wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
