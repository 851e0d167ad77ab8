"""Prototype of the out-of-domain detector on the validation splits (issue 12 point 1).

Runs in .venv-rasa (scikit-learn comes with Rasa), in seconds, with no Rasa model:

    PYTHONPATH=. .venv-rasa/bin/python devtools/ood_prototype.py [--parses DEV.json]

For each candidate setting of nlu/ood_model.py: 5-fold cross-validation on the training
data (data/nlu/), then a model trained on all of it, scored on the validation splits
tests/nlu_fresh/out_of_domain_dev.yml (out_of_scope block: 162 OOD) and
tests/nlu_fresh/in_domain_dev.yml (350 requests). The threshold is the lowest P(out) at
which at most ``--max-lost`` in-domain validation requests (social intents excluded: the
gate never overrides them) would be turned away. The cross-validation picks its threshold
the same way on each held-out fold (1 % of its in-domain examples): a comparison of the
settings at equal loss, not an estimate of a shipped figure.

    PYTHONPATH=. .venv-rasa/bin/python devtools/ood_prototype.py --dump MODEL OUT.json FILE...

parses every sentence of the NLU files with a trained model, in process (no server), and
saves what devtools.gate_eval needs to replay the gate (``--parses OUT.json``; with
``--calibrate-ood`` on the validation splits: the detector combined with DIET's gate).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.nlu_metrics import load_examples  # noqa: E402

TRAIN_DIR = ROOT / "data" / "nlu"
OOD_DEV = ROOT / "tests" / "nlu_fresh" / "out_of_domain_dev.yml"
IN_DEV = ROOT / "tests" / "nlu_fresh" / "in_domain_dev.yml"


def training() -> list[tuple[str, str]]:
    return [
        (e.text, e.intent) for p in sorted(TRAIN_DIR.glob("**/*.yml")) for e in load_examples(p)
    ]


def dev() -> tuple[list[str], list[tuple[str, str]]]:
    """(OOD validation texts, in-domain validation (text, intent) of both files)."""
    ood = [e.text for e in load_examples(OOD_DEV) if e.intent == "out_of_scope"]
    ins = [(e.text, e.intent) for e in load_examples(IN_DEV)]
    return ood, ins


def candidates():
    from nlu.ood_model import DetectorSettings

    yield DetectorSettings()
    for c in (3.0, 10.0, 100.0):
        yield DetectorSettings(c=c)
    yield DetectorSettings(char_ngrams=(3, 5))
    yield DetectorSettings(balanced=False)
    for social in ("skip", "out", "in"):
        yield DetectorSettings(mode="binary", c=10.0, social=social)
    yield DetectorSettings(mode="binary", c=10.0, char_ngrams=(3, 5))


def threshold_for(in_probs: list[float], max_lost: int) -> float:
    """The lowest threshold (a P(out)) that flags at most ``max_lost`` of ``in_probs``."""
    ordered = sorted(in_probs, reverse=True)
    if max_lost >= len(ordered):
        return 0.0
    return min(1.0, ordered[max_lost] + 1e-6)


def cross_validation(settings, examples, folds: int = 5, max_lost_share: float = 0.01):
    """OOD recall and in-domain loss over folds, threshold chosen inside each fold's train."""
    import random

    from nlu.ood_model import SOCIAL, OodModel, label_of

    labelled = [
        (t, i)
        for t, i in examples
        if settings.mode == "intents" or label_of(i, settings.social) is not None
    ]
    rng = random.Random(42)
    rng.shuffle(labelled)
    caught = ood_total = lost = in_total = 0
    for k in range(folds):
        test = labelled[k::folds]
        train = [x for j, x in enumerate(labelled) if j % folds != k]
        model = OodModel(settings).fit(train)
        probs = model.probabilities([t for t, _ in test])
        # threshold fixed at 1 % of the fold's in-domain, scored on the fold itself
        ins = [
            p
            for (t, i), p in zip(test, probs, strict=True)
            if i != "out_of_scope" and i not in SOCIAL
        ]
        t = threshold_for(ins, int(max_lost_share * len(ins)))
        for (_, intent), p in zip(test, probs, strict=True):
            if intent == "out_of_scope":
                ood_total += 1
                caught += p >= t
            elif intent not in SOCIAL:
                in_total += 1
                lost += p >= t
    return caught / ood_total, lost / in_total


def run_detectors(max_lost: int, with_cv: bool) -> None:
    import time

    from nlu.ood_model import SOCIAL, OodModel

    examples = training()
    ood, ins = dev()
    print("setting | CV OOD caught, in lost | train s | threshold | dev OOD caught | dev in lost")
    for settings in candidates():
        cv = cross_validation(settings, examples) if with_cv else (float("nan"),) * 2
        start = time.perf_counter()
        model = OodModel(settings).fit(examples)
        seconds = time.perf_counter() - start
        p_ood = model.probabilities(ood)
        p_in = model.probabilities([t for t, _ in ins])
        eligible = [p for (t, i), p in zip(ins, p_in, strict=True) if i not in SOCIAL]
        t = threshold_for(eligible, max_lost)
        caught = sum(p >= t for p in p_ood)
        lost = sum(p >= t for p in eligible)
        print(
            f"{settings} | {cv[0]:.3f} {cv[1]:.3f} | {seconds:.1f} | {t:.3f} | "
            f"{caught}/{len(p_ood)} = {caught / len(p_ood):.3f} | {lost}/{len(eligible)}"
        )


def dump(model_path: Path, out: Path, files: list[Path]) -> None:
    """Parse every sentence of ``files`` with the model in process; save intent, gate data.

    When the model has no OodDetector, the detector of nlu/ood_model.py (default settings)
    is trained here on data/nlu/ (as the component would be) and its probability added,
    so ``gate_eval --parses`` can replay the decision with and without it.
    """
    import asyncio

    from rasa.core.agent import Agent

    from nlu.ood_model import OodModel

    texts = list(dict.fromkeys(e.text for path in files for e in load_examples(path)))
    agent = Agent.load(str(model_path))

    async def parse_all() -> dict[str, dict]:
        return {t: await agent.parse_message(t) for t in texts}

    parses = asyncio.run(parse_all())
    detector = None
    kept = {}
    for text, parsed in parses.items():
        if "ood_detector" not in parsed:
            detector = detector or OodModel().fit(training())
            parsed["ood_detector"] = {"probability": round(detector.probability(text), 4)}
        kept[text] = {
            k: parsed.get(k) for k in ("intent", "intent_gate", "safety_net", "ood_detector")
        }
    out.write_text(json.dumps(kept, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(kept)} parses in {out}; detector trained here: {detector is not None}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--dump":
        dump(Path(sys.argv[2]), Path(sys.argv[3]), [Path(p) for p in sys.argv[4:]])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-lost", type=int, default=3)
    parser.add_argument("--no-cv", action="store_true")
    args = parser.parse_args()
    run_detectors(args.max_lost, not args.no_cv)


if __name__ == "__main__":
    main()
