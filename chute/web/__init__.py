"""Compressed HTTP for ASGI and WSGI applications: responses, request bodies, precompressed files.

Names are loaded lazily so ``import chute`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .asgi import CompressionMiddleware
    from .negotiate import choose_encoding, parse_accept_encoding
    from .static import PrecompressedFiles, WSGIPrecompressedFiles
    from .wsgi import WSGICompressionMiddleware

__all__ = [
    "CompressionMiddleware",
    "WSGICompressionMiddleware",
    "PrecompressedFiles",
    "WSGIPrecompressedFiles",
    "choose_encoding",
    "parse_accept_encoding",
]

_WHERE = {
    "CompressionMiddleware": "asgi",
    "WSGICompressionMiddleware": "wsgi",
    "PrecompressedFiles": "static",
    "WSGIPrecompressedFiles": "static",
    "choose_encoding": "negotiate",
    "parse_accept_encoding": "negotiate",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
