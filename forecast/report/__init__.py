"""Reports a forecaster reads: terminal table, HTML page, Markdown, plots.

- :mod:`forecast.report.tables` builds :class:`~forecast.report.tables.Report`
  and :class:`~forecast.report.explanation.Explanation` objects from a run;
- :mod:`forecast.report.plots` draws them (matplotlib and NumPy: no ArviZ);
- :mod:`forecast.report.html`, :mod:`forecast.report.markdown` and
  :mod:`forecast.report.terminal` render them;
- :mod:`forecast.report.write` writes the report folder atomically.

Submodules are imported on demand: ``import forecast.report`` stays cheap.
"""
