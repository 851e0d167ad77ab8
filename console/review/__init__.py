"""The review inbox in the console: «Revisione» at /revisione, for the nlu_reviewer role.

The queue of citizen messages the assistant may have misunderstood (review.queue); each
message's page shows its masked text, what the model understood and the next turns, and lets
the reviewer hide more of the text, mark entity spans, and confirm, correct, mark out of
scope or discard. ``python -m console review-export`` writes the accepted examples.
"""

from __future__ import annotations

from pathlib import Path

from console.navigation import Section
from console.review.routes import AUDIT_LABELS, ROLES, router

SECTION = Section(
    key="review",
    label="Revisione",
    path="/revisione",
    roles=ROLES,
    router=router,
    templates_dir=Path(__file__).parent / "templates",
    description="I messaggi che l'assistente potrebbe aver capito male: correggili per "
    "insegnargli a capire meglio.",
    order=60,
    audit_labels=AUDIT_LABELS,
)
