"""The chat page's Approve / Reject on a paused turn and Undo on a turn that changed something, in Chromium."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, expect

from service.__main__ import DEV_USER
from tests.browser.conftest import needs_chromium
from tests.browser.test_chat_page import say

pytestmark = needs_chromium

FINISHED = ("Buy milk", "Pay rent")


async def _seed(base_url: str, token: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as api:
        for title in (FINISHED[0], "Call mom", FINISHED[1]):
            todo = (await api.post(f"/api/{DEV_USER}/todos", json={"title": title})).json()
            if title in FINISHED:
                await api.patch(f"/api/{DEV_USER}/todos/{todo['id']}", json={"completed": True})


async def _open(page: Page, base_url: str, token: str) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    await page.goto(f"{base_url}/#token={token}")
    await expect(page.locator("#todo-list li")).to_have_count(3)
    return errors


async def test_approve_a_bulk_delete_then_undo_it(page: Page, base_url: str, token: str) -> None:
    await _seed(base_url, token)
    errors = await _open(page, base_url, token)

    await say(page, "delete everything I've finished")
    box = page.locator(".msg.assistant .approval").last
    await expect(box.locator("li")).to_have_text(['Delete "Buy milk"', 'Delete "Pay rent"'])
    await expect(page.locator(".msg.assistant .bubble").last).to_contain_text("yes or no")
    await expect(page.locator("#todo-list li")).to_have_count(3)  # nothing deleted yet

    answers = page.locator(".msg.assistant")
    before = await answers.count()
    await box.get_by_role("button", name="Approve").click()
    await expect(answers).to_have_count(before + 1)
    await expect(page.locator(".msg.assistant .bubble").last).to_contain_text(
        'Deleted 2 todos: "Buy milk" and "Pay rent"'
    )
    await expect(box.get_by_role("button", name="Approve")).to_be_disabled()
    await expect(page.locator("#todo-list li")).to_have_text(["Call mom"])

    await page.locator(".msg.assistant").last.get_by_role("button", name="Undo").click()
    await expect(page.locator(".msg.assistant .meta .undone").last).to_contain_text("Undone (2 changes)")
    await expect(page.locator("#todo-list li")).to_have_count(3)
    await expect(page.locator("#todo-list li.done")).to_have_count(2)

    # Drawn again from the stored conversation, the turn that deleted still offers Undo (now refused: done already).
    await page.reload()
    await expect(page.locator(".msg.assistant").last.get_by_role("button", name="Undo")).to_be_visible()
    assert errors == []


async def test_reject_keeps_every_todo(page: Page, base_url: str, token: str) -> None:
    await _seed(base_url, token)
    errors = await _open(page, base_url, token)
    await say(page, "clear my list")
    box = page.locator(".msg.assistant .approval").last
    await expect(box.locator("li")).to_have_count(3)
    answers = page.locator(".msg.assistant")
    before = await answers.count()
    await box.get_by_role("button", name="Reject").click()
    await expect(answers).to_have_count(before + 1)
    await expect(page.locator(".msg.assistant .bubble").last).to_contain_text("didn't delete anything")
    await expect(page.locator("#todo-list li")).to_have_count(3)
    await expect(page.locator(".msg.assistant").last.get_by_role("button", name="Undo")).to_have_count(0)
    assert errors == []
