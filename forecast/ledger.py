"""The ledger: an append-only SQLite history of runs and resolutions.

``<workspace>/.forecast/ledger.sqlite`` records every run once (its id, when
it was made, the content hash of its inputs, the git commit when the
workspace is a repository, the settings and diagnostics) and, for each
question, the pooled prior, the forecast and its 90 % interval, with what
the run saw: the evidence ids, each analyst's statement and the question's
resolution at the time. Resolutions recorded with ``forecast resolve`` or
``forecast import`` are rows too. Rows are only ever added.

Every write is one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``) in WAL
mode with a busy timeout, so two processes writing at once wait for each
other and a process killed mid-write leaves every committed row readable
(SQLite rolls the torn transaction back on the next open). The schema is
versioned with ``PRAGMA user_version``; ``forecast.ledger_schema.MIGRATIONS`` brings an older
ledger up to date.

A locked, unreadable or corrupt ledger raises :class:`LedgerError` naming the
file and what to do; nothing here touches a workspace file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast.errors import ForecastError
from forecast.ledger_schema import MIGRATIONS, SCHEMA_VERSION

if TYPE_CHECKING:
    from forecast.runs import Run
    from forecast.workspace import Statement, Workspace

LEDGER = Path(".forecast") / "ledger.sqlite"
BUSY_TIMEOUT_MS = 15_000  # how long a writer waits for another before giving up


def _statements(script: str) -> Iterator[str]:
    """The SQL statements of a script, one by one (``executescript`` would
    commit the migration's transaction half-way)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer
            buffer = ""
    if buffer.strip():
        yield buffer


class LedgerError(ForecastError):
    """The ledger cannot be opened, read or written (locked, corrupt, newer)."""


def ledger_path(root: str | Path) -> Path:
    return Path(root) / LEDGER


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _advice(path: Path, exc: BaseException) -> str:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return (
            f"{path}: the ledger is locked by another forecast command (waited "
            f"{BUSY_TIMEOUT_MS // 1000} s); wait for it to finish and run this again"
        )
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return (
            f"{path}: the ledger is damaged ({text}); move it aside (e.g. `mv {path} "
            f"{path}.damaged`) and run again: a new ledger is started, and stored runs are "
            "recorded in it when they are used"
        )
    return f"{path}: cannot use the ledger ({text}); check the file and its folder's permissions"


@dataclass(frozen=True)
class StoredResolution:
    question: str
    outcome: str
    date: dt.date
    note: str
    recorded: str
    forced: bool


class Ledger:
    """An open ledger. Use as a context manager; every method is one transaction."""

    def __init__(self, root: str | Path, *, create: bool = True, readonly: bool = False):
        self.path = ledger_path(root)
        self.readonly = readonly
        if (readonly or not create) and not self.path.is_file():
            self.conn = None
            return
        try:
            if readonly:  # SQLite itself refuses every write on this connection
                self.conn = sqlite3.connect(
                    f"{self.path.resolve().as_uri()}?mode=ro",
                    uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                )  # fmt: skip
                self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                self._check_version()
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._set_up()
        except LedgerError:
            self.close()
            raise
        except (sqlite3.Error, OSError) as exc:
            self.close()
            raise LedgerError(_advice(self.path, exc)) from None

    def _set_up(self) -> None:
        """WAL mode and the current schema, retried while another process holds the file.

        SQLite answers some of these steps "busy" at once, without waiting the
        busy timeout (switching the journal mode, opening the WAL while another
        connection checkpoints it on close), so they are retried here until the
        same timeout has passed.
        """
        assert self.conn is not None
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.execute("PRAGMA synchronous = FULL")
                self.conn.execute("PRAGMA foreign_keys = ON")
                self._migrate()
                return
            except sqlite3.OperationalError as exc:
                text = str(exc)
                if not ("locked" in text or "busy" in text) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    # --- plumbing ------------------------------------------------------------------
    def close(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            conn.close()
            self.conn = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def exists(self) -> bool:
        return self.conn is not None

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        assert self.conn is not None
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise LedgerError(_advice(self.path, exc)) from None

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        if self.conn is None:
            return []
        try:
            self.conn.row_factory = sqlite3.Row
            return list(self.conn.execute(sql, args))
        except sqlite3.Error as exc:
            raise LedgerError(_advice(self.path, exc)) from None

    def _check_version(self) -> int:
        """The schema version; ``LedgerError`` for a newer one (or, read-only, an older one)."""
        assert self.conn is not None
        # reading the schema checks the file really is a database
        self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"{self.path}: the ledger has schema version {version}, newer than this "
                f"forecast understands ({SCHEMA_VERSION}); upgrade forecast to use it"
            )
        if version < SCHEMA_VERSION and self.readonly:
            raise LedgerError(
                f"{self.path}: the ledger has the older schema version {version}; any "
                "`forecast run` brings it up to date"
            )
        return version

    def _migrate(self) -> None:
        assert self.conn is not None
        if self._check_version() == SCHEMA_VERSION:
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            # another process may have migrated while this one waited for the lock
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            for i in range(version, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[i]):
                    self.conn.execute(statement)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    # --- writing -------------------------------------------------------------------
    def has_run(self, run_id: str) -> bool:
        return bool(self._read("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)))

    def record_run(self, ws: Workspace, run: Run) -> bool:
        """Record ``run`` (made from ``ws``) once; False when it was already there."""
        if self.has_run(run.run_id):  # the common case of a reused run: nothing to do
            return False
        manifest = run.manifest
        forecasts = {f["id"]: f for f in manifest.get("forecasts", [])}
        commit, dirty = git_state(ws.root)
        row = RunRow(
            run_id=run.run_id,
            created=str(manifest.get("created") or _now()),
            kind="run",
            input_hash=str(manifest.get("input_hash", "")),
            run_key=str(manifest.get("run_key", "")),
            git_commit=commit,
            git_dirty=dirty,
            settings=manifest.get("settings", {}),
            diagnostics=manifest.get("diagnostics", {}),
            files=manifest.get("files", {}),
            as_of=_as_of(ws),
        )
        return self.record(ws, row, forecasts)

    def record(
        self, ws: Workspace, row: RunRow, forecasts: Mapping[str, Mapping[str, Any]]
    ) -> bool:
        """Record one run row with what ``ws`` holds; False when the id is there."""
        from forecast.elicit import describe

        with self._write() as conn:
            if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (row.run_id,)).fetchone():
                return False
            conn.execute(
                "INSERT INTO runs (run_id, created, recorded, kind, input_hash, run_key, "
                "git_commit, git_dirty, settings, diagnostics, ok, files, as_of) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    row.run_id, row.created, _now(), row.kind, row.input_hash, row.run_key,
                    row.git_commit, None if row.git_dirty is None else int(row.git_dirty),
                    json.dumps(row.settings, sort_keys=True),
                    json.dumps(row.diagnostics, sort_keys=True),
                    int(bool(row.diagnostics.get("ok", row.kind != "run"))),
                    json.dumps(dict(row.files), sort_keys=True), row.as_of,
                ),
            )  # fmt: skip
            for q in ws.questions:
                f = forecasts.get(q.id, {})
                conn.execute(
                    "INSERT INTO forecasts VALUES (?,?,?,?,?,?,?,?)",
                    (
                        row.run_id, q.id, q.title, f.get("prior"), f.get("posterior"),
                        f.get("lo"), f.get("hi"), q.resolution.outcome if q.resolution else "",
                    ),
                )  # fmt: skip
            conn.executemany(
                "INSERT INTO statements VALUES (?,?,?,?,?)",
                [
                    (row.run_id, s.analyst, s.target, describe(s), stated_probability(s, ws))
                    for s in ws.statements
                ],
            )
            conn.executemany(
                "INSERT INTO evidence VALUES (?,?,?,?,?,?)",
                [
                    (row.run_id, e.id, e.date.isoformat(), e.bears_on, e.strength, e.ratio)
                    for e in ws.evidence
                ],
            )
        return True

    def record_resolution(
        self, question: str, outcome: str, date: dt.date, note: str = "", forced: bool = False
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO resolutions (question, outcome, date, note, recorded, forced) "
                "VALUES (?,?,?,?,?,?)",
                (question, outcome, date.isoformat(), note, _now(), int(forced)),
            )

    # --- reading -------------------------------------------------------------------
    def digest(self) -> str:
        """A hash of everything the ledger holds, which changes with every row added.

        Rows are only ever added, and a run's forecast, statement and evidence
        rows come in one transaction with its ``runs`` row: the ``runs`` and
        ``resolutions`` rows whole, and the count and last rowid of the other
        tables, say what a reader of the ledger would see. A missing ledger
        hashes as an empty one (both read as empty).
        """
        import hashlib

        h = hashlib.sha256(f"schema {SCHEMA_VERSION}\n".encode())
        for sql in ("SELECT * FROM runs ORDER BY rowid", "SELECT * FROM resolutions ORDER BY seq"):
            for row in self._read(sql):
                h.update(repr(tuple(row)).encode() + b"\n")
        for table in ("forecasts", "statements", "evidence"):
            rows = self._read(f"SELECT count(*), max(rowid) FROM {table}")
            h.update(repr(tuple(rows[0]) if rows else (0, None)).encode() + b"\n")
        return h.hexdigest()

    def runs(self) -> list[dict[str, Any]]:
        """Every run, oldest first (runs made within one second in the order
        they were recorded), with settings and diagnostics decoded."""
        rows = self._read("SELECT * FROM runs ORDER BY coalesce(as_of, created), created, rowid")
        out = []
        for r in rows:
            d = dict(r)
            for key in ("settings", "diagnostics", "files"):
                d[key] = json.loads(d[key])
            out.append(d)
        return out

    def forecasts(self, question: str | None = None) -> list[dict[str, Any]]:
        """Forecast rows joined with their run's time, oldest first."""
        sql = (
            "SELECT f.*, r.created, r.as_of, r.kind, r.ok FROM forecasts f "
            "JOIN runs r USING (run_id)"
            + (" WHERE f.question = ?" if question else "")
            + " ORDER BY coalesce(r.as_of, r.created), r.created, r.rowid, f.rowid"
        )
        return [dict(r) for r in self._read(sql, (question,) if question else ())]

    def statements(self, run_id: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self._read(
                "SELECT * FROM statements WHERE run_id = ? ORDER BY analyst, target", (run_id,)
            )
        ]

    def evidence(self, run_id: str) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self._read("SELECT * FROM evidence WHERE run_id = ? ORDER BY id", (run_id,))
        ]

    def resolutions(self, question: str | None = None) -> list[StoredResolution]:
        """Every recorded resolution, in the order recorded (the last one stands)."""
        sql = "SELECT * FROM resolutions" + (" WHERE question = ?" if question else "")
        rows = self._read(sql + " ORDER BY seq", (question,) if question else ())
        return [
            StoredResolution(
                r["question"],
                r["outcome"],
                dt.date.fromisoformat(r["date"]),
                r["note"],
                r["recorded"],
                bool(r["forced"]),
            )  # fmt: skip
            for r in rows
        ]


