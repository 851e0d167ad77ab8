"""Run by .venv-rasa's Python (not by pytest): answers for the Rasa-side safety code.

    python tests/safety/rasa_side.py rules     < texts.json   -> [{"kind", "rule"} | null, ...]
    python tests/safety/rasa_side.py component < texts.json   -> [parse data, ...]
    python tests/safety/rasa_side.py files     < globs.json   -> [{"files", "fingerprint"}, ...]
    python tests/safety/rasa_side.py stored    < texts.json   -> {"now": [...], "old": [...]}
    python tests/safety/rasa_side.py pipeline  < texts.json   -> [parse data, ...]

(`pipeline`: the IntentGate, then the SafetyNet, both with what training stores in the
model, on a message DIET read as a search: the tier a rule's match gets inside Rasa.)

(`files`: for each `patterns` setting, null for the default config, the rules files the
component reads and its fingerprint addon.)

Imports only the Rasa side (nlu/), never the 3.11 side.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def rules(texts: list[str]) -> list[dict[str, str] | None]:
    from nlu.safety_rules import default_rules

    out: list[dict[str, str] | None] = []
    for text in texts:
        match = default_rules().detect(text)
        out.append(None if match is None else {"kind": match.kind, "rule": match.rule})
    return out


def files(patterns: list[str | None]) -> list[dict[str, object]]:
    from nlu.safety_net import SafetyNet, patterns_paths

    out: list[dict[str, object]] = []
    for pattern in patterns:
        config = {} if pattern is None else {"patterns": pattern}
        out.append(
            {
                "files": [str(path) for path in patterns_paths(config)],
                "fingerprint": SafetyNet.fingerprint_addon(config),
            }
        )
    return out


def stored(texts: list[str]) -> dict[str, list[object]]:
    """train() into a model storage and load() back, as a real training and serving do;
    and a model stored before the rules came one file a language (one spec, Italian)."""
    import tempfile

    import yaml
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from nlu import stored_spec
    from nlu.safety_net import RULES_FILE_NAME, SafetyNet

    config = SafetyNet.get_default_config()
    context = ExecutionContext(GraphSchema({}), "safety-test")
    out: dict[str, list[object]] = {}
    with tempfile.TemporaryDirectory() as directory:
        storage = LocalModelStorage(Path(directory))
        current, old = Resource("safety_net_now"), Resource("safety_net_old")
        SafetyNet.create(config, storage, current, context).train(TrainingData())
        italian = yaml.safe_load((ROOT / "data/safety/emergency_patterns.yml").read_text())
        stored_spec.store(storage, old, RULES_FILE_NAME, italian)
        for name, resource in (("now", current), ("old", old)):
            net = SafetyNet.load(config, storage, resource, context)
            messages = [Message({"text": text}) for text in texts]
            net.process(messages)
            out[name] = [
                None if m.get("safety_net") is None else m.get("safety_net")["rule"]
                for m in messages
            ]
    return out


def _messages(texts: list[str], confidences: dict[str, float]) -> list[Any]:
    """One Rasa message a text, as DIET leaves it: ``confidences`` as the ranking, its
    first intent the message's intent."""
    from rasa.shared.nlu.training_data.message import Message

    messages = []
    for text in texts:
        ranking = [{"name": name, "confidence": value} for name, value in confidences.items()]
        message = Message({"text": text})
        message.set("intent", ranking[0], add_to_output=True)
        message.set("intent_ranking", ranking, add_to_output=True)
        messages.append(message)
    return messages


def _safety_net() -> Any:
    """The SafetyNet component with its default rules files, as train() stores them."""
    from nlu.safety_net import SafetyNet, patterns_paths, stored_rules

    config = {**SafetyNet.get_default_config()}
    spec = stored_rules(patterns_paths(config))  # what train() stores in the model
    return SafetyNet(config, model_storage=None, resource=None, spec=spec)  # type: ignore[arg-type]


def component(texts: list[str]) -> list[dict[str, object]]:
    messages = _messages(texts, {"search_service": 0.7, "emergency": 0.2, "greet": 0.1})
    _safety_net().process(messages)
    return [m.as_dict(only_output_properties=True) for m in messages]


def pipeline(texts: list[str]) -> list[dict[str, object]]:
    from nlu import stored_spec
    from nlu.gate_rules import merge_specs, support_files
    from nlu.intent_gate import IntentGate

    gate_config = IntentGate.get_default_config()
    gate_spec = merge_specs(stored_spec.read_source(path) for path in support_files())
    gate = IntentGate(gate_config, model_storage=None, resource=None, spec=gate_spec)  # type: ignore[arg-type]
    messages = _messages(texts, {"search_service": 0.9, "emergency": 0.05, "greet": 0.05})
    _safety_net().process(gate.process(messages))
    return [m.as_dict(only_output_properties=True) for m in messages]


if __name__ == "__main__":
    texts = json.load(sys.stdin)
    modes = {
        "rules": rules,
        "component": component,
        "files": files,
        "stored": stored,
        "pipeline": pipeline,
    }
    print(json.dumps(modes[sys.argv[1]](texts)))
