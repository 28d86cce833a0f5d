"""Plain-language alert texts in zh-CN and English.

The daemon fills each alert event's ``message`` from here, the ``tail``
command prints these texts, and the CAP builder files them as headline,
description and instruction. Wording lives in one catalog per language
(``lang_en``, ``lang_zh``); the logic that picks and fills it in ``render``.
"""

from edge_agent.text.render import (
    SUPPORTED_LANGS,
    Message,
    Sections,
    catalog_for,
    level_name,
    render_message,
    render_sections,
    resolve_lang,
)

__all__ = [
    "SUPPORTED_LANGS",
    "Message",
    "Sections",
    "catalog_for",
    "level_name",
    "render_message",
    "render_sections",
    "resolve_lang",
]
