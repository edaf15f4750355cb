"""fastact-tui: a Textual dashboard to set up an activation comparison, watch it learn, and
benchmark the kernels. Installed as ``fastact_tui`` (the directory is ``tui/``)."""

__all__ = ["main"]


def main(argv=None) -> int:
    from fastact_tui.app import main as _main

    return _main(argv)
