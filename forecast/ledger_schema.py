"""The ledger's schema: the SQL that takes it from each version to the next.

``PRAGMA user_version`` holds the version a ledger is at; ``forecast.ledger``
applies the entries it lacks, in one transaction.
"""

from __future__ import annotations

# Each entry takes the schema from version i to i + 1; never edit a shipped one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE runs (
        run_id      TEXT PRIMARY KEY,
        created     TEXT NOT NULL,      -- ISO 8601 UTC, when the run was made
        recorded    TEXT NOT NULL,      -- when this row was written
        kind        TEXT NOT NULL,      -- 'run' (sampled) or 'import' (a forecast log)
        input_hash  TEXT NOT NULL,
        run_key     TEXT NOT NULL,
        git_commit  TEXT,               -- NULL when the workspace is not a git repository
        git_dirty   INTEGER,
        settings    TEXT NOT NULL,      -- JSON
        diagnostics TEXT NOT NULL,      -- JSON
        ok          INTEGER NOT NULL,
        files       TEXT NOT NULL       -- JSON: relative path -> sha256
    );
    CREATE TABLE forecasts (
        run_id   TEXT NOT NULL REFERENCES runs(run_id),
        question TEXT NOT NULL,
        title    TEXT NOT NULL,
        prior    REAL,                  -- pooled prior E[prob_prior]; NULL for an import
        forecast REAL,                  -- E[prob]; NULL for an import
        lo       REAL,
        hi       REAL,
        outcome  TEXT NOT NULL,         -- the resolution in the run's inputs, '' if open
        PRIMARY KEY (run_id, question)
    );
    CREATE TABLE statements (
        run_id      TEXT NOT NULL REFERENCES runs(run_id),
        analyst     TEXT NOT NULL,
        target      TEXT NOT NULL,      -- question or driver id
        stated      TEXT NOT NULL,      -- the statement as written, e.g. 'p=0.3, medium confidence'
        probability REAL NOT NULL,      -- the probability it states (see stated_probability)
        PRIMARY KEY (run_id, analyst, target)
    );
    CREATE TABLE evidence (
        run_id   TEXT NOT NULL REFERENCES runs(run_id),
        id       TEXT NOT NULL,
        date     TEXT NOT NULL,
        bears_on TEXT NOT NULL,
        strength TEXT NOT NULL,
        ratio    REAL NOT NULL,
        PRIMARY KEY (run_id, id)
    );
    CREATE TABLE resolutions (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        question TEXT NOT NULL,
        outcome  TEXT NOT NULL,         -- yes, no or annulled
        date     TEXT NOT NULL,         -- the resolution date, YYYY-MM-DD
        note     TEXT NOT NULL,
        recorded TEXT NOT NULL,
        forced   INTEGER NOT NULL       -- 1 when it replaced an earlier resolution
    );
    CREATE INDEX forecasts_question ON forecasts(question);
    CREATE INDEX resolutions_question ON resolutions(question);
    """,
    # 2: a run made "as of" a past date (a backtest) is a forecast of that date
    """
    ALTER TABLE runs ADD COLUMN as_of TEXT;  -- YYYY-MM-DD, NULL for a run of the present
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
