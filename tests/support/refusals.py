"""The bad requests real StackStorm refuses, with its answers (tests/data/st2_refusals.json), sent to a
server (the demo, or a real st2) over plain httpx."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

TABLE = json.loads((Path(__file__).resolve().parent.parent / "data" / "st2_refusals.json").read_text())
CASES: list[dict[str, Any]] = TABLE["cases"]


def case_id(case: dict[str, Any]) -> str:
    body = f" {json.dumps(case['body'], separators=(',', ':'))}" if "body" in case else ""
    return f"{case['method']} {case['path']}{body}"


def answer(client: httpx.Client, case: dict[str, Any]) -> tuple[int, str | None]:
    """(status, faultstring) of one case; `client` has the server's base URL and a token."""
    response = client.request(case["method"], case["path"], json=case.get("body"))
    try:
        doc = response.json()
    except ValueError:
        return response.status_code, response.text[:200]
    return response.status_code, doc.get("faultstring") if isinstance(doc, dict) else None
