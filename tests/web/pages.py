"""Driving the app in Chromium: pages, viewports, and the demo accounts the browser tests use."""

from __future__ import annotations

from playwright.sync_api import Page

PHONE = {"width": 390, "height": 844}


DESKTOP = {"width": 1280, "height": 800}


ADMIN = ("admin@demo.consentlens.test", "demo-admin-2026")


PARENT = ("ann.peeters@demo.consentlens.test", "demo-parent-2026")


def new_page(browser, viewport, locale="en-GB") -> Page:
    context = browser.new_context(
        viewport=viewport, locale=locale, is_mobile=viewport is PHONE, has_touch=viewport is PHONE
    )
    return context.new_page()


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.locator("#password").fill(password)
    page.locator("form.stack button[type=submit]").click()


def assert_no_horizontal_scroll(page: Page) -> None:
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the screen"


STAFF = ("staff@demo.consentlens.test", "demo-staff-2026")


def small_targets(page: Page, selector: str) -> list[str]:
    """The elements matching `selector` smaller than 44 × 44 px (WCAG 2.5.5 target size)."""
    return page.evaluate(
        """s => [...document.querySelectorAll(s)]
              .filter(e => {
                const r = e.getBoundingClientRect();
                return r.height < 44 || r.width < 44;
              })
              .map(e => e.outerHTML.slice(0, 80))""",
        selector,
    )
