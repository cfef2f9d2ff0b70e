"""In Chromium: a real build's log appears line by line on the deployment page, then the Runtime
tab follows what the live app prints and, after a crash, shows the state with its last lines as
it changes (crashed, then live again) without a reload."""

from __future__ import annotations

import re
import time

from deployer.targets.local.router import hostname_for
from tests.runtime_app import FILES
from tests.web.browser.conftest import ARTIFACTS
from tests.web.browser.test_flows import sign_in


def app_files_with_a_slow_build() -> dict[str, str]:
    """tests/runtime_app.py with a build that prints a line every 0.4 s, so the page shows it
    while it runs."""
    build = (
        "import time\nfor n in range(1, 9):\n    print(f'build step {n}', flush=True)\n    time.sleep(0.4)\n"
    )
    yml = "build:\n  build: python3 build.py\n  start: python3 app.py\n"
    return {**FILES, "autostack.yml": yml, "build.py": build}


def test_live_build_log_then_the_runtime_tab(page, served, github_standin):
    sign_in(page, served, github_standin)
    target = served.wired.target
    target.watch_interval = 0.2  # the app's health, checked more often than serve's default
    try:
        uploading = served.start(served.wired.deploy("pr-1", app_files_with_a_slow_build()))
        deployment_id = served.run(served.wired.started_building())
        page.goto(f"{served.url}/deployments/{deployment_id}")
        # lines arrive while the build runs: the first before the last was printed
        page.wait_for_selector("#log:has-text('build step 2')")
        assert "build step 8" not in page.locator("#log").inner_text()
        page.wait_for_selector("#log:has-text('build step 8')")
        page.wait_for_selector("#state.ready", timeout=60_000)
        assert uploading.result(timeout=10)[-1]["state"] == "ready"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "runtime-tab-1-build-log.png"), full_page=True)

        page.click("nav.tabs >> text=Runtime")
        page.wait_for_url(re.compile(r"/projects/shop/environments/pr-1/runtime$"))
        page.wait_for_selector("#app-state.live")
        page.wait_for_selector("#runtime-log .line:has-text('tick')")
        first = page.locator("#runtime-log .line").count()
        started = time.monotonic()
        page.locator("#runtime-log .line").nth(first + 2).wait_for()
        assert time.monotonic() - started < 3  # new ticks keep arriving, every 0.2 s
        page.screenshot(path=str(ARTIFACTS / "runtime-tab-2-live.png"), full_page=True)

        app_dir = target.live[hostname_for("shop", "pr-1")].supervisor.cwd
        (app_dir / "crash-at-start").write_text("fail every start")
        assert served.run(served.wired.visit("pr-1", "/crash")).status_code == 502
        page.wait_for_selector("#runtime-log .note:has-text('the app exited with code 3')")
        # the open page hears the state change: no reload
        page.wait_for_selector("#app-state.restarting, #app-state.crashed", timeout=10_000)
        page.wait_for_selector("#trouble:has-text('Crashed since')", timeout=10_000)
        trouble = page.locator("#trouble").inner_text()
        assert "exited with code 4, 2 times since it was last healthy" in trouble
        assert "cannot start:" in trouble and "crashing on purpose" in trouble  # the last lines
        assert page.locator("#app-state").get_attribute("class") == "state crashed"
        page.screenshot(path=str(ARTIFACTS / "runtime-tab-3-crashed.png"), full_page=True)

        # healthy again: the badge turns live and the trouble box goes, still without a reload
        (app_dir / "crash-at-start").unlink()
        page.wait_for_selector("#app-state.live", timeout=40_000)
        assert page.locator("#trouble").count() == 0
        page.screenshot(path=str(ARTIFACTS / "runtime-tab-4-live-again.png"), full_page=True)
    finally:
        page.goto("about:blank")  # the Runtime tab's stream follows forever: end it
