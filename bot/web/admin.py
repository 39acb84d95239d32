"""``discretion create-user``: make a dashboard account from the command line.

This is how the first account (the data protection lead) is made. The password
is read from a prompt, or from standard input when that is not a terminal, and
never from the command line, where it would be kept in shell history and shown
to other users of the machine by ``ps``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import IO

from discretion.web.roles import ROLE_NAMES, ROLES

EXIT_OK, EXIT_REFUSED = 0, 2


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the create-user subcommand to the main command's parser."""
    roles = ", ".join(f"{r} ({ROLE_NAMES[r].lower()})" for r in ROLES)
    u = sub.add_parser(
        "create-user",
        help="create a dashboard account (password from a prompt or standard input)",
        description=f"Create a dashboard account. Roles: {roles}.",
    )
    u.add_argument("username")
    u.add_argument("--role", required=True, choices=ROLES)
    u.add_argument("--name", default="", help="the name to show, e.g. 'Dana Lead'")
    u.add_argument(
        "--chat-id",
        action="append",
        default=[],
        help="a Slack or Teams user id whose reports a staff account may see (repeatable)",
    )


def read_password(stdin: IO[str], stderr: IO[str]) -> str | None:
    """The new password: asked twice at a terminal, else the first line of standard input."""
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != first:
            print("The two passwords are different; nothing was created.", file=stderr)
            return None
        return first
    return stdin.readline().rstrip("\r\n")


async def _create(args: argparse.Namespace, password: str) -> int:
    # Imported here so that `discretion check` does not load the database layer.
    from discretion.store.db import Store
    from discretion.web.accounts import AccountError, create_user

    store = Store(message_key=None)
    try:
        await store.migrate()
        async with store.sessions.begin() as db:
            user = await create_user(
                db,
                username=args.username,
                role=args.role,
                password=password,
                display_name=args.name,
                chat_ids=args.chat_id,
            )
            name, role = user.username, user.role
    except AccountError as exc:
        print(f"not created: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        await store.close()
    print(f"created {name} ({ROLE_NAMES[role]})")
    return EXIT_OK


def create_user_command(args: argparse.Namespace) -> int:
    """Run ``discretion create-user``; returns the exit status."""
    password = read_password(sys.stdin, sys.stderr)
    if password is None:
        return EXIT_REFUSED
    return asyncio.run(_create(args, password))
