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


_SWITCH = {"1": True, "on": True, "true": True, "yes": True, "0": False, "off": False, "false": False, "no": False}


def env_switch(name: str, default: bool) -> bool:
    """An on/off setting from the environment variable ``name`` (``default`` when unset or blank): 1/on/true/yes or
    0/off/false/no, any other value refused in one line naming the variable."""
    text = os.environ.get(name, "").strip().lower()
    if not text:
        return default
    if text not in _SWITCH:
        raise InputError(f"{name}={text!r}: not a switch (1/on/true/yes or 0/off/false/no)")
    return _SWITCH[text]
