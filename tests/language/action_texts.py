"""Every text the Rasa actions write to a citizen: the msgids of
locale/<code>/LC_MESSAGES/actions.po (actions/wording.py).

Gathered by reading the action modules (AST), so that a new text is asked for as soon as
it is written: the Italian strings marked ``N_("...")`` or passed straight to
``tr(language, "...")``; plus the texts of the domain packages the actions show as they
are (refusals of the ledger, vouchers and appointments, the linking outcomes, the status
labels, the reimbursement intake's questions, the search's notes), listed below.
``unmarked_texts`` finds the Italian sentences of the action modules that do not go through
the catalogue.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

from core.settings import PROJECT_ROOT

ACTIONS_DIR = PROJECT_ROOT / "actions"
MARKER = "N_"  # a msgid defined here, translated where it is sent
TRANSLATE = "tr"  # tr(language, msgid, **fields)

# modules of lower layers whose texts the actions show unchanged (tr(language, error.message))
ERROR_MODULES = ("welfare.ledger.errors", "welfare.ledger.linking", "welfare.vouchers",
                 "welfare.appointments")  # fmt: skip
LABELS = (("welfare.ledger.linking", "OUTCOME_MESSAGES"),
          ("welfare.models", "VOUCHER_STATUS_LABELS"),
          ("welfare.models", "REIMBURSEMENT_STATUS_LABELS"))  # fmt: skip
INTAKE_TEXTS = ("AMOUNT_NOT_UNDERSTOOD", "AMOUNT_ZERO", "AMOUNT_TOO_BIG", "DATE_NOT_UNDERSTOOD",
                "DATE_IN_FUTURE", "DATE_INVALID", "PROVIDER_TOO_SHORT",
                "BENEFICIARY_NOT_UNDERSTOOD", "DATE_TOO_OLD", "CHILD", "FAMILY")  # fmt: skip


def action_modules() -> list[Path]:
    return sorted(ACTIONS_DIR.glob("*.py"))


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _msgid_nodes(tree: ast.AST) -> Iterator[ast.expr]:
    """The argument that is the msgid of each N_(...) and tr(language, ...) call."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if name == MARKER and node.args:
            yield node.args[0]
        elif name == TRANSLATE and len(node.args) >= 2:
            yield node.args[1]


def action_msgids() -> Iterator[tuple[str, str]]:
    """(where, Italian text) for every msgid written in the action modules."""
    for path in action_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = f"actions.{path.stem}"
        for node in _msgid_nodes(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield where, node.value


def built_msgids() -> list[str]:
    """Places where a msgid is built at run time (an f-string, a concatenation): its
    translation could never be found, so it is a mistake."""
    problems = []
    for path in action_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _msgid_nodes(tree):
            if isinstance(node, ast.JoinedStr | ast.BinOp):
                problems.append(f"{path.name}:{node.lineno}")
    return problems


def domain_texts() -> Iterator[tuple[str, str]]:
    """(where, Italian text) for the lower layers' texts the actions show."""
    for name in ERROR_MODULES:
        module = importlib.import_module(name)
        for key, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, Exception)
                and value.__module__ == name
                and isinstance(vars(value).get("message"), str)
            ):
                yield f"{name}.{key}.message", vars(value)["message"]
    for name, key in LABELS:
        labels = getattr(importlib.import_module(name), key)
        for sub, text in labels.items():
            yield f"{name}.{key}[{sub}]", text
    intake = importlib.import_module("welfare.intake")
    for key in INTAKE_TEXTS:
        yield f"welfare.intake.{key}", getattr(intake, key)


def note_msgids() -> Iterator[tuple[str, str]]:
    """The msgids of the search's notes (``Note("...", **fields)`` in catalog/search.py)."""
    path = PROJECT_ROOT / "catalog" / "search.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and _name(node.func) == "Note" and node.args:
            first = node.args[0]
            for branch in (first.body, first.orelse) if isinstance(first, ast.IfExp) else (first,):
                if isinstance(branch, ast.Constant) and isinstance(branch.value, str):
                    yield "catalog.search.Note", branch.value


def action_texts() -> Iterator[tuple[str, str]]:
    yield from action_msgids()
    yield from domain_texts()
    yield from note_msgids()


# --- what does not go through the catalogue ---------------------------------------------------

_WORDS = (
    "il lo la gli le un una dei delle del della di da per con che non è sono ho hai ti mi "
    "ci puoi scrivi tocca grazie anche oppure quando dove questo questa più tuo tua tuoi "
    "servizio messaggio operatore scusa ecco ora chiedi"
)
_ITALIAN = frozenset(_WORDS.split())


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _ignored(tree: ast.AST) -> set[int]:
    """Strings that are not for citizens: logs, regular expressions, dict keys."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            owner = func.value if isinstance(func, ast.Attribute) else None
            logs_or_regex = isinstance(owner, ast.Name) and owner.id in {"logger", "re"}
            if logs_or_regex or _name(func) in {MARKER, TRANSLATE}:
                for sub in ast.walk(node):
                    ids.add(id(sub))
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                if key is not None:
                    ids.add(id(key))
    return ids


def unmarked_texts() -> list[str]:
    """Italian sentences of the action modules that are not msgids (file:line: text)."""
    found = []
    for path in action_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree) | _ignored(tree)
        for node in ast.walk(tree):
            if id(node) in skip or not isinstance(node, ast.Constant):
                continue
            if not isinstance(node.value, str):
                continue
            words = re.findall(r"[a-zà-ù']+", node.value.lower())
            if len(words) >= 2 and set(words) & _ITALIAN:
                found.append(f"{path.name}:{node.lineno}: {node.value[:60]!r}")
    return found
