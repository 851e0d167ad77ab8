"""Out-of-domain and emergency-tier figures (issue 12 points 1, 2 and 7).

What the assistant does with a message, as the gateway and Rasa together act on it:

- ``immediate``: the safety rules fire (care.safety.detect, run by the gateway on every
  message) and the message has no word of the ``reported`` lists (care.safety.tier), or
  Rasa's intent is emergency with the immediate tier (a rule inside Rasa, or the model
  sure with supporting words, nlu/gate_rules.py; a model without the gate is immediate,
  as before the tiers): 112/1522 and a top-priority page at once;
- ``ask``: a rule match with such a word (the gateway lets Rasa ask; a Rasa that does not
  see the rule still gets the numbers sent by the gateway), or Rasa's intent is emergency
  with the ask tier: 112/1522 and «Sei in pericolo adesso?»;
- otherwise the final intent answers.

The messages are taken as a consented conversation in bot mode would send them (before
consent a rule match always pages at once: Rasa, which asks, reads nothing yet).
``--rules-always-immediate`` gives the figures as they were before the rules had two
tiers (every rule match paged at once), on the same model.

Figures, first on the headline sets (tests/nlu_fresh/*_2026_12_07.yml: written on
2026-12-07 by someone who saw neither the training data nor the older sets' misses),
then on the older sets, which have had their failures read and acted on and are now
labelled "regression":

- out-of-domain test split: kept-out share (final intent out_of_scope, the fallback or
  chit-chat, never emergency of any tier) and the share paged at once;
- fresh emergency sets: recall immediate and recall immediate-or-asked;
- negatives: the share paged at once. Headline: the 2026-12-07 out-of-domain and everyday
  sets and the hard non-emergencies of the 2026-12-07 emergency set. Regression: the
  2026-12-06 OOD test split, everyday sentences and the held-out's non-emergencies.
- development sets (read and tuned on): the negatives of tests/nlu_fresh/negatives_dev.yml
  (idioms, jokes, news) paged and asked, the emergencies of emergency_it_dev.yml and
  emergency_en_dev.yml immediate and immediate-or-asked.

    python -m devtools.gate_eval [--model models/welcome.tar.gz] [--misses]

starts a Rasa on the model and prints the figures (``--misses`` also every failure: only
the test sets' own sentences, never citizens' messages). ``make eval`` prints them too.
``calibrate`` re-applies other gate settings to the recorded DIET ranking of the
validation splits (tests/nlu_fresh/out_of_domain_dev.yml, in_domain_dev.yml and
out_of_domain_dev2.yml), without retraining; ``--thresholds`` prints per-intent
out-of-domain thresholds chosen on them (devtools.gate_thresholds); ``--calibrate-ood``
tries thresholds of the out-of-domain detector (nlu/ood_detector.py) with the rest of
config.yml's gate.

The out-of-domain detector's effect (nlu/ood_detector.py): the lines "detector: ... turned
away" count the welfare intents it turned into out_of_scope; on the held-out's in-domain
requests each one is a request lost.

``--parses FILE`` replays recorded parses (``devtools/ood_prototype.py --dump``, in Rasa's
environment, no server) instead of starting Rasa: with the gate settings of config.yml,
``--ood-threshold`` to try another detector threshold (0: without the detector).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from care.safety import detect
from care.safety import tier as rule_tier
from core.settings import PROJECT_ROOT
from devtools.gate_thresholds import Scored, as_config, choose
from devtools.nlu_metrics import Example, load_examples
from nlu.gate_rules import (
    ASK,
    EMERGENCY,
    FALLBACK,
    IMMEDIATE,
    GateSettings,
    decide,
    default_support,
)

FRESH_DIR = PROJECT_ROOT / "tests" / "nlu_fresh"
OOD_TEST = FRESH_DIR / "out_of_domain.yml"
OOD_DEV = FRESH_DIR / "out_of_domain_dev.yml"
IN_DOMAIN_DEV = FRESH_DIR / "in_domain_dev.yml"  # validation only: per-intent thresholds
# validation only: the detector's settings (Italian and English OOD, welfare requests near it)
OOD_DEV2 = FRESH_DIR / "out_of_domain_dev2.yml"
DEV_SETS = (OOD_DEV, IN_DOMAIN_DEV, OOD_DEV2)
EVERYDAY = FRESH_DIR / "everyday.yml"
FRESH_EMERGENCY = FRESH_DIR / "emergency_2026_12.yml"  # 2026-12-06, a regression check since
FIRST_FRESH = FRESH_DIR / "emergency.yml"  # 2026-11-25, a regression check since
# The headline sets (2026-12-07): nobody has read their failures or tuned on them.
HEADLINE_OOD = FRESH_DIR / "out_of_domain_2026_12_07.yml"
HEADLINE_EVERYDAY = FRESH_DIR / "everyday_2026_12_07.yml"
HEADLINE_EMERGENCY = FRESH_DIR / "emergency_2026_12_07.yml"  # emergencies and hard negatives
# development sets: their failures were read and acted on
NEGATIVES_DEV = FRESH_DIR / "negatives_dev.yml"
EMERGENCY_IT_DEV = FRESH_DIR / "emergency_it_dev.yml"
EMERGENCY_EN_DEV = FRESH_DIR / "emergency_en_dev.yml"
HELDOUT = PROJECT_ROOT / "tests" / "nlu_heldout" / "nlu.yml"
CONFIG = PROJECT_ROOT / "config.yml"
GATE_COMPONENT = "nlu.intent_gate.IntentGate"
KEPT_OUT = frozenset({"out_of_scope", FALLBACK, "greet", "goodbye", "thank", "bot_challenge"})

Parse = Callable[[str], dict[str, Any]]


@dataclass(frozen=True)
class Outcome:
    intent: str  # Rasa's final intent (emergency when the gateway's rules fire)
    action: str  # immediate | ask | none
    by_detector: bool = False  # the out-of-domain detector turned the intent away

    @property
    def kept_out(self) -> bool:
        return self.action == "none" and self.intent in KEPT_OUT


def outcome(text: str, parsed: dict[str, Any], *, rule_tiers: bool = True) -> Outcome:
    """What the gateway and Rasa do with one message (``rule_tiers=False``: as before the
    rules had two tiers, every rule match paged at once)."""
    matched = detect(text) is not None
    net = parsed.get("safety_net")
    if not rule_tiers and (matched or net):
        return Outcome(EMERGENCY, IMMEDIATE)
    if matched and rule_tier(text) == IMMEDIATE:
        return Outcome(EMERGENCY, IMMEDIATE)  # the gateway pages, Rasa never reads it
    if isinstance(net, dict):
        return Outcome(EMERGENCY, ASK if net.get("tier") == ASK else IMMEDIATE)
    intent = str((parsed.get("intent") or {}).get("name") or "")
    gate = parsed.get("intent_gate")
    gate = gate if isinstance(gate, dict) else {}
    by_detector = bool(gate.get("by_detector"))
    if matched and intent != EMERGENCY:
        return Outcome(intent, ASK, by_detector)  # the gateway sends the numbers itself
    if intent != EMERGENCY:
        return Outcome(intent, "none", by_detector)
    return Outcome(intent, ASK if gate.get("tier") == ASK else IMMEDIATE, by_detector)


def ood_probability(parsed: dict[str, Any]) -> float | None:
    """The out-of-domain detector's P(out) recorded in a parse, if the model has one."""
    detector = parsed.get("ood_detector")
    if isinstance(detector, dict) and detector.get("probability") is not None:
        return float(detector["probability"])
    return None


