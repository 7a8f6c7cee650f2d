"""Replay the real CLI session of `examples/cli-output-samples.txt` (Part A) and compare the output.

Part A is the output of the real `st2` CLI against real StackStorm, command by command. The same
commands run here, in the same order, against a fresh embedded server (no seeded history, the seeded
keys removed so `key list` starts empty as it did), with the same terminal width (COLUMNS=120, TERM
unset). Values that differ between any two runs are normalised on both sides before comparing: ids,
tokens, uuids, ciphertexts, timestamps, dates and elapsed seconds; so are runs of spaces and table
dashes, whose widths follow the lengths of those values. Everything else must be identical, line
for line, and so must the exit codes.

Ids in a command (`st2 execution get <id>`) are translated to this run's ids: after each command, the
ids in the real output and in ours are paired in order of appearance.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.rest import api_client
from support.st2cli import St2Cli

from st2tui.demo.server import DemoServer, RunningServer, start_in_thread

pytestmark = [pytest.mark.cli, pytest.mark.contract]

OBJECT_ID = re.compile(r"\b[0-9a-f]{24}\b")
NORMALISE = [
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<UUID>"),
    (OBJECT_ID, "<ID>"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "<TOKEN>"),
    (re.compile(r"\b[0-9A-F]{12,}\b"), "<HEX>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<TIMESTAMP>"),
    (re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d [A-Z][a-z]{2}\b"), "<DAY>"),
    (re.compile(r"\b\d{4} \d\d:\d\d:\d\d\b"), "<TIME>"),
    (re.compile(r"\(\d+s elapsed\)"), "(<N>s elapsed)"),
    (re.compile(r"-{2,}"), "--"),
    (re.compile(r" {2,}"), " "),
]
# Real st2 stores stdout and stderr chunks as its two reader threads get them: their order in
# `execution tail` of a finished run is not fixed, so that output is compared as a set of lines.
UNORDERED = ("execution tail",)


@dataclass
class Sample:
    command: str
    output: str
    exit_code: int


def load_samples(path: Path) -> list[Sample]:
    text = path.read_text().split("######## Part B", 1)[0]
    pattern = re.compile(r"^#### \$ (?P<cmd>.+?)\n(?P<out>.*?)^#### \(exit code (?P<rc>\d+)\)$", re.M | re.S)
    return [Sample(m["cmd"], m["out"], int(m["rc"])) for m in pattern.finditer(text)]


def normalise(text: str) -> list[str]:
    for pattern, replacement in NORMALISE:
        text = pattern.sub(replacement, text)
    return [line.rstrip() for line in text.splitlines()]


@pytest.fixture(scope="module")
def samples(contract: Path) -> list[Sample]:
    return load_samples(contract / "examples" / "cli-output-samples.txt")


@pytest.fixture(scope="module")
def session_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    # The session was recorded on real st2, whose st2admin password its commands type.
    server = start_in_thread(
        DemoServer(
            tmp_path_factory.mktemp("cli-session") / "st2.sqlite",
            users={"st2admin": "Ch@ngeMe"},
            seed=False,
            timers=False,
        )
    )
    with api_client(server) as client:
        for key in client.get("/api/v1/keys", params={"scope": "all"}).json():
            client.delete(f"/api/v1/keys/{key['name']}", params={"scope": key["scope"]})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def replay(
    samples: list[Sample],
    st2_binary: str,
    session_server: RunningServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> list[tuple[Sample, str, int]]:
    """Run every sample command in order; returns (sample, our output, our exit code)."""
    cli = St2Cli(st2_binary, session_server, tmp_path_factory.mktemp("cli-session-home"))
    ids: dict[str, str] = {}
    results = []
    for sample in samples:
        args = [ids.get(arg, arg) for arg in shlex.split(sample.command)[1:]]
        result = cli(*args, env={"COLUMNS": "120"})
        ours = result.stdout + result.stderr
        real_ids = list(dict.fromkeys(OBJECT_ID.findall(sample.output)))
        our_ids = list(dict.fromkeys(OBJECT_ID.findall(ours)))
        if len(real_ids) == len(our_ids):
            ids.update(dict(zip(real_ids, our_ids, strict=True)))
        results.append((sample, ours, result.returncode))
    return results


SAMPLE_COUNT = 22


def test_the_session_has_the_commands_of_the_samples(samples: list[Sample]) -> None:
    assert len(samples) == SAMPLE_COUNT
    assert samples[0].command.startswith("st2 auth")


@pytest.mark.parametrize("index", range(SAMPLE_COUNT))
def test_command_output_matches_the_real_cli_session(
    index: int, replay: list[tuple[Sample, str, int]]
) -> None:
    sample, ours, exit_code = replay[index]
    expected, got = normalise(sample.output), normalise(ours)
    if sample.command.split("'")[0].removeprefix("st2 ").startswith(UNORDERED):
        expected, got = sorted(expected), sorted(got)

    assert exit_code == sample.exit_code, (
        f"$ {sample.command}: exit {exit_code}, real st2 {sample.exit_code}\n{ours}"
    )
    if got != expected:
        first = next(
            (i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a != b),
            min(len(expected), len(got)),
        )
        context = "\n".join(
            f"  real: {a!r}\n  ours: {b!r}"
            for a, b in zip(expected[first : first + 4], got[first : first + 4], strict=False)
        )
        raise AssertionError(
            f"$ {sample.command}: output differs from real st2 at line {first + 1} "
            f"({len(expected)} vs {len(got)} lines):\n{context}\n--- ours ---\n{ours}"
        )


def test_session_left_the_workflow_waiting_on_its_inquiry(
    replay: list[tuple[Sample, str, int]], session_server: RunningServer
) -> None:
    """The replayed `run examples.orquesta-ask-basic` is paused on a pending inquiry, as in the samples."""
    with api_client(session_server) as client:
        response = client.get("/api/v1/inquiries")
    assert response.status_code == 200
    assert len(response.json()) == 1
