"""The Rich console, set up the way a terminal, a pipe and NO_COLOR each expect."""

from __future__ import annotations

import os
import sys


def make_console(color: str = "auto", stderr: bool = False):
    """color: "auto" (colour and box drawing on a terminal only), "always" or "never" (plain
    text, as in a pipe: no colour, no bold, ASCII tables).

    Rich itself honours NO_COLOR; when the output is piped we also draw tables with plain
    ASCII so that files and other programs get clean text.
    """
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    force = {"always": True, "never": False}.get(color)
    console = Console(
        file=stream,
        force_terminal=force,
        no_color=color == "never" or None,
        highlight=False,
        soft_wrap=False,
        width=None if stream.isatty() or "COLUMNS" in os.environ else 160,
    )
    return console


def table_box(console):
    from rich import box

    return box.ROUNDED if console.is_terminal else box.ASCII


def print_title(console, title: str) -> None:
    """A table's title on a line of its own: a Rich table title would wrap at the table's width
    and split "Gradients of f = 0.7311" or "learning rate 0.1" over two lines."""
    from rich.text import Text

    console.print(Text(title, style="table.title"), soft_wrap=True)


def print_titled(console, title: str, table) -> None:
    """A table under its title (see print_title)."""
    print_title(console, title)
    console.print(table)
