"""Telling people about a cycle: a notifier interface with a log and an SMTP backend."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage
from typing import Protocol

from pydantic import BaseModel

from core.settings import Settings

log = logging.getLogger("restock.notify")


class Message(BaseModel):
    to: list[str]
    subject: str
    body: str


class Notifier(Protocol):
    async def send(self, message: Message) -> None: ...


class LogNotifier:
    """Writes each notification to the log: the development default."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def send(self, message: Message) -> None:
        self.sent.append(message)
        log.info("notify %s: %s\n%s", ", ".join(message.to), message.subject, message.body)


class SmtpNotifier:
    """Sends mail over SMTP (stdlib smtplib in a thread; no extra dependency)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self._host, self._port, self._sender = host, port, sender
        self._username, self._password = username, password
        self._starttls, self._timeout = starttls, timeout

    async def send(self, message: Message) -> None:
        await asyncio.to_thread(self._send_blocking, message)

    def _send_blocking(self, message: Message) -> None:
        email = EmailMessage()
        email["From"] = self._sender
        email["To"] = ", ".join(message.to)
        email["Subject"] = message.subject
        email.set_content(message.body)
        with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
            if self._starttls:
                smtp.starttls()
            if self._username and self._password:
                smtp.login(self._username, self._password)
            smtp.send_message(email)


def build_notifier(settings: Settings) -> Notifier:
    if settings.notifier == "smtp":
        return SmtpNotifier(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )
    return LogNotifier()
