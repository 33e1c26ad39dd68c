"""Rich text that organizers and hosts write in the editor (`core.widgets.RichTextarea`):
sanitised once, when stored, and shown as it is. One rule for every tool that takes it (an
action's description, an event's)."""

import html
import re

import nh3

ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "u", "a", "ul", "ol", "li", "h2", "h3"}
ALLOWED_TAGS |= {"blockquote"}

# The editor writes blocks (<p>, lists, headings); text without any was typed as plain text.
_BLOCK_TAG = re.compile(r"<(p|ul|ol|li|h[1-6]|blockquote|div|br)\b", re.IGNORECASE)
# Where a line or a block ends, and where a list item starts, for the plain-text version.
_LINE_END = re.compile(r"<br\s*/?>|</li\s*>", re.IGNORECASE)
_BLOCK_END = re.compile(r"</(p|h[1-6]|blockquote|ul|ol)\s*>", re.IGNORECASE)
_ITEM = re.compile(r"<li\b[^>]*>", re.IGNORECASE)


def html_clean(text: str) -> str:
    """Organizer rich text, with only harmless formatting and links kept."""
    return nh3.clean(text or "", tags=ALLOWED_TAGS, link_rel="noopener nofollow").strip()


def rich_text_clean(text: str) -> str:
    """What the editor sent (or a form without JavaScript, or an API client), sanitised:
    HTML with blocks is cleaned (`html_clean`); text without any becomes paragraphs and line
    breaks, and any inline tags in it are cleaned the same way."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        return ""
    if _BLOCK_TAG.search(text):
        return html_clean(text)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return html_clean("".join("<p>" + p.replace("\n", "<br>") + "</p>" for p in paragraphs))


def html_text(markup: str) -> str:
    """Sanitised rich text as plain text (a calendar entry, a text email): a blank line
    between paragraphs, list items as "- ", no tags, entities decoded."""
    text = _ITEM.sub("- ", markup or "")
    text = _BLOCK_END.sub("\n\n", _LINE_END.sub("\n", text))
    text = html.unescape(nh3.clean(text, tags=set()))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
