"""A long ``data-placeholder`` in the widget's one-line input (headless Chromium, the real ASGI
app): it stays on the input's line instead of wrapping onto a second line that the input cuts in
half (the top of its letters showing under the first line, on a phone).

Browser tests: see browser_fixtures.py (skipped with a message when /usr/bin/chromium is missing).
"""

from __future__ import annotations

import base64

from apikeys.services import api_key_create
from conversations.tests.browser_demo import DEMO_DOCS, shadow
from conversations.tests.browser_fixtures import BROWSER_TEST_MARKS, new_page, screenshot
from conversations.tests.conftest import build_kb

pytestmark = BROWSER_TEST_MARKS

PHONE_320 = {"width": 320, "height": 640}
PLACEHOLDER = "Ask about Acme Corporation's products, orders and returns here"

# How many pixels differ between two screenshots of the input in the band below its first line
# of text (down to its bottom padding): the placeholder's wrapped second line, if any.
DIFF_JS = """async ([a, b, top, bottom]) => {
  const load = (data) => new Promise((done) => {
    const img = new Image();
    img.onload = () => done(img);
    img.src = 'data:image/png;base64,' + data;
  });
  const pixels = async (data) => {
    const img = await load(data), canvas = document.createElement('canvas');
    canvas.width = img.width; canvas.height = img.height;
    const ctx = canvas.getContext('2d'); ctx.drawImage(img, 0, 0);
    return ctx.getImageData(0, top, img.width, bottom - top).data;
  };
  const [x, y] = [await pixels(a), await pixels(b)];
  let diff = 0;
  for (let i = 0; i < x.length; i += 4) {
    const delta = [0, 1, 2].reduce((sum, c) => sum + Math.abs(x[i + c] - y[i + c]), 0);
    if (delta > 30) diff++;
  }
  return diff;
}"""


def test_a_long_placeholder_is_not_cut_in_half(browser, live_app, third_party_site, tenant):
    kb = build_kb(tenant, slug="placeholder", docs=DEMO_DOCS)
    _, key = api_key_create(
        tenant=tenant, name="placeholder site", permissions=["chat"], bots=[kb.bot],
        allowed_origins=[third_party_site.base_url],
    )  # fmt: skip
    third_party_site.pages["/placeholder.html"] = f"""<!doctype html><html lang="en"><head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><script src="{live_app.base_url}/static/chatbot/widget.js" data-bot="placeholder"
  data-key="{key}" data-placeholder="{PLACEHOLDER}" async></script></body></html>"""
    with new_page(browser, PHONE_320) as (page, problems):
        page.goto(third_party_site.url("/placeholder.html"))
        shadow(page, ".cb-launcher").click()
        textarea = shadow(page, "textarea")
        assert textarea.get_attribute("placeholder") == PLACEHOLDER
        screenshot(page, "widget_long_placeholder_phone")
        box = textarea.evaluate(
            """n => { const s = getComputedStyle(n);
                 return [n.clientHeight, parseFloat(s.paddingTop), parseFloat(s.lineHeight)]; }"""
        )
        height, pad_top, line = box
        assert height < pad_top + 2 * line  # one line tall: a second line could only be cut
        with_text = base64.b64encode(textarea.screenshot()).decode()
        textarea.evaluate("n => n.setAttribute('placeholder', '')")
        without = base64.b64encode(textarea.screenshot()).decode()
        top, bottom = round(pad_top + line + 1), round(height - 1)
        assert top < bottom
        assert page.evaluate(DIFF_JS, [with_text, without, top, bottom]) == 0
        assert problems == []
