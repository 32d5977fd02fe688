import pytest

from chat.markdown import markdown_to_safe_html


def test_markdown_renders_code_blocks_lists_and_links():
    html = markdown_to_safe_html(
        "- one\n- two\n\n```py\nprint(1)\n```\n\n[site](https://example.com)"
    )
    assert "<li>one</li>" in html
    assert '<pre><code class="language-py"><span class="nb">print</span>' in html
    assert 'href="https://example.com"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "![pixel](https://tracker.example/p.png)",
        '<div style="position:fixed" onclick="alert(1)">x</div>',
        "<iframe src=https://evil.example></iframe>",
    ],
)
def test_html_and_script_in_model_output_never_survive(hostile):
    html = markdown_to_safe_html(hostile)
    for tag in ("<script", "<img", "<iframe", "<div", '<a href="javascript'):
        assert tag not in html
    assert " onerror=" not in html.replace("&lt;img src=x onerror=", "")


def test_text_that_looks_like_html_is_shown_as_text():
    assert (
        markdown_to_safe_html("a <b>bold</b> claim") == "<p>a &lt;b&gt;bold&lt;/b&gt; claim</p>\n"
    )


def test_code_in_a_named_language_is_highlighted_with_class_names_only():
    html = markdown_to_safe_html('```python\ndef f():\n    return "<b>"\n```')
    assert '<span class="k">def</span>' in html
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert "style=" not in html


@pytest.mark.parametrize(
    "info", ["", "no-such-language", '"><script>alert(1)</script>', "python" + "x" * 500]
)
def test_code_in_an_unknown_or_hostile_language_stays_plain_and_safe(info):
    html = markdown_to_safe_html(f"```{info}\n<script>alert(1)</script>\n```")
    assert "<span" not in html and "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_very_long_code_is_not_highlighted():
    code = "x = 1\n" * 5000
    html = markdown_to_safe_html(f"```python\n{code}```")
    assert "<span" not in html and html.count("x = 1") == 5000


def test_the_colours_of_every_highlighted_class_are_in_the_stylesheet():
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "static/chat/highlight.css").read_text()
    html = markdown_to_safe_html('```python\nimport os  # note\nprint(f"{os.sep}", 1.5)\n```')
    import re

    for name in set(re.findall(r'<span class="([a-z0-9]+)"', html)) - {"w"}:
        assert f".markdown pre code .{name} " in css, name


def _luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_every_code_colour_has_enough_contrast_on_the_code_background_in_both_themes():
    import re
    from pathlib import Path

    static = Path(__file__).resolve().parents[2] / "static"
    dark_bg, light_bg = re.findall(
        r"--code-bg: (#[0-9a-fA-F]{6})", (static / "luma/luma.css").read_text()
    )
    dark, light = (
        (static / "chat/highlight.css").read_text().split("@media (prefers-color-scheme: light)")
    )

    def coloured(part: str) -> set[str]:
        return set(re.findall(r"code \.([a-z0-9]+) \{ color:", part))

    # A class coloured for the dark theme only kept its near-white on the light one
    # (punctuation and brackets were invisible).
    assert coloured(dark) == coloured(light)
    for part, background in ((dark, dark_bg), (light, light_bg)):
        colours = re.findall(r"(?<!-)color: (#[0-9a-fA-F]{3,6})", part)
        assert len(colours) > 30
        for colour in colours:
            high, low = sorted((_luminance(colour), _luminance(background)), reverse=True)
            assert (high + 0.05) / (low + 0.05) >= 4.5, (colour, background)
