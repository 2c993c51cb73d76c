"""RFC 9842 in a real browser: headless Chromium against chute's ASGI middleware (uvicorn).

Chromium 130 and later support Compression Dictionary Transport without any flag, on
secure contexts, which localhost is. The page fetches ``/dict.js`` (which names itself as a
dictionary for ``/data.js``), then ``/data.js``: the test checks that the browser sent
``Available-Dictionary`` with the SHA-256 of ``/dict.js`` and ``dcz`` in Accept-Encoding,
that the middleware answered ``Content-Encoding: dcz``, and that the page got the right text
(the browser decoded it).
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from chute.web import CompressionMiddleware
from chute.web.dictionary import DictionaryStore

from .conftest import serve_asgi

pytestmark = pytest.mark.slow

DICT = b"".join(
    b"export function widget%d(el) { return render(el, { id: %d, label: 'widget %d' }); }\n" % (i, i, i)
    for i in range(600)
)
DATA = DICT.replace(b"widget 1'", b"gadget 1'")
PAGE = b"""<!DOCTYPE html><html><body><div id=out>waiting</div><script>
async function go() {
  await (await fetch('/dict.js')).text();
  for (let i = 0; i < 40; i++) {
    await new Promise(r => setTimeout(r, 100));
    const r = await fetch('/data.js?try=' + i, {cache: 'no-store'});
    const t = await r.text();
    if (r.headers.get('content-encoding') === 'dcz' || i == 39) {
      const sum = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(t))))
        .map(b => b.toString(16).padStart(2, '0')).join('');
      document.getElementById('out').textContent = 'encoding=' + r.headers.get('content-encoding') + ' sha=' + sum;
      return;
    }
  }
}
go();
</script></body></html>"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("chromium not installed")


def test_chromium_gets_dcz_and_renders_it(tmp_path: Path) -> None:
    browser = _chromium()
    seen: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope["path"]
        if path == "/":
            body, headers = PAGE, [(b"content-type", b"text/html")]
        elif path == "/dict.js":
            headers = [
                (b"content-type", b"text/javascript"),
                (b"use-as-dictionary", b'match="/data.js"'),
                (b"cache-control", b"max-age=3600"),
            ]
            body = DICT
        elif path == "/data.js":
            body, headers = DATA, [(b"content-type", b"text/javascript"), (b"cache-control", b"no-store")]
        else:
            body, headers = b"not found", [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 200 if body != b"not found" else 404, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    middleware = CompressionMiddleware(app, dictionaries=DictionaryStore())

    async def recorded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        request = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                response = {k.decode().lower(): v.decode() for k, v in message["headers"]}
                seen.append({"path": scope.get("path"), "request": request, "response": response})
            await send(message)

        await middleware(scope, receive, watch)

    for url in serve_asgi(recorded):
        url = url.replace("127.0.0.1", "localhost")  # a secure context by name as well
        done = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--virtual-time-budget=10000",
                "--dump-dom",
                url + "/",
            ],
            capture_output=True,
            timeout=120,
        )
    dom = done.stdout.decode()
    shown = re.search(r'<div id="out">([^<]*)</div>', dom)
    assert shown, dom[-2000:]
    assert shown.group(1) == f"encoding=dcz sha={hashlib.sha256(DATA).hexdigest()}"
    data_requests = [s for s in seen if s["path"] == "/data.js"]
    # Chromium stores the dictionary asynchronously: the page's first tries may go out
    # without it (and must then get no dcz); the first try that carried it got dcz
    for s in data_requests:
        if "available-dictionary" not in s["request"]:
            assert s["response"].get("content-encoding") != "dcz", s
    first = next(s for s in data_requests if "available-dictionary" in s["request"])
    assert (
        first["request"]["available-dictionary"] == ":" + base64.b64encode(hashlib.sha256(DICT).digest()).decode() + ":"
    )
    assert "dcz" in first["request"]["accept-encoding"]
    assert first["response"]["content-encoding"] == "dcz"
    assert "available-dictionary" in first["response"]["vary"].lower()
