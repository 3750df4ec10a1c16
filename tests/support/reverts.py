"""The one way tests expect a revert: the decoded custom error's name and, optionally, some of its arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rwa.errors import ContractRevertError


def reverts(fn: Callable[[], Any], error: str, **expected: Any) -> ContractRevertError:
    """Call ``fn``; it must revert with custom error ``error`` whose arguments include ``expected``."""
    with pytest.raises(ContractRevertError) as info:
        fn()
    err = info.value
    assert err.error_name == error, f"reverted with {err.error_name}({err.error_args}), expected {error}"
    for name, value in expected.items():
        assert err.error_args.get(name) == value, f"{error}.{name} = {err.error_args.get(name)!r}, expected {value!r}"
    return err
