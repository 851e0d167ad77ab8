"""Run by .venv-rasa's Python (not by pytest): nlu.ood_model's one-text fast path against
scikit-learn's predict_proba, on every sentence of data/nlu/ and of
tests/nlu_fresh/out_of_domain_dev.yml, odd inputs, and a model stored and loaded back.

Trains the detector's model as the component does (both modes), scores each text both
ways and prints one JSON object: how many texts, the largest difference, the texts that
differ by more than 1e-9, and whether anything new was stored. Its speed is measured by
the bench (`python -m bench rasa_turn`), never asserted here.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

ODD = [
    "",
    " ",
    "\n\t",
    "?",
    "/greet",
    "😀😀😀 🙏",
    "ciao 👋🏽 cerco un nido",
    "ÀÉÌÒÙ àèìòù çñß ﬁ",
    "Straße naïve café",
    "١٢٣ 日本語のテキスト Привет",
    "a",
    "aa",
    "x" * 5000,
    " ".join(["cerco un doposcuola a Rifredi per mio figlio"] * 400),
    "\u200b\u200d\ufeff",
    "CERCO UN CENTRO ESTIVO!!!",
    "il il il il il il il il il il",
]


def examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) of every intent example under ``path``."""
    from rasa.shared.nlu.training_data.loading import load_data

    return [
        (str(m.get("text") or ""), str(m.get("intent") or ""))
        for m in load_data(str(path)).intent_examples
    ]


def main() -> None:
    from nlu.ood_model import DetectorSettings, OodModel

    training = examples(ROOT / "data" / "nlu")
    validation = examples(ROOT / "tests" / "nlu_fresh" / "out_of_domain_dev.yml")
    corpus = [text for text, _ in training + validation]
    everything = corpus + ODD
    report: dict[str, object] = {"texts": len(everything), "corpus": len(corpus)}
    for mode in ("intents", "binary"):
        model = OodModel(DetectorSettings(mode=mode)).fit(training)
        built = model.fast_scorer() is not None
        stored = pickle.dumps(model)  # as joblib stores it in the model
        loaded = pickle.loads(stored)
        stored_scorer = "_fast" in loaded.__dict__
        fast = [loaded.probabilities([text])[0] for text in everything]
        slow = [loaded.sklearn_probabilities([text])[0] for text in everything]
        batch = loaded.probabilities(everything)
        differences = [abs(a - b) for a, b in zip(fast, slow, strict=True)]
        report[mode] = {
            "max_difference": max(differences),
            "batch_max_difference": max(abs(a - b) for a, b in zip(batch, slow, strict=True)),
            "over_1e-9": [t[:80] for t, d in zip(everything, differences, strict=True) if d > 1e-9],
            "rounded_equal": sum(
                round(a, 4) == round(b, 4) for a, b in zip(fast, slow, strict=True)
            ),
            "out_share": sum(p > 0.5 for p in slow) / len(slow),
            "scorer_built": built,
            "scorer_stored": stored_scorer or b"_FastScorer" in stored,
            "scorer_rebuilt_after_loading": loaded.fast_scorer() is not None,
        }
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
