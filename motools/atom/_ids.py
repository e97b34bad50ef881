"""The atom id rule: one strict pattern, checked before an id ever touches a path."""

from __future__ import annotations

import re

from motools._errors import InvalidAtomIdError

# `<type>-<full sha256 hex>`: 256 bits, so no birthday collision at any realistic scale. The type is
# lower-case letters, digits and underscores, so an id can hold no `/`, `.` or `..`.
ATOM_ID_PATTERN = re.compile(r"^([a-z][a-z0-9_]{0,31})-([0-9a-f]{64})$")
ATOM_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def check_atom_id(atom_id: object) -> str:
    """Return `atom_id` if it is a well-formed atom id, else raise InvalidAtomIdError."""
    if not isinstance(atom_id, str) or not ATOM_ID_PATTERN.fullmatch(atom_id):
        shown = repr(atom_id)[:80]
        raise InvalidAtomIdError(
            f"invalid atom id {shown}: expected '<type>-<64 hex digits>', e.g. 'dataset-3fa9…'"
        )
    return atom_id


def check_atom_type(atom_type: object) -> str:
    """Return `atom_type` if it is a valid type name (lower-case letters, digits, `_`)."""
    if not isinstance(atom_type, str) or not ATOM_TYPE_PATTERN.fullmatch(atom_type):
        raise InvalidAtomIdError(
            f"invalid atom type {atom_type!r}: use lower-case letters, digits and '_' "
            "(e.g. dataset, model, eval, training_job, task)"
        )
    return atom_type


def atom_type_of(atom_id: str) -> str:
    """The type part of a well-formed atom id."""
    return check_atom_id(atom_id).rsplit("-", 1)[0]
