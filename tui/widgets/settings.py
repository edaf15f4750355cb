"""The settings panel: activation checklist (from the activation table), training options,
per-activation parameters, a definition field (`fastact_tui.widgets.define`), Run and Stop. It
only collects text; `fastact_tui.form` parses it."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, SelectionList, Static

from fastact import activations
from fastact.formula import FormulaError
from fastact.nn import OPTIMIZERS, PRELU_MODES
from fastact_tui import form
from fastact_tui.widgets.define import DefineField, note
from fastact_tui.widgets.fields import INTEGER, INTEGERS, NUMBER, ActChecklist, FieldInput

DEFAULTS = form.defaults()
LABELS = {"hidden": "Hidden sizes", "epochs": "Epochs", "batch_size": "Batch size", "lr": "Learning rate",
          "optimizer": "Optimizer", "seed": "Seed", "seeds": "Seeds per act", "threads": "Threads",
          "dataset": "Dataset", "data_dir": "Data dir", "data_file": "Data file", "prelu": "Learnable",
          "dropout": "Dropout"}
SELECTS = {"optimizer": OPTIMIZERS, "prelu": PRELU_MODES}
PLACEHOLDERS = {"threads": "all cores", "data_dir": "auto lookup", "hidden": "e.g. 512 or 256 128",
                "data_file": "your .npz file"}
#: the characters each text field can hold (None: any); other keys are shortcuts (`FieldInput`)
ACCEPTS = {"hidden": INTEGERS, "epochs": INTEGER, "batch_size": INTEGER, "lr": NUMBER, "seed": INTEGER,
           "seeds": INTEGER, "threads": INTEGER, "dataset": None, "data_dir": None, "data_file": None,
           "dropout": NUMBER}


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
            if act.params:
                yield self._param_box(act)
        for key in DEFAULTS:
            yield from self._field(key)
        yield Static("", id="e-general", classes="error")
        yield DefineField(id="define")
        with Horizontal(id="buttons"):
            yield Button("Run", id="run", variant="success", compact=True)
            yield Button("Stop", id="stop", variant="error", compact=True, disabled=True)

    def _param_box(self, act) -> Vertical:
        rows = []
        for p in act.params:
            pid = form.param_id(act.name, p.name)
            rows.append(Horizontal(Label(f"{act.name}.{p.name}", classes="plabel"),
                                   FieldInput(self.params.get((act.name, p.name), ""), accepts=NUMBER,
                                              placeholder=f"{p.default:g}", id=pid, compact=True,
                                              tooltip=p.help or p.rule),
                                   classes="param"))
            rows.append(Static("", id=f"e-{pid}", classes="error"))
        return Vertical(*rows, classes="act-params", id=f"ap-{act.name}")

    def on_mount(self) -> None:
        self._show_params()

    async def on_define_field_compiled(self, msg: DefineField.Compiled) -> None:
        """Add (or replace) the compiled definition in the table, tick it, give it parameter fields."""
        field = self.query_one(DefineField)
        try:
            act = activations.define(**msg.spec, replace=True)  # compiled already: a cache hit
        except FormulaError as exc:
            field.show(str(exc))
            field.refresh_note()
            return
        field.query_one("#f-define", Input).value = ""
        field.refresh_note()
        for old in self.query(f"#ap-{act.name}"):
            await old.remove()
        if act.params:
            await self.mount(self._param_box(act), before=self.query_one("#row-hidden"))
        acts = self.query_one("#f-acts", SelectionList)
        if act.name not in {acts.get_option_at_index(i).value for i in range(acts.option_count)}:
            acts.add_option((act.name, act.name, True))
        else:
            acts.select(act.name)
        warning = f"; {msg.warning}" if msg.warning else ""
        self.app.log_event(f"defined {note(act)} in {msg.seconds:.2f} s (its kernels compile on the first run)"
                           f"{warning}", "warning" if msg.warning else "info")
        self._show_params()
        self.post_message(self.Changed())

    def ticked(self) -> list[str]:
        selected = set(self.query_one("#f-acts", SelectionList).selected)
        return [n for n in activations.names() if n in selected]  # table order, not click order

    def _param_input(self, act: str, param: str) -> Input | None:
        # None while a just-defined activation's fields are being mounted
        found = self.query(f"#{form.param_id(act, param)}")
        return found.first(Input) if found else None

    def read(self):
        values = {k: str(self.query_one(f"#f-{k}").value) for k in DEFAULTS}
        params = {(a, p.name): inp.value for a, p in form.param_fields()
                  if (inp := self._param_input(a, p.name)) is not None}
        return values, self.ticked(), params, dict(self.base)

    def show_errors(self, errors: dict[str, str]) -> None:
        for err in self.query(".error"):
            if err.id == "e-define":
                continue  # the definition field's own error line (DefineField)
            key = err.id[2:]
            err.update(errors.get(key, ""))
            err.set_class(key in errors, "shown")
        for key in DEFAULTS:
            self.query_one(f"#f-{key}").set_class(key in errors, "-invalid")
        for act, p in form.param_fields():
            if (inp := self._param_input(act, p.name)) is not None:
                inp.set_class(form.param_id(act, p.name) in errors, "-invalid")

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
