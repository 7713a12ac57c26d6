"""Reading one value typed in chat (numbers, money, yes/no, links, e-mails, phones, dates,
periods), and the refusal parameters said differently in each language.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from core.chat.timeparse import parse_when
from core.domain.clock import zone
from core.domain.errors import BadInput
from core.forms.schema import Field, Label
from core.presentation.i18n import N_, gettext_for


# Reading one value typed in chat: numbers, money, yes/no, links, e-mails, phones (dates: below).
#
# Each reader returns the value as stored (JSON-ready) or raises BadInput with
# an example of what it would understand. People, choices and tables need the
# field or the store and live in core.forms.values.

NUMBER = N_("“%(text)s” is not a number. Type digits, like 1500 or 12.5.")
MONEY = N_("I can't read “%(text)s” as an amount. Type it like 150 000 RUB or 1200 USD.")
YES_NO = N_("Answer yes or no.")
LINK = N_("That doesn't look like a link; send one that starts with http:// or https://")
EMAIL = N_("“%(text)s” doesn't look like an e-mail address, like name@example.com.")
PHONE = N_("“%(text)s” doesn't look like a phone number, like +7 916 123-45-67.")

ECHO = 40
SPACES = re.compile(r"[\s\u00a0\u202f']+")
MONEY_RE = re.compile(r"^(?P<pre>[$€₽£¥])?\s*(?P<num>-?[\d\s\u00a0\u202f.,']+?)\s*(?P<mult>k|к|тыс\.?|млн|mln)?\s*"
                      r"(?P<cur>[A-Za-zА-Яа-яЁё$€₽£¥.]+)?$", re.IGNORECASE)
CURRENCY_WORDS = {
    "₽": "RUB", "р": "RUB", "р.": "RUB", "руб": "RUB", "руб.": "RUB", "рублей": "RUB", "рубля": "RUB", "рубль": "RUB",
    "rur": "RUB", "$": "USD", "долл": "USD", "долларов": "USD", "доллар": "USD", "€": "EUR", "евро": "EUR",
    "£": "GBP", "¥": "CNY", "юаней": "CNY", "юань": "CNY",
}
MULTIPLIERS = {"k": 1000, "к": 1000, "тыс": 1000, "тыс.": 1000, "млн": 1_000_000, "mln": 1_000_000}
YES = {"yes", "y", "да", "д", "true", "1", "+", "ok", "ага", "угу"}
NO = {"no", "n", "нет", "н", "false", "0", "-"}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def read_number(text: str) -> Decimal:
    """'1 500,5' -> 1500.5; '1,200.50' -> 1200.50."""
    number = _decimal(SPACES.sub("", text or ""))
    if number is None:
        raise BadInput(NUMBER, text=(text or "")[:ECHO])
    return number


def _decimal(raw: str) -> Decimal | None:
    if "," in raw and "." in raw:  # the last one is the decimal point
        raw = raw.replace(",", "") if raw.rfind(".") > raw.rfind(",") else raw.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"-?\d{1,3}(,\d{3})+", raw):
        raw = raw.replace(",", "")  # 1,200 and 1,200,000 are thousands
    else:
        raw = raw.replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d+)?", raw):
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def read_money(text: str, default_currency: str) -> tuple[Decimal, str]:
    """'150 000 RUB', '$1,200.50', '150k ₽', '2 млн руб' -> (amount, currency)."""
    match = MONEY_RE.match((text or "").strip())
    amount = _decimal(SPACES.sub("", match.group("num"))) if match else None
    word = ((match.group("cur") or match.group("pre") or "") if match else "").strip()
    currency = CURRENCY_WORDS.get(word.lower(), word.upper() if re.fullmatch(r"[A-Za-z]{3}", word) else None)
    if amount is None or (word and currency is None):
        raise BadInput(MONEY, text=(text or "")[:ECHO])
    return amount * MULTIPLIERS.get((match.group("mult") or "").lower(), 1), currency or default_currency


def read_yes_no(text: str) -> bool:
    word = (text or "").strip().lower().rstrip("!.")
    if word in YES or word in NO:
        return word in YES
    raise BadInput(YES_NO)


def read_link(text: str) -> str:
    url = (text or "").strip()
    if not url.lower().startswith(("http://", "https://")) or len(url) > 2000 or any(c.isspace() for c in url):
        raise BadInput(LINK)
    return url


def read_email(text: str) -> str:
    address = (text or "").strip()
    if not EMAIL_RE.match(address) or len(address) > 254:
        raise BadInput(EMAIL, text=address[:ECHO])
    return address.lower()


def read_phone(text: str) -> str:
    """'8 (916) 123-45-67' -> '+79161234567'; international numbers keep their code."""
    raw = re.sub(r"[\s().\-\u00a0]", "", (text or "").strip())
    if not re.fullmatch(r"\+?\d{7,15}", raw):
        raise BadInput(PHONE, text=(text or "")[:ECHO])
    if len(raw) == 11 and raw[0] in "78":
        return "+7" + raw[1:]
    return raw if raw.startswith("+") else "+" + raw if len(raw) > 10 else raw


# Reading a date, a date and time, or a period typed in chat, in English or Russian.
#
# Numeric forms first (31.12.2026, 2026-12-31, 31.12), then today / tomorrow /
# yesterday, then natural language through core.chat.timeparse ("friday", "завтра 15:00").

DATE = N_("I can't read “%(text)s” as a date. Type it like 31.12.2026, 2026-12-31 or “tomorrow”.")
DATETIME = N_("I can't read “%(text)s” as a date and time. Type it like 31.12.2026 15:00 or “tomorrow 15:00”.")
PERIOD = N_("Give the period as two dates, like 01.12.2026 - 14.12.2026.")
PERIOD_ORDER = N_("The period ends before it starts: %(start)s - %(end)s.")
TODAY = {"today": 0, "сегодня": 0, "yesterday": -1, "вчера": -1, "tomorrow": 1, "завтра": 1}
NUMERIC_DATE = re.compile(r"^(\d{1,2})[./](\d{1,2})(?:[./](\d{2}|\d{4}))?$")
PERIOD_SPLIT = re.compile(r"\s+[-–—]\s+|\s*[–—]\s*|\s*\.\.\s*|\s+(?:to|till|until|по|до)\s+", re.IGNORECASE)
PERIOD_START = re.compile(r"^(?:from|с|со)\s+", re.IGNORECASE)


def read_date(text: str, *, now: datetime, tz: str) -> date:
    """'31.12.2026', '2026-12-31', '31.12', 'today', 'завтра', 'friday' -> a date."""
    cleaned = (text or "").strip().lower()
    local_today = now.astimezone(zone(tz)).date()
    if cleaned in TODAY:
        return local_today + timedelta(days=TODAY[cleaned])
    try:
        found = _numeric_date(cleaned, local_today)
        if found is not None:
            return found
        return parse_when(cleaned, now=now, tz=tz).astimezone(zone(tz)).date()
    except (ValueError, BadInput):
        raise BadInput(DATE, text=(text or "")[:ECHO]) from None


def _numeric_date(text: str, today: date) -> date | None:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    match = NUMERIC_DATE.match(text)
    if not match:
        return None
    year = int(match.group(3)) if match.group(3) else today.year
    return date(year + 2000 if year < 100 else year, int(match.group(2)), int(match.group(1)))


def read_datetime(text: str, *, now: datetime, tz: str) -> datetime:
    """'31.12.2026 15:00', '2026-12-31T15:00', 'tomorrow 15:00' -> an aware UTC datetime."""
    cleaned = " ".join((text or "").split())
    match = re.fullmatch(r"(\S+)[ T](\d{1,2})[:.](\d{2})", cleaned)
    try:
        if match and re.match(r"\d", match.group(1)):
            day = _numeric_date(match.group(1), now.astimezone(zone(tz)).date())
            if day is not None:
                local = datetime(day.year, day.month, day.day, int(match.group(2)), int(match.group(3)),
                                 tzinfo=zone(tz))
                return local.astimezone(now.tzinfo)
        return parse_when(cleaned, now=now, tz=tz)
    except (ValueError, BadInput):
        raise BadInput(DATETIME, text=cleaned[:ECHO]) from None


def read_period(text: str, *, now: datetime, tz: str) -> tuple[date, date]:
    """'01.12.2026 - 14.12.2026', 'с 1.12 по 14.12' -> (start, end)."""
    parts = PERIOD_SPLIT.split(PERIOD_START.sub("", (text or "").strip()), maxsplit=1)
    if len(parts) != 2:
        raise BadInput(PERIOD)
    start, end = (read_date(part, now=now, tz=tz) for part in parts)
    if end < start:
        raise BadInput(PERIOD_ORDER, start=start.isoformat(), end=end.isoformat())
    return start, end


# Refusal parameters that are said differently in each language.
#
# A refusal carries a msgid and parameters, never a rendered sentence (core/errors).
# A field's label, a list of choices or a nested refusal depend on the reader's
# language too: these objects render themselves with `text(lang)`, which
# `core.presentation.render.refusal_text` calls.

def say(value, lang: str):
    """A parameter in a language: phrases render themselves, msgids are translated."""
    if callable(getattr(value, "text", None)):
        return value.text(lang)
    return gettext_for(lang)(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Phrase:
    """A refusal inside a refusal ("Row 2, Due: <why>")."""

    msgid: str
    params: tuple[tuple[str, object], ...] = ()

    def text(self, lang: str) -> str:
        return gettext_for(lang)(self.msgid, **{k: say(v, lang) for k, v in self.params})

    def __str__(self) -> str:
        return self.text("en")


@dataclass(frozen=True)
class Choices:
    """"1 — Materials, 2 — Services" in the reader's language."""

    field: Field

    def text(self, lang: str) -> str:
        return ", ".join(f"{i} — {o.label.text(lang)}" for i, o in enumerate(self.field.options, 1))

    def __str__(self) -> str:
        return self.text("en")


@dataclass(frozen=True)
class Names:
    """Some labels in a row: a table's columns "What, Who, By when", a step's outcomes."""

    labels: tuple[Label, ...]

    @classmethod
    def of(cls, items) -> "Names":
        """From fields, columns or outcomes: anything with a `label`."""
        return cls(tuple(item.label for item in items))

    def text(self, lang: str) -> str:
        return ", ".join(label.text(lang) for label in self.labels)

    def __str__(self) -> str:
        return self.text("en")
