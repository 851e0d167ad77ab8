"""Prototype of the out-of-domain detector on the validation splits (issue 12 point 1).

Runs in .venv-rasa (scikit-learn comes with Rasa), in seconds, with no Rasa model:

    PYTHONPATH=. .venv-rasa/bin/python devtools/ood_prototype.py [--no-cv] [--train DIR...]

For each candidate setting of nlu/ood_model.py: 5-fold cross-validation on the training
data, then a model trained on all of it, scored on every validation split:

- tests/nlu_fresh/out_of_domain_dev.yml (out_of_scope block: 162 OOD) and
  tests/nlu_fresh/in_domain_dev.yml (350 requests, 302 not social);
- tests/nlu_fresh/out_of_domain_dev2.yml: Italian OOD that looks like welfare, English OOD
  (blocks with ``metadata: {language: en}``), and Italian and English welfare requests
  phrased close to them.

The training data (``--train``) is every YAML file under data/nlu/ and data/nlu_en/ (the
model trains on both languages; a missing folder, a file listed twice and non-YAML files
are skipped). A sentence counts as turned away as the gate (nlu/gate_rules.decide) would
turn it: P(out) at or over the threshold, a labelled intent that is a welfare intent (not
emergency, not greet/goodbye/thank/bot_challenge; out_of_scope for the OOD sentences) and
no word of data/safety/emergency_support.yml in it, or only words of its ``ask_only`` list
and P(out) at or over ``--ask-only-at`` (config.yml's ``ood_ask_only_threshold``, 0.9; 0:
every such word protects); DIET is assumed to find the labelled intent. The threshold is
the lowest P(out) at which at most ``--max-lost-share`` (1 %) of the in-domain validation
requests of all splits together would be turned away; every split is also scored at
config.yml's ``ood_threshold`` (``--at``, 0.45). The cross-validation picks its threshold
on each held-out fold (1 % of its in-domain examples, no gate exceptions): a comparison of
the settings at equal loss, not an estimate of a shipped figure. ``--misses`` prints the
validation sentences on the wrong side of ``--at`` for the first candidate.

    PYTHONPATH=. .venv-rasa/bin/python devtools/ood_prototype.py --dump MODEL OUT.json FILE...

parses every sentence of the NLU files with a trained model, in process (no server), and
saves what devtools.gate_eval needs to replay the gate (``--parses OUT.json``; with
``--calibrate-ood`` on the validation splits: the detector combined with DIET's gate).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.nlu_metrics import load_examples, strip_annotations  # noqa: E402

TRAIN_DIRS = (ROOT / "data" / "nlu", ROOT / "data" / "nlu_en")
FRESH = ROOT / "tests" / "nlu_fresh"
OOD_DEV = FRESH / "out_of_domain_dev.yml"
IN_DEV = FRESH / "in_domain_dev.yml"
DEV2 = FRESH / "out_of_domain_dev2.yml"
CONFIG_THRESHOLD = 0.45  # config.yml's ood_threshold
CONFIG_ASK_ONLY_THRESHOLD = 0.9  # config.yml's ood_ask_only_threshold
OUT_OF_SCOPE = "out_of_scope"  # nlu.ood_model.OUT_OF_SCOPE (that module needs scikit-learn)


def training_files(dirs: Sequence[Path] = TRAIN_DIRS) -> list[Path]:
    """Every YAML file under ``dirs`` once (a folder inside another is not read twice)."""
    files: dict[Path, None] = {}
    for directory in dirs:
        if directory.is_dir():
            for path in sorted(directory.glob("**/*")):
                if path.is_file() and path.suffix in (".yml", ".yaml"):
                    files[path.resolve()] = None
    return list(files)


def training(dirs: Sequence[Path] = TRAIN_DIRS) -> list[tuple[str, str]]:
    return [(e.text, e.intent) for p in training_files(dirs) for e in load_examples(p)]


@dataclass(frozen=True)
class Split:
    """One validation split: texts, whether each is out of domain, and which the gate may drop.

    ``turnable``: the gate (nlu/gate_rules.decide) lets the detector turn the text away:
    its labelled intent is a welfare intent (not emergency, not a social intent) and no
    word of data/safety/emergency_support.yml is in it. DIET is assumed to find the
    labelled intent: the figures are the detector's alone, through the gate's exceptions.
    """

    name: str
    texts: tuple[str, ...]
    out: bool  # True: out-of-domain sentences (caught is good); False: requests (lost)
    turnable: tuple[bool, ...]
    # a welfare (or OOD) text whose only protection is a word of the ask_only list: turned
    # away too when P(out) reaches config.yml's ``ood_ask_only_threshold``
    ask_only: tuple[bool, ...] = ()

    def turned_away(self, probs: Sequence[float], at: float, ask_only_at: float) -> list[bool]:
        ask_only = self.ask_only or (False,) * len(self.texts)
        return [
            p >= at and (free or (weak and ask_only_at > 0.0 and p >= ask_only_at))
            for p, free, weak in zip(probs, self.turnable, ask_only, strict=True)
        ]


def blocks(path: Path) -> list[tuple[str, str, str]]:
    """(text, intent, language) of a validation file; language from the block's metadata."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rows: list[tuple[str, str, str]] = []
    for block in data.get("nlu") or []:
        if not block.get("intent"):
            continue
        language = str((block.get("metadata") or {}).get("language") or "it")
        for line in str(block.get("examples") or "").splitlines():
            text = line.strip().removeprefix("- ").strip()
            if text:
                rows.append((strip_annotations(text).strip(), block["intent"], language))
    return rows


