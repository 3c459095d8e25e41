"""`tfprod status|promote|abort|pause|resume|history`: the controller API from the terminal.

The controller is found by `--controller URL`, else `$TFPROD_CONTROLLER_URL`, else the URL in
`.tfprod/up/controller.url` (`tfprod up`'s default work directory). Its token is read from
`--token-file F`, else `$TFPROD_CONTROLLER_TOKEN_FILE`, else `.tfprod/up/admin-token` (the
token `tfprod up` gives its gateway and controller). Bad input exits 2 with one line; a
controller that cannot be reached exits 1 with one line naming its URL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from tfprod.cli._app import UsageError

URL_VARIABLE = "TFPROD_CONTROLLER_URL"
TOKEN_FILE_VARIABLE = "TFPROD_CONTROLLER_TOKEN_FILE"
DEFAULT_URL_FILE = Path(".tfprod/up/controller.url")
DEFAULT_TOKEN_FILE = Path(".tfprod/up/admin-token")
COMMANDS = ("promote", "abort", "pause", "resume")
EXIT_UNREACHABLE = 1
CLEAR = "\x1b[H\x1b[2J"
"""ANSI: cursor home, clear the screen."""


class UnreachableError(Exception):
    """The controller did not answer; the message names its URL."""


def register(subparsers: Any) -> None:
    status = subparsers.add_parser(
        "status", help="a rollout's phase, weights, step and checks, from the controller API"
    )
    status.add_argument("deployment", nargs="?", help="deployment (default: every one)")
    status.add_argument("--watch", action="store_true", help="redraw until Ctrl-C")
    status.add_argument(
        "--interval", type=float, default=1.0, help="seconds between redraws (default 1)"
    )
    _connection(status)
    status.set_defaults(handler=_status)
    for kind in COMMANDS:
        command = subparsers.add_parser(kind, help=f"ask the controller to {kind} a rollout")
        command.add_argument("deployment")
        command.add_argument("--by", help="who asks, for the decision log (default: $USER)")
        _connection(command)
        command.set_defaults(handler=_command, kind=kind)
    history = subparsers.add_parser("history", help="every decision of a rollout with its reason")
    history.add_argument("deployment")
    _connection(history)
    history.set_defaults(handler=_history)


def _connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--controller",
        help=f"controller API URL (default ${URL_VARIABLE}, else the URL in {DEFAULT_URL_FILE})",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        help=f"file holding the API token (default ${TOKEN_FILE_VARIABLE}, else"
        f" {DEFAULT_TOKEN_FILE})",
    )


def _run(args: argparse.Namespace, handler: Any) -> int:
    try:
        return int(handler(_Client(args)))
    except UnreachableError as error:
        print(f"tfprod {args.command}: error: {error}", file=sys.stderr)
        return EXIT_UNREACHABLE


def _status(args: argparse.Namespace) -> int:
    if not (args.interval > 0):
        raise UsageError(f"--interval: must be more than 0 seconds, got {args.interval:g}")

    def show(client: _Client) -> int:
        while True:
            if args.deployment is None:
                listed = client.get("")["deployments"]
                text = render_list(listed)
            else:
                text = render_status(client.get("/" + quote(args.deployment, safe="")))
            if not args.watch:
                print(text)
                return 0
            sys.stdout.write(CLEAR + text + "\n")
            sys.stdout.flush()
            time.sleep(args.interval)

    return _run(args, show)


def _command(args: argparse.Namespace) -> int:
    by = args.by or f"tfprod {args.kind} ({os.environ.get('USER', 'unknown user')})"

    def send(client: _Client) -> int:
        path = f"/{quote(args.deployment, safe='')}/{args.kind}"
        answer = client.post(path, {"by": by})
        print(f"{answer['deployment']}: {args.kind} queued (by {answer['command']['by']})")
        return 0

    return _run(args, send)


def _history(args: argparse.Namespace) -> int:
    def show(client: _Client) -> int:
        answer = client.get(f"/{quote(args.deployment, safe='')}/history")
        for decision in answer["decisions"]:
            print(f"{decision['at']}  {decision['action']:<10} {decision['reason']}")
        return 0

    return _run(args, show)


def render_list(deployments: list[dict[str, Any]]) -> str:
    """One line per deployment: name, phase, step, weights, generation."""
    lines = [
        f"{d['deployment']}: {d['phase'] or 'no rollout'}, step"
        f" {'-' if d['step'] is None else d['step'] + 1}, {_weights(d['weights'])},"
        f" generation {d['generation']}"
        for d in deployments
    ]
    return "\n".join(lines) or "no deployments"


def render_status(status: dict[str, Any]) -> str:
    """The deployment's phase, weights, step, checks, A/B result and rollback, for a terminal."""
    lines = [
        f"deployment  {status['deployment']} (generation {status['generation']})",
        f"phase       {status['phase'] or 'no rollout'}",
        f"weights     {_weights(status['weights'])}",
    ]
    step = status["step"]
    if step is not None:
        following = step["seconds_to_next_step"]
        lines.append(
            f"step        {step['index'] + 1} of {step['steps']}: {step['version']} at"
            f" {step['percent']:g}%, {step['seconds_in_step']:.0f} s in step, next"
            f" {step['next_percent']:g}% "
            + ("held" if following is None else f"in {following:.0f} s at the earliest")
        )
    for check in status["checks"]:
        lines.append(f"check       {check['name']}: {check['outcome'] or '-'}: {check['reason']}")
    if status["ab_result"]:
        lines.append(f"a/b         {status['ab_result']}")
    rollback = status["rollback"]
    if rollback is not None:
        state = "committed" if rollback["committed"] else "in flight"
        lines.append(f"rollback    {rollback['kind']}, {state}: {rollback['cause']}")
    return "\n".join(lines)


