"""Start-up patch: check action server responses against a schema validator built once, not once per call.

What Rasa does: `RemoteAction._validate_action_result` (rasa/core/actions/action.py, Rasa 3.6) calls
`jsonschema.validate(result, schema)` on every action server response. `jsonschema.validate` first checks the
schema itself against its meta-schema and builds a new validator each time; under load that was about 48% of
the Rasa server's CPU (py-spy, 32 concurrent conversations; see docs/scaling.md).

What the clinic needs: the same check (same schema, `RemoteAction.action_response_format_spec()`, the same
`jsonschema.ValidationError` with the same best-match error and Rasa's hint appended) without the repeated
meta-schema check. The validator is built on first use and kept; the schema is static in Rasa.

Test: tests/unit/test_action_validation.py (an invalid response is still rejected, a valid one accepted).
"""
from __future__ import annotations

import functools
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_HINT = (". Failed to validate Action server response from API, make sure your response from the Action "
         f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions")


@functools.lru_cache(maxsize=1)
def response_validator() -> Any:
    """The validator for Rasa's action response schema, checked against its meta-schema once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's `_validate_action_result` with the validator built once: True, or raise ValidationError."""
    error = best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += _HINT
        raise error
    return True


def apply() -> None:
    """Replace RemoteAction._validate_action_result with the cached-validator version."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


__all__ = ["ValidationError", "apply", "response_validator", "validate_action_result"]