@dataclass(frozen=True)
class RunRow:
    run_id: str
    created: str
    kind: str
    input_hash: str
    run_key: str
    git_commit: str | None
    git_dirty: bool | None
    settings: Mapping[str, Any]
    diagnostics: Mapping[str, Any]
    files: Mapping[str, str]
    as_of: str | None = None  # YYYY-MM-DD when the run saw the workspace as of that day


def open_ledger(root: str | Path, *, create: bool = True, readonly: bool = False) -> Ledger:
    """The workspace's ledger (created when missing unless ``create`` is False:
    then a missing ledger reads as empty). ``readonly`` opens it so that nothing
    can be written (and nothing created or migrated: a missing ledger reads as
    empty, an older one is a ``LedgerError``)."""
    return Ledger(root, create=create, readonly=readonly)


def _as_of(ws: Workspace) -> str | None:
    from forecast.asof import as_of_date

    day = as_of_date(ws)
    return day.isoformat() if day else None


def stated_probability(s: Statement, ws: Workspace) -> float:
    """The probability a statement states: its ``p``; a Beta's mean; a word's
    fitted median (the middle of its band on the log-odds scale)."""
    if s.p is not None:
        return float(s.p)
    if s.a is not None and s.b is not None:
        return s.a / (s.a + s.b)
    from forecast.elicit import fit

    return float(fit(s, ws.codebook).quantile(0.5))


def git_state(root: str | Path) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the git repository holding ``root``; (None, None) when
    there is none or git is unavailable."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
        if head.returncode != 0:
            return None, None
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "."],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
        dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
        return head.stdout.strip() or None, dirty
    except (OSError, subprocess.SubprocessError):
        return None, None


def record_run(ws: Workspace, run: Run) -> bool:
    """Record ``run`` in the workspace's ledger (once). See :class:`Ledger`."""
    with open_ledger(ws.root) as ledger:
        return ledger.record_run(ws, run)


def check_ledger(root: str | Path) -> None:
    """Open (and if needed create or migrate) the ledger, raising LedgerError early."""
    with open_ledger(root):
        pass
