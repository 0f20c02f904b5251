"""The text of residents' posts: a little HTML, cleaned by nh3 (Rust's ammonia) to an allow-list.

Pure. Residents type in a plain text area: in text without paragraph, line break or list tags,
blank lines make paragraphs and line breaks ``<br>``; then everything keeps only paragraphs,
line breaks, strong, emphasis, lists and links (``http``, ``https`` and ``mailto`` only, opened with
``rel="noopener noreferrer nofollow ugc"``). Scripts and styles go with their content, every
other tag goes and its text stays, and no attribute survives but a link's ``href``.
"""

import re

import nh3

ALLOWED_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow ugc"

_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:p|br|ul|ol|li)\b", re.IGNORECASE)


def post_html_clean(text: str) -> str:
    """Safe HTML for a post's ``text`` (plain text or limited HTML)."""
    source = text if _BLOCK_TAG.search(text) else paragraphs_to_html(text)
    return nh3.clean(
        source,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    ).strip()


def paragraphs_to_html(text: str) -> str:
    """Paragraphs at blank lines, ``<br>`` at single line breaks (the rest is left to nh3)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    return "".join("<p>" + "<br>".join(p.split("\n")) + "</p>" for p in paragraphs if p)


def html_is_empty(cleaned: str) -> bool:
    """Whether cleaned HTML shows no text at all (only tags and spaces)."""
    return not nh3.clean(cleaned, tags=set()).strip()