def redecide(text: str, parsed: dict[str, Any], settings: GateSettings) -> Outcome:
    """The outcome with other gate settings, from the DIET ranking the gate recorded."""
    gate = parsed.get("intent_gate") or {}
    ranking = [{"name": n, "confidence": c} for n, c in gate.get("model_ranking") or []]
    if detect(text) is not None or parsed.get("safety_net") or not ranking:
        return outcome(text, parsed)
    # FallbackClassifier as in config.yml: threshold 0.5, ambiguity 0.1
    first = float(ranking[0]["confidence"])
    second = float(ranking[1]["confidence"]) if len(ranking) > 1 else 0.0
    current = ranking[0]["name"] if first >= 0.5 and first - second >= 0.1 else FALLBACK
    decision = decide(text, ranking, current, settings, default_support(), ood_probability(parsed))
    if decision.intent == EMERGENCY:
        return Outcome(EMERGENCY, decision.tier or IMMEDIATE, decision.by_detector)
    return Outcome(decision.intent, "none", decision.by_detector)


def config_settings(path: Path = CONFIG) -> GateSettings:
    """The IntentGate settings of config.yml (those the shipped model was trained with)."""
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for component in config.get("pipeline") or []:
        if component.get("name") == GATE_COMPONENT:
            return GateSettings.from_config(component)
    return GateSettings()


