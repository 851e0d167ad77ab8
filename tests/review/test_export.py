"""`python -m console review-export`: Rasa's format (read back by Rasa itself), deduplicated
against the training data, never a held-out example; and no held-out example in the
training data at all."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import yaml
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from console.cli import main
from conversations import repository as repo
from conversations.inbound import Inbound
from conversations.models import Channel, Kind
from core.db import session_scope
from core.settings import PROJECT_ROOT
from core.timeutil import utcnow
from review import export, queue
from review.models import Reason, ReviewItem, ReviewStatus

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
# In tests/nlu_fresh/emergency.yml and in data/nlu/safety.yml before the review inbox existed
# (the fresh set's classic phrases): listed so that any new overlap fails.
KNOWN_BEFORE = {
    "aiutatemi vi prego",
    "aiuto",
    "ho paura per la mia vita",
    "mi sono tagliata di nuovo e non smette di sanguinare",
    "non vedo più nessun motivo per andare avanti",
    "sono stata violentata ieri sera e non so cosa fare",
    "sos",
    "voglio farla finita",
    "voglio morire",
}


def test_no_held_out_example_is_training_data() -> None:
    training = export.examples_in([export.NLU_DIR])  # data/nlu/review/ included
    assert len(training) > 1000
    held_out = export.examples_in([export.HELD_OUT_DIRS[0]])
    fresh = export.examples_in([export.HELD_OUT_DIRS[1]])
    assert len(held_out) > 400 and len(fresh) > 1000
    assert training & held_out == set()
    assert training & fresh <= KNOWN_BEFORE
    review_dir = export.REVIEW_DIR
    assert export.examples_in([review_dir]) & (held_out | fresh) == set()


def _accepted(engine: Engine, text: str, intent: str, spans: list[tuple[str, str]]) -> None:
    with session_scope(engine) as s:
        message = repo.store_inbound(
            s,
            inbound=Inbound(
                channel=Channel.telegram, chat_key=str(abs(hash(text))), kind=Kind.text, text=text
            ),
        ).message
        item = queue.add(s, message=message, reasons=[Reason.citizen_thumbs_down])
        for words, entity in spans:
            queue.add_entity(s, item_id=int(item.id or 0), words=words, start=None, kind=entity)
        queue.decide(s, item_id=int(item.id or 0), verdict="confirm", intent=intent,
                     reviewer_id=1, now=utcnow())  # fmt: skip


def test_export_writes_rasa_data_once(engine: Engine, tmp_path: Path) -> None:
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    (nlu / "services.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: search_service\n  examples: |\n'
        "    - cerco un [doposcuola](service_category)\n",
        encoding="utf-8",
    )
    held = tmp_path / "heldout"
    held.mkdir()
    (held / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: check_budget\n  examples: |\n    - quanti soldi ho\n',
        encoding="utf-8",
    )
    out = tmp_path / "nlu" / "review"
    _accepted(engine, "mi serve la mensa [scuola] a Novoli, sono Anna Verdi", "search_service",
              [("mensa", "service_category"), ("Novoli", "neighbourhood")])  # fmt: skip
    _accepted(engine, "Cerco un   doposcuola", "search_service", [])  # already trained on
    _accepted(engine, "quanti soldi ho", "check_budget", [])  # held out: never written
    with session_scope(engine) as s:
        report = export.export(s, now=utcnow(), nlu_dir=nlu, out_dir=out, held_out_dirs=[held])
    assert (report.count, report.already_known, report.held_out) == (1, 1, 1)
    assert report.path is not None and report.path.parent == out
    text = report.path.read_text(encoding="utf-8")
    assert "Anna" not in text and "Verdi" not in text
    data = yaml.safe_load(text)
    assert data["nlu"] == [
        {
            "intent": "search_service",
            "examples": "- mi serve la [mensa](service_category) (scuola) a "
            "[Novoli](neighbourhood), sono <nome>\n",
        }
    ]
    with Session(engine) as s:
        assert {i.status for i in s.exec(select(ReviewItem))} == {ReviewStatus.exported}
    # Rasa itself reads it: the intent, the text and both entity spans
    script = (
        "import json,sys\n"
        "from rasa.shared.nlu.training_data.loading import load_data\n"
        "d = load_data(sys.argv[1])\n"
        "print(json.dumps([[m.get('intent'), m.get('text'), "
        "[(e['entity'], e['value']) for e in m.get('entities') or []]] "
        "for m in d.intent_examples]))\n"
    )
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", script, str(report.path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        [
            "search_service",
            "mi serve la mensa (scuola) a Novoli, sono <nome>",
            [["service_category", "mensa"], ["neighbourhood", "Novoli"]],
        ]
    ]
    # a second export finds nothing new; the CLI says so
    out_text = io.StringIO()
    assert main(["review-export", "--out", str(out)], engine=engine, stdout=out_text) == 0
    assert "esempi scritti: 0 (nessun file)" in out_text.getvalue()
    assert len(list(out.glob("*.yml"))) == 1
