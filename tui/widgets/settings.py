"""The settings panel: activation checklist (from the activation table), training options,
per-activation parameters, Run and Stop. It only collects text; `fastact_tui.form` parses it."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, SelectionList, Static

from fastact import activations
from fastact.nn import OPTIMIZERS, PRELU_MODES
from fastact_tui import form
from fastact_tui.widgets.fields import INTEGER, INTEGERS, NUMBER, ActChecklist, FieldInput

DEFAULTS = form.defaults()
LABELS = {"hidden": "Hidden sizes", "epochs": "Epochs", "batch_size": "Batch size", "lr": "Learning rate",
          "optimizer": "Optimizer", "seed": "Seed", "seeds": "Seeds per act", "threads": "Threads",
          "dataset": "Dataset", "data_dir": "Data dir", "data_file": "Data file", "prelu": "PReLU mode"}
SELECTS = {"optimizer": OPTIMIZERS, "prelu": PRELU_MODES}
PLACEHOLDERS = {"threads": "all cores", "data_dir": "auto lookup", "hidden": "e.g. 512 or 256 128",
                "data_file": "your .npz file"}
#: the characters each text field can hold (None: any); other keys are shortcuts (`FieldInput`)
ACCEPTS = {"hidden": INTEGERS, "epochs": INTEGER, "batch_size": INTEGER, "lr": NUMBER, "seed": INTEGER,
           "seeds": INTEGER, "threads": INTEGER, "dataset": None, "data_dir": None, "data_file": None}


class SettingsPanel(VerticalScroll):
    """Emits `SettingsPanel.Changed` whenever any value changes."""

    class Changed(Message):
        pass

    def __init__(self, prefill: dict | None = None, **kw):
        super().__init__(**kw)
        prefill = prefill or {}
        self.values = {**DEFAULTS, **prefill.get("fields", {})}
        self.acts = prefill.get("acts") or activations.names("seed")
        self.params = dict(prefill.get("params", {}))
        self.base = dict(prefill.get("base", {}))

    def _field(self, key: str) -> ComposeResult:
        with Horizontal(classes="field", id=f"row-{key}"):
            yield Label(LABELS[key], classes="flabel")
            if key in SELECTS:
                yield Select([(v, v) for v in SELECTS[key]], value=self.values[key], allow_blank=False,
                             id=f"f-{key}", compact=True)
            else:
                yield FieldInput(self.values[key], accepts=ACCEPTS[key], id=f"f-{key}",
                                 placeholder=PLACEHOLDERS.get(key, ""), compact=True)
        yield Static("", id=f"e-{key}", classes="error")

    def compose(self) -> ComposeResult:
        yield Label("Activations", classes="section")
        yield ActChecklist(*[(a.name, a.name, a.name in self.acts) for a in activations.ACTIVATIONS.values()],
                           id="f-acts")
        yield Static("", id="e-acts", classes="error")
        for act in activations.ACTIVATIONS.values():
            if not act.params:
                continue
            with Vertical(classes="act-params", id=f"ap-{act.name}"):
                for p in act.params:
                    with Horizontal(classes="param"):
                        yield Label(f"{act.name}.{p.name}", classes="plabel")
                        yield FieldInput(self.params.get((act.name, p.name), ""), accepts=NUMBER,
                                         placeholder=f"{p.default:g}", id=form.param_id(act.name, p.name),
                                         compact=True, tooltip=p.help or p.rule)
                    yield Static("", id=f"e-{form.param_id(act.name, p.name)}", classes="error")
        for key in DEFAULTS:
            yield from self._field(key)
        yield Static("", id="e-general", classes="error")
        with Horizontal(id="buttons"):
            yield Button("Run", id="run", variant="success", compact=True)
            yield Button("Stop", id="stop", variant="error", compact=True, disabled=True)

    def on_mount(self) -> None:
        self._show_params()

    def ticked(self) -> list[str]:
        selected = set(self.query_one("#f-acts", SelectionList).selected)
        return [n for n in activations.names() if n in selected]  # table order, not click order

    def read(self):
        values = {k: str(self.query_one(f"#f-{k}").value) for k in DEFAULTS}
        params = {(a, p.name): self.query_one(f"#{form.param_id(a, p.name)}", Input).value
                  for a, p in form.param_fields()}
        return values, self.ticked(), params, dict(self.base)

    def show_errors(self, errors: dict[str, str]) -> None:
        for err in self.query(".error"):
            key = err.id[2:]
            err.update(errors.get(key, ""))
            err.set_class(key in errors, "shown")
        for key in DEFAULTS:
            self.query_one(f"#f-{key}").set_class(key in errors, "-invalid")
        for act, p in form.param_fields():
            key = form.param_id(act, p.name)
            self.query_one(f"#{key}").set_class(key in errors, "-invalid")

    def _show_params(self) -> None:
        ticked = set(self.ticked())
        for box in self.query(".act-params"):
            box.display = box.id[3:] in ticked

    @on(SelectionList.SelectedChanged)
    def _acts_changed(self) -> None:
        self._show_params()
        self.post_message(self.Changed())

    @on(Input.Changed)
    @on(Select.Changed)
    def _value_changed(self) -> None:
        self.post_message(self.Changed())
