"""Run by .venv-rasa's Python (not by pytest): the IntentGate component on a few messages.

Prints one JSON list of {intent, tier} (tier null when no emergency); tests/nlu/
test_gate_rules.py reads it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

CASES = [
    ("imposta una sveglia", [("emergency", 0.97), ("out_of_scope", 0.02)], "emergency"),
    ("mi ha picchiata", [("emergency", 0.97), ("inform", 0.02)], "emergency"),
    ("mia madre è caduta", [("nlu_fallback", 0.5), ("inform", 0.4), ("emergency", 0.3)], None),
    ("boh", [("greet", 0.55), ("thank", 0.3)], None),
    ("/emergency", [("emergency", 1.0)], "emergency"),
]


def main() -> None:
    import yaml
    from rasa.shared.nlu.training_data.message import Message

    from nlu.intent_gate import IntentGate

    spec = yaml.safe_load((ROOT / "data/safety/emergency_support.yml").read_text())
    config = {
        **IntentGate.get_default_config(),
        "default_threshold": 0.6,
        "low_confidence_intent": "out_of_scope",
    }
    gate = IntentGate(config, model_storage=None, resource=None, spec=spec)  # type: ignore[arg-type]
    out = []
    for text, pairs, _ in CASES:
        ranking = [{"name": n, "confidence": c} for n, c in pairs]
        message = Message({"text": text})
        message.set("intent", ranking[0])
        message.set("intent_ranking", ranking)
        gate.process([message])
        gate_data = message.get("intent_gate") or {}
        out.append({"intent": message.get("intent")["name"], "tier": gate_data.get("tier")})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
