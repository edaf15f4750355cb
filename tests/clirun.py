"""Run the `fastact` CLI in-process for tests: (exit code, stdout, stderr)."""

from fastact import cli


def run_cli(capsys, *argv):
    try:
        code = cli.main(list(argv))
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err
