"""Accepted review items -> Rasa NLU training data in ``data/nlu/review/``.

Each export writes one new file ``review-<UTC date>-<time>Z.yml`` (Rasa's YAML format, entity
spans as ``[words](entity)``), with the examples whose text is not already in the training
data (``data/nlu/``, earlier exports included) nor in a held-out set (``tests/nlu_heldout``,
``tests/nlu_fresh``): a held-out example is never trained on, or its figures would lie.
Every accepted item becomes ``exported``, written or skipped. The file holds masked text
only and no link to a conversation, a message or a reviewer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, col, select

from core.settings import PROJECT_ROOT
from review.models import ReviewItem, ReviewStatus

NLU_DIR = PROJECT_ROOT / "data" / "nlu"
REVIEW_DIR = NLU_DIR / "review"
HELD_OUT_DIRS = (PROJECT_ROOT / "tests" / "nlu_heldout", PROJECT_ROOT / "tests" / "nlu_fresh")
# Rasa's entity annotation: [words](entity), [words](entity:value), [words]{"entity": ...}
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def plain(example: str) -> str:
    """An example's words without annotations, lower case, single spaces: what compares."""
    return " ".join(ANNOTATION.sub(r"\1", example).lower().split())


def _examples(data: Any) -> Iterable[str]:
    for block in (data or {}).get("nlu") or [] if isinstance(data, dict) else []:
        if not isinstance(block, dict) or "intent" not in block:
            continue  # lookup tables, synonyms and regexes are not examples
        raw = block.get("examples")
        if isinstance(raw, str):
            for line in raw.splitlines():
                line = line.strip()
                if line.startswith("- "):
                    yield line[2:]


def examples_in(folders: Iterable[Path]) -> set[str]:
    """The plain text of every example in the YAML files under ``folders``."""
    found: set[str] = set()
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted([*folder.rglob("*.yml"), *folder.rglob("*.yaml")]):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            found.update(plain(e) for e in _examples(data))
    return found


def annotated(text: str, spans: list[dict[str, Any]]) -> str:
    """``text`` on one line, with its entity spans in Rasa's ``[words](entity)`` form."""
    out: list[str] = []
    last = 0

    def clean(piece: str) -> str:  # brackets would read as annotations
        return piece.replace("[", "(").replace("]", ")")

    for span in sorted(spans, key=lambda s: s["start"]):
        start, end = int(span["start"]), int(span["end"])
        if start < last or end > len(text):
            continue
        out.append(clean(text[last:start]))
        out.append(f"[{clean(text[start:end])}]({span['entity']})")
        last = end
    out.append(clean(text[last:]))
    return " ".join("".join(out).split())


@dataclass
class ExportReport:
    path: Path | None = None
    written: dict[str, list[str]] = field(default_factory=dict)  # intent -> examples
    already_known: int = 0
    held_out: int = 0

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.written.values())


def render(written: dict[str, list[str]]) -> str:
    lines = ['version: "3.1"', "# reviewed in the console («Revisione»): masked text", "nlu:"]
    for intent in sorted(written):
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {example}" for example in written[intent])
    return "\n".join(lines) + "\n"


def export(
    session: Session,
    *,
    now: datetime,
    nlu_dir: Path = NLU_DIR,
    out_dir: Path = REVIEW_DIR,
    held_out_dirs: Iterable[Path] = HELD_OUT_DIRS,
) -> ExportReport:
    """Write the accepted items (see the module's doc); the caller commits."""
    known = examples_in([nlu_dir, out_dir])
    held_out = examples_in(held_out_dirs)
    report = ExportReport()
    items = session.exec(
        select(ReviewItem)
        .where(ReviewItem.status == ReviewStatus.accepted)
        .order_by(col(ReviewItem.id))
    ).all()
    for item in items:
        example = annotated(item.masked_text, item.corrected_entities)
        key = plain(example)
        if key in held_out:
            report.held_out += 1
        elif not key or key in known:
            report.already_known += 1
        else:
            known.add(key)
            report.written.setdefault(item.corrected_intent, []).append(example)
        item.status = ReviewStatus.exported
        item.exported_at = now
        session.add(item)
    session.flush()
    if report.written:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"review-{now.astimezone(UTC):%Y%m%d-%H%M%S}Z.yml"
        path.write_text(render(report.written), encoding="utf-8")
        report.path = path
    return report