def _weights(weights: dict[str, float]) -> str:
    return ", ".join(f"{version} {percent:g}%" for version, percent in weights.items())


class _Client:
    """The controller API at the URL and with the token the arguments name."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.url = _url(args.controller).rstrip("/")
        self.token = _token(args.token_file)

    def get(self, path: str) -> Any:
        return self._call("GET", path, None)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._call("POST", path, json.dumps(body).encode())

    def _call(self, method: str, path: str, body: bytes | None) -> Any:
        request = urllib.request.Request(
            f"{self.url}/v1/deployments{path}",
            data=body,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            raise UsageError(_message(error)) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise UnreachableError(f"controller at {self.url} unreachable: {reason}") from None


def _message(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read())["error"])
    except (ValueError, KeyError, TypeError):
        return f"controller answered HTTP {error.code}"


def _url(flag: str | None) -> str:
    if flag is not None:
        url, where = flag, "--controller"
    elif os.environ.get(URL_VARIABLE):
        url, where = os.environ[URL_VARIABLE], f"${URL_VARIABLE}"
    else:
        try:
            url = DEFAULT_URL_FILE.read_text(encoding="utf-8").strip()
        except OSError:
            raise UsageError(
                f"no controller URL: give --controller, set ${URL_VARIABLE}, or run tfprod up"
                f" (it writes {DEFAULT_URL_FILE})"
            ) from None
        where = str(DEFAULT_URL_FILE)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{where}: {url!r} is not an http(s) URL, e.g. http://127.0.0.1:8090")
    return url


def _token(flag: Path | None) -> str:
    if flag is not None:
        path, where = flag, "--token-file"
    elif os.environ.get(TOKEN_FILE_VARIABLE):
        path, where = Path(os.environ[TOKEN_FILE_VARIABLE]), f"${TOKEN_FILE_VARIABLE}"
    else:
        path, where = DEFAULT_TOKEN_FILE, "the default token file"
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise UsageError(f"{where}: cannot read {path}: {error.strerror}") from None
    if not token:
        raise UsageError(f"{where}: {path} is empty")
    return token
