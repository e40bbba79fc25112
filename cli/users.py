"""`restock users add/list/disable/unlock`: manage API accounts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, RestockError
from core.settings import Settings, get_settings
from services import accounts
from services.accounts import ApprovalGrant
from store import accounts as users_repo
from store.db import create_engine, create_session_factory, unit_of_work
from store.models import Customer, CustomerRole, NotifyBy, Role, User

users_app = typer.Typer(help="API accounts: customer buyers and ops staff.", no_args_is_help=True)
console = Console()
CLI_ACTOR = "cli"

NewPassword = Annotated[
    str | None,
    typer.Option(
        help="At least 12 characters; omit to be prompted, or use --generate",
        envvar="RESTOCK_NEW_USER_PASSWORD",
    ),
]
Generate = Annotated[bool, typer.Option(help="Generate a random password and print it")]


def _new_password(given: str | None, generate: bool, prompt: str) -> str:
    if generate:
        return accounts.generate_password()
    if given is not None:
        return given
    password: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return password


CustomerRoleOption = Annotated[
    CustomerRole,
    typer.Option(help="A customer user's role: viewer (reads), buyer (edits, proposes), approver"),
]
ApprovalLimit = Annotated[
    str | None,
    typer.Option(help="The most the user approves at once (e.g. 25000.00); omit for no limit"),
]
Email = Annotated[
    str | None, typer.Option(help="Where proposals waiting for this approver are sent")
]


def _grant(
    customer_role: CustomerRole, approval_limit: str | None, email: str | None
) -> ApprovalGrant:
    try:
        return ApprovalGrant(
            customer_role=customer_role, approval_limit=approval_limit, email=email
        )
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise typer.BadParameter(problems) from None


async def _add(
    settings: Settings,
    username: str,
    password: str,
    role: Role,
    customer_code: str | None,
    grant: ApprovalGrant,
) -> None:
    engine = create_engine(settings.database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            customer_id = None
            if customer_code is not None:
                customer_id = await session.scalar(
                    select(Customer.id).where(Customer.erp_code == customer_code)
                )
                if customer_id is None:
                    raise typer.BadParameter(f"no customer with ERP code {customer_code!r}")
            await accounts.create_user(
                session,
                username=username,
                password=password,
                role=role,
                customer_id=customer_id,
                actor=CLI_ACTOR,
                approval_grant=grant,
            )
    finally:
        await engine.dispose()


@users_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Login name (case-insensitive)")],
    role: Annotated[Role, typer.Option(help="customer (one customer) or ops (all)")],
    customer: Annotated[
        str | None, typer.Option(help="The customer's ERP code (customer role only)")
    ] = None,
    password: NewPassword = None,
    generate: Generate = False,
    customer_role: CustomerRoleOption = CustomerRole.APPROVER,
    approval_limit: ApprovalLimit = None,
    email: Email = None,
) -> None:
    """Create a user."""
    grant = _grant(customer_role, approval_limit, email)
    password = _new_password(password, generate, "Password")
    try:
        asyncio.run(_add(get_settings(), username, password, role, customer, grant))
    except RestockError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"user {username.strip().lower()} added ({role.value})")
    if generate:
        console.print(f"password: {password}")


async def _list(settings: Settings) -> list[tuple[str, ...]]:
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            codes = dict((await session.execute(select(Customer.id, Customer.erp_code))).all())
            return [
                (
                    u.username,
                    u.role,
                    codes.get(u.customer_id, "-") if u.customer_id else "all",
                    u.customer_role or "-",
                    u.approval_limit or ("none" if u.customer_role else "-"),
                    "yes" if u.disabled else "no",
                    u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else "never",
                )
                for u in await users_repo.list_users(session)
            ]
    finally:
        await engine.dispose()


@users_app.command("list")
def list_users() -> None:
    """List users."""
    table = Table(title="Users")
    columns = ("username", "role", "customer", "customer role", "approval limit", "disabled")
    for column in (*columns, "last login"):
        table.add_column(column)
    for row in asyncio.run(_list(get_settings())):
        table.add_row(*row)
    console.print(table)


async def _change_user(
    settings: Settings, username: str, change: Callable[[AsyncSession, User], Awaitable[object]]
) -> None:
    """Apply `change` to a user found by name, in one transaction."""
    engine = create_engine(settings.database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            user = await users_repo.find_user(session, username)
            if user is None:
                raise NotFound(f"user {username!r} not found", field="username")
            await change(session, user)
    finally:
        await engine.dispose()


async def _set_approval(settings: Settings, username: str, grant: ApprovalGrant) -> None:
    await _change_user(
        settings,
        username,
        lambda session, user: accounts.set_approval_grant(session, user, grant, actor=CLI_ACTOR),
    )


@users_app.command("set-approval")
def set_approval(
    username: Annotated[str, typer.Argument(help="Login name")],
    customer_role: CustomerRoleOption,
    approval_limit: ApprovalLimit = None,
    email: Email = None,
) -> None:
    """Set what a customer user may do: role, approval limit, e-mail for proposals."""
    grant = _grant(customer_role, approval_limit, email)
    try:
        asyncio.run(_set_approval(get_settings(), username, grant))
    except RestockError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc
    limit = "no limit" if grant.approval_limit is None else f"limit {grant.approval_limit}"
    console.print(f"user {username.strip().lower()}: {grant.customer_role.value}, {limit}")


async def _set_phone(settings: Settings, username: str, phone: str | None) -> None:
    await _change_user(
        settings,
        username,
        lambda session, user: accounts.set_phone(session, user, phone, actor=CLI_ACTOR),
    )


@users_app.command("set-phone")
def set_phone(
    username: Annotated[str, typer.Argument(help="Login name")],
    phone: Annotated[
        str | None,
        typer.Argument(help="WhatsApp number in E.164 (+4915112345678); omit to remove it"),
    ] = None,
) -> None:
    """Set the WhatsApp number a customer user writes from, once verified with the customer."""
    try:
        if phone is not None:
            phone = accounts.PhoneBody(phone=phone).phone
        asyncio.run(_set_phone(get_settings(), username, phone))
    except ValidationError as exc:
        console.print(
            f"[red]phone: {exc.errors()[0]['msg']} (E.164: +, country code, number)[/red]"
        )
        raise typer.Exit(1) from exc
    except RestockError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"user {username.strip().lower()}: WhatsApp {phone or 'removed'}")


@users_app.command("set-notify-by")
def set_notify_by(
    username: Annotated[str, typer.Argument(help="Login name")],
    notify_by: Annotated[
        NotifyBy, typer.Argument(help="both, email or whatsapp", case_sensitive=False)
    ],
) -> None:
    """Set how a customer user is told of the buyer's messages: e-mail, WhatsApp or both."""
    try:
        asyncio.run(
            _change_user(
                get_settings(),
                username,
                lambda session, user: accounts.set_notify_by(
                    session, user, notify_by, actor=CLI_ACTOR
                ),
            )
        )
    except RestockError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"user {username.strip().lower()}: told by {notify_by.value}")


