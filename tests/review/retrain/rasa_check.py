"""Runs inside Rasa's environment (.venv-rasa): trains a small NLU model on each data folder
given, and parses the same texts with each; prints JSON (tests/review/test_review_loop.py).

    python rasa_check.py CONFIG OUT '{"before": DIR, "after": DIR}' '["text", ...]'
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from rasa.core.agent import Agent
from rasa.model_training import train_nlu


def main() -> None:
    config, out, folders, texts = sys.argv[1], sys.argv[2], *map(json.loads, sys.argv[3:5])
    result = {}
    for name, data in folders.items():
        started = time.monotonic()
        model = train_nlu(config, data, str(Path(out) / name), fixed_model_name=name)
        seconds = time.monotonic() - started
        agent = Agent.load(model)
        parsed = [asyncio.run(agent.parse_message(text)) for text in texts]
        result[name] = {
            "train_seconds": round(seconds, 1),
            "parsed": [
                {
                    "intent": p["intent"]["name"],
                    "confidence": round(float(p["intent"]["confidence"]), 3),
                    "entities": [[e["entity"], e["value"]] for e in p["entities"]],
                }
                for p in parsed
            ],
        }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
