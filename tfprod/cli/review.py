"""`tfprod review [STACK]`: a Markdown page per synthesized stack, for a pull request.

Reads the synthesized output with `tfprod.policy.synthesized` (the manifest, each stack's
`cdk.tf.json` and the policy files next to it), and prints the pages (see `review_render`) to
stdout, or writes `<stack>.md` files into `--markdown-dir`. Governance findings are recomputed
from the files, with the suppressions and settings recorded in each stack.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfprod.cli._app import UsageError
from tfprod.cli._project import add_output_argument, project_output

if TYPE_CHECKING:
    from tfprod.policy.synthesized import SynthesizedStack


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
    add_output_argument(parser)
    parser.add_argument(
        "--markdown-dir",
        type=Path,
        help="write <stack>.md files here instead of printing the pages",
    )
    parser.set_defaults(handler=_run)


def _render(stack: SynthesizedStack) -> str:
    from tfprod.cli.review_render import render_review, review_stack
    from tfprod.governance import GovernanceError

    try:
        return render_review(review_stack(stack.name, stack.document(), stack.policies()))
    except GovernanceError as error:
        raise UsageError(f"{stack.document_path}: {error}") from None


def _run(args: argparse.Namespace) -> int:
    from tfprod.policy import PolicyError
    from tfprod.policy.synthesized import read_synthesized

    try:
        stacks = read_synthesized(project_output(args.output)).only(args.stack)
        pages = {stack.name: _render(stack) for stack in stacks}
    except PolicyError as error:
        raise UsageError(str(error)) from None
    if args.markdown_dir is None:
        print("\n".join(pages.values()), end="")
        return 0
    args.markdown_dir.mkdir(parents=True, exist_ok=True)
    for stack, page in pages.items():
        (args.markdown_dir / f"{stack}.md").write_text(page, encoding="utf-8")
    print(f"wrote {len(pages)} review page(s) into {args.markdown_dir}")
    return 0
