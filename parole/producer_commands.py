"""``parole producers``: the accounts allowed into the studio."""

from __future__ import annotations

from typing import Annotated

import typer

from archive.settings import Settings
from parole.cli import app, console, fail

producers = typer.Typer(help="Comptes de la production (accès au studio).", no_args_is_help=True)
app.add_typer(producers, name="producers")


@producers.command("add")
def add(
    email: Annotated[str, typer.Argument(help="Adresse électronique du compte.")],
    generate: Annotated[bool, typer.Option(
        "--generate", help="Créer un mot de passe aléatoire, affiché une seule fois.")] = False,
) -> None:
    """Créer un compte de production (mot de passe demandé deux fois, ou créé avec --generate)."""
    from archive.db import Database
    from archive.producers import AccountError, add_producer, generate_password

    if generate:
        password = generate_password()
    else:
        password = typer.prompt("Mot de passe", hide_input=True)
        if typer.prompt("Le même, une seconde fois", hide_input=True) != password:
            fail("Les deux mots de passe diffèrent ; rien n'a été créé.")
    database = Database(Settings())
    try:
        with database.sessions.begin() as session:
            add_producer(session, email, password)
    except AccountError as error:
        fail(str(error))
    finally:
        database.dispose()
    console.print(f"Compte créé : {email.strip().lower()}.", highlight=False)
    if generate:
        print(f"Mot de passe (affiché une seule fois) : {password}")


@producers.command("token")
def token(
    email: Annotated[str, typer.Argument(help="Le compte qui crée le jeton.")],
    name: Annotated[str, typer.Option("--name", help="À quoi servira ce jeton.")] = "script",
) -> None:
    """Créer un jeton d'API pour les scripts (en-tête « Authorization: Bearer … »)."""
    from sqlalchemy import select

    from archive.db import Database
    from archive.models import Producer
    from archive.producers import create_api_token, normalise_email

    database = Database(Settings())
    try:
        with database.sessions.begin() as session:
            producer = session.scalar(select(Producer).where(Producer.email == normalise_email(email)))
            if producer is None:
                fail(f"Aucun compte pour {email}.")
            value = create_api_token(session, producer.id, name)
    finally:
        database.dispose()
    print(f"Jeton (affiché une seule fois) : {value}")
