"""The app in a real browser: `memoloop up`, Debian's chromium, the real 270M model.

Screenshots of every page go to artifacts/screenshots/ (git-ignored) for a person to look at.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from agent.settings import Settings
from memory.home import Home
from tests.conftest import REPO, first_line, run_cli
from tests.test_ui_up import free_port

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "artifacts" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
NOTE = "Mochi sneezed three times after breakfast, clear discharge from her nose"
ANSWER_TIMEOUT_MS = 300_000  # the first answer waits for the model to load

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                                 "(apt-get install -y chromium)")]


@pytest.fixture
def app_url(home_dir, gemma_dir):
    """`memoloop up` on a free port, answering short with the real model, stopped with Ctrl-C."""
    Settings(base_model=str(gemma_dir), device="cpu", max_new_tokens=48).save(Home.open(home_dir))
    port = free_port()
    exe = Path(sys.executable).with_name("memoloop")
    server = subprocess.Popen([str(exe), "up", "--port", str(port), "--home", str(home_dir)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert first_line(server.stdout, timeout=90).startswith("memoloop is running at")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0, server.stderr.read()


@pytest.fixture
def page(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(60_000)
        page.goto(app_url)
        settle(page)
        yield page
        browser.close()


def settle(page, quiet_ms: int = 1500, timeout_s: float = 180) -> None:
    """Wait until the app has shown no running indicator for `quiet_ms` (it appears with a delay)."""
    page.wait_for_selector('[data-testid="stSidebarNavLink"]')
    running = page.locator('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]')
    deadline, quiet = time.monotonic() + timeout_s, 0
    while quiet < quiet_ms:
        assert time.monotonic() < deadline, "the page kept running"
        quiet = 0 if running.count() else quiet + 250
        page.wait_for_timeout(250)


def go(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNavLink"]', has_text=title).click()
    page.locator("h1", has_text=title).wait_for()
    settle(page)


def shoot(page, name: str) -> None:
    """The whole page, however long: the viewport grows to the content for the picture."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll("
                           "'[data-testid=stMain], [data-testid=stAppScrollToBottomContainer], "
                           "[data-testid=stMainBlockContainer]')].map(e => e.scrollHeight), 0)")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], min(height, 5000))})
    page.wait_for_timeout(400)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.set_viewport_size(VIEWPORT)


def shown(page, message: int, pattern: str) -> None:
    """Wait until chat message `message` shows text matching `pattern`, looking at every frame the
    browser paints: a locator's wait_for looks again only every 0.5 s after its first tries, which
    made words painted at 0.4 s read as 0.9 s."""
    page.wait_for_function(
        """([i, source]) => {
            const m = document.querySelectorAll('[data-testid="stChatMessageContent"]')[i];
            return !!m && new RegExp(source).test(m.innerText);
        }""", arg=[message, pattern], polling="raf", timeout=60_000)


def feedback_rows(home_dir):
    from memory.interactions import feedback_for, recent_interactions
    from memory.store import Memory

    mem = Memory.open(home_dir)
    asked = recent_interactions(mem, 1)
    return asked, (feedback_for(mem, asked[0].id) if asked else [])


