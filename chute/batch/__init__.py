"""Many-file jobs: compress, decompress, recompress or verify whole trees, resumably.

``chute batch`` is the command line over these functions::

    import chute.batch

    sources = chute.batch.expand(["logs/"])
    with chute.batch.Manifest("out/manifest.jsonl") as manifest:
        jobs = chute.batch.plan("compress", sources, "out", format="zstd", skip=manifest.is_done)
        summary = chute.batch.run(jobs, manifest=manifest)

``run`` takes any ``concurrent.futures.Executor`` (``executor=``): a process pool, or a Dask
client's ``client.get_executor(pure=False)``. Dask itself is imported only by
:mod:`chute.batch.dask` (splittable reads) and by the command line's ``--executor dask://``.
"""

from __future__ import annotations

from .manifest import Manifest, read_entries
from .plan import Source, expand, output_name, plan
from .runner import Summary, remove_stale_temp_files, run
from .work import HASH, OPERATIONS, Job, Member, ShardJob, execute

__all__ = [
    "HASH",
    "OPERATIONS",
    "Job",
    "Manifest",
    "Member",
    "ShardJob",
    "Source",
    "Summary",
    "execute",
    "expand",
    "output_name",
    "plan",
    "read_entries",
    "remove_stale_temp_files",
    "run",
]
