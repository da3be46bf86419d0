"""`GET /`: the chat page and its files, served with a Content Security Policy that allows only them."""

from __future__ import annotations

import httpx
import pytest

from service.api.page import STATIC_DIR


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/", "text/html"), ("/static/app.js", "javascript"), ("/static/app.css", "text/css")],
)
async def test_page_files_carry_the_security_headers(client: httpx.AsyncClient, path: str, content_type: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert content_type in response.headers["content-type"]
    policy = response.headers["content-security-policy"]
    assert policy.startswith("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;")
    assert "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_the_page_has_no_inline_code_and_never_writes_html() -> None:
    """What the policy enforces in the browser, checked at the source: nothing inline, no HTML sinks."""
    page = (STATIC_DIR / "index.html").read_text()
    assert '<script src="/static/app.js" defer></script>' in page
    assert "<script>" not in page and "<style" not in page and " style=" not in page and " on" + "click=" not in page
    script = (STATIC_DIR / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script, sink


async def test_unknown_static_files_are_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/static/nope.js")).status_code == 404
    assert (await client.get("/static/../config.py")).status_code == 404
