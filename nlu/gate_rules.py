"""The intent gate's decision: out-of-domain thresholds and the two emergency tiers.

Pure (standard library and PyYAML only, like nlu/safety_rules.py), so the Rasa component
(nlu/intent_gate.py, Python 3.10), the gateway (care/safety.py) and the evaluation and
tests (Python 3.11) run the very same code. ``decide`` reads the model's own intent ranking
(DIET's, before the fallback), never the safety rules, which nlu/safety_net.py (in Rasa)
and care/safety.py (in the gateway) run; ``rule_tier`` gives a rule match its tier.

Emergency tiers when a safety *rule* fires (data/safety/emergency_patterns*.yml):

- ``immediate``: no word of ``reported`` in the message: 112/1522 and the top-priority
  hand-off at once, whatever the model says;
- ``ask``: a word of ``reported`` (the same lists, files and matching as below: «di
  risate», «ahah», «a briscola», «al tg», «un film»), except the groups of
  ``RULES_STAY_IMMEDIATE``: the same answer as the model's ask tier, 112/1522 at once and
  «Sei in pericolo adesso?» («Sì» opens the top-priority hand-off). Never less: a rule
  match always gets at least the question, whatever its kind (self-harm said with «ahah»
  too: the numbers at once, and «Sì» reaches a person at top priority).

``RULES_STAY_IMMEDIATE`` keeps two groups of ``reported`` from lowering a rule: threats
that hang on a condition («mi ammazza se...», ``joking_threats``), the very words of a
real threat («mi ammazza se lo lascio», «ti ammazzo se esci»: the rules' own ``unless``
spares the trifles), and the long past (``past``: «anni fa», «l'anno scorso»), which a
victim tells beside what happens now («l'anno scorso l'ho denunciato, ora è tornato»).

Emergency tiers when the *model* says emergency (docs/nlu-pipeline.md, "Emergency tiers"):

- ``immediate``: the model's emergency confidence is at least ``immediate_confidence`` and
  an unambiguous word of danger, harm or the body (``groups`` of
  data/safety/emergency_support*.yml: Italian, English..., one file a language, merged) is
  in the message, and no word of ``reported`` (news, books, films, theses, and a few
  idioms: «al telegiornale», «un romanzo», «il sole picchia»): 112/1522 and the
  top-priority hand-off at once, as for a rule match;
- ``ask``: emergency is the model's first intent but less sure or with only an ambiguous
  word (``ask_only``: «paura», «sangue», «vomita»... also said of spiders, blood tests and
  cats) or none, or a word of ``reported``, or emergency is not first but has at least
  ``ask_confidence`` and a word of either list: 112/1522 at once and the question «Sei
  in pericolo adesso?» (Sì opens the hand-off, No goes on);
- none: emergency first without any such word and under ``unsupported_confidence``: the
  message is treated as out of domain (``low_confidence_intent``).

Out of domain: when the first intent is not emergency and its confidence is under its
threshold (``thresholds[intent]``, else ``default_threshold``), the intent becomes
``low_confidence_intent``.

The out-of-domain detector (nlu/ood_detector.py, a classifier trained apart from DIET)
gives ``ood_probability``, P(out of domain). At or over ``ood_threshold`` (0 = off):

- a welfare intent (anything but emergency, the social intents of ``NEVER_TURNED_AWAY``,
  ``low_confidence_intent`` and the fallback) becomes ``low_confidence_intent``, unless a
  word of data/safety/emergency_support.yml (either list) is in the message: what looks
  like an emergency is never sent away by the detector. Only when P(out) is at or over
  ``ood_ask_only_threshold`` (0 = never) does a word of the ``ask_only`` list («paura»,
  «tagli», «brucia», «non risponde»: also everyday and figurative) no longer protect the
  message; a word of ``groups`` always does. Such a message reaches the detector only
  when the emergency question was not asked (DIET's emergency under ``ask_confidence``),
  so this never hides a page nor a question;
- a model emergency is left to the tiers above: the detector never hides one nor turns
  its page into the question (real emergencies in other languages, «SOS», «chiamate la
  polizia» score high P(out) in cross-validation; docs/nlu-pipeline.md);
- a safety rule is not seen here: nlu/safety_net.py runs last and gives its match the
  tier this module's ``rule_tier`` says (the parse data's ``intent_gate.rule_tier``,
  computed here from the support words stored in the model).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SAFETY_DIR = Path(__file__).resolve().parents[1] / "data" / "safety"
SUPPORT_FILE = SAFETY_DIR / "emergency_support.yml"  # Italian: always the first file
EMERGENCY = "emergency"
FALLBACK = "nlu_fallback"
IMMEDIATE = "immediate"
ASK = "ask"
# first intents the detector never turns away: answered well as they are (kept out of the
# welfare intents already), or decided elsewhere (emergency: the tiers; the fallback)
NEVER_TURNED_AWAY = frozenset(
    {"out_of_scope", "greet", "goodbye", "thank", "bot_challenge", EMERGENCY, FALLBACK}
)

# groups of ``reported`` that never turn a safety rule's match into the question (above)
RULES_STAY_IMMEDIATE = frozenset({"joking_threats", "past"})

_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Lowercase, accents folded, punctuation to spaces, wrapped in one space each side."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " " + " ".join(_NOT_WORD.sub(" ", folded).split()) + " "


@dataclass(frozen=True)
class GateSettings:
    immediate_confidence: float = 0.8
    ask_confidence: float = 0.2
    unsupported_confidence: float = 0.0
    default_threshold: float = 0.0
    thresholds: dict[str, float] = field(default_factory=dict)
    low_confidence_intent: str = FALLBACK
    ood_threshold: float = 0.0  # P(out of domain) from nlu/ood_detector.py; 0 = off
    ood_ask_only_threshold: float = 0.0  # P(out) over which ask_only words stop protecting

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> GateSettings:
        defaults = cls()
        return cls(
            immediate_confidence=float(
                config.get("immediate_confidence", defaults.immediate_confidence)
            ),
            ask_confidence=float(config.get("ask_confidence", defaults.ask_confidence)),
            unsupported_confidence=float(
                config.get("unsupported_confidence", defaults.unsupported_confidence)
            ),
            default_threshold=float(config.get("default_threshold", defaults.default_threshold)),
            thresholds={str(k): float(v) for k, v in (config.get("thresholds") or {}).items()},
            low_confidence_intent=str(
                config.get("low_confidence_intent", defaults.low_confidence_intent)
            ),
            ood_threshold=float(config.get("ood_threshold", defaults.ood_threshold)),
            ood_ask_only_threshold=float(
                config.get("ood_ask_only_threshold", defaults.ood_ask_only_threshold)
            ),
        )


NEVER = r"(?!x)x"  # a pattern that matches nothing: an empty list


def _stems(groups: dict[str, Any] | None) -> tuple[str, ...]:
    return _clean(stem for group in (groups or {}).values() for stem in group or [])


def _clean(words: Iterable[Any] | None) -> tuple[str, ...]:
    """The entries of a list, stripped and lowercased, once each, sorted; empty ones left out."""
    return tuple(sorted({str(word).strip().lower() for word in words or []} - {""}))


def _alternation(words: Iterable[Any] | None) -> str:
    """``a|b|c`` of the list's entries, each matched literally; NEVER for an empty list."""
    return "|".join(re.escape(stem) for stem in _clean(words)) or NEVER


