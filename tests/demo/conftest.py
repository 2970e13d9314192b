from __future__ import annotations

import pytest

from demo import DemoSite


@pytest.fixture(scope="session")
def demo_site():
    with DemoSite(seed=2026) as site:
        yield site
