"""A real StackStorm, when one is given: ST2TUI_REAL_ST2_URL (the nginx-style base URL that serves
/auth/v1, /api/v1 and /stream/v1, e.g. http://127.0.0.1:9080) with ST2TUI_REAL_ST2_USER (default
st2admin) and ST2TUI_REAL_ST2_PASSWORD. Without them every test here is skipped, saying so."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

SKIP_REASON = (
    "no real StackStorm given: set ST2TUI_REAL_ST2_URL (e.g. http://127.0.0.1:9080, serving /auth/v1, "
    "/api/v1, /stream/v1) and ST2TUI_REAL_ST2_PASSWORD (user: ST2TUI_REAL_ST2_USER, default st2admin); "
    "README 'Tested against StackStorm' says how to run one"
)


@dataclass(frozen=True)
class RealSt2:
    base_url: str
    username: str
    password: str

    @property
    def auth_url(self) -> str:
        return f"{self.base_url}/auth/v1"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v1"

    @property
    def stream_url(self) -> str:
        return f"{self.base_url}/stream/v1"


@pytest.fixture(scope="session")
def real_st2() -> RealSt2:
    url = os.environ.get("ST2TUI_REAL_ST2_URL")
    password = os.environ.get("ST2TUI_REAL_ST2_PASSWORD")
    if not url or not password:
        pytest.skip(SKIP_REASON)
    return RealSt2(url.rstrip("/"), os.environ.get("ST2TUI_REAL_ST2_USER", "st2admin"), password)
