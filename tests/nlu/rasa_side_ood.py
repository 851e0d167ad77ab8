"""Run by .venv-rasa's Python (not by pytest): the OodDetector component end to end.

Trains nlu.ood_detector.OodDetector on data/nlu/ in a real model storage, loads it back,
scores a few messages and hands them to nlu.intent_gate.IntentGate (``ood_threshold``
0.5) with a given DIET ranking. Prints one JSON object; tests/nlu/test_ood_detector.py
reads it.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SCORED = [
    "che tempo farà sabato a Prato?",
    "metti una canzone dei Pink Floyd",
    "cerco un centro estivo per mia figlia di 9 anni",
    "quanto mi resta sul budget welfare?",
    "/greet",
    # both languages: refunds and charges that are not ours, and our own requests
    "il comune mi ridà i soldi della tari pagata per sbaglio?",
    "can the comune give back the bin tax I paid by mistake?",
    "the bank charged me twice for the same coffee",
    "please cancel the voucher for the swimming course",
    "how much money is left on my welfare budget?",
]
# text, DIET's ranking: the detector's probability decides the first two; the third is a
# sure model emergency with a word of harm said in jest: the detector never touches it
GATED = [
    ("che tempo farà sabato a Prato?", [("service_details", 0.97), ("inform", 0.02)]),
    ("cerco un centro estivo per mia figlia di 9 anni", [("search_service", 0.97)]),
    ("questo comico mi uccide, guardate il suo spettacolo", [("emergency", 0.995)]),
]


def main() -> None:
    import yaml
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.message import Message

    from nlu.intent_gate import IntentGate
    from nlu.ood_detector import DETECTOR_KEY, OodDetector

    with tempfile.TemporaryDirectory() as tmp:
        storage = LocalModelStorage(Path(tmp))
        resource = Resource("ood_detector")
        config = OodDetector.get_default_config()
        trained = OodDetector.create(config, storage, resource, None)  # type: ignore[arg-type]
        trained.train(load_data(str(ROOT / "data" / "nlu")))
        detector = OodDetector.load(config, storage, resource, None)  # type: ignore[arg-type]

        messages = [Message({"text": text}) for text in SCORED]
        detector.process(messages)
        probability = {
            m.get("text"): (m.get(DETECTOR_KEY) or {}).get("probability") for m in messages
        }

        spec = yaml.safe_load((ROOT / "data/safety/emergency_support.yml").read_text())
        gate_config = {
            **IntentGate.get_default_config(),
            "low_confidence_intent": "out_of_scope",
            "immediate_confidence": 0.99,
            "ood_threshold": 0.5,
        }
        gate = IntentGate(gate_config, model_storage=None, resource=None, spec=spec)  # type: ignore[arg-type]
        gated = []
        for text, pairs in GATED:
            ranking = [{"name": n, "confidence": c} for n, c in pairs]
            message = Message({"text": text})
            message.set("intent", ranking[0])
            message.set("intent_ranking", ranking)
            detector.process([message])
            gate.process([message])
            data = message.get("intent_gate") or {}
            probability[text] = data.get("ood_probability")
            gated.append(
                {
                    "intent": message.get("intent")["name"],
                    "tier": data.get("tier"),
                    "by_detector": data.get("by_detector"),
                }
            )
    print(json.dumps({"probability": probability, "gate": gated}, ensure_ascii=False))


if __name__ == "__main__":
    main()
