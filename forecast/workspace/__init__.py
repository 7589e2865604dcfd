"""Read and validate workspace files into typed, immutable objects.

Nothing downstream of this package reads a workspace file. ``load_workspace``
returns a :class:`Workspace` or raises :class:`~forecast.errors.WorkspaceError`
listing every problem found, each as ``path:line: message``.

Paths in problems are relative to the workspace root (as the user typed them
from there); line numbers are 1-based, counting a CSV's header as line 1.

The package follows the flow of the data:

- :mod:`~forecast.workspace.objects`: the typed objects a workspace is read into;
- :mod:`~forecast.workspace.schema` and :mod:`~forecast.workspace.settings`:
  one model per kind of file and entry, each field's rule and message
  (:mod:`~forecast.workspace.fields`), and the JSON Schema editors use
  (:mod:`~forecast.workspace.jsonschema`);
- :mod:`~forecast.workspace.reading`: files to nodes that keep their lines;
- :mod:`~forecast.workspace.problems`: schema errors as ``path:line: message``;
- :mod:`~forecast.workspace.rules`: rules across entries and files;
- :mod:`~forecast.workspace.load`: the pass that ties them together;
- edits: :mod:`~forecast.workspace.evidence` (``evidence add``),
  :mod:`~forecast.workspace.starter` (``init``), :mod:`~forecast.workspace.yamledit`
  (round-trip edits of the YAML files, such as recording a resolution).
"""

from forecast.workspace.evidence import add_evidence, evidence_file, next_evidence_id
from forecast.workspace.load import (
    EVIDENCE_COLUMNS,
    EVIDENCE_REQUIRED,
    SOURCE_COLUMNS,
    SOURCE_REQUIRED,
    load_workspace,
)
from forecast.workspace.objects import (
    Analyst,
    Driver,
    EvidenceItem,
    Outcome,
    Pooling,
    Question,
    Resolution,
    Settings,
    Source,
    Statement,
    StatementKind,
    Workspace,
)
from forecast.workspace.reading import QUESTIONS_FILE, SETTINGS_FILE, SOURCES_FILE
from forecast.workspace.schema import DEFAULT_CONFIDENCE, DEFAULT_LEVEL
from forecast.workspace.starter import init_workspace
from forecast.workspace.yamledit import set_resolution

OUTCOMES: tuple[Outcome, ...] = ("yes", "no", "annulled")
POOLINGS: tuple[Pooling, ...] = ("hierarchical", "direct")

__all__ = [
    "DEFAULT_CONFIDENCE",
    "DEFAULT_LEVEL",
    "EVIDENCE_COLUMNS",
    "EVIDENCE_REQUIRED",
    "OUTCOMES",
    "POOLINGS",
    "QUESTIONS_FILE",
    "SETTINGS_FILE",
    "SOURCES_FILE",
    "SOURCE_COLUMNS",
    "SOURCE_REQUIRED",
    "Analyst",
    "Driver",
    "EvidenceItem",
    "Outcome",
    "Pooling",
    "Question",
    "Resolution",
    "Settings",
    "Source",
    "Statement",
    "StatementKind",
    "Workspace",
    "add_evidence",
    "evidence_file",
    "init_workspace",
    "load_workspace",
    "next_evidence_id",
    "set_resolution",
]