def _pattern(stems: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(rf" (?:{_alternation(stems)})")


def _figure_pattern(figures: dict[str, Any] | None) -> re.Pattern[str]:
    """``figures`` of the support file: a thing, not a person, that «kills» or «strangles»
    the writer («questa salita mi ammazza», «con questi prezzi ci stanno strangolando», «mi
    strozza con l'affitto»). The thing comes at most four words before «mi»/«ci» and the
    verb, with no word of ``persons`` between them («per l'affitto mio marito mi ammazza»
    is a threat), or just after the verb and «con». Matches nothing without things or verbs."""
    figures = figures or {}
    things = _alternation(figures.get("things"))
    verbs = _alternation(figures.get("verbs"))
    persons = _alternation(figures.get("persons"))
    gap = rf"(?: (?!(?:{persons}))\w+){{0,4}}"
    verb = rf" (?:mi|ci) (?:sta |stanno |stava |stavano |fa |fanno )?(?:{verbs})\w*"
    return re.compile(rf" (?:{things})\w*{gap}{verb}|{verb} con(?: \w+){{0,2}} (?:{things})")


class SupportWords:
    """Word stems that make a model's emergency believable (data/safety/emergency_support.yml).

    Each entry is matched at the start of a word of the normalised text ("picchi" matches
    "picchia", "picchiata"); an entry with a space is a phrase ("mani addosso"). ``groups``
    hold unambiguous words, enough for an immediate page; ``ask_only`` holds words that are
    also everyday or figurative («ho paura dei ragni»), enough only for the question.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self.stems = _stems(spec.get("groups"))
        self.ask_stems = _stems(spec.get("ask_only"))
        self.reported_stems = _stems(spec.get("reported"))
        reported = dict(spec.get("reported") or {})
        self.rule_reported_stems = _stems(
            {name: stems for name, stems in reported.items() if name not in RULES_STAY_IMMEDIATE}
        )
        self._pattern = _pattern(self.stems)
        self._ask_pattern = _pattern(self.ask_stems)
        self._reported_pattern = _pattern(self.reported_stems)
        self._rule_reported_pattern = _pattern(self.rule_reported_stems)
        self._figure_pattern = _figure_pattern(spec.get("figures"))

    @classmethod
    def from_file(cls, path: Path | str) -> SupportWords:
        with open(path, encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle) or {})

    def supports(self, text: str) -> bool:
        """A word of either list: enough for the question «Sei in pericolo adesso?»."""
        folded = normalise(text)
        return bool(self._pattern.search(folded) or self._ask_pattern.search(folded))

    def supports_immediate(self, text: str) -> bool:
        """An unambiguous word of danger, harm or the body, and no word that tells the
        danger is reported or figurative (``reported``: «telegiornale», «romanzo», «il sole
        picchia»): enough for an immediate page. With such a word the model's emergency
        gets the question «Sei in pericolo adesso?» (112/1522 at once) instead."""
        folded = normalise(text)
        return bool(self._pattern.search(folded)) and not self._reported_in(folded)

    def reported(self, text: str) -> bool:
        """A word of ``reported``, or one of the ``figures``: the danger is told of, joked
        about or a figure of speech («al telegiornale», «ahah», «mi uccide se», «a briscola»,
        «questa salita mi ammazza»)."""
        return self._reported_in(normalise(text))

    def rule_reported(self, text: str) -> bool:
        """A word of ``reported`` outside ``RULES_STAY_IMMEDIATE``, or one of the
        ``figures``: a safety rule's match on this text only asks (``rule_tier``)."""
        folded = normalise(text)
        return bool(
            self._rule_reported_pattern.search(folded) or self._figure_pattern.search(folded)
        )

    def _reported_in(self, folded: str) -> bool:
        return bool(self._reported_pattern.search(folded) or self._figure_pattern.search(folded))

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> SupportWords:
        specs = []
        for path in paths:
            with open(path, encoding="utf-8") as handle:
                specs.append(yaml.safe_load(handle) or {})
        return cls(merge_specs(specs))


def support_files(first: Path = SUPPORT_FILE) -> list[Path]:
    """``first`` (emergency_support.yml), then its siblings ``<stem>*.yml`` by name.

    One file a language (emergency_support_en.yml...): a new language is a new file.
    """
    others = sorted(p for p in first.parent.glob(f"{first.stem}*.yml") if p.name != first.name)
    return [first, *others]


def merge_specs(specs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One spec with the ``groups``, ``ask_only``, ``reported`` and ``figures`` of every file
    (same-named groups joined)."""
    merged: dict[str, dict[str, list[str]]] = {
        "groups": {},
        "ask_only": {},
        "reported": {},
        "figures": {},
    }
    for spec in specs:
        for key, lists in merged.items():
            for name, stems in (spec.get(key) or {}).items():
                lists.setdefault(str(name), []).extend(str(stem) for stem in stems or [])
    return dict(merged)


@lru_cache(maxsize=1)
def default_support() -> SupportWords:
    return SupportWords.from_files(support_files())


def rule_tier(text: str, support: SupportWords) -> str:
    """The tier of a safety rule's match on ``text``: ``ask`` with a word of ``reported``
    outside ``RULES_STAY_IMMEDIATE`` (the question «Sei in pericolo adesso?» with 112/1522
    at once, as for the model's ask tier), else ``immediate``. Never anything lower: a rule
    match is always an emergency."""
    return ASK if support.rule_reported(text) else IMMEDIATE


@dataclass(frozen=True)
class GateDecision:
    intent: str  # the final intent name
    confidence: float
    tier: str | None  # immediate | ask when intent is emergency, else None
    changed: bool  # whether the gate changed the incoming intent
    model_intent: str  # DIET's first intent
    model_confidence: float
    emergency_confidence: float
    supported: bool
    model_ranking: tuple[tuple[str, float], ...] = ()
    supported_immediate: bool = False
    ood_probability: float | None = None  # the detector's P(out of domain), when present
    by_detector: bool = False  # the out-of-domain detector turned the intent away
    rule_tier: str = IMMEDIATE  # a safety rule's tier on this text (``rule_tier``)

    def as_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "tier": self.tier,
            "model_intent": self.model_intent,
            "model_confidence": round(self.model_confidence, 4),
            "emergency_confidence": round(self.emergency_confidence, 4),
            "supported": self.supported,
            "supported_immediate": self.supported_immediate,
            "changed": self.changed,
            "model_ranking": [[name, round(conf, 4)] for name, conf in self.model_ranking],
            "ood_probability": (
                None if self.ood_probability is None else round(self.ood_probability, 4)
            ),
            "by_detector": self.by_detector,
            "rule_tier": self.rule_tier,
        }


def decide(
    text: str,
    ranking: list[dict[str, Any]],
    current_intent: str,
    settings: GateSettings,
    support: SupportWords,
    ood_probability: float | None = None,
) -> GateDecision:
    """The final intent for a message, from the model's ranking (``nlu_fallback`` ignored).

    ``ood_probability``: the out-of-domain detector's P(out), or None without a detector.
    """
    model = [e for e in ranking if e.get("name") and e.get("name") != FALLBACK]
    tier_of_rules = rule_tier(text, support)
    if not model:
        return GateDecision(
            current_intent, 0.0, None, False, "", 0.0, 0.0, False, rule_tier=tier_of_rules
        )
    top_name = str(model[0]["name"])
    top_conf = float(model[0].get("confidence") or 0.0)
    em_conf = next(
        (float(e.get("confidence") or 0.0) for e in model if e.get("name") == EMERGENCY), 0.0
    )
    supported = support.supports(text)
    supported_immediate = support.supports_immediate(text)
    top_five = tuple((str(e["name"]), float(e.get("confidence") or 0.0)) for e in model[:5])
    detector_says_out = (
        ood_probability is not None
        and settings.ood_threshold > 0.0
        and ood_probability >= settings.ood_threshold
    )

    def out(
        intent: str, confidence: float, tier: str | None, by_detector: bool = False
    ) -> GateDecision:
        return GateDecision(
            intent=intent,
            confidence=confidence,
            tier=tier,
            changed=intent != current_intent,
            model_intent=top_name,
            model_confidence=top_conf,
            emergency_confidence=em_conf,
            supported=supported,
            model_ranking=top_five,
            supported_immediate=supported_immediate,
            ood_probability=ood_probability,
            by_detector=by_detector,
            rule_tier=tier_of_rules,
        )

    if top_name == EMERGENCY:
        if supported_immediate and em_conf >= settings.immediate_confidence:
            return out(EMERGENCY, em_conf, IMMEDIATE)
        if supported or em_conf >= settings.unsupported_confidence:
            return out(EMERGENCY, em_conf, ASK)
        # no word of danger and not even fairly sure: not worth the question
        return out(settings.low_confidence_intent, 1.0 - em_conf, None)
    if supported and em_conf >= settings.ask_confidence:
        return out(EMERGENCY, em_conf, ASK)
    threshold = settings.thresholds.get(top_name, settings.default_threshold)
    if current_intent == top_name and top_conf < threshold:
        return out(settings.low_confidence_intent, 1.0 - top_conf, None)
    # a word of either list protects the message from the detector; an ask_only word (never
    # a word of groups) stops protecting it when the detector is very sure
    protected = supported and (
        supported_immediate
        or settings.ood_ask_only_threshold <= 0.0
        or (ood_probability or 0.0) < settings.ood_ask_only_threshold
    )
    if (
        detector_says_out
        and not protected
        and current_intent not in NEVER_TURNED_AWAY
        and current_intent != settings.low_confidence_intent
    ):
        return out(settings.low_confidence_intent, float(ood_probability or 0.0), None, True)
    return out(current_intent, top_conf if current_intent == top_name else 0.0, None)
