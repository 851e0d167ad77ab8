"""What the review pages show: rows of the queue, and one message's parts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from review import queue
from review.masking import PLACEHOLDER
from review.models import Reason, ReviewItem, ReviewStatus

REASON_LABELS: dict[str, str] = {
    Reason.low_confidence: "Poco sicuro",
    Reason.two_stage: "Ha chiesto «Intendevi...?»",
    Reason.not_understood: "Non ha capito: passato a un operatore",
    Reason.out_of_scope: "Risposto «fuori tema»",
    Reason.citizen_thumbs_down: "Il cittadino ha detto che la risposta era sbagliata",
    Reason.staff_marked: "Segnalato da un operatore",
}
STATUS_LABELS: dict[str, str] = {
    ReviewStatus.pending: "Da rivedere",
    ReviewStatus.accepted: "Pronti per l'esportazione",
    ReviewStatus.exported: "Esportati",
    ReviewStatus.discarded: "Scartati",
}
VERDICT_LABELS = {
    "confirm": "Conferma l'intento scelto",
    "out_of_scope": "Fuori tema",
    "discard": "Scarta",
}


@dataclass(frozen=True)
class Row:
    item: ReviewItem
    reasons: list[str]
    confidence: str


def percent(value: float | None) -> str:
    return "-" if value is None else f"{round(value * 100)}%"


def queue_rows(session: Session) -> tuple[list[Row], list[tuple[str, int]]]:
    rows = [
        Row(i, [REASON_LABELS.get(r, r) for r in i.reasons], percent(i.confidence))
        for i in queue.pending(session)
    ]
    counts = queue.counts(session)
    return rows, [(STATUS_LABELS[s], counts.get(s, 0)) for s in STATUS_LABELS]


def pieces(text: str, spans: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The text cut into (kind, words): "" plain, "mask" a placeholder, else an entity."""
    marks = [(s["start"], s["end"], s["entity"]) for s in spans]
    marks += [(m.start(), m.end(), "mask") for m in PLACEHOLDER.finditer(text)]
    out: list[tuple[str, str]] = []
    last = 0
    for start, end, kind in sorted(marks):
        if start < last:
            continue
        out.append(("", text[last:start]))
        out.append((kind, text[start:end]))
        last = end
    out.append(("", text[last:]))
    return [p for p in out if p[1]]


def item_context(session: Session, *, item_id: int) -> dict[str, Any] | None:
    view = queue.view(session, item_id=item_id)
    if view is None:
        return None
    item = view.item
    return {
        "item": item,
        "pieces": pieces(view.masked_text, item.corrected_entities),
        "confidence": percent(item.confidence),
        "ranking": [(r.get("name"), percent(r.get("confidence"))) for r in item.ranking],
        "reasons": [REASON_LABELS.get(r, r) for r in item.reasons],
        "next_turns": view.next_turns,
        # what the model found, only where the words are still in the masked text
        "model_entities": [e for e in item.entities if str(e.get("value")) in view.masked_text],
        "status_label": STATUS_LABELS[ReviewStatus(item.status)],
        "editable": item.status != ReviewStatus.exported,
    }
