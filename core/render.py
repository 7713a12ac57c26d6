"""Jinja2 rendering: one template per message kind, per platform only where needed.

Templates live in `templates/<platform>/<name>.j2`, falling back to
`templates/plain/`. Words inside them go through gettext (`_()`), so each
template is written once and read in the reader's language.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from core.errors import Refusal
from core.i18n import LANGUAGES, gettext_for, ngettext_for, translations

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
EXTENSIONS = {"plain": "txt.j2", "console": "txt.j2", "telegram": "html.j2", "slack": "txt.j2"}


class Templates:
    """A Jinja2 environment per language, sharing one loader."""

    def __init__(self, directory: Path | str = TEMPLATES_DIR) -> None:
        self.directory = Path(directory)

    @cached_property
    def _envs(self) -> dict[str, Environment]:
        return {lang: self._env(lang) for lang in LANGUAGES}

    def _env(self, lang: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader(str(self.directory)),
            autoescape=select_autoescape(["html.j2"]),
            extensions=["jinja2.ext.i18n"],
            undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
        )
        env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
        return env

    def render(self, template_name: str, language: str, platform: str, **context) -> str:
        """Render a template for a platform (or its plain variant) in a language."""
        env = self._envs.get(language) or self._envs["en"]
        ext = EXTENSIONS.get(platform, "txt.j2")
        template = env.select_template([f"{platform}/{template_name}.{ext}", f"plain/{template_name}.txt.j2"])
        context.setdefault("lang", language)
        return template.render(**context).strip()


def refusal_text(exc: Refusal, lang: str) -> str:
    """A refusal in the reader's language."""
    _ = gettext_for(lang)
    # Some parameters are message ids themselves ("close", "reassign").
    params = {k: _(v) if isinstance(v, str) else v for k, v in exc.params.items()}
    return _(exc.msgid, **params)


def plural(lang: str, singular: str, plural_: str, n: int) -> str:
    """ngettext with %(num)s filled in."""
    return ngettext_for(lang)(singular, plural_, n) % {"num": n}
