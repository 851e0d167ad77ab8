"""The conversation's language: how fast and how well py3langid tells it on short chat
messages (docs/languages.md). ``python -m bench language``.

Figures: the model's load time, the time per message of ``conversations.language.detect``
(the gateway calls it on every text a citizen sends, before the safety net), and how many
messages of the check sets count for their language and for the other one: the 110 English
messages of tests/language/english_chat.yml and the Italian in-domain validation set
tests/nlu_fresh/in_domain_dev.yml. Written to bench/out/language.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import yaml

from core.settings import PROJECT_ROOT

OUT = Path(__file__).resolve().parent / "out"


def add_arguments(parser: argparse._ArgumentGroup) -> None:
    parser.add_argument("--language-rounds", type=int, default=20, help="passes over the sets")


def _sets() -> dict[str, list[str]]:
    tests = PROJECT_ROOT / "tests"
    english = yaml.safe_load((tests / "language" / "english_chat.yml").read_text("utf-8"))
    italian = yaml.safe_load((tests / "nlu_fresh" / "in_domain_dev.yml").read_text("utf-8"))
    return {
        "en": list(english["messages"]),
        "it": [
            line.strip()[2:]
            for block in italian["nlu"]
            for line in block["examples"].splitlines()
            if line.strip().startswith("- ")
        ],
    }


def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    from conversations import language

    language.warm_up()
    load_seconds = time.perf_counter() - started
    sets = _sets()
    figures: dict[str, object] = {"load_seconds": round(load_seconds, 3)}
    for code, texts in sets.items():
        other = "it" if code == "en" else "en"
        found = [language.detect(text) for text in texts]
        figures[code] = {
            "messages": len(texts),
            "recognised": sum(d.confident and d.language == code for d in found),
            "taken_for_the_other": sum(d.confident and d.language == other for d in found),
            "not_confident": sum(not d.confident for d in found),
        }
    texts = sets["en"] + sets["it"]
    rounds = 2 if args.quick else args.language_rounds
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            language.detect(text)
    per_message = (time.perf_counter() - started) / (rounds * len(texts))
    figures["microseconds_per_message"] = round(per_message * 1e6, 1)
    print(json.dumps(figures, indent=2))
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / "language.json"
    target.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"written {target}")
