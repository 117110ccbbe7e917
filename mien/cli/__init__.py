"""The ``mien`` command: one group, one subcommand module per job.

Each module in ``COMMAND_MODULES`` defines ``COMMANDS``, a list of click commands or
groups. Every ``MienError`` becomes a one-line message on stderr and a non-zero exit.
"""

from __future__ import annotations

import sys
from importlib import import_module

import click

from .._version import __version__
from ..errors import MienError

COMMAND_MODULES = (
    "mien.cli.models",
    "mien.cli.detect",
    "mien.cli.anonymize",
    "mien.cli.recognition",
    "mien.cli.analyze",
    "mien.cli.generate",
    "mien.cli.edit",
    "mien.cli.gallery",
    "mien.cli.serve",
    "mien.cli.face3d",
    "mien.cli.collection",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="mien")
def cli() -> None:
    """mien: face detection, recognition, analysis and anonymisation, offline and measured."""


for _module in COMMAND_MODULES:
    for _command in import_module(_module).COMMANDS:
        cli.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    try:
        # Without standalone mode click returns the code of a raised Exit instead of exiting.
        result = cli.main(args=argv, prog_name="mien", standalone_mode=False)
    except MienError as exc:
        click.echo(f"mien: error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("mien: aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("mien: interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
