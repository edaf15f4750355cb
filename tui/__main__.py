from fastact._entry import fastact_tui

fastact_tui()
