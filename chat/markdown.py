"""Markdown for assistant replies, rendered on the server and sanitised.

Model output is untrusted: markdown-it runs with raw HTML off, then nh3 keeps
only the tags Markdown itself produces. Images are dropped so that a reply
cannot make the browser fetch a tracking pixel. Code blocks that name their
language are highlighted by Pygments (class names only: `static/chat/highlight.css`
colours them); the page adds a copy button to each.
"""

import nh3
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

# Longer code is shown plain: highlighting runs again on every render of a streaming reply.
HIGHLIGHT_MAX_CHARS = 20_000
_formatter = HtmlFormatter(nowrap=True)


def _highlighted(code: str, language: str, _attrs: str) -> str:
    """Pygments' spans for `code`, or "" (markdown-it then escapes it as plain code)."""
    if not language or len(code) > HIGHLIGHT_MAX_CHARS:
        return ""
    try:
        lexer = get_lexer_by_name(language.strip().lower()[:40])
    except ClassNotFound:
        return ""
    return highlight(code, lexer, _formatter)


_markdown = MarkdownIt(
    "commonmark", {"html": False, "breaks": True, "highlight": _highlighted}
).enable(["table", "strikethrough"])

_ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "hr",
    "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "span",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {"a": {"href"}, "code": {"class"}, "ol": {"start"}, "span": {"class"}}


def markdown_to_safe_html(text: str) -> str:
    """HTML safe to insert into the chat page, whatever `text` contains."""
    return nh3.clean(
        _markdown.render(text),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