@dataclass
class Share:
    name: str
    hits: int = 0
    total: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, text: str, hit: bool, *, failure_when: bool | None) -> None:
        self.total += 1
        self.hits += int(hit)
        if failure_when is not None and hit == failure_when:
            self.failures.append(text)

    @property
    def value(self) -> float:
        return self.hits / self.total if self.total else 0.0

    def line(self) -> str:
        return f"{self.name:<55} {self.value:.3f} ({self.hits}/{self.total})"


@dataclass
class GateFigures:
    headline_ood_kept_out: Share
    headline_ood_paged: Share
    headline_ood_asked: Share
    headline_immediate: Share
    headline_asked_or_immediate: Share
    headline_negatives_paged: Share
    headline_negatives_asked: Share
    # regression sets (their failures were read and acted on)
    ood_kept_out: Share
    ood_paged: Share
    ood_asked: Share
    fresh_immediate: Share
    fresh_asked_or_immediate: Share
    first_fresh_asked_or_immediate: Share
    negatives_paged: Share
    negatives_asked: Share
    rules_negatives: Share
    # the out-of-domain detector's effect
    headline_ood_by_detector: Share
    heldout_turned_away: Share
    # development sets (read and tuned on)
    dev_negatives_paged: Share
    dev_negatives_asked: Share
    dev_it_immediate: Share
    dev_it_asked_or_immediate: Share
    dev_en_immediate: Share
    dev_en_asked_or_immediate: Share

    def shares(self) -> list[Share]:
        return [
            self.headline_ood_kept_out,
            self.headline_ood_paged,
            self.headline_ood_asked,
            self.headline_immediate,
            self.headline_asked_or_immediate,
            self.headline_negatives_paged,
            self.headline_negatives_asked,
            self.ood_kept_out,
            self.ood_paged,
            self.ood_asked,
            self.fresh_immediate,
            self.fresh_asked_or_immediate,
            self.first_fresh_asked_or_immediate,
            self.negatives_paged,
            self.negatives_asked,
            self.rules_negatives,
            self.headline_ood_by_detector,
            self.heldout_turned_away,
            self.dev_negatives_paged,
            self.dev_negatives_asked,
            self.dev_it_immediate,
            self.dev_it_asked_or_immediate,
            self.dev_en_immediate,
            self.dev_en_asked_or_immediate,
        ]

    def unread(self) -> list[Share]:
        """The shares of the independent 2026-12-07 sets (``headline_*``): their failures
        are never listed."""
        return [getattr(self, f.name) for f in fields(self) if f.name.startswith("headline_")]

    def report(self, *, misses: bool = False) -> str:
        lines = [share.line() for share in self.shares()]
        if misses:
            unread = {id(share) for share in self.unread()}
            lines.append("\n(failures of the 12-07 sets are not listed: they stay unread)")
            for share in self.shares():
                if id(share) in unread:
                    continue
                lines.append(f"\n{share.name}: failures ({len(share.failures)})")
                lines += [f"  - {text}" for text in share.failures]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {s.name: {"value": round(s.value, 4), "n": s.total} for s in self.shares()}


def negatives() -> list[Example]:
    """≥1,000 sentences that are not emergencies and were never trained on (regression)."""
    held_out = [e for e in load_examples(HELDOUT) if e.intent != EMERGENCY]
    return [*load_examples(OOD_TEST), *load_examples(EVERYDAY), *held_out]


def headline_emergencies() -> list[Example]:
    return [e for e in load_examples(HEADLINE_EMERGENCY) if e.intent == EMERGENCY]


def headline_negatives() -> list[Example]:
    """The 2026-12-07 sentences that are not emergencies: OOD, everyday, hard negatives."""
    hard = [e for e in load_examples(HEADLINE_EMERGENCY) if e.intent != EMERGENCY]
    return [*load_examples(HEADLINE_OOD), *load_examples(HEADLINE_EVERYDAY), *hard]


