"""The clinic's own advice (knowledge/clinic_policy.yml): safety instructions no document gives.

A card cites an entry as a claim with `source: clinic_policy` and `policy: <id>`. The patient sees such a
sentence as "The clinic's advice: ...", never under a document's name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from knowledge.errors import CardError
from knowledge.yaml_lines import LineDict, LineList, load_yaml

PACKAGE_DIR = Path(__file__).resolve().parent
POLICY_FILE = PACKAGE_DIR / "clinic_policy.yml"
CLINIC_POLICY = "clinic_policy"  # the `source:` of a claim that is the clinic's own advice
_KEYS = {"id", "text", "basis", "approved_by", "approved_on"}


@dataclass(frozen=True)
class Policy:
    id: str
    text: str
    basis: str  # why the clinic says it (where the same advice lives elsewhere, e.g. the triage advice)
    approved_by: str | None  # None until the clinic approves it
    approved_on: dt.date | None
    line: int


def optional_date(value: object, path: Path, line: int, what: str) -> dt.date | None:
    """A YAML date (2026-12-01) or null."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    raise CardError(f"{what} must be a date like 2026-12-01, or null while pending", path, line)


def optional_name(value: object, path: Path, line: int, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise CardError(f"{what} must be the name of the clinician, or null while pending", path, line)


def load_policies(path: Path = POLICY_FILE) -> dict[str, Policy]:
    """Every entry of the clinic's policy file, validated (file and line on every problem)."""
    data = load_yaml(path, CardError)
    entries = data.get("policies") if isinstance(data, LineDict) else None
    if not isinstance(entries, LineList) or not entries:
        raise CardError("the clinic policy file needs `policies:`, a list of entries", path, 1)
    policies: dict[str, Policy] = {}
    for index, entry in enumerate(entries):
        line = entries.line_of(index)
        if not isinstance(entry, LineDict) or set(entry) - _KEYS or not {"id", "text", "basis"} <= set(entry):
            raise CardError(f"each policy needs {sorted(_KEYS)} (approved_* may be null)", path, line)
        for key in ("approved_by", "approved_on"):
            if key not in entry:
                raise CardError(f"policy has no `{key}` (write null while approval is pending)", path, line)
        policy_id, text = entry["id"], entry["text"]
        if not isinstance(policy_id, str) or not isinstance(text, str) or not text.strip():
            raise CardError("a policy needs a string `id` and non-empty `text`", path, line)
        if policy_id in policies:
            raise CardError(f"duplicate policy id {policy_id!r}", path, entry.line_of("id"))
        approved_by = optional_name(entry["approved_by"], path, entry.line_of("approved_by"), "approved_by")
        approved_on = optional_date(entry["approved_on"], path, entry.line_of("approved_on"), "approved_on")
        if (approved_by is None) != (approved_on is None):
            raise CardError("approved_by and approved_on go together (both set, or both null)", path, line)
        policies[policy_id] = Policy(policy_id, " ".join(text.split()), " ".join(str(entry["basis"]).split()),
                                     approved_by, approved_on, line)
    return policies
