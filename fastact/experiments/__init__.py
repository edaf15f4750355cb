"""Experiments: sweeps, studies, grouping, statistics, tables, CSV and terminal charts over
runs, live or saved. Library only: the CLI and the TUI print and draw what these return.

Modules:

* `identity`: a run's key (its resolved configuration) and readable labels of what varies;
* `metrics`: runs normalized to one dict, the per-run metrics (`METRICS`);
* `grouping`: `group_runs` (by configuration minus the seed, never merging different ones), ``where``;
* `stats`: `describe` (mean, sample std, 95% t interval), `compare` (paired by seed, Holm);
* `spec`, `builtins`: study specs (TOML) and the built-in ``seed`` study;
* `runner`, `tasks`, `estimate`: running a study resumably, the executor interface (serial), time estimates;
* `distributed`: the Dask executor (``--executor dask``; Dask imported only when it is chosen);
* `analysis`: a study's results part by part;
* `sweep`: one-setting sweeps (targets, `parse_values`, `run_points` through the same executors);
* `tables`, `charts`: rich tables, CSV, plotext charts.
"""
