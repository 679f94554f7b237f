"""The review page in a real headless Chromium (Debian's chromium and chromedriver, through selenium): decide
with the keyboard, reload, and find the decisions in review.csv and on the page; a screenshot of it."""
import shutil
import time

import numpy as np
import pytest
from review_run import finished_run, run_dir, server  # noqa: F401 - fixtures

from noisyrobust.label_issues.table import read_issue_table

# one test process trains the review tests' shared run once (review_run.finished_run)
pytestmark = pytest.mark.xdist_group("review")

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver "
                                "(apt-get install -y chromium chromium-driver), as CI installs them")
WIDTH, HEIGHT = 1280, 900


@pytest.fixture
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install -e '.[dev]')")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={WIDTH},{HEIGHT}", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=DRIVER))
    yield driver
    driver.quit()


def wait_for(check, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {check}")


def rows(driver):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, "#rows .row")


def test_relabel_and_drop_with_the_keyboard_survive_a_reload(server, run_dir, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    table = read_issue_table(run_dir / "label_issues.csv")
    first, second = int(table["index"][0]), int(table["index"][1])
    browser.get(server.url)
    wait_for(lambda: len(rows(browser)) == 50)  # the first page only: lazy paging
    assert rows(browser)[0].get_attribute("data-index") == str(first)
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("c")  # relabel the current (first) row to a class typed by name
    browser.switch_to.active_element.send_keys("7", Keys.ENTER)
    wait_for(lambda: "relabelled to 7" in rows(browser)[0].text)
    body.send_keys("x")  # the decision moved the cursor to the second row: drop it
    wait_for(lambda: "dropped" in rows(browser)[1].text)
    assert (run_dir / "review.csv").read_text() == "index,decision,label\n" + "".join(
        sorted([f"{first},relabel,7\n", f"{second},drop,\n"], key=lambda s: int(s.split(",")[0])))
    browser.refresh()
    wait_for(lambda: len(rows(browser)) == 50 and "relabelled to 7" in rows(browser)[0].text)
    assert "dropped" in rows(browser)[1].text and not rows(browser)[2].find_element(By.CLASS_NAME, "decision").text
    assert "decided 2 of 1293: kept 0, relabelled 1, dropped 1" in browser.find_element(By.ID, "counts").text


def test_a_screenshot_of_the_page_shows_its_thumbnails(server, browser, tmp_path):
    from PIL import Image

    browser.get(server.url)
    wait_for(lambda: len(rows(browser)) == 50)
    wait_for(lambda: browser.execute_script(  # the visible thumbnails have arrived
        "return [...document.images].slice(0, 8).every(i => i.complete && i.naturalWidth === 64)"))
    path = tmp_path / "review_page.png"
    assert browser.save_screenshot(str(path))
    image = Image.open(path)
    assert image.format == "PNG"
    pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
    assert pixels.shape[1] == WIDTH and HEIGHT - 200 <= pixels.shape[0] <= HEIGHT  # the viewport, less the browser's
    assert pixels.std() > 20 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # not blank: text and digits