def add_ood(kept_out: Share, paged: Share, asked: Share, text: str, got: Outcome) -> None:
    kept_out.add(text, got.kept_out, failure_when=False)
    paged.add(text, got.action == IMMEDIATE, failure_when=True)
    asked.add(text, got.action == ASK, failure_when=True)


def figures(decide_one: Callable[[str], Outcome]) -> GateFigures:
    result = GateFigures(
        Share("OOD 12-07: kept out of welfare intents"),
        Share("OOD 12-07: paged as emergency at once"),
        Share("OOD 12-07: asked «Sei in pericolo adesso?»"),
        Share("emergencies 12-07: immediate"),
        Share("emergencies 12-07: immediate or asked"),
        Share("negatives 12-07: paged at once"),
        Share("negatives 12-07: asked"),
        Share("regression OOD 12-06: kept out of welfare intents"),
        Share("regression OOD 12-06: paged as emergency at once"),
        Share("regression OOD 12-06: asked «Sei in pericolo adesso?»"),
        Share("regression emergencies 12-06: immediate"),
        Share("regression emergencies 12-06: immediate or asked"),
        Share("regression emergencies 11-25: immediate or asked"),
        Share("regression negatives: paged at once"),
        Share("regression negatives: asked"),
        Share("regression negatives: safety rules fire"),
        Share("detector: OOD 12-07 turned away"),
        Share("detector: held-out in-domain requests turned away"),
        Share("dev negatives (negatives_dev): paged at once"),
        Share("dev negatives (negatives_dev): asked"),
        Share("dev emergencies it: immediate"),
        Share("dev emergencies it: immediate or asked"),
        Share("dev emergencies en: immediate"),
        Share("dev emergencies en: immediate or asked"),
    )
    for example in load_examples(HEADLINE_OOD):
        got = decide_one(example.text)
        add_ood(
            result.headline_ood_kept_out,
            result.headline_ood_paged,
            result.headline_ood_asked,
            example.text,
            got,
        )
        result.headline_ood_by_detector.add(example.text, got.by_detector, failure_when=None)
    for example in headline_emergencies():
        got = decide_one(example.text)
        result.headline_immediate.add(example.text, got.action == IMMEDIATE, failure_when=False)
        result.headline_asked_or_immediate.add(
            example.text, got.action != "none", failure_when=False
        )
    for example in headline_negatives():
        got = decide_one(example.text)
        result.headline_negatives_paged.add(
            example.text, got.action == IMMEDIATE, failure_when=True
        )
        result.headline_negatives_asked.add(example.text, got.action == ASK, failure_when=True)
    for example in load_examples(OOD_TEST):
        got = decide_one(example.text)
        add_ood(result.ood_kept_out, result.ood_paged, result.ood_asked, example.text, got)
    for example in load_examples(FRESH_EMERGENCY):
        got = decide_one(example.text)
        result.fresh_immediate.add(example.text, got.action == IMMEDIATE, failure_when=False)
        result.fresh_asked_or_immediate.add(example.text, got.action != "none", failure_when=False)
    for example in load_examples(FIRST_FRESH):
        if example.intent == EMERGENCY:
            got = decide_one(example.text)
            result.first_fresh_asked_or_immediate.add(
                example.text, got.action != "none", failure_when=False
            )
    for example in negatives():
        got = decide_one(example.text)
        result.negatives_paged.add(example.text, got.action == IMMEDIATE, failure_when=True)
        result.negatives_asked.add(example.text, got.action == ASK, failure_when=True)
        result.rules_negatives.add(
            example.text, detect(example.text) is not None, failure_when=True
        )
    for example in load_examples(HELDOUT):
        if example.intent not in ("out_of_scope", EMERGENCY):
            got = decide_one(example.text)
            result.heldout_turned_away.add(example.text, got.by_detector, failure_when=True)
    for example in load_examples(NEGATIVES_DEV):
        if example.intent != EMERGENCY:
            got = decide_one(example.text)
            result.dev_negatives_paged.add(example.text, got.action == IMMEDIATE, failure_when=True)
            result.dev_negatives_asked.add(example.text, got.action == ASK, failure_when=True)
    for path, immediate, found in (
        (EMERGENCY_IT_DEV, result.dev_it_immediate, result.dev_it_asked_or_immediate),
        (EMERGENCY_EN_DEV, result.dev_en_immediate, result.dev_en_asked_or_immediate),
    ):
        for example in load_examples(path):
            if example.intent == EMERGENCY:
                got = decide_one(example.text)
                immediate.add(example.text, got.action == IMMEDIATE, failure_when=False)
                found.add(example.text, got.action != "none", failure_when=False)
    return result


