"""`arrears-bot users …`: consultants' and coordinators' accounts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli_common import PlainUsage, load_settings
from bot.runtime import Runtime
from workplace.accounts import AccountError, Role, add_user, check_new_user, set_password

users_app = typer.Typer(
    help="Consultants and coordinators.", no_args_is_help=True, rich_markup_mode=None
)


def _account_change(
    work: Callable[[AsyncSession, Runtime], Awaitable[object]], refused: str
) -> None:
    """Run one change to the accounts in a transaction; a refused change exits 1, saying
    why."""
    settings = load_settings()

    async def main() -> None:
        runtime = await Runtime.start(settings)
        try:
            async with runtime.sessions() as session, session.begin():
                await work(session, runtime)
        finally:
            await runtime.close()

    try:
        asyncio.run(main())
    except AccountError as problem:
        typer.echo(f"{refused}: {problem}", err=True)
        raise typer.Exit(1) from None


@users_app.command("add", cls=PlainUsage)
def users_add(
    name: Annotated[str, typer.Argument(help="Login name: letters, digits and dots.")],
    role: Annotated[Role, typer.Option(help="coordinators also manage users")] = Role.CONSULTANT,
    display_name: Annotated[str | None, typer.Option(help="As colleagues see it.")] = None,
    team: Annotated[
        str | None, typer.Option(help="A team from the policy's [teams]: its cases only.")
    ] = None,
) -> None:
    """Add a consultant or coordinator; the password is asked twice and never shown."""
    # A name that is taken or not allowed is told before anyone types a password twice.
    _account_change(
        lambda session, runtime: check_new_user(session, name, team, runtime.policy.teams.keys()),
        "Not added",
    )
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    _account_change(
        lambda session, runtime: add_user(
            session,
            name,
            password,
            role=role,
            now=runtime.wall_clock.now(),
            display_name=display_name,
            team=team,
            known_teams=runtime.policy.teams.keys(),
        ),
        "Not added",
    )
    typer.echo(f"Added {role.value} {name.strip().lower()}.")


@users_app.command("password", cls=PlainUsage)
def users_password(
    name: Annotated[str, typer.Argument(help="The login name.")],
) -> None:
    """Give an account a new password (asked twice, never shown); its logins end."""
    password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    _account_change(lambda session, _: set_password(session, name, password), "Not changed")
    typer.echo(f"New password set for {name.strip().lower()}; their logins have ended.")
