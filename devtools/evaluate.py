"""Evaluate the NLU model: ``python -m devtools.evaluate`` (``make eval``).

Trains (only if needed, see devtools.train) on data/nlu, then tests on the held-out set
tests/nlu_heldout/nlu.yml, which is never trained on, with `rasa test nlu`. Rasa writes its
reports into results/ (intent_report.json, the entity report of DIETClassifier, the
confusion matrix intent_confusion_matrix.png, errors); this prints macro-F1, weighted F1,
the five weakest intents, emergency recall (safety net included) and entity P/R/F1, and
saves them in results/summary.json, printed beside the previous evaluation's figures with the
number of reviewed examples each was trained on (devtools.eval_change). Then, through a
running Rasa on the same model (devtools.gate_eval): the out-of-domain kept-out share on
tests/nlu_fresh/out_of_domain.yml, emergency recall (immediate, and immediate or asked) on
the fresh emergency sets, and the share of the >=1,000 negatives paged at once
(``--no-gate`` skips this part).

  --cross-validation [--folds 5]   rasa test nlu --cross-validation on data/nlu instead
                                   (results/cross-validation/; about 6 minutes on 2 cores)
  --config PATH                    evaluate another pipeline (NLU-only model, trained into
                                   results/models/); used to compare pipelines
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.settings import PROJECT_ROOT, get_settings
from devtools import eval_change
from devtools.rasa_env import CONFIG_FILE, HELDOUT_FILE, NLU_DATA_DIR, rasa_env, require_rasa
from devtools.train import ensure_model

RESULTS_DIR = PROJECT_ROOT / "results"
EMERGENCY = "emergency"
NOT_INTENTS = {"accuracy", "macro avg", "weighted avg", "micro avg"}


@dataclass
class Summary:
    kind: str  # heldout | cross-validation
    config: str
    macro_f1: float
    weighted_f1: float
    accuracy: float
    emergency_recall: float | None
    weakest_intents: list[dict[str, Any]]
    intents: dict[str, dict[str, float]]
    entities: dict[str, dict[str, float]]
    entity_micro_f1: float | None
    model_seconds: float
    test_seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


def _gold_intents(report: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per-intent scores of the labels that occur in the test data (support > 0).

    Rasa's report also lists labels only ever predicted (nlu_fallback): they have no
    support, and their misses already count against the gold intents' recall.
    """
    return {
        name: {k: round(float(v), 4) for k, v in scores.items() if k != "confused_with"}
        for name, scores in report.items()
        if name not in NOT_INTENTS and isinstance(scores, dict) and scores.get("support", 0) > 0
    }


def summarise(
    out: Path, *, kind: str, config: Path, model_seconds: float, test_seconds: float
) -> Summary:
    """Reads the reports `rasa test nlu` wrote into ``out``."""
    report = json.loads((out / "intent_report.json").read_text())
    intents = _gold_intents(report)
    f1s = [s["f1-score"] for s in intents.values()]
    supports = [s["support"] for s in intents.values()]
    weakest = sorted(intents.items(), key=lambda item: item[1]["f1-score"])[:5]
    entities: dict[str, dict[str, float]] = {}
    entity_micro: float | None = None
    entity_report = out / "DIETClassifier_report.json"
    if entity_report.exists():
        data = json.loads(entity_report.read_text())
        for name, scores in data.items():
            if not isinstance(scores, dict):
                continue
            if name == "micro avg":
                entity_micro = round(float(scores["f1-score"]), 4)
            elif name not in NOT_INTENTS and name != "no_entity":
                entities[name] = {
                    k: round(float(v), 4) for k, v in scores.items() if k != "confused_with"
                }
    accuracy = report.get("accuracy", 0.0)
    return Summary(
        kind=kind,
        config=str(
            config.relative_to(PROJECT_ROOT) if config.is_relative_to(PROJECT_ROOT) else config
        ),
        macro_f1=round(sum(f1s) / len(f1s), 4) if f1s else 0.0,
        weighted_f1=round(sum(f * s for f, s in zip(f1s, supports, strict=True)) / sum(supports), 4)
        if supports
        else 0.0,
        accuracy=round(float(accuracy if not isinstance(accuracy, dict) else 0.0), 4),
        emergency_recall=intents[EMERGENCY]["recall"] if EMERGENCY in intents else None,
        weakest_intents=[{"intent": name, **scores} for name, scores in weakest],
        intents=intents,
        entities=entities,
        entity_micro_f1=entity_micro,
        model_seconds=round(model_seconds, 1),
        test_seconds=round(test_seconds, 1),
    )


