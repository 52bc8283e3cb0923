"""``mechbench families``: every built-in family, its idea, its levels and what its reference needs."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from shared.settings import Settings
from workers.cli.common import EXIT_OK
from workers.cli.render import print_families
from workers.cli.runner import run


def families(
    as_json: Annotated[bool, typer.Option("--json", help="print the list as JSON")] = False,
) -> None:
    """List the benchmark families: the idea of each, its complexity levels (seed s builds level
    1 + s % levels), and per level what the reference solution needs (parts, part-to-part joints, motors,
    bought parts) and the payloads and moving fixtures. Generates one seed per level; needs no server."""

    async def main(settings: Settings) -> int:
        from engines.cad.families import FAMILIES
        from engines.cad.families.describe import describe

        infos = [describe(f) for f in FAMILIES.values()]
        if as_json:
            print(json.dumps([i.as_dict() for i in infos], indent=2))
        else:
            print_families(infos)
        return EXIT_OK

    run(main, as_json=as_json)
