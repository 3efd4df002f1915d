"""The page keeps to the gateway's Content-Security-Policy (script-src/style-src 'self', no
eval): no inline script, style, style attribute or event-handler attribute in the HTML, and
none written by the page's own scripts. The browser test checks the same at run time."""

import re
from html.parser import HTMLParser
from pathlib import Path

WEB = Path(__file__).resolve().parents[3] / "deploy" / "web"
# What 'self'-only script-src and style-src (no 'unsafe-inline', no 'unsafe-eval') block.
BLOCKED_IN_JS = re.compile(
    r"""\beval\(|new Function\(|setTimeout\(\s*["'`]|setInterval\(\s*["'`]"""
    r"""|setAttribute\(\s*["']style["']|style=|\son[a-z]+=|<script|<style|javascript:"""
)


class InlineFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "style":
            self.found.append("<style> element")
        if tag == "script" and "src" not in names:
            self.found.append("<script> without src")
        self.found += [f"{name}= on <{tag}>" for name in names if name == "style"]
        self.found += [f"{name}= on <{tag}>" for name in names if name.startswith("on")]
        hrefs = [v for n, v in attrs if n in ("href", "src") and v]
        self.found += [f"javascript: URL on <{tag}>" for v in hrefs if v.startswith("javascript:")]


def test_the_html_has_no_inline_script_or_style() -> None:
    pages = sorted(WEB.glob("*.html"))
    assert pages
    for page in pages:
        finder = InlineFinder()
        finder.feed(page.read_text())
        assert finder.found == [], (page.name, finder.found)


def test_the_scripts_write_no_inline_script_style_or_eval() -> None:
    scripts = sorted((WEB / "js").glob("*.js"))
    assert scripts
    for script in scripts:
        for number, line in enumerate(script.read_text().splitlines(), 1):
            assert not BLOCKED_IN_JS.search(line), f"{script.name}:{number}: {line.strip()}"


def test_the_check_would_see_a_violation() -> None:
    finder = InlineFinder()
    finder.feed('<div style="color:red" onclick="x()"></div><script>alert(1)</script>')
    assert len(finder.found) == 3
    assert BLOCKED_IN_JS.search('el.innerHTML = `<p style="x">`')
