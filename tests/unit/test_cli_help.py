"""The ``xingdong`` command's help reads as sentences, wrapped to the terminal."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from xingdong.cli import app


def test_a_group_lists_each_command_as_one_wrapped_sentence() -> None:
    answer = CliRunner().invoke(app, ["admin", "--help"], env={"COLUMNS": "200"})
    assert answer.exit_code == 0, answer.output
    # The docstring breaks its lines at 100 characters; the list must not keep those
    # breaks, which cut a sentence in the middle of a wide terminal.
    assert re.search(r"\(PIPL art\. 47\), with the checks people's own erasure has", answer.output)
    assert "``" not in answer.output