def print_summary(summary: Summary) -> None:
    print(f"\n== NLU evaluation ({summary.kind}, {summary.config}) ==")
    print(f"macro-F1          {summary.macro_f1:.3f}")
    print(f"weighted F1       {summary.weighted_f1:.3f}")
    print(f"accuracy          {summary.accuracy:.3f}")
    if summary.emergency_recall is not None:
        print(f"emergency recall  {summary.emergency_recall:.3f}  (safety net included)")
    print("five weakest intents (F1):")
    for item in summary.weakest_intents:
        print(
            f"  {item['intent']:<24} F1 {item['f1-score']:.3f}  P {item['precision']:.3f}"
            f"  R {item['recall']:.3f}  n={int(item['support'])}"
        )
    if summary.entities:
        print("entities (P / R / F1):")
        for name, s in sorted(summary.entities.items()):
            print(
                f"  {name:<24} {s['precision']:.3f} / {s['recall']:.3f} / {s['f1-score']:.3f}"
                f"  n={int(s['support'])}"
            )
        if summary.entity_micro_f1 is not None:
            print(f"  {'micro avg':<24} F1 {summary.entity_micro_f1:.3f}")
    print(f"train {summary.model_seconds:.0f} s (0 = cached), test {summary.test_seconds:.0f} s")


def _run_rasa(args: list[str], log: Path) -> float:
    started = time.monotonic()
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as handle:
        completed = subprocess.run(
            [str(require_rasa()), *args],
            cwd=PROJECT_ROOT,
            env=rasa_env(get_settings()),
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    if completed.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"rasa {args[0]} failed; full log in {log}:\n{tail}")
    return time.monotonic() - started


def evaluate_heldout(
    *, config: Path, nlu_data: Path, heldout: Path, out: Path, force: bool = False
) -> Summary:
    if not heldout.is_file():
        raise RuntimeError(f"held-out set {heldout} not found")
    if config == CONFIG_FILE and nlu_data == NLU_DATA_DIR:
        result = ensure_model(force=force)
    else:  # a pipeline under comparison: NLU-only model of its own
        result = ensure_model(
            config=config,
            nlu_data=nlu_data,
            out=out / "models",
            name=config.stem,
            nlu_only=True,
            force=force,
        )
    seconds = _run_rasa(
        ["test", "nlu", "--model", str(result.model), "--nlu", str(heldout), "--out", str(out)],
        out / "rasa-test.log",
    )
    return summarise(
        out,
        kind="heldout",
        config=config,
        model_seconds=result.seconds,
        test_seconds=seconds,
    )


def cross_validate(*, config: Path, nlu_data: Path, out: Path, folds: int) -> Summary:
    args = ["test", "nlu", "--nlu", str(nlu_data), "--config", str(config)]
    args += ["--cross-validation", "--folds", str(folds), "--out", str(out)]
    seconds = _run_rasa(args, out / "rasa-test.log")
    summary = summarise(
        out, kind="cross-validation", config=config, model_seconds=0.0, test_seconds=seconds
    )
    summary.extra["folds"] = folds
    return summary


def gate_figures(config: Path, out: Path) -> dict[str, Any]:
    """Out-of-domain and emergency-tier figures through a running Rasa on the model."""
    import tempfile

    from devtools.gate_eval import measure
    from devtools.stack import start_local_stack

    model = (
        ensure_model().model
        if config == CONFIG_FILE
        else ensure_model(config=config, out=out / "models", name=config.stem, nlu_only=True).model
    )
    with tempfile.TemporaryDirectory(prefix="eval-gate-") as tmp:
        workdir = Path(tmp)
        stack = start_local_stack(
            model=model, database_url=f"sqlite:///{workdir / 'welcome.db'}", workdir=workdir
        )
        try:
            figures = measure(stack.parse)
        finally:
            stack.close()
    print("\n== Out of domain and emergency tiers (python -m devtools.gate_eval --misses) ==")
    print(figures.report())
    return figures.as_dict()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cross-validation", action="store_true")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--config", type=Path, default=CONFIG_FILE)
    parser.add_argument("--nlu", type=Path, default=NLU_DATA_DIR, help="training data")
    parser.add_argument("--heldout", type=Path, default=HELDOUT_FILE)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    parser.add_argument("--force", action="store_true", help="retrain even if cached")
    parser.add_argument("--no-gate", action="store_true", help="skip the gate figures")
    args = parser.parse_args(argv)
    config, nlu_data = args.config.resolve(), args.nlu.resolve()
    out = args.out.resolve()
    before = eval_change.previous(out)
    try:
        if args.cross_validation:
            out = out / "cross-validation"
            summary = cross_validate(config=config, nlu_data=nlu_data, out=out, folds=args.folds)
        else:
            summary = evaluate_heldout(
                config=config,
                nlu_data=nlu_data,
                heldout=args.heldout.resolve(),
                out=out,
                force=args.force,
            )
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    print_summary(summary)
    if not args.cross_validation:
        summary.extra[eval_change.REVIEW_KEY] = eval_change.review_examples(nlu_data)
        print("\n".join(eval_change.lines(before, asdict(summary))))
    if not args.cross_validation and not args.no_gate:
        summary.extra["gate"] = gate_figures(config, out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(asdict(summary), indent=2, ensure_ascii=False))
    print(f"reports, confusion matrix and summary.json in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