def dev() -> list[Split]:
    """Every validation split (in-domain: every labelled request, social ones included)."""
    from nlu.gate_rules import NEVER_TURNED_AWAY, default_support

    support = default_support()

    def split(name: str, rows: list[tuple[str, str, str]], out: bool, language: str) -> Split:
        kept = [(t, i) for t, i, lang in rows if lang == language and (i == OUT_OF_SCOPE) == out]
        eligible = [out or i not in NEVER_TURNED_AWAY for _, i in kept]
        pairs = list(zip(eligible, kept, strict=True))
        turnable = tuple(e and not support.supports(t) for e, (t, _) in pairs)
        ask_only = tuple(
            e and support.supports(t) and not support.supports_immediate(t) for e, (t, _) in pairs
        )
        return Split(name, tuple(t for t, _ in kept), out, turnable, ask_only)

    ood_dev, in_dev, dev2 = blocks(OOD_DEV), blocks(IN_DEV), blocks(DEV2)
    return [
        split("out_of_domain_dev OOD", ood_dev, True, "it"),
        split("out_of_domain_dev requests", ood_dev, False, "it"),
        split("in_domain_dev requests", in_dev, False, "it"),
        split("dev2 OOD it", dev2, True, "it"),
        split("dev2 OOD en", dev2, True, "en"),
        split("dev2 requests it", dev2, False, "it"),
        split("dev2 requests en", dev2, False, "en"),
    ]


def candidates():
    from nlu.ood_model import DetectorSettings

    yield DetectorSettings()
    for c in (3.0, 10.0, 30.0, 300.0):
        yield DetectorSettings(c=c)
    yield DetectorSettings(c=100.0, char_ngrams=(3, 5))
    yield DetectorSettings(c=100.0, char_ngrams=(1, 5))
    yield DetectorSettings(c=100.0, word_ngrams=(1, 3))
    yield DetectorSettings(c=100.0, balanced=False)
    yield DetectorSettings(mode="binary", c=10.0)
    yield DetectorSettings(mode="binary", c=10.0, social="in")


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


def run_detectors(
    train_dirs: Sequence[Path],
    max_lost_share: float,
    with_cv: bool,
    at: float,
    misses: bool,
    ask_only_at: float = 0.0,
) -> None:
    import time

    from nlu.ood_model import OodModel

    examples = training(train_dirs)
    splits = dev()
    in_total = sum(len(s.texts) for s in splits if not s.out)
    max_lost = int(max_lost_share * in_total)
    print(
        f"training: {len(examples)} examples from {', '.join(str(d) for d in train_dirs)}; "
        f"threshold: at most {max_lost} of {in_total} validation requests lost"
    )
    print("splits: " + "; ".join(f"{s.name} {len(s.texts)}" for s in splits))
    for n, settings in enumerate(candidates()):
        cv = cross_validation(settings, examples) if with_cv else (float("nan"),) * 2
        start = time.perf_counter()
        model = OodModel(settings).fit(examples)
        seconds = time.perf_counter() - start
        probs = {s.name: model.probabilities(list(s.texts)) for s in splits}
        t = threshold_for(
            [
                p
                for s in splits
                if not s.out
                for p, turnable in zip(probs[s.name], s.turnable, strict=True)
                if turnable
            ],
            max_lost,
        )
        print(f"\n{settings} | CV OOD caught {cv[0]:.3f}, in lost {cv[1]:.3f} | {seconds:.1f} s")
        for threshold, label in ((t, f"1 % threshold {t:.3f}"), (at, f"at {at}")):
            cells = []
            for s in splits:
                hits = sum(s.turned_away(probs[s.name], threshold, ask_only_at))
                cells.append(f"{s.name} {'caught' if s.out else 'lost'} {hits}/{len(s.texts)}")
            print(f"  {label}: " + "; ".join(cells))
        if misses and n == 0:
            for s in splits:
                away = s.turned_away(probs[s.name], at, ask_only_at)
                rows = sorted(zip(s.texts, probs[s.name], away, strict=True), key=lambda x: x[1])
                for text, p, gone in rows:
                    if gone != s.out:
                        print(f"    miss [{s.name}] {p:.3f} {text}")


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
    parser.add_argument("--train", type=Path, nargs="+", default=list(TRAIN_DIRS))
    parser.add_argument("--max-lost-share", type=float, default=0.01)
    parser.add_argument("--at", type=float, default=CONFIG_THRESHOLD)
    parser.add_argument("--ask-only-at", type=float, default=CONFIG_ASK_ONLY_THRESHOLD)
    parser.add_argument("--no-cv", action="store_true")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    run_detectors(
        args.train, args.max_lost_share, not args.no_cv, args.at, args.misses, args.ask_only_at
    )


if __name__ == "__main__":
    main()
