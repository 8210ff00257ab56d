"""A file the media answer instead of an envelope (an async report's), streamed to local disk.

The vendor's advice is to download a report file whole and parse it afterwards (parsing while
downloading can time the download out: developers.e.qq.com/v3.0/docs/api/async_report_files/get),
so the body goes to a temporary file chunk by chunk, its md5 taken on the way: memory holds one
chunk, whatever the file's size. The caller parses the file and deletes it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any

import aiohttp

CHUNK = 256 * 1024


async def save_download(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """The answer's body in a temporary file: `{"path", "md5", "bytes"}` (the file is the caller's)."""
    digest = hashlib.md5(usedforsecurity=False)
    fd, path = tempfile.mkstemp(prefix="ark-download-", suffix=".part")
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in response.content.iter_chunked(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
    except BaseException:
        os.unlink(path)
        raise
    return {"path": path, "md5": digest.hexdigest(), "bytes": size}
