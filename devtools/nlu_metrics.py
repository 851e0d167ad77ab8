"""Reading Rasa NLU YAML test data and scoring intent predictions (no Rasa import).

Used by the NLU floor test (predictions from a running Rasa's /model/parse) and by
devtools.evaluate (which reads Rasa's own reports).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

# [text](entity), [text]{"entity": ...}, [text][{...}]
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\}|\[[^\]]*\])")


@dataclass(frozen=True)
class Example:
    text: str
    intent: str


def strip_annotations(text: str) -> str:
    return _ANNOTATION.sub(r"\1", text)


def load_examples(path: Path) -> list[Example]:
    """The (text, intent) pairs of a Rasa YAML NLU file (entity markup removed)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples: list[Example] = []
    for block in data.get("nlu") or []:
        intent = block.get("intent")
        if not intent:
            continue
        raw = block.get("examples") or ""
        lines = raw if isinstance(raw, list) else raw.splitlines()
        for line in lines:
            text = line.get("text", "") if isinstance(line, dict) else str(line)
            text = text.strip()
            if text.startswith("- "):
                text = text[2:]
            if text:
                examples.append(Example(strip_annotations(text).strip(), intent))
    return examples


@dataclass(frozen=True)
class LabelScore:
    precision: float
    recall: float
    f1: float
    support: int


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def score_intents(gold: list[str], predicted: list[str]) -> dict[str, LabelScore]:
    """Precision, recall and F1 of every gold label (a predicted nlu_fallback is an error)."""
    true_pos: Counter[str] = Counter()
    pred_count: Counter[str] = Counter(predicted)
    gold_count: Counter[str] = Counter(gold)
    for g, p in zip(gold, predicted, strict=True):
        if g == p:
            true_pos[g] += 1
    scores: dict[str, LabelScore] = {}
    for label in sorted(gold_count):
        precision = _ratio(true_pos[label], pred_count[label])
        recall = _ratio(true_pos[label], gold_count[label])
        f1 = _ratio(int(2 * precision * recall * 1e9), int((precision + recall) * 1e9))
        scores[label] = LabelScore(precision, recall, f1, gold_count[label])
    return scores


def macro_f1(scores: dict[str, LabelScore]) -> float:
    return sum(s.f1 for s in scores.values()) / len(scores) if scores else 0.0


def weighted_f1(scores: dict[str, LabelScore]) -> float:
    total = sum(s.support for s in scores.values())
    return sum(s.f1 * s.support for s in scores.values()) / total if total else 0.0
