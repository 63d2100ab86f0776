"""Sending one notice by email over SMTP (aiosmtplib): a Vietnamese subject, an HTML body with a plain-text
alternative, and, for the class result report, the report as a PDF attachment.

The Message-ID derives from the notice and the address, so a resent email (after a crash between the server's
250 and our commit) can be recognised as the same message by the receiving side.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, format_datetime

import aiosmtplib
from ttct.papers.settings import CentreProfile

from notification.adapters.deliveries import AttemptResult
from notification.domain import kinds
from notification.domain.render import render


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    sender_name: str | None = None
    tls: str = "none"  # none | starttls | tls
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    font_file: str | None = None
    centres: Mapping[str, CentreProfile] = field(default_factory=dict)
    """who each centre is on paper, for the heading of the attached report"""


def build_message(config: SmtpConfig, notice_id: str, body_json: str, address: str,
                  contact_name: str | None, now: datetime) -> MIMEMultipart:
    """The email, built with the compat32 classes on purpose: the newer EmailMessage folds long Vietnamese
    subjects into encoded words that drop the space at each fold (CPython's folder), so "An – Lớp" would arrive
    as "An– Lớp"; `Header` keeps every space inside its encoded words."""
    body = json.loads(body_json)
    email = render(body, contact_name)
    alternative = MIMEMultipart("alternative")
    alternative.attach(MIMEText(email.text, "plain", "utf-8"))
    alternative.attach(MIMEText(email.html, "html", "utf-8"))
    if body["type"] == kinds.RESULT_REPORT:
        from notification.adapters.report_pdf import render_report  # ReportLab loaded only when a report is sent
        message = MIMEMultipart("mixed")
        message.attach(alternative)
        attachment = MIMEApplication(render_report(body, config.font_file, config.centres), "pdf")
        attachment.add_header("Content-Disposition", "attachment",
                              filename=f"thong-bao-ket-qua-{body['data']['sending_organisation']['code']}.pdf")
        message.attach(attachment)
    else:
        message = alternative
    message["Subject"] = Header(email.subject, "utf-8")
    message["From"] = formataddr((config.sender_name, config.sender), "utf-8") if config.sender_name \
        else config.sender
    message["To"] = formataddr((contact_name, address), "utf-8") if contact_name else address
    message["Date"] = format_datetime(now)
    digest = hashlib.sha256(address.encode()).hexdigest()[:12]
    message["Message-ID"] = f"<{notice_id}.{digest}@{config.sender.split('@')[-1]}>"
    message["X-TTCT-Notice-Id"] = notice_id
    message["X-TTCT-Notice-Type"] = body["type"]
    return message


class Mailer:
    def __init__(self, config: SmtpConfig, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._config, self._clock = config, clock

    async def send(self, notice_id: str, body_json: str, address: str, contact_name: str | None) -> AttemptResult:
        now = self._clock()
        started = time.perf_counter()

        def result(code: int | None, error: str | None) -> AttemptResult:
            return AttemptResult(now, code, round((time.perf_counter() - started) * 1000), error)

        c = self._config
        try:
            message = await asyncio.to_thread(build_message, c, notice_id, body_json, address, contact_name, now)
            errors, _ = await aiosmtplib.send(
                message, hostname=c.host, port=c.port, username=c.username, password=c.password,
                use_tls=c.tls == "tls", start_tls=c.tls == "starttls", timeout=c.timeout)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            [refusal] = exc.recipients or [None]
            return result(getattr(refusal, "code", 550), f"recipient refused: {refusal}")
        except aiosmtplib.SMTPResponseException as exc:
            return result(exc.code, f"SMTP {exc.code}: {exc.message}"[:500])
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return result(None, f"{type(exc).__name__}: {exc}"[:500])
        if errors:
            code, text = next(iter(errors.values()))
            return result(code, f"SMTP {code}: {text}"[:500])
        return result(250, None)
