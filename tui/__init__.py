"""fastact-tui: a Textual dashboard to set up an activation comparison, watch it learn, and
benchmark the kernels. Installed as ``fastact_tui`` (the directory is ``tui/``)."""

__all__ = ["main"]


def main(argv=None) -> int:
    """`fastact_tui.app.main` behind the entry point's Ctrl-C handling (`fastact._entry`)."""
    from fastact._entry import run

    return run("fastact_tui.app:main", argv)
