"""Settings read from the environment: each one checked, and refused in one line naming its variable."""

from __future__ import annotations

import math
import os
from typing import Any

from rwa.errors import InputError


def env_number(name: str, kind: type[int] | type[float], default: float, minimum: float = 0) -> Any:
    """A numeric setting from the environment variable ``name`` (``default`` when unset or blank): a value that is no
    finite number of ``kind``, or is below ``minimum``, is refused in one line naming the variable."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise InputError(f"{name}={text!r}: not a {'whole ' if kind is int else ''}number") from None
    if not math.isfinite(value) or value < minimum:
        raise InputError(f"{name}={text!r}: must be a finite number of {minimum} or more")
    return value
