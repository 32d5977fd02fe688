import pytest

from chat.markdown import markdown_to_safe_html


def test_markdown_renders_code_blocks_lists_and_links():
    html = markdown_to_safe_html(
        "- one\n- two\n\n```py\nprint(1)\n```\n\n[site](https://example.com)"
    )
    assert "<li>one</li>" in html
    assert '<pre><code class="language-py">print(1)' in html
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
