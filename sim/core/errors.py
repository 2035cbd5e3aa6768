"""Errors that carry field paths, so every layer can report bad input the same way."""

from __future__ import annotations

from collections.abc import Iterable


def printable(text: str, *, limit: int = 500) -> str:
    r"""User text made safe for a terminal or a log line: control characters escaped, length capped.

    A key or value from a file may hold escape sequences (``\\x1b[2J`` clears a screen); they
    are shown as ``\\x1b``, never sent.
    """
    if not text.isprintable():
        text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class InputError(Exception):
    """Invalid user input: one or more problems, each tied to a dotted field path.

    The CLI prints each problem as ``field.path: what is wrong`` and exits with code 2;
    the app shows the same lines. Raising this never leaves files half-written, because
    every writer validates before it opens anything.
    """

    def __init__(self, problems: Iterable[tuple[str, str]]):
        self.problems: list[tuple[str, str]] = [
            (printable(str(p), limit=200) or "input", printable(str(m))) for p, m in problems
        ]
        if not self.problems:
            self.problems = [("input", "invalid")]
        super().__init__(self.lines()[0])

    @classmethod
    def single(cls, path: str, message: str) -> InputError:
        """Build an error with a single problem."""
        return cls([(path, message)])

    def lines(self) -> list[str]:
        """One ``path: message`` line per problem."""
        return [f"{p}: {m}" for p, m in self.problems]

    def prefixed(self, prefix: str) -> InputError:
        """The same problems with ``prefix.`` in front of every path."""
        return InputError((f"{prefix}.{p}" if p else prefix, m) for p, m in self.problems)

    def __str__(self) -> str:
        return "\n".join(self.lines())
