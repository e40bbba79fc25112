"""The SMTP notifier against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message as EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

from activities.notifier import LogNotifier, Message, SmtpNotifier, build_notifier
from core.settings import Settings
from tests.plugins.ports import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, _server: object, _session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


async def test_smtp_notifier_delivers_mail(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    notifier = SmtpNotifier(host="127.0.0.1", port=port, sender="restock@example.test")
    await notifier.send(
        Message(to=["buyer@example.test"], subject="2 containers to approve", body="Urgent: 1")
    )
    assert len(inbox.messages) == 1
    recipients, mail = inbox.messages[0]
    assert recipients == ["buyer@example.test"]
    assert mail["Subject"] == "2 containers to approve"
    assert mail["From"] == "restock@example.test"
    assert "Urgent: 1" in mail.get_payload()


async def test_smtp_notifier_raises_when_the_server_is_down() -> None:
    notifier = SmtpNotifier(host="127.0.0.1", port=free_port(), sender="r@example.test", timeout=2)
    with pytest.raises(OSError):
        await notifier.send(Message(to=["x@example.test"], subject="s", body="b"))


async def test_log_notifier_keeps_what_it_sent() -> None:
    notifier = LogNotifier()
    await notifier.send(Message(to=["a@example.test"], subject="hello", body="body"))
    assert [m.subject for m in notifier.sent] == ["hello"]


def test_settings_choose_the_backend() -> None:
    assert isinstance(build_notifier(Settings(notifier="smtp")), SmtpNotifier)
    assert isinstance(build_notifier(Settings()), LogNotifier)
