"""A slow, memory-hard key from a whole answer, and boxes only that key opens (stdlib only).

The key is ``hashlib.scrypt`` over everything an answer is judged by at once, so every guess
costs one full KDF evaluation; a box is encrypt-then-MAC (SHAKE-256 stream, HMAC-SHA256 tag),
so a wrong key is recognised by its tag and learns nothing about the text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

#: About 65 ms and 32 MB per key on one core here (2026): a guess is never cheap.
DEFAULT_N = 2**14
DEFAULT_R = 16


class KdfParams(BaseModel):
    """scrypt's cost parameters, stored in the sealed file so a later grader reads it the same."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n: int = Field(default=DEFAULT_N, ge=2, le=2**20, description="CPU/memory cost (a power of two)")
    r: int = Field(default=DEFAULT_R, ge=1, le=64, description="block size")
    p: int = Field(default=1, ge=1, le=16, description="parallelism")


def derive_key(secret: str, salt: str, params: KdfParams) -> bytes:
    """32 bytes from ``secret``; cached per process, so one answer checked against several
    boxes (or parts) pays once."""
    return _scrypt(secret, salt, params.n, params.r, params.p)


@lru_cache(maxsize=512)
def _scrypt(secret: str, salt: str, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt.encode(), n=n, r=r, p=p, dklen=32, maxmem=256 * 2**20)


def nonce_for(salt: str, name: str) -> bytes:
    return hashlib.sha256(f"{salt}\x1fnonce\x1f{name}".encode()).digest()[:12]


def seal_box(key: bytes, text: str, *, nonce: bytes) -> str:
    data = text.encode("utf-8")
    stream = hashlib.shake_256(b"enc" + key + nonce).digest(len(data))
    sealed = bytes(a ^ b for a, b in zip(data, stream, strict=True))
    tag = hmac.new(key, b"mac" + nonce + sealed, hashlib.sha256).digest()[:16]
    return base64.b64encode(nonce + tag + sealed).decode("ascii")


def open_box(key: bytes, box: str) -> str | None:
    """The text, or None when the key is not the box's (the tag does not verify)."""
    try:
        raw = base64.b64decode(box.encode("ascii"), validate=True)
    except ValueError:
        return None
    nonce, tag, sealed = raw[:12], raw[12:28], raw[28:]
    if not hmac.compare_digest(tag, hmac.new(key, b"mac" + nonce + sealed, hashlib.sha256).digest()[:16]):
        return None
    stream = hashlib.shake_256(b"enc" + key + nonce).digest(len(sealed))
    try:
        return bytes(a ^ b for a, b in zip(sealed, stream, strict=True)).decode("utf-8")
    except UnicodeDecodeError:
        return None
