"""The embedded server's runners doing real work: shell commands and scripts, Python actions, noop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.rest import api_client, run_action, wait_for

from st2tui.demo.runners import RunRequest, runner_class
from st2tui.demo.server import RunningServer


@pytest.fixture(scope="module")
def api(st2_server: RunningServer) -> Iterator[httpx.Client]:
    with api_client(st2_server) as client:
        yield client


def test_local_command_gets_env_and_cwd(api: httpx.Client, tmp_path: Path) -> None:
    execution = run_action(
        api,
        "core.local",
        {"cmd": 'echo "$GREETING from $(pwd)"', "env": {"GREETING": "hello"}, "cwd": str(tmp_path)},
    )

    done = wait_for(api, execution["id"])

    assert done["result"]["stdout"] == f"hello from {tmp_path}"


def test_local_command_sees_st2_action_variables(api: httpx.Client) -> None:
    execution = run_action(api, "core.local", {"cmd": "echo $ST2_ACTION_PACK_NAME $ST2_ACTION_EXECUTION_ID"})

    done = wait_for(api, execution["id"])

    assert done["result"]["stdout"] == f"core {execution['id']}"


def test_only_one_trailing_newline_is_stripped_and_json_output_is_decoded(api: httpx.Client) -> None:
    text = wait_for(api, run_action(api, "core.local", {"cmd": "printf 'a\\n\\n'"})["id"])
    data = wait_for(api, run_action(api, "core.local", {"cmd": 'echo \'{"ok": true, "n": 2}\''})["id"])

    assert text["result"]["stdout"] == "a\n"
    # st2's local runner json-decodes stdout when it is valid JSON.
    assert data["result"]["stdout"] == {"ok": True, "n": 2}


def test_core_echo_renders_its_templated_command(api: httpx.Client) -> None:
    execution = run_action(api, "core.echo", {"message": "templated"})

    done = wait_for(api, execution["id"])

    assert done["parameters"] == {"message": "templated"}  # plain defaults are not stored
    assert done["result"]["stdout"] == "templated"


def test_shell_script_gets_positional_and_named_arguments(api: httpx.Client) -> None:
    execution = run_action(
        api,
        "examples.all-param-types",
        {"message": "hi there", "count": 2, "verbose": True, "tags": ["a", "b"], "slug": "my-slug"},
    )

    done = wait_for(api, execution["id"])

    assert done["status"] == "succeeded"
    stdout = done["result"]["stdout"]
    assert "  [0] message: hi there" in stdout
    assert "  [1] count: 2" in stdout
    assert "  [2] level: info" in stdout  # a default
    assert "  --verbose: true" in stdout
    assert "  --slug: my-slug" in stdout
    assert "--dry_run" not in stdout  # no value: left out


def test_slow_script_streams_lines_while_it_runs(api: httpx.Client) -> None:
    execution = run_action(api, "examples.slow-echo", {"seconds": 2, "message": "beat"})
    wait_for(api, execution["id"], {"running"})

    done = wait_for(api, execution["id"])
    output = api.get(f"/api/v1/executions/{execution['id']}/output").text

    assert done["status"] == "succeeded"
    assert output.count("beat") == 2
    assert done["result"]["stdout"].endswith("[2/2] beat")


def test_python_action_returns_its_result_and_streams_its_prints(api: httpx.Client) -> None:
    execution = run_action(api, "examples.python-hello", {"name": "Ada", "count": 2})

    done = wait_for(api, execution["id"])

    assert done["status"] == "succeeded"
    assert set(done["result"]) == {"result", "stdout", "stderr", "exit_code"}
    assert done["result"]["result"] == {"greeting": "Hello, Ada!", "count": 2, "letters": 3}
    assert done["result"]["exit_code"] == 0
    assert done["result"]["stdout"] == "Hello, Ada! (1/2)\nHello, Ada! (2/2)\n"
    assert "Greeting Ada 2 time(s)" in done["result"]["stderr"]  # self.logger goes to stderr
    output = api.get(f"/api/v1/executions/{execution['id']}/output", params={"output_type": "stdout"}).text
    assert output == "Hello, Ada! (1/2)\nHello, Ada! (2/2)\n"


def test_python_action_that_raises_fails(api: httpx.Client) -> None:
    # random.randint(1, 0) raises inside core.pause's run().
    execution = run_action(api, "core.pause", {"max_pause": 0, "random": True})

    done = wait_for(api, execution["id"])

    assert done["status"] == "failed"
    assert done["result"]["exit_code"] == 1
    assert done["result"]["result"] == "None"  # st2's value when run() did not return
    assert "Traceback" in done["result"]["stderr"]


def test_python_action_succeeds_with_a_scalar_result(api: httpx.Client) -> None:
    execution = run_action(api, "core.pause", {"max_pause": 1})

    done = wait_for(api, execution["id"])

    assert done["status"] == "succeeded"
    assert done["result"]["result"] == 1


def test_noop_succeeds_with_st2s_noop_result(api: httpx.Client) -> None:
    done = wait_for(api, run_action(api, "core.noop")["id"])

    assert done["status"] == "succeeded"
    assert done["result"] == {
        "failed": False,
        "succeeded": True,
        "return_code": 0,
        "stdout": "",
        "stderr": "",
    }


def test_standalone_inquiry_waits_pending_with_the_real_result_shape(api: httpx.Client) -> None:
    execution = run_action(
        api, "core.ask", {"schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}}}
    )

    pending = wait_for(api, execution["id"], {"pending"})

    assert set(pending["result"]) == {"schema", "roles", "users", "route", "ttl"}
    assert pending["result"]["ttl"] == 1440
    answered = api.put(
        f"/api/v1/inquiries/{execution['id']}", json={"id": execution["id"], "response": {"ok": True}}
    )
    assert answered.status_code == 200, answered.text
    done = wait_for(api, execution["id"])
    assert done["status"] == "succeeded"
    assert done["result"]["response"] == {"ok": True}


async def test_python_action_returning_a_false_status_fails(tmp_path: Path) -> None:
    script = tmp_path / "check.py"
    script.write_text(
        "from st2common.runners.base_action import Action\n\n\n"
        "class Check(Action):\n"
        "    def run(self, value):\n"
        "        print('checking', value)\n"
        "        return (value > 10, {'value': value})\n"
    )
    lines: list[tuple[str, str]] = []
    request = RunRequest(
        execution_id="x",
        action={"ref": "tests.check"},
        runner={"name": "python-script"},
        runner_params={},
        action_params={"value": 3},
        script_path=script,
        on_output=lambda output_type, data: lines.append((output_type, data)),
    )

    outcome = await runner_class("python-script")(request).run()

    assert outcome.status == "failed"
    assert outcome.result == {"stdout": "checking 3\n", "stderr": "", "exit_code": 0, "result": {"value": 3}}
    assert lines == [("stdout", "checking 3\n")]
