"""The ``pair`` fixture: two fresh network namespaces joined by a veth (see netns_lab.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .netns_lab import NetnsPair, open_pair


@pytest.fixture
def pair() -> Iterator[NetnsPair]:
    with open_pair() as p:
        yield p
