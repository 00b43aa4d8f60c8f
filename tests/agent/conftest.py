"""The listener tests share one throwaway PKI per test module."""

from __future__ import annotations

import pytest

from support.listener_pki import Pki, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))