def measure(parse: Parse, *, rule_tiers: bool = True) -> GateFigures:
    cache: dict[str, Outcome] = {}

    def one(text: str) -> Outcome:
        if text not in cache:
            cache[text] = outcome(text, parse(text), rule_tiers=rule_tiers)
        return cache[text]

    return figures(one)


@dataclass(frozen=True)
class Candidate:
    settings: GateSettings
    dev_ood_kept_out: float
    dev_ood_paged: int
    dev_in_domain_kept: float
    dev_emergency_found: float
    first_fresh_found: float
    first_fresh_negatives_paged: int
    dev_in_domain_turned_away: int = 0  # by the out-of-domain detector


def calibrate(
    parse: Parse,
    grid: Iterable[GateSettings],
    dev: Sequence[Path] = DEV_SETS,
    first_fresh: Path | None = FIRST_FRESH,
) -> list[Candidate]:
    """Each candidate's figures on the validation data, from one parse per sentence.

    The validation data: the OOD and in-domain validation splits and the first fresh
    emergency set (2026-11-25, a regression check since this session wrote a new one;
    ``first_fresh=None`` leaves it out).
    """
    examples = [e for path in dev for e in load_examples(path)]
    parsed = [(e, parse(e.text)) for e in examples]
    first = [(e, parse(e.text)) for e in load_examples(first_fresh)] if first_fresh else []
    out: list[Candidate] = []
    for settings in grid:
        ood = [redecide(e.text, p, settings) for e, p in parsed if e.intent == "out_of_scope"]
        ins = [
            (e, redecide(e.text, p, settings))
            for e, p in parsed
            if e.intent not in ("out_of_scope", EMERGENCY)
        ]
        ems = [redecide(e.text, p, settings) for e, p in parsed if e.intent == EMERGENCY]
        first_em = [redecide(e.text, p, settings) for e, p in first if e.intent == EMERGENCY]
        first_neg = [redecide(e.text, p, settings) for e, p in first if e.intent != EMERGENCY]
        out.append(
            Candidate(
                settings,
                sum(o.kept_out for o in ood) / max(len(ood), 1),
                sum(o.action == IMMEDIATE for o in ood),
                sum(o.intent == e.intent and o.action == "none" for e, o in ins) / max(len(ins), 1),
                sum(o.action != "none" for o in ems) / max(len(ems), 1),
                sum(o.action != "none" for o in first_em) / max(len(first_em), 1),
                sum(o.action == IMMEDIATE for o in first_neg),
                sum(o.by_detector for _, o in ins),
            )
        )
    return out


def grid() -> list[GateSettings]:
    """The candidate settings tried on the validation split."""
    return [
        GateSettings(
            immediate_confidence=immediate,
            ask_confidence=ask,
            unsupported_confidence=unsupported,
            default_threshold=threshold,
            low_confidence_intent="out_of_scope",
        )
        for immediate in (0.5, 0.8, 0.9, 0.95, 0.99)
        for ask in (0.05, 0.2, 0.5)
        for unsupported in (0.0, 0.5, 0.7, 0.8, 0.9, 0.95)
        for threshold in (0.0, 0.8, 0.9, 0.95)
    ]


def ood_grid(base: GateSettings) -> list[GateSettings]:
    """config.yml's gate with each candidate threshold of the out-of-domain detector."""
    steps = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9)
    return [replace(base, ood_threshold=t) for t in steps]