def test_a_cat_owner_logs_asks_rates_and_sees_the_loop(page, home_dir):
    started = time.monotonic()
    page.locator("h1", has_text="Today").wait_for()  # the first page: what care is due
    shoot(page, "1-today-empty")

    go(page, "Pets")
    page.get_by_label("Name").fill("Mochi")
    page.get_by_label("Notes (optional)").fill("Grey tabby, a little shy with visitors")
    page.get_by_role("button", name="Add pet").click()
    page.get_by_text("Welcome, Mochi!").wait_for()
    shoot(page, "2-pets")

    go(page, "Journal")
    page.get_by_label("What happened today?").fill(NOTE)
    page.get_by_role("button", name="Log it").click()
    page.get_by_text("Logged for Mochi.").wait_for()
    page.locator('[data-testid="stText"]', has_text=NOTE).wait_for()  # listed under Today
    settle(page)
    shoot(page, "3-journal")

    go(page, "Ask")
    page.locator('[data-testid="stChatInputTextArea"]').fill("Has Mochi been sneezing?")
    page.keyboard.press("Enter")
    sources = page.locator('[data-testid="stExpander"]', has_text="From your notes")
    sources.wait_for(timeout=ANSWER_TIMEOUT_MS)
    settle(page)
    answer = page.locator('[data-testid="stChatMessageContent"]').nth(1)
    assert answer.inner_text().strip()
    sources.locator("summary").click()
    cited = sources.locator('[data-testid="stExpanderDetails"]')
    cited.get_by_text(NOTE).wait_for()
    assert date.today().isoformat() in cited.inner_text()
    page.locator('[data-testid="stFeedbackButton"]').first.click()  # thumbs up
    page.get_by_text("Thanks! memoloop learns from your ratings.").wait_for()
    shoot(page, "4-ask")
    page.locator('[data-testid="stToast"]').wait_for(state="detached", timeout=30_000)

    asked, feedback = feedback_rows(home_dir)
    assert asked[0].question == "Has Mochi been sneezing?"
    assert [(f.rating, f.correction) for f in feedback] == [(1, None)]
    assert asked[0].citations and asked[0].citations[0]["text"] == NOTE

    # a second question, the model loaded: what the code decided shows at once, then the words
    page.locator('[data-testid="stChatInputTextArea"]').fill("When did Mochi sneeze?")
    asked_at = time.monotonic()
    page.keyboard.press("Enter")
    reply = page.locator('[data-testid="stChatMessageContent"]').nth(3)
    reply.get_by_text("From your notes of").wait_for(timeout=60_000)
    decided = time.monotonic() - asked_at
    # the first words of the answer: a note quoted word for word as it is written, or a checked sentence
    shown(page, 3, r"On \d{4}-\d{2}-\d{2}|sneezed")
    words = time.monotonic() - asked_at
    reply.get_by_text("sneezed").wait_for(timeout=60_000)
    print(f"Ask page, second question: notes shown after {decided:.2f} s, first words of the answer after {words:.2f} s")
    page.locator('[data-testid="stExpander"]', has_text="From your notes").nth(1).wait_for(timeout=60_000)
    settle(page)

    asked, feedback = feedback_rows(home_dir)
    assert [a.question for a in asked] == ["When did Mochi sneeze?"]

    go(page, "History")
    shoot(page, "5-history")

    go(page, "Learning")
    metrics = page.locator('[data-testid="stMetric"]')
    assert "Next retrain" in metrics.nth(0).inner_text()
    assert "1 of 10" in metrics.nth(1).inner_text()  # the thumbs-up counts towards the next retrain
    assert metrics.filter(has_text="Your answers").inner_text().split() == ["Your", "answers", "1"]
    # the dataset preview lists the rated answer (the grid mirrors its cells in an accessible table)
    page.get_by_text("Has Mochi been sneezing?").first.wait_for(state="attached")
    shoot(page, "6-learning")

    go(page, "Settings")
    shoot(page, "7-settings")

    # the care plan: a vaccine 13 months ago and a monthly flea treatment 5 weeks ago are overdue
    today = date.today()
    for text, kind, days in (("Mochi's FVRCP booster at the vet", "vaccine", 396),
                             ("Did the Stronghold flea drops", "medication", 35)):
        done = run_cli("log", text, "--subject", "Mochi", "--kind", kind,
                       "--at", (today - timedelta(days=days)).isoformat(), home=home_dir)
        assert done.returncode == 0, done.stderr
    go(page, "Today")
    page.get_by_text("Mochi: Core vaccines: overdue").wait_for()
    flea = page.locator('[data-testid="stHorizontalBlock"], [data-testid="stVerticalBlockBorderWrapper"]',
                        has_text="Mochi: Flea treatment: overdue").last
    flea.wait_for()
    shoot(page, "8-today")
    flea.get_by_role("button", name="Done").click()
    page.get_by_text("Logged: Flea treatment for Mochi.").wait_for()
    page.get_by_text("Mochi: Flea treatment: done today").wait_for()
    assert page.get_by_text("Mochi: Flea treatment: overdue").count() == 0
    shoot(page, "9-today-done")

    go(page, "Vet summary")
    page.get_by_text("Mochi: summary for the vet").wait_for()
    page.get_by_text("Mochi's FVRCP booster at the vet").first.wait_for()  # every vaccine of the period
    shoot(page, "10-vet-summary")
    print(f"browser walk-through: {time.monotonic() - started:.0f} s")
