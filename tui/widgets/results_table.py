"""The live results table: one row per run, updated at every epoch end, sortable by any
column (click its header, or `o` to cycle)."""

from __future__ import annotations

import math

from textual.widgets import DataTable

from fastact_tui.worker import fmt_pct

COLUMNS = [("run", "activation"), ("epoch", "epoch"), ("train", "train"), ("val", "val"),
           ("best", "best val"), ("test", "test"), ("sec", "s/epoch"), ("sps", "samples/s"),
           ("status", "status")]


def _num(v):
    return v if isinstance(v, (int, float)) and math.isfinite(v) else -math.inf


class ResultsTable(DataTable):
    def __init__(self, **kw):
        super().__init__(cursor_type="row", zebra_stripes=True, **kw)
        self.rows_by_label: dict[str, dict] = {}
        self.sort_key, self.sort_reverse = None, False

    def on_mount(self) -> None:
        for key, title in COLUMNS:
            self.add_column(title, key=key)

    def reset(self) -> None:
        self.rows_by_label.clear()
        self.clear()

    def _row(self, label: str) -> dict:
        return self.rows_by_label.setdefault(label, {"run": label, "epoch": 0, "epochs": 0, "train": None,
                                                     "val": None, "best": None, "test": None, "sec": None,
                                                     "sps": None, "status": "queued"})

    def add_run(self, label: str, epochs: int) -> None:
        self._row(label)["epochs"] = epochs
        self.redraw()

    def update_epoch(self, label: str, record) -> None:
        row = self._row(label)
        row.update(epoch=record.epoch, train=record.train_acc, val=record.val_acc, sec=record.seconds,
                   sps=record.samples_per_s, status="running")
        if math.isfinite(record.val_acc) and (row["best"] is None or record.val_acc > row["best"]):
            row["best"] = record.val_acc
        self.redraw()

    def set_status(self, label: str, status: str, test_acc=None) -> None:
        row = self._row(label)
        row["status"] = status
        if test_acc is not None:
            row["test"] = test_acc
        self.redraw()

    def mark_not_run(self) -> None:
        """After Stop (or an error): the rows still waiting become ``not run``."""
        for row in self.rows_by_label.values():
            if row["status"] == "queued":
                row["status"] = "not run"
        self.redraw()

    def _cells(self, r: dict) -> list:
        return [r["run"], f"{r['epoch']}/{r['epochs']}" if r["epochs"] else str(r["epoch"]),
                fmt_pct(r["train"]), fmt_pct(r["val"]), fmt_pct(r["best"]), fmt_pct(r["test"]),
                "—" if r["sec"] is None else f"{r['sec']:.2f}",
                "—" if r["sps"] is None else f"{r['sps']:,.0f}", r["status"]]

    def redraw(self) -> None:
        rows = list(self.rows_by_label.values())
        if self.sort_key is not None:
            k = self.sort_key
            text = k in ("run", "status")
            rows.sort(key=(lambda r: r[k]) if text else (lambda r: _num(r[k])), reverse=self.sort_reverse)
        self.clear()
        for r in rows:
            self.add_row(*self._cells(r), key=r["run"])

    def sort_by(self, key: str) -> None:
        self.sort_reverse = not self.sort_reverse if key == self.sort_key else key not in ("run", "status")
        self.sort_key = key
        self.redraw()

    def cycle_sort(self) -> str:
        keys = [k for k, _ in COLUMNS]
        nxt = keys[(keys.index(self.sort_key) + 1) % len(keys)] if self.sort_key else "val"
        self.sort_by(nxt)
        return nxt

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))
