"""Reading one value typed in chat: numbers, money, yes/no, links, e-mails, phones (dates: core/forms/dates.py).

Each reader returns the value as stored (JSON-ready) or raises BadInput with
an example of what it would understand. People, choices and tables need the
field or the store and live in `values`.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from core.domain.errors import BadInput
from core.presentation.i18n import N_

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
