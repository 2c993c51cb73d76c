"""A Dask worker plugin that runs :func:`chute.fsspec.register` in every worker process.

``client.register_plugin(RegisterCompressions())`` makes ``compression="infer"`` use chute's
codecs on each worker, present and future (a worker that starts later runs it too).
Without it, only the client process has them: ``chute::`` URLs need no plugin.
"""

from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["RegisterCompressions"]


class RegisterCompressions(WorkerPlugin):
    """Calls :func:`chute.fsspec.register` when each worker starts."""

    name = "chute-compressions"

    def setup(self, worker: Any) -> None:
        from . import register

        register()
