"""Signed JSON between Teamflow and the services behind bot steps.

Every request Teamflow sends, and every callback it accepts, carries
`X-Teamflow-Signature: sha256=<hex>`: the HMAC-SHA256 of the exact body bytes
with the form's secret (`secret_env: NAME` in the form file names the
environment variable holding it). Outgoing webhooks on task and request
events (core/infra/webhooks.py) sign the same way, with the hook's secret from the
org file. The scheme has no timestamp: a replayed callback is refused once its
step is settled (409), and a webhook receiver dedupes by X-Teamflow-Event-Id.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Mapping

from core.forms.schema import Form

SIGNATURE_HEADER = "X-Teamflow-Signature"
DELIVERY_HEADER = "X-Teamflow-Delivery"  # the same id on a retry of the same call


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for a body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str | None, body: bytes, signature: str | None) -> bool:
    """Constant-time check of a signature; no secret means nothing verifies, and
    a header of any odd text (non-ASCII included) is simply a wrong signature."""
    given = (signature or "").strip().encode("utf-8", "surrogateescape")
    return bool(secret) and hmac.compare_digest(sign(secret, body).encode("ascii"), given)


def secret_of(form: Form, environ: Mapping[str, str] = os.environ) -> str | None:
    """The form's secret: the variable its file names, else the one written in the file."""
    if form.secret_env and environ.get(form.secret_env):
        return environ[form.secret_env]
    return form.secret


def encode(payload: dict) -> bytes:
    """The body bytes that get signed (compact, stable key order)."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
