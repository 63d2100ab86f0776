"""A real SMTP server on loopback for the demos and the tests: what the notification service emails arrives here
and can be read back (subject, HTML, attachments, a PDF's text).

    with Mailbox() as mailbox:                      # aiosmtpd, 127.0.0.1, a free port, in a thread of its own
        Services(..., env={**mailbox.env, ...})      # SMTP_HOST, SMTP_PORT, SMTP_TLS=none
        mail = await mailbox.wait_for(lambda m: "vp@example.vn" in m.recipients)
        mail.pdfs()                                 # [(filename, bytes)]
"""
from __future__ import annotations

import asyncio
import email
import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from typing import Self

from aiosmtpd.controller import Controller

from ttct_dev.services import free_port


@dataclass
class Mail:
    """One message as it arrived: the envelope's sender and recipients, and the parsed message."""

    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    @property
    def notice_id(self) -> str | None:
        return self.message["X-TTCT-Notice-Id"]

    @property
    def html(self) -> str:
        body = self.message.get_body(("html",))
        return body.get_content() if body is not None else ""

    def attachments(self) -> list[tuple[str, str, bytes]]:
        """(filename, content type, bytes) of each attachment."""
        return [(part.get_filename() or "", part.get_content_type(), part.get_content())
                for part in self.message.iter_attachments()]

    def pdfs(self) -> list[tuple[str, bytes]]:
        return [(name, data) for name, kind, data in self.attachments() if kind == "application/pdf"]


def pdf_text(data: bytes) -> str:
    """The text of a PDF, whitespace collapsed to single spaces (line breaks fall anywhere in a table)."""
    from pypdf import PdfReader

    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


class Mailbox:
    """An SMTP server (aiosmtpd) on `host` and a free port, accepting every message; `mails` in arrival order.
    `refuse` holds addresses answered 550 at RCPT; `fail_next` counts messages answered 451 at DATA."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port or free_port()
        self.mails: list[Mail] = []
        self.refuse: set[str] = set()
        self.fail_next = 0
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def env(self) -> dict[str, str]:
        """The notification service's settings that send its email here (plain SMTP, no TLS, no AUTH)."""
        return {"SMTP_HOST": self.host, "SMTP_PORT": str(self.port), "SMTP_TLS": "none"}

    # aiosmtpd handler hooks (run in the server's thread)
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            if self.fail_next:
                self.fail_next -= 1
                return "451 4.3.0 try again later"
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self._lock:
            self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def start(self) -> Mailbox:
        self._controller = Controller(self, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def received(self) -> list[Mail]:
        with self._lock:
            return list(self.mails)

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.received() if address in m.recipients]

    def find(self, match: Callable[[Mail], bool]) -> list[Mail]:
        return [m for m in self.received() if match(m)]

    async def wait_for(self, match: Callable[[Mail], bool], timeout: float = 30.0) -> Mail | None:
        """The first mail that matches, waiting up to `timeout` seconds for it; None if none came."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(match)
            if found or time.monotonic() > deadline:
                return found[0] if found else None
            await asyncio.sleep(0.1)
