"""The pages in a real browser: player and transcript together, sharing, quoting, accessibility, small screens."""

from __future__ import annotations

import math

import pytest

from tests.helpers import REPO

# The pages are the same whatever the database: PostgreSQL is covered by the end-to-end tests.
pytestmark = pytest.mark.parametrize("served_archive", ["sqlite"], indirect=True)

AXE = REPO / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture
def page(browser, served_archive):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def episode_url(served_archive, fragment: str = "") -> str:
    return f"{served_archive.url}/episodes/{served_archive.slug}{fragment}"


def current_time(page) -> float:
    return page.evaluate("document.getElementById('player').currentTime")


def wait_for_time(page, expected: float, tolerance: float = 0.6) -> None:
    # Predicates are written as functions: Playwright re-evaluates a bare expression with eval() at each
    # poll, which the site's Content-Security-Policy (no 'unsafe-eval') rightly refuses.
    player = "document.getElementById('player')"
    page.wait_for_function(f"() => Math.abs({player}.currentTime - {expected}) < {tolerance}")


def test_clicking_an_utterance_plays_from_its_start(page, served_archive):
    page.goto(episode_url(served_archive))
    third = page.locator(".utterance").nth(2)
    start = float(third.get_attribute("data-start"))
    third.locator(".text").click()
    wait_for_time(page, start)
    assert abs(current_time(page) - start) < 0.6


def test_a_time_fragment_opens_the_episode_there_and_plays_the_passage(page, served_archive):
    page.goto(episode_url(served_archive, "#t=20"))
    wait_for_time(page, 20)
    page.goto("about:blank")
    page.goto(episode_url(served_archive, "#t=10,12"))
    wait_for_time(page, 10, 1.0)
    # Browsers refuse to play before a gesture: the listener presses play, the passage stops at its end.
    page.locator("h1").click()
    page.keyboard.press(" ")
    page.wait_for_function("() => document.getElementById('player').currentTime > 10.5")
    page.wait_for_function("() => document.getElementById('player').paused", timeout=10_000)
    assert 11.5 <= current_time(page) <= 13.0


def test_the_highlight_follows_playback(page, served_archive):
    page.goto(episode_url(served_archive))
    items = page.locator(".utterance")
    for index in (1, 4):
        item = items.nth(index)
        start = float(item.get_attribute("data-start"))
        page.evaluate(f"document.getElementById('player').currentTime = {start + 0.2}")
        page.wait_for_function(f"() => document.querySelector('.utterance.current') && "
                               f"document.querySelector('.utterance.current').id === '{item.get_attribute('id')}'")
    assert page.locator(".utterance.current").count() == 1


def test_keyboard_moves_fifteen_seconds(page, served_archive):
    page.goto(episode_url(served_archive))
    page.evaluate("document.getElementById('player').currentTime = 20")
    wait_for_time(page, 20)
    page.locator("h1").click()
    page.keyboard.press("ArrowRight")
    wait_for_time(page, 35, 1.0)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    wait_for_time(page, 5, 1.0)


def test_share_gives_a_link_to_the_current_moment(page, served_archive):
    page.goto(episode_url(served_archive))
    page.evaluate("document.getElementById('player').currentTime = 12.34")
    wait_for_time(page, 12.34, 0.1)
    page.get_by_role("button", name="Partager ce moment").click()
    assert episode_url(served_archive, "#t=12.3") in page.locator("#partage").inner_text()


def test_quote_gives_words_speaker_episode_date_and_link(page, served_archive):
    page.goto(episode_url(served_archive))
    item = page.locator(".utterance").nth(2)
    start, end = item.get_attribute("data-start"), item.get_attribute("data-end")
    page.evaluate("""(id) => {
        const text = document.getElementById(id).querySelector('.text');
        const range = document.createRange();
        range.selectNodeContents(text);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
    }""", item.get_attribute("id"))
    page.get_by_role("button", name="Citer le passage sélectionné").click()
    quote = page.locator("#citation").input_value()
    words = " ".join(item.locator(".text").inner_text().split())
    speaker = item.locator("xpath=ancestor::div[contains(@class,'turn')]").get_attribute("data-speaker")
    assert quote.startswith(f"« {words} » — {speaker}")
    assert "« La participation citoyenne au quotidien » (12 mars 2026)" in quote
    link = f"#t={math.floor(float(start) * 10) / 10:g},{math.ceil(float(end) * 10) / 10:g}"
    assert quote.endswith(" : " + episode_url(served_archive, link)), quote


@pytest.fixture
def axe_page(browser):
    """A page whose context ignores the site's Content-Security-Policy, only so that axe-core can be injected
    as a script; every other test here runs under the policy (see also tests/test_security_headers.py)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.mark.parametrize("path", ["/", "/episodes/{slug}", "/recherche?q=participation", "/personnes/jo-spiegel",
                                  "/studio/connexion"])
def test_no_accessibility_violation_at_wcag_aa(axe_page, served_archive, path):
    page = axe_page
    if not AXE.exists():
        pytest.skip(f"axe-core absent ({AXE}) : npm install --prefix .axe axe-core@4 (fait par make test)")
    response = page.goto(served_archive.url + path.format(slug=served_archive.slug))
    assert response.status == 200
    page.add_script_tag(path=str(AXE))
    # WCAG 2.1 A and AA, plus heading order (tagged best practice by axe, asked for by the RGAA).
    violations = page.evaluate("""async () => (await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, rules: {'heading-order': {enabled: true}}}))
        .violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")
    assert violations == [], violations


def test_episode_page_fits_small_screens_and_screenshots_are_kept(browser, served_archive):
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1280, 375, 360):
        context = browser.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()
        page.goto(episode_url(served_archive))
        page.screenshot(path=str(ARTIFACTS / f"episode-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow} px de défilement horizontal à {width} px"
        context.close()
        assert (ARTIFACTS / f"episode-{width}.png").stat().st_size > 10_000
