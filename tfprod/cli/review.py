"""`tfprod review [STACK]`: a Markdown page per synthesized stack, for a pull request.

Reads `<output>/manifest.json` (as cdktn writes it), each stack's `cdk.tf.json` and the
`*.policy.json` files next to it, and prints the pages (see `review_render`) to stdout, or
writes `<stack>.md` files into `--markdown-dir`. Governance findings are recomputed from the
files, with the suppressions and settings recorded in each stack.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tfprod.cli._app import UsageError
from tfprod.cli.synth import MANIFEST, output_dir, read_config

POLICY_SUFFIX = ".policy.json"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "review",
        help="summarize synthesized stacks as Markdown for a pull request",
        description=(
            "Renders each stack of the synthesized output (or only STACK): deployments,"
            " versions and images, traffic plan, canary ramp timeline, triggers and actions,"
            " worst-case time to rollback, alert routes and governance findings."
        ),
    )
    parser.add_argument("stack", nargs="?", help="only this stack (default: every stack)")
    parser.add_argument(
        "--output",
        type=Path,
        help="the synthesized directory (default: cdktf.json's output, else cdktf.out)",
    )
    parser.add_argument(
        "--markdown-dir",
        type=Path,
        help="write <stack>.md files here instead of printing the pages",
    )
    parser.set_defaults(handler=_run)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{what} {path} does not exist; run `tfprod synth` first") from None
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise UsageError(f"{path} is not JSON: {error}") from None


def _stacks(output: Path) -> dict[str, Path]:
    """Stack id -> its cdk.tf.json, from the manifest."""
    manifest = _read_json(output / MANIFEST, "manifest")
    stacks = manifest.get("stacks") if isinstance(manifest, dict) else None
    if not isinstance(stacks, dict):
        raise UsageError(f"{output / MANIFEST} has no 'stacks' object")
    return {
        stack: output / str(entry.get("synthesizedStackPath", f"stacks/{stack}/cdk.tf.json"))
        for stack, entry in sorted(stacks.items())
    }


def _render(stack: str, document_path: Path) -> str:
    from pydantic import ValidationError

    from tfprod.cli.review_render import render_review, review_stack
    from tfprod.governance import GovernanceError
    from tfprod.policy import PolicyError, read_policy

    document = _read_json(document_path, "stack file")
    policies = []
    for path in sorted(document_path.parent.glob(f"*{POLICY_SUFFIX}")):
        try:
            policies.append(read_policy(path))
        except PolicyError as error:
            raise UsageError(str(error)) from None
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            where = ".".join(str(part) for part in first["loc"]) or "value"
            raise UsageError(f"{path}: {where}: {first['msg']}") from None
    try:
        return render_review(review_stack(stack, document, policies))
    except GovernanceError as error:
        raise UsageError(f"{document_path}: {error}") from None


def _run(args: argparse.Namespace) -> int:
    directory = Path.cwd()
    output = output_dir(read_config(directory), directory, args.output)
    stacks = _stacks(output)
    if args.stack is not None:
        if args.stack not in stacks:
            known = ", ".join(stacks) or "none"
            raise UsageError(f"no stack {args.stack!r} in {output}; stacks: {known}")
        stacks = {args.stack: stacks[args.stack]}
    pages = {stack: _render(stack, path) for stack, path in stacks.items()}
    if args.markdown_dir is None:
        print("\n".join(pages.values()), end="")
        return 0
    args.markdown_dir.mkdir(parents=True, exist_ok=True)
    for stack, page in pages.items():
        (args.markdown_dir / f"{stack}.md").write_text(page, encoding="utf-8")
    print(f"wrote {len(pages)} review page(s) into {args.markdown_dir}")
    return 0
