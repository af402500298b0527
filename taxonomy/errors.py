"""The one exception type for errors a user can cause.

A ``TaxonomyError`` names the file, row and field it is about, so the CLI and
the DAG tasks can print one clear line instead of a traceback.
"""

from __future__ import annotations

import functools


class TaxonomyError(Exception):
    """A problem with the user's input, configuration or arguments.

    Args:
        message: What is wrong and, where it helps, what to do about it.
        file: The file (or URI) the problem is in, if any.
        row: The 1-based data row, if the problem is in one row.
        field: The column or field name, if the problem is in one field.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.row = row
        self.field = field
        super().__init__(str(self))

    def __reduce__(self) -> tuple:
        # Keeps file, row and field when the error crosses a process boundary (worker pools).
        return functools.partial(type(self), self.message, file=self.file, row=self.row, field=self.field), ()

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{': '.join([', '.join(where)] if where else [])}{': ' if where else ''}{self.message}"


class StorageError(Exception):
    """The object store or file system failed even after retries (not the user's input).

    Kept apart from :class:`TaxonomyError` on purpose: Airflow retries these (an outage
    passes), while bad input fails at once. The CLI prints it as one line.
    """
