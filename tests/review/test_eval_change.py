"""`make eval`'s before and after: the previous held-out summary beside this one."""

from __future__ import annotations

import json
from pathlib import Path

from devtools import eval_change


def test_before_and_after(tmp_path: Path) -> None:
    assert eval_change.previous(tmp_path) is None
    assert eval_change.lines(None, {"macro_f1": 0.9}) == []
    before = {
        "kind": "heldout",
        "macro_f1": 0.8512,
        "weighted_f1": 0.87,
        "accuracy": 0.88,
        "emergency_recall": None,
        "entity_micro_f1": 0.9,
        "extra": {"review_examples": 0},
    }
    (tmp_path / "summary.json").write_text(json.dumps(before), encoding="utf-8")
    loaded = eval_change.previous(tmp_path)
    assert loaded == before
    nlu = tmp_path / "nlu"
    (nlu / "review").mkdir(parents=True)
    (nlu / "review" / "review-1.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: search_service\n  examples: |\n'
        "    - non riesco a pagare le bollette\n    - serve una [mensa](service_category)\n",
        encoding="utf-8",
    )
    after = {**before, "macro_f1": 0.8623, "extra": {"review_examples": 0}}
    after["extra"]["review_examples"] = eval_change.review_examples(nlu)
    text = "\n".join(eval_change.lines(loaded, after))
    assert "macro-F1          0.851 -> 0.862  (+0.011)" in text
    assert "emergency recall  - -> -" in text
    assert "reviewed examples 0 -> 2" in text
    (tmp_path / "summary.json").write_text(json.dumps({"kind": "cross-validation"}))
    assert eval_change.previous(tmp_path) is None
