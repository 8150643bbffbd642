"""`warehouse view` in a real browser: headless Chromium driven by selenium (system chromedriver).

From the runs list to a step's transcript, and through a compare page, saving screenshots of
each (view.png: a step page; view-runs.png, view-compare.png) in a temporary directory, or in
docs/ (the README's picture) with WAREHOUSE_SCREENSHOTS=1. Skipped only when chromium is absent
and WAREHOUSE_REQUIRE_BROWSER is unset (.ci/run sets it: there a missing browser fails).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import view_support
from web_support import served

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _browser_paths() -> tuple[str, str] | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    paths = _browser_paths()
    if paths is None:
        if os.environ.get("WAREHOUSE_REQUIRE_BROWSER"):
            pytest.fail("WAREHOUSE_REQUIRE_BROWSER is set but chromium/chromedriver are not installed")
        pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(paths[1]), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return DOCS if os.environ.get("WAREHOUSE_SCREENSHOTS") == "1" else tmp_path_factory.mktemp("shots")


@pytest.fixture(scope="module")
def wh(tmp_path_factory: pytest.TempPathFactory) -> view_support.Warehouse:
    mp = pytest.MonkeyPatch()
    mp.setenv(view_support.ENV, view_support.KEY)
    try:
        return view_support.build(tmp_path_factory.mktemp("browser"))
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def url(wh: view_support.Warehouse) -> Iterator[str]:
    with served(wh.db) as base:
        yield base


def _follow(driver: Any, element: Any) -> None:
    """Click, then wait until the browser has left the current page (never read the old one)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 60).until(expected_conditions.staleness_of(page))


def _shot(driver: Any, folder: Path, name: str) -> None:
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1400, min(max(int(height) + 40, 600), 2400))
    driver.save_screenshot(str(folder / name))
    driver.set_window_size(1400, 1000)
    assert (folder / name).stat().st_size > 10_000


def test_from_the_runs_list_to_a_steps_transcript(
    browser: Any, url: str, wh: view_support.Warehouse, shots: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(url + "/")
    assert "Runs" in browser.find_element(By.TAG_NAME, "h1").text
    Select(browser.find_element(By.NAME, "model")).select_by_visible_text("test/first")
    _follow(browser, browser.find_element(By.ID, "apply"))
    assert browser.find_element(By.ID, "count").text.startswith("1 run")
    _shot(browser, shots, "view-runs.png")
    _follow(browser, browser.find_element(By.CSS_SELECTOR, "a.run-link"))
    assert wh.run_ids["test/first"] in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_element(By.CSS_SELECTOR, "svg.curve").is_displayed()
    _follow(browser, browser.find_elements(By.CSS_SELECTOR, "a.step-link")[3])
    assert browser.find_element(By.TAG_NAME, "h1").text == "Step 3"
    transcript = browser.find_element(By.ID, "transcript").text
    use = wh.sent["test/first"][7]  # step 3's USE call
    assert use["messages"][0]["content"] in transcript
    assert '"choice": "A"' in transcript
    _shot(browser, shots, "view.png")


def test_through_a_compare_page(browser: Any, url: str, shots: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(url + "/")
    _follow(browser, browser.find_element(By.LINK_TEXT, "Compare"))
    Select(browser.find_element(By.ID, "side-a")).select_by_value("test/smart")
    Select(browser.find_element(By.ID, "side-b")).select_by_value("test/first")
    _follow(browser, browser.find_element(By.ID, "compare"))
    result = browser.find_element(By.ID, "result").text
    assert "paired steps" in result and "95% interval" in result
    pairs = browser.find_elements(By.CSS_SELECTOR, "div.pair")
    assert pairs
    first = pairs[0]
    a, b = first.find_element(By.CSS_SELECTOR, ".side-a"), first.find_element(By.CSS_SELECTOR, ".side-b")
    assert "assistant" in a.text.lower() and "assistant" in b.text.lower()
    assert a.location["x"] < b.location["x"]  # side by side
    _shot(browser, shots, "view-compare.png")
    _follow(browser, a.find_element(By.PARTIAL_LINK_TEXT, "step"))
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Step")
