"""The console and the local identity provider beside the e2e session's four services, and a real Chromium
driven by Playwright: Debian's `chromium` where it is installed (.ci/run installs it), else Playwright's own."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import async_playwright


ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "console"


def english_texts() -> list[str]:
    """The console's texts as written in the code (English): none may show on a page in Vietnamese."""
    import console.i18n
    from babel.messages.pofile import read_po

    with open(console.i18n._DIR / "en" / "LC_MESSAGES" / "messages.po", "rb") as f:
        # a text with placeholders ({name}) is looked for by its literal pieces
        return [piece.strip() for m in read_po(f) if isinstance(m.id, str)
                for piece in re.split(r"\{\w*\}", m.id) if len(piece.strip()) >= 3]


@pytest.fixture(scope="session")
async def browser():
    executable = shutil.which("chromium")
    async with async_playwright() as p:
        # as root Chromium's sandbox cannot start (no user namespace for root); a CI container runs as root
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        launched = await p.chromium.launch(executable_path=executable, args=args)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser):
    context = await browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    opened = await context.new_page()
    yield opened
    await context.close()


@pytest.fixture
def screenshot(page, request):
    """screenshot("name"): the whole page as test-artifacts/console/<test>-<name>.png (look at them), and the page
    checked by axe-core: no serious or critical violation."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    axe = Axe()

    async def take(name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        found = (await axe.run(page)).response["violations"]
        grave = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
                 for v in found if v["impact"] in ("serious", "critical")]
        assert not grave, f"axe-core on {page.url}:\n" + "\n".join(grave)
        if await page.locator("html").get_attribute("lang") == "vi":
            shown = await page.locator("body").inner_text()
            left = [t for t in english_texts() if re.search(rf"(?<!\w){re.escape(t)}(?!\w)", shown)]
            assert left == [], f"untranslated on {page.url}"
        return path

    return take