async def _disable(settings: Settings, username: str, disabled: bool) -> None:
    engine = create_engine(settings.database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            await accounts.set_disabled(session, username, disabled, actor=CLI_ACTOR)
    finally:
        await engine.dispose()


@users_app.command("disable")
def disable(
    username: Annotated[str, typer.Argument(help="Login name")],
    enable: Annotated[bool, typer.Option("--enable", help="Re-enable instead")] = False,
) -> None:
    """Disable a user (revoking its tokens), or re-enable it with --enable."""
    try:
        asyncio.run(_disable(get_settings(), username, not enable))
    except RestockError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"user {username.strip().lower()} {'enabled' if enable else 'disabled'}")


async def _unlock(settings: Settings, username: str) -> int:
    engine = create_engine(settings.database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            return await accounts.unlock(session, username, actor=CLI_ACTOR)
    finally:
        await engine.dispose()


@users_app.command("unlock")
def unlock(username: Annotated[str, typer.Argument(help="Login name")]) -> None:
    """Let a user log in again at once: forget the recent failed logins against it."""
    cleared = asyncio.run(_unlock(get_settings(), username))
    console.print(f"user {username.strip().lower()}: {cleared} recent failed logins forgotten")


async def _reset_password(settings: Settings, username: str, password: str) -> None:
    engine = create_engine(settings.database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            await accounts.reset_password(session, username, password, actor=CLI_ACTOR)
    finally:
        await engine.dispose()


@users_app.command("reset-password")
def reset_password(
    username: Annotated[str, typer.Argument(help="Login name")],
    password: NewPassword = None,
    generate: Generate = False,
) -> None:
    """Set a user's password: its sessions end and its failed logins are forgotten."""
    password = _new_password(password, generate, "New password")
    try:
        asyncio.run(_reset_password(get_settings(), username, password))
    except RestockError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"user {username.strip().lower()}: password reset, every session ended")
    if generate:
        console.print(f"password: {password}")
