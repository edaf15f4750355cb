"""Experiments: sweeps (targets, the values parser, executors), tables, epoch lines, CSV and
terminal charts over runs, live or saved. Library only: the CLI and the TUI print and draw
what these return.

Modules: `sweep` (targets, `parse_values`, `build_configs`), `executors` (serial, processes),
`tables` (grouping, summary and sweep tables, epoch lines, CSV), `charts` (plotext charts).
"""
