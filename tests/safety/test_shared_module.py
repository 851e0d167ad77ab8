"""nlu/safety_rules.py is loaded by both runtimes: it may import only stdlib and PyYAML."""

import ast
import sys

from care import safety
from core.settings import PROJECT_ROOT
from nlu import safety_rules


def test_safety_rules_import_only_stdlib_and_yaml() -> None:
    tree = ast.parse((PROJECT_ROOT / "nlu" / "safety_rules.py").read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    foreign = {m for m in imported if m not in sys.stdlib_module_names and m != "yaml"}
    assert not foreign, f"nlu/safety_rules.py must stay loadable by both runtimes: {foreign}"


def test_gateway_uses_the_shared_rules() -> None:
    assert safety.detect is safety_rules.detect
    assert safety.detect("mio marito mi picchia") is not None
