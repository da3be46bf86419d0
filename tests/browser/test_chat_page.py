"""The chat page in a real browser: sign-in, streamed chat, tool chips, the todo panel, errors, XSS."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Dialog, Page, Route, expect

from service.__main__ import DEV_USER
from tests.api.helpers import PacedModel
from tests.browser.conftest import needs_chromium
from tests.scripted_model import ModelSlot

pytestmark = needs_chromium

ROOT = Path(__file__).resolve().parents[2]
# One folder per database: `make test` runs the SQLite and PostgreSQL suites at the same time.
SCREENSHOT = (
    ROOT / "reports" / "browser" / ("postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite") / "chat-page.png"
)
README_SCREENSHOT = ROOT / "docs" / "screenshot.png"

# Records every text the newest answer bubble shows, so a test can tell a streamed answer from a pasted one.
WATCH_ANSWERS = """() => {
  window.answerTexts = [];
  const record = () => {
    const bubbles = document.querySelectorAll(".msg.assistant .bubble");
    const text = bubbles.length ? bubbles[bubbles.length - 1].textContent : "";
    if (window.answerTexts[window.answerTexts.length - 1] !== text) window.answerTexts.push(text);
  };
  new MutationObserver(record).observe(document.getElementById("messages"),
    {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture
def model_provider() -> ModelSlot:
    """The app's models: the offline model until a test puts another in the slot."""
    return ModelSlot()


@pytest.fixture
def paced_model(model_provider: ModelSlot) -> None:
    """Deltas far enough apart for the page to draw each one."""
    model_provider.model = PacedModel(pause_s=0.04)


def collect_dialogs(page: Page) -> list[str]:
    dialogs: list[str] = []

    async def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    return dialogs


async def say(page: Page, text: str) -> None:
    """Types a message and sends it with Enter, then waits for the answer to finish."""
    answers = page.locator(".msg.assistant")
    before = await answers.count()
    await page.locator("#message-input").fill(text)
    await page.locator("#message-input").press("Enter")
    await expect(answers).to_have_count(before + 1)
    await expect(page.locator("#send")).to_be_enabled()


async def test_chat_with_the_agent_and_tick_a_todo(paced_model: None, page: Page, base_url: str, token: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    response = await page.goto(f"{base_url}/#token={token}")
    assert response is not None and response.ok
    assert "script-src 'self'" in (await response.all_headers())["content-security-policy"]
    await expect(page.locator("#app")).to_be_visible()
    assert "token" not in page.url  # the fragment is cleared once read

    await say(page, "add buy milk")
    answer = page.locator(".msg.assistant .bubble").last
    await expect(answer).to_have_text('Added "Buy milk".')
    chip = page.locator(".msg.assistant .chip").last
    await expect(chip).to_contain_text("add_todo")
    await expect(chip).to_contain_text("Buy milk")
    await expect(chip).to_have_class(re.compile(r"\bok\b"))
    await expect(page.locator(".msg.assistant .badge").last).to_have_text("offline model")
    await expect(page.locator("#model-badge")).to_be_visible()

    todo = page.locator("#todo-list li", has_text="Buy milk")
    await expect(todo).to_be_visible()
    await todo.get_by_role("checkbox").check()
    await expect(todo).to_have_class(re.compile(r"\bdone\b"))
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as api:
        todos = (await api.get(f"/api/{DEV_USER}/todos")).json()["todos"]
    assert [(t["title"], t["completed"]) for t in todos] == [("Buy milk", True)]

    await page.evaluate(WATCH_ANSWERS)
    await say(page, "what's done?")
    done = page.locator(".msg.assistant .bubble").last
    await expect(done).to_contain_text("Buy milk")
    # The answer grew delta by delta: the page showed a part of it before the whole.
    final, texts = await done.text_content(), await page.evaluate("window.answerTexts")
    assert final and any(t and t != final and final.startswith(t) for t in texts), texts
    await expect(page.locator(".msg.assistant .chip").last).to_contain_text("list_todos")

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.locator("#message-input").blur()
    await page.screenshot(path=str(SCREENSHOT))
    if os.environ.get("UPDATE_README_SCREENSHOT"):  # opt-in: a test run must not dirty the checkout
        shutil.copyfile(SCREENSHOT, README_SCREENSHOT)

    await page.reload()
    conversation = page.locator("#conversation-list li")
    await expect(conversation).to_have_count(1)
    await expect(conversation).to_contain_text("add buy milk")
    await expect(conversation).to_have_class(re.compile(r"\bactive\b"))
    # The open conversation is drawn again from its history, tool chips included.
    await expect(page.locator(".msg.user")).to_have_count(2)
    await expect(page.locator(".chip")).to_have_count(2)
    await expect(page.locator("#todo-list li.done")).to_have_count(1)

    assert errors == []


async def test_markup_in_a_message_is_shown_as_text(page: Page, base_url: str, token: str) -> None:
    dialogs = collect_dialogs(page)
    await page.goto(f"{base_url}/#token={token}")
    payload = "<img src=x onerror=alert(1)>"

    await say(page, payload)
    await expect(page.locator(".msg.user .bubble")).to_have_text(payload)
    await expect(page.locator("#conversation-list li").first).to_contain_text(payload)
    await page.reload()  # and again when drawn from the stored history
    await expect(page.locator(".msg.user .bubble")).to_have_text(payload)

    assert await page.locator("#messages img, #conversation-list img").count() == 0
    assert dialogs == []


async def test_sign_in_with_a_pasted_token_and_out(
    page: Page, base_url: str, token: str, make_token: Callable[..., str]
) -> None:
    await page.goto(base_url)
    await expect(page.locator("#sign-in")).to_be_visible()

    expired = make_token(DEV_USER, timedelta(minutes=-5))
    await page.locator("#token-input").fill(expired)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#sign-in-error")).to_contain_text("expired")

    await page.locator("#token-input").fill("not a token")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#sign-in-error")).to_contain_text("does not look like a token")

    await page.locator("#token-input").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#app")).to_be_visible()
    await expect(page.locator("#no-todos")).to_be_visible()

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.locator("#sign-in")).to_be_visible()
    await page.reload()
    await expect(page.locator("#sign-in")).to_be_visible()


async def test_rename_and_delete_a_conversation(page: Page, base_url: str, token: str) -> None:
    dialogs = collect_dialogs(page)
    await page.goto(f"{base_url}/#token={token}")
    await say(page, "hello")
    item = page.locator("#conversation-list li")
    await expect(item).to_have_count(1)

    await item.hover()  # with a mouse, a row's actions show on hover
    await item.get_by_role("button", name=re.compile("^Rename")).click()
    await item.get_by_role("textbox").fill("Groceries")
    await item.get_by_role("textbox").press("Enter")
    await expect(item.locator(".open")).to_have_text("Groceries")

    await page.get_by_role("button", name="New chat").click()
    await expect(page.locator(".msg")).to_have_count(0)
    await page.locator("#conversation-list .open").click()
    await expect(page.locator(".msg.user .bubble")).to_have_text("hello")

    await item.hover()
    delete = item.get_by_role("button", name=re.compile("^Delete"))
    await delete.click()
    await expect(delete).to_have_text("Delete?")
    await delete.click()
    await expect(item).to_have_count(0)
    await expect(page.locator("#no-conversations")).to_be_visible()
    await expect(page.locator(".msg")).to_have_count(0)
    assert dialogs == []


@pytest.mark.parametrize(
    ("status", "headers", "body", "shown"),
    [
        (429, {"Retry-After": "7"}, '{"error": {"code": "rate_limited", "message": "slow down"}}', "Try again in 7 s"),
        (503, {}, '{"error": {"code": "unavailable", "message": "the database is down"}}', "unavailable right now"),
        (0, {}, "", "Cannot reach the service"),
    ],
)
async def test_failures_are_explained(
    page: Page, base_url: str, token: str, status: int, headers: dict[str, str], body: str, shown: str
) -> None:
    async def fail(route: Route) -> None:
        if status == 0:
            await route.abort("connectionrefused")
        else:
            await route.fulfill(status=status, headers=headers, content_type="application/json", body=body)

    await page.goto(f"{base_url}/#token={token}")
    await page.route("**/chat/stream", fail)
    await say(page, "add buy milk")
    failed = page.locator(".msg.assistant.failed .bubble")
    await expect(failed).to_contain_text(shown)
    await expect(page.locator("#app")).to_be_visible()


async def test_an_expired_session_goes_back_to_sign_in(page: Page, base_url: str, token: str) -> None:
    await page.goto(f"{base_url}/#token={token}")
    await expect(page.locator("#app")).to_be_visible()
    body = '{"error": {"code": "unauthorized", "message": "token expired"}}'
    await page.route(
        "**/chat/stream", lambda route: route.fulfill(status=401, content_type="application/json", body=body)
    )
    await page.locator("#message-input").fill("add buy milk")
    await page.locator("#message-input").press("Enter")
    await expect(page.locator("#sign-in")).to_be_visible()
    await expect(page.locator("#sign-in-error")).to_contain_text("session has expired")


async def test_shift_enter_is_a_new_line_and_a_phone_sees_the_panels(
    browser: Browser, base_url: str, token: str
) -> None:
    context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await page.goto(f"{base_url}/#token={token}")
    composer = page.locator("#message-input")
    await composer.fill("add buy milk")
    await composer.press("Shift+Enter")
    await composer.type("and eggs")
    assert await composer.input_value() == "add buy milk\nand eggs"
    await expect(page.locator(".msg")).to_have_count(0)
    await composer.fill("put milk and eggs on my list")
    await composer.press("Enter")
    await expect(page.locator(".msg.assistant .bubble")).to_contain_text("Added 2 todos")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT.with_name("chat-page-phone.png")))

    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    for button in ("Chats", "Todos", "Sign out"):  # the whole bar fits
        box = await page.get_by_role("button", name=button).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, button
    await expect(page.locator("#todos")).to_be_hidden()
    await page.get_by_role("button", name="Todos").click()
    await expect(page.locator("#todos")).to_be_visible()
    await expect(page.locator("#todo-list li")).to_have_count(2)
    await page.get_by_role("button", name="Chats").click()
    await expect(page.locator("#todos")).to_be_hidden()
    await expect(page.locator("#conversation-list li")).to_have_count(1)
    await context.close()
