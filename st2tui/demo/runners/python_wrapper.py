"""Runs one Python action in its own interpreter (like st2's `python_action_wrapper`).

Usage: `python python_wrapper.py <action file> <params.json> <result.json> <config.json>`.
The action module's `Action` subclass is instantiated with the pack config, `run(**params)` is called
and `{"result": ..., "status": true|false|null}` is written to the result file; anything the action
prints stays on stdout/stderr, where the runner streams it.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
from pathlib import Path

SHIM_DIR = Path(__file__).resolve().parent / "shim"
INVALID_STATUS_EXIT_CODE = 220


def load_action_class(path: Path) -> type:
    from st2common.runners.base_action import Action

    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"Cannot load action module {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    classes = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, Action)
        and obj is not Action
        and obj.__module__ == module.__name__
    ]
    if not classes:
        raise Exception(f"File {path} has no class inheriting from st2common.runners.base_action.Action")
    return classes[0]


def main(argv: list[str]) -> int:
    action_file, params_file, result_file, config_file = (Path(arg) for arg in argv[1:5])
    # Replace this script's own directory (the runners package) with the st2common stand-in.
    sys.path[0] = str(SHIM_DIR)
    params = json.loads(params_file.read_text())
    config = json.loads(config_file.read_text())
    action = load_action_class(action_file)(config=config)
    output = action.run(**params)
    status = None
    result = output
    if isinstance(output, tuple) and len(output) == 2:
        status, result = output
        if not isinstance(status, bool):
            sys.stderr.write(
                f"Status returned from the action run() method must either be True or False, got: {status}\n"
            )
            return INVALID_STATUS_EXIT_CODE
    try:
        encoded = json.dumps({"result": result, "status": status})
    except (TypeError, ValueError):
        encoded = json.dumps({"result": str(result), "status": status})
    Path(result_file).write_text(encoded)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
