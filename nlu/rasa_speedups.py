"""Removes measured waste from Rasa 3.6's hot path, without changing what Rasa does.

Applied by ``nlu.rasa_main`` (the way we start ``rasa run``) before Rasa's own ``main``.

- **Action-server answers validated against a schema checked once.** For every custom action
  Rasa calls ``jsonschema.validate(result, RemoteAction.action_response_format_spec())``.
  ``validate`` first checks the *schema* against its meta-schema (draft 2020-12, whose
  ``$dynamicRef`` makes that slow in jsonschema 4.17), then the answer. py-spy on the gateway
  bench put 47 % of Rasa's CPU in that schema check (bench/rasa_turn_bench.py and
  docs/performance.md have the figures). The schema is a constant of Rasa's, so here it is
  checked once and one validator is reused; answers are validated exactly as before
  (``best_match`` of ``iter_errors``, the same message appended on failure).

Each patch checks that what it replaces is what it expects and otherwise leaves Rasa as it
is, with a warning: a Rasa upgrade cannot silently break validation.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

_APPLIED: list[str] = []


def _patch_action_result_validation() -> bool:
    from jsonschema import exceptions, validators
    from rasa.core.actions import action as rasa_action
    from rasa.shared.constants import DOCS_BASE_URL

    remote = rasa_action.RemoteAction
    if not callable(getattr(remote, "_validate_action_result", None)) or not callable(
        getattr(remote, "action_response_format_spec", None)
    ):
        log.warning("rasa_speedups: RemoteAction changed; action validation left as it is")
        return False
    schema = remote.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)  # what jsonschema.validate did on every call
    validator = validator_class(schema)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        error = exceptions.best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    remote._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    return True


def apply() -> list[str]:
    """Applies every speed-up once; returns the names of those in effect."""
    if not _APPLIED and _patch_action_result_validation():
        _APPLIED.append("action-result-validation")
    return list(_APPLIED)
