"""Reasons on a prompt and prints both channels.   python reason.py MODEL.gguf ["question"]"""
import sys

import dianoia


def main() -> int:
    if len(sys.argv) < 2:
        print(f"usage: {sys.argv[0]} MODEL [QUESTION]", file=sys.stderr)
        return 2
    question = sys.argv[2] if len(sys.argv) > 2 else "What is 17 * 3? Think it through."
    try:
        with dianoia.Model(sys.argv[1]) as model:
            last = None
            for ev in model.chat([{"role": "user", "content": question}], reasoning="on", max_reasoning_tokens=16,
                                 max_tokens=96, temperature=0):
                if isinstance(ev, (dianoia.Reasoning, dianoia.Content)):
                    if type(ev) is not last:
                        print("[thinking] " if isinstance(ev, dianoia.Reasoning) else "\n[answer] ", end="")
                        last = type(ev)
                    print(ev.text, end="", flush=True)
                elif isinstance(ev, dianoia.Done):
                    print(f"\n[done] {ev.reasoning_tokens} reasoning + {ev.content_tokens} answer tokens")
    except dianoia.DianoiaError as e:
        print(f"reason: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
