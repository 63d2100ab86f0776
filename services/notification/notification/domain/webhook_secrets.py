"""Webhook signing secrets, in the Standard Webhooks form `whsec_<base64>`."""
from __future__ import annotations

import base64
import secrets
from collections.abc import Callable

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24  # 192 bits, as Standard Webhooks recommends (between 24 and 64 bytes)


def new_secret(token_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    return SECRET_PREFIX + base64.b64encode(token_bytes(SECRET_BYTES)).decode("ascii")
