"""Jinja2 rendering: one template per message kind, per platform only where needed.

Templates live in `templates/<platform>/<name>.j2`, falling back to
`templates/plain/`. Words inside them go through gettext (`_()`), so each
template is written once and read in the reader's language.
"""
from __future__ import annotations

import html
from functools import cached_property
from pathlib import Path

import markupsafe
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from core.domain.errors import Refusal
from core.presentation.i18n import LANGUAGES, gettext_for, ngettext_for, translations

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
# Platforms whose messages are HTML: every variable is escaped there, in
# platform templates and in the plain ones they fall back to alike.
HTML_PLATFORMS = frozenset({"telegram"})


def is_html(platform: str) -> bool:
    return platform in HTML_PLATFORMS


class Templates:
    """A Jinja2 environment per (language, markup), sharing one loader."""

    def __init__(self, directory: Path | str = TEMPLATES_DIR) -> None:
        self.directory = Path(directory)

    @cached_property
    def _envs(self) -> dict[tuple[str, bool], Environment]:
        return {(lang, html): self._env(lang, html) for lang in LANGUAGES for html in (False, True)}

    def _env(self, lang: str, html: bool) -> Environment:
        env = Environment(
            loader=FileSystemLoader(str(self.directory)), autoescape=html, extensions=["jinja2.ext.i18n"],
            undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
            auto_reload=False,  # templates ship with the code: no stat() of each file at every render
        )
        env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
        return env

    def render(self, template_name: str, language: str, platform: str, **context) -> str:
        """Render a template for a platform (or its plain variant) in a language."""
        env = self._envs.get((language, is_html(platform))) or self._envs[("en", is_html(platform))]
        template = env.select_template([f"{platform}/{template_name}.j2", f"plain/{template_name}.txt.j2"])
        context.setdefault("lang", language)
        context.setdefault("platform", platform)
        return template.render(**context).strip()


def headed(headline: str, text: str, platform: str) -> str:
    """A card's text under its headline, laid out as the card templates do (escaped where HTML),
    so a card is rendered once for both the answer and the redraw of a tapped copy."""
    if not headline:
        return text
    return f"{markupsafe.escape(headline) if is_html(platform) else headline}\n{text}"


def refusal_text(exc: Refusal, lang: str, platform: str = "plain") -> str:
    """A refusal in the reader's language, escaped where the platform reads HTML."""
    _ = gettext_for(lang)
    # Some parameters are message ids themselves ("close", "reassign"); some say
    # themselves in each language (a form field's label: core/forms/readers.py).
    params = {k: v.text(lang) if callable(getattr(v, "text", None)) else _(v) if isinstance(v, str) else v
              for k, v in exc.params.items()}
    text = _(exc.msgid, **params)
    return html.escape(text, quote=False) if is_html(platform) else text


def plural(lang: str, singular: str, plural_: str, n: int) -> str:
    """ngettext with %(num)s filled in."""
    return ngettext_for(lang)(singular, plural_, n) % {"num": n}