def print_calibration(candidates: list[Candidate]) -> None:
    print(
        "immediate ask unsupported threshold ood | dev OOD kept-out paged | in-domain kept "
        "turned away | emergencies found | first fresh found, negatives paged"
    )
    for c in candidates:
        s = c.settings
        print(
            f"{s.immediate_confidence:9.2f} {s.ask_confidence:4.2f} "
            f"{s.unsupported_confidence:11.2f} {s.default_threshold:9.2f} "
            f"{s.ood_threshold:4.2f} | "
            f"{c.dev_ood_kept_out:16.3f} {c.dev_ood_paged:5d} | {c.dev_in_domain_kept:14.3f} "
            f"{c.dev_in_domain_turned_away:11d} | "
            f"{c.dev_emergency_found:17.3f} | {c.first_fresh_found:.3f} "
            f"{c.first_fresh_negatives_paged:3d}"
        )


def scored_dev(parse: Parse, dev: Sequence[Path] = DEV_SETS) -> list[Scored]:
    """DIET's first intent and confidence (before any gate) for each validation sentence."""
    out: list[Scored] = []
    for example in (e for path in dev for e in load_examples(path)):
        gate = parse(example.text).get("intent_gate") or {}
        ranking = gate.get("model_ranking") or [["", 0.0]]
        out.append(Scored(example.intent, str(ranking[0][0]), float(ranking[0][1])))
    return out


def print_thresholds(scored: Sequence[Scored], max_lost: int) -> None:
    rows = choose(scored, max_lost=max_lost)
    print(f"per-intent thresholds, at most {max_lost} validation request(s) lost per intent")
    print("intent                 threshold | in-domain given  lost | OOD given gained")
    for r in rows:
        print(
            f"{r.intent:22s} {r.threshold:9.3f} | {r.in_domain:15d} {r.lost:5d} | "
            f"{r.ood_taken:9d} {r.gained:6d}"
        )
    print(f"thresholds: {as_config(rows)}")


def replay(parses: dict[str, dict[str, Any]], settings: GateSettings) -> GateFigures:
    """The figures from recorded parses, the gate re-applied with ``settings``."""
    return figures(lambda text: redecide(text, parses[text], settings))


def main(argv: list[str] | None = None) -> int:
    from devtools.stack import start_local_stack

    parser = argparse.ArgumentParser(prog="python -m devtools.gate_eval")
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "welcome.tar.gz")
    parser.add_argument("--misses", action="store_true", help="print every failure")
    parser.add_argument(
        "--calibrate", action="store_true", help="only the validation split, over a grid"
    )
    parser.add_argument(
        "--thresholds",
        type=int,
        metavar="MAX_LOST",
        help="per-intent thresholds on the validation splits, losing at most MAX_LOST each",
    )
    parser.add_argument(
        "--calibrate-ood",
        action="store_true",
        help="thresholds of the out-of-domain detector on the validation splits only",
    )
    parser.add_argument(
        "--parses", type=Path, help="recorded parses (devtools/ood_prototype.py --dump)"
    )
    parser.add_argument(
        "--ood-threshold", type=float, help="with --parses: the detector's threshold (0: off)"
    )
    parser.add_argument(
        "--rules-always-immediate",
        action="store_true",
        help="every rule match pages at once, as before the rules had two tiers",
    )
    args = parser.parse_args(argv)
    if args.parses:
        parses = json.loads(args.parses.read_text(encoding="utf-8"))
        settings = config_settings()
        if args.calibrate_ood:
            print_calibration(calibrate(parses.__getitem__, ood_grid(settings), first_fresh=None))
            return 0
        if args.ood_threshold is not None:
            settings = replace(settings, ood_threshold=args.ood_threshold)
        print(f"parses {args.parses}, gate {settings}")
        print(replay(parses, settings).report(misses=args.misses))
        return 0
    with tempfile.TemporaryDirectory(prefix="gate-eval-") as tmp:
        workdir = Path(tmp)
        stack = start_local_stack(
            model=args.model,
            database_url=f"sqlite:///{workdir / 'welcome.db'}",
            workdir=workdir,
        )
        try:
            if args.calibrate:
                print_calibration(calibrate(stack.parse, grid()))
                return 0
            if args.calibrate_ood:
                grid_ood = ood_grid(config_settings())
                print_calibration(calibrate(stack.parse, grid_ood, first_fresh=None))
                return 0
            if args.thresholds is not None:
                print_thresholds(scored_dev(stack.parse), args.thresholds)
                return 0
            result = measure(stack.parse, rule_tiers=not args.rules_always_immediate)
        finally:
            stack.close()
    print(f"model {args.model}")
    print(result.report(misses=args.misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
