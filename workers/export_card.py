"""The dataset card of an export (:mod:`workers.export`): ``README.md`` with the Hugging Face YAML header
(``configs`` naming each Parquet table as the ``test`` split of a config, ``dataset_info`` with its
``features``, sizes and row count), which ``datasets.load_dataset("parquet", data_files=...)`` and the Hub
read, followed by a description of the files and columns.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa

from shared.models import DatasetManifest

AGENT_TABLE = "benchmarks.parquet"
GRADER_DIR = "grader"
GRADER_TABLE = f"{GRADER_DIR}/grader.parquet"
SPLIT = "test"
"""The files of an export, relative to its directory; each table is the ``test`` split of its config."""


def features(schema: pa.Schema) -> list[dict[str, Any]]:
    """A Parquet schema as the ``features`` of a Hugging Face dataset card."""
    return [{"name": f.name, **_feature(f.type)} for f in schema]


def _feature(t: pa.DataType) -> dict[str, Any]:
    if pa.types.is_struct(t):
        return {"struct": [{"name": f.name, **_feature(f.type)} for f in t]}
    if pa.types.is_list(t):
        inner = _feature(t.value_type)
        return {"list": inner.get("dtype", inner.get("struct", inner))}
    return {"dtype": {"double": "float64"}.get(str(t), str(t))}


def _yaml(value: Any, indent: int = 0) -> list[str]:
    """Block YAML for dicts, lists and scalars (strings double-quoted as JSON, which YAML reads)."""
    pad, lines = " " * indent, []
    items = value.items() if isinstance(value, dict) else [(None, v) for v in value]
    for key, v in items:
        head = f"{pad}{key}:" if key is not None else f"{pad}-"
        if isinstance(v, (dict, list)) and v:
            sub = _yaml(v, indent + 2)
            if key is None:  # a list item's first line goes after its dash
                lines += [f"{head} {sub[0].lstrip()}", *sub[1:]]
            else:
                lines += [head, *sub]
        else:
            lines.append(f"{head} {json.dumps(v)}")
    return lines


def dataset_card(
    manifest: DatasetManifest, tables: dict[str, pa.Table], root: Path, counts: Counter[str], rejected: bool
) -> str:
    ds = manifest.dataset_id
    configs = [("default", AGENT_TABLE), ("grader", GRADER_TABLE)]
    info = [
        {
            "config_name": name,
            "features": features(tables[path].schema),
            "splits": [
                {"name": SPLIT, "num_bytes": tables[path].nbytes, "num_examples": tables[path].num_rows}
            ],
            "download_size": (root / path).stat().st_size,
            "dataset_size": tables[path].nbytes,
        }
        for name, path in configs
    ]
    header = {
        "pretty_name": f"mechbench {ds}",
        "tags": ["mechbench", "mechanical-engineering", "benchmark", "cad", "simulation"],
        "configs": [
            {
                "config_name": n,
                "data_files": [{"split": SPLIT, "path": p}],
                **({"default": True} if n == "default" else {}),
            }
            for n, p in configs
        ],
        "dataset_info": info,
    }
    req = manifest.request
    which = "every benchmark of the dataset" if rejected else "only its **published** benchmarks"
    body = f"""
# mechbench dataset `{ds}`

{tables[AGENT_TABLE].num_rows} benchmarks exported from mechbench dataset `{ds}` (generator version
{manifest.generator_version}; families {", ".join(req.families)}; {req.count} requested from base seed
{req.base_seed}). The dataset holds {counts.get("published", 0)} published, {counts.get("rejected", 0)} rejected
and {counts.get("failed", 0)} failed benchmarks; this export holds {which}.

Each benchmark is a scene of fixed (or benchmark-driven) parts, a payload (a ball, or a box, cylinder or capsule:
`payload.shape`) and up to three `extra_payloads`, spawned with jitter, a goal zone (a payload with its own
`goal_zone` must reach that one), forbidden zones and a build zone: a design (parts placed in the build zone,
within the caps on unit cost and weight) solves it when every payload reaches its goal in the required share
of scenes. Millimetres, world frame, z up.

## Files

- `{AGENT_TABLE}` (config `default`): the agent view, one row per benchmark. It holds no reference solution.
- `files/<id>/fixtures/<label>.step`: the fixtures' STEP files; `files/<id>/scene.glb`: fixtures and payload.
- `{GRADER_TABLE}` (config `grader`): per benchmark the reference solution (parts and STEP files), the family
  parameters, the reference's cost and weight, the difficulty card, the proofs and their details.
- `{GRADER_DIR}/files/<id>/`: the reference's STEP files, the full scene (`scene.glb`) and its thumbnail, both
  of which show the reference solution.

Everything under `{GRADER_DIR}/` is for graders only: to publish the agent view, remove that directory and
the `grader` entries of this header. Paths in both tables are relative to this directory.

## Columns

`level` (0-5) is the difficulty card's level; `random_designs`, `random_solve_rate` and `random_upper_bound`
are what random designs from the generic sampler achieved (solve rate and its one-sided upper confidence
bound); `robust_share` is the share of perturbations of the reference that still solved it.
`within_family_fold` (seeds held out within each family) and `cross_family_fold` (whole families held out)
are 10-fold splits: fold `k` is a test set, the other nine its training set. Benchmarks recorded before
certification lack these numbers: they are null. `joint` and `motor` of a part are JSON (or null).

## Loading

```python
import pyarrow.parquet as pq
agent = pq.read_table("{AGENT_TABLE}")
# or, with the Hugging Face datasets library:
# datasets.load_dataset("parquet", data_files={{"{SPLIT}": "{AGENT_TABLE}"}})
```
"""
    return "---\n" + "\n".join(_yaml(header)) + "\n---\n" + body
