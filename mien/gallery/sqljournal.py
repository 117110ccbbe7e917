"""The journal's SQL, shared by the SQLite and PostgreSQL stores.

The two differ here only in the parameter placeholder and the tables' prefix; everything else
(the chain, the head kept in the gallery's row in the same transaction) is one code path.
"""

from __future__ import annotations

import time
from typing import Any, Iterator

from ..errors import NotFoundError
from .base import JournalLine
from .journal import make_entry
from .rows import JOURNAL_COLUMNS, journal_entry, journal_values
from .types import JournalEntry

_INSERT_MARKS = ",".join(["{p}"] * len(JOURNAL_COLUMNS.split(",")))


class SqlJournal:
    placeholder = "?"
    prefix = ""
    url: str
    _read: Any  # the store's own read: (sql, args) -> rows

    def _journal_sql(self, template: str) -> str:
        return template.format(p=self.placeholder, galleries=f"{self.prefix}galleries", journal=f"{self.prefix}journal",
                               columns=JOURNAL_COLUMNS)

    def _append(self, db: Any, gallery: str, line: JournalLine) -> JournalEntry:
        """The next line after the gallery's head, inside the caller's transaction (``db`` runs its SQL)."""
        seq, head = db.execute(self._journal_sql("SELECT journal_seq, journal_head FROM {galleries} WHERE name = {p}"),
                               (gallery,)).fetchone()
        entry = make_entry(line.key, int(seq) + 1, time.time(), gallery, line.actor, line.action, line.subject,
                           line.details, head)
        db.execute(self._journal_sql("INSERT INTO {journal} ({columns}) VALUES (" + _INSERT_MARKS + ")"),
                   journal_values(gallery, entry))
        db.execute(self._journal_sql("UPDATE {galleries} SET journal_seq = {p}, journal_head = {p} WHERE name = {p}"),
                   (entry.seq, entry.hash, gallery))
        return entry

    def journal(self, gallery: str, since: int = 0) -> Iterator[JournalEntry]:
        rows = self._read(self._journal_sql("SELECT {columns} FROM {journal} WHERE gallery = {p} AND seq > {p} ORDER BY seq"),
                          (gallery, since))
        yield from map(journal_entry, rows)

    def journal_head(self, gallery: str) -> tuple[int, str]:
        rows = self._read(self._journal_sql("SELECT journal_seq, journal_head FROM {galleries} WHERE name = {p}"), (gallery,))
        if not rows:
            raise NotFoundError(f"no gallery {gallery!r} in {self.url}")
        return int(rows[0][0]), rows[0][1]
