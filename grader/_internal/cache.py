"""Work done once: results that depend only on their inputs, kept in memory and on disk.

What is cached is named by a *namespace* and a key built from every input of the computation
and from grader's own source (a changed checker is a new key, never a stale result), so a
cached result is by construction the one the computation would give: caches make grading
faster and never change a report.

On disk, each result is one small JSON file (never pickle: a cache folder is no place to run
code from) under ``$GRADER_CACHE_DIR``, else ``$XDG_CACHE_HOME/grader``, else
``~/.cache/grader``. The folder is never required: one that cannot be made or written is
skipped, and a file that cannot be read or decoded is ignored and rewritten. Files are written
to a temporary name and renamed, so parallel workers never read half a file.
``GRADER_CACHE=off`` turns every cache off (memory and disk), e.g. to compare reports made
with and without caches.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import hashlib
import json
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

__all__ = [
    "Memo",
    "cache_dir",
    "cache_enabled",
    "code_version",
    "forget_memory",
    "lark_parser",
    "memoized",
    "stable_digest",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
_PACKAGE = Path(__file__).resolve().parents[1]
_SOURCE_SUFFIXES = (".py", ".lark", ".toml", ".json")


def cache_enabled() -> bool:
    """False when ``GRADER_CACHE=off`` (read on every call so tests can flip it)."""
    return os.environ.get("GRADER_CACHE", "on").strip().lower() not in ("off", "0", "false", "no")


def cache_dir() -> Path | None:
    """The disk cache's folder (not created here), or None when caching is off."""
    if not cache_enabled():
        return None
    explicit = os.environ.get("GRADER_CACHE_DIR", "").strip()
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "grader"


_code_version: str | None = None
_MEMOS: weakref.WeakSet[Memo[Any]] = weakref.WeakSet()


def code_version() -> str:
    """A digest of grader's own source: part of every disk key, so new code never reads old results."""
    global _code_version
    if _code_version is None:
        digest = hashlib.sha256()
        for path in sorted(p for p in _PACKAGE.rglob("*") if p.suffix in _SOURCE_SUFFIXES and p.is_file()):
            digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
            with contextlib.suppress(OSError):
                digest.update(path.read_bytes())
        _code_version = digest.hexdigest()
    return _code_version


def stable_digest(*parts: Any) -> str:
    """A digest of ``parts`` that is the same in every process and on every run.

    Raises TypeError for a value without a stable form (callers then do not cache).
    """
    digest = hashlib.sha256()
    _feed(digest, parts)
    return digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    """Type-tagged, exact (floats by their hex form), and ordered (dicts by key)."""
    update = digest.update
    if value is None or isinstance(value, bool | int | str):
        update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, float):
        update(f"float:{value.hex()};".encode())
    elif isinstance(value, complex):
        update(f"complex:{value.real.hex()},{value.imag.hex()};".encode())
    elif isinstance(value, bytes):
        update(b"bytes:%d:" % len(value) + value)
    elif isinstance(value, tuple | list):
        update(f"{type(value).__name__}[{len(value)}](".encode())
        for item in value:
            _feed(digest, item)
        update(b")")
    elif isinstance(value, dict):
        update(f"dict[{len(value)}](".encode())
        for key in sorted(value, key=repr):
            _feed(digest, key)
            _feed(digest, value[key])
        update(b")")
    elif isinstance(value, enum.Enum):
        update(f"enum:{type(value).__qualname__}.{value.name};".encode())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        update(f"dc:{type(value).__module__}.{type(value).__qualname__}(".encode())
        for item in dataclasses.fields(value):
            update(item.name.encode() + b"=")
            _feed(digest, getattr(value, item.name))
        update(b")")
    elif hasattr(value, "model_dump_json") and hasattr(type(value), "model_fields"):  # a pydantic model
        update(f"model:{type(value).__module__}.{type(value).__qualname__}:".encode())
        update(value.model_dump_json().encode())
    elif type(value).__module__ == "numpy" and hasattr(value, "tobytes"):  # an array or a scalar
        update(f"ndarray:{value.dtype.str}:{getattr(value, 'shape', ())}:".encode())
        update(value.tobytes())
    else:
        raise TypeError(f"no stable form for {type(value).__name__}")


def forget_memory() -> None:
    """Empty every in-memory cache of this process. Tests that patch code call it; disk keys
    change with the source, not with a patch, so such tests also drop what they read from disk."""
    for memo in list(_MEMOS):
        memo.clear_memory()


class Memo(Generic[T]):
    """Results of one computation, by key: in memory (last ``size`` keys) and, with ``encode``
    and ``decode``, on disk as JSON under the namespace's folder."""

    def __init__(
        self,
        namespace: str,
        *,
        size: int = 256,
        encode: Callable[[T], Any] | None = None,
        decode: Callable[[Any], T] | None = None,
        object_hook: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        self.namespace = namespace
        self.size = size
        self.encode = encode
        self.decode = decode
        self.object_hook = object_hook  # for json.load: rebuilds tagged values as they are read
        self._memory: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()
        _MEMOS.add(self)

    def key(self, *parts: Any) -> str | None:
        """The key of these inputs (with the code's version), or None when they cannot be keyed."""
        try:  # only what outlives this process (the disk) must name the code's version
            return stable_digest(self.namespace, code_version() if self.decode is not None else "", parts)
        except (TypeError, RecursionError):
            return None

    def get(self, key: str | None) -> T | None:
        if key is None or not cache_enabled():
            return None
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
        value = self._read(key)
        if value is not None:
            self._remember(key, value)
        return value

    def put(self, key: str | None, value: T) -> None:
        if key is None or not cache_enabled():
            return
        self._remember(key, value)
        self._write(key, value)

    def get_or_compute(self, key: str | None, compute: Callable[[], T]) -> T:
        """The cached result for ``key``, or ``compute()`` (then cached); None keys are never cached."""
        found = self.get(key)
        if found is not None:
            return found
        value = compute()
        self.put(key, value)
        return value

    def clear_memory(self) -> None:
        with self._lock:
            self._memory.clear()

    def _remember(self, key: str, value: T) -> None:
        with self._lock:
            self._memory[key] = value
            self._memory.move_to_end(key)
            while len(self._memory) > self.size:
                self._memory.popitem(last=False)

    def _path(self, key: str) -> Path | None:
        folder = cache_dir()
        if folder is None or self.decode is None:
            return None
        return folder / self.namespace / key[:2] / f"{key}.json"

    def _read(self, key: str) -> T | None:
        path = self._path(key)
        if path is None or self.decode is None:
            return None
        try:
            with open(path, encoding="utf-8") as handle:
                stored = json.load(handle, object_hook=self.object_hook)
            if not isinstance(stored, dict) or stored.get("key") != key:
                return None
            return self.decode(stored["value"])
        except Exception:  # missing, unreadable or not what we wrote: computed again and rewritten
            return None

    def _write(self, key: str, value: T) -> None:
        path = self._path(key)
        if path is None or self.encode is None:
            return
        try:
            text = json.dumps({"key": key, "value": self.encode(value)}, separators=(",", ":"), allow_nan=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
            try:
                with open(tmp, "w", encoding="utf-8") as out:
                    out.write(text)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except (OSError, TypeError, ValueError):  # a read-only or full disk: the cache is optional
            return


def memoized(namespace: str, *, size: int = 4096) -> Callable[[F], F]:
    """Remember a pure function's results in this process (the same arguments give the same,
    immutable, result object): a class's answers repeat, and so do a rubric's references."""

    def wrap(fn: F) -> F:
        memo: Memo[Any] = Memo(namespace, size=size)

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            if not cache_enabled():
                return fn(*args, **kwargs)
            key = memo.key(args, sorted(kwargs.items()))
            found = memo.get(key)
            if found is None:
                found = fn(*args, **kwargs)
                memo.put(key, found)
            return found

        return call  # type: ignore[return-value]

    return wrap


# ---------------------------------------------------------------------- parser tables


def lark_parser(grammar: str, **options: Any) -> Any:
    """``Lark(grammar, parser="lalr", **options)``, its tables read from the disk cache when built before.

    Building the LALR tables takes a tenth of a second or more on every start of ``grader``;
    reading them back takes a few milliseconds. They are stored as tagged JSON (tuples and
    dicts with non-text keys survive), not with lark's own pickle-based cache.
    """
    import lark

    options = {"parser": "lalr", **options}
    memo = _LARK_TABLES
    key = memo.key(lark.__version__, grammar, options)
    found = memo.get(key)
    if found is not None:
        return _lark_from_tables(found, options)
    parser = lark.Lark(grammar, **options)
    with contextlib.suppress(Exception):  # a parser that cannot be serialized is simply not cached
        memo.put(key, _lark_tables(parser))
    return parser


def _lark_tables(parser: Any) -> Any:
    from lark.grammar import Rule
    from lark.lark import _LOAD_ALLOWED_OPTIONS
    from lark.lexer import TerminalDef

    data, memo = parser.memo_serialize([TerminalDef, Rule])
    data["options"] = {name: value for name, value in data["options"].items() if name not in _LOAD_ALLOWED_OPTIONS}
    return {"data": data, "memo": memo}


def _lark_from_tables(tables: Any, options: dict[str, Any]) -> Any:
    from lark import Lark
    from lark.lark import _LOAD_ALLOWED_OPTIONS

    return Lark.__new__(Lark)._load(tables, **{k: v for k, v in options.items() if k in _LOAD_ALLOWED_OPTIONS})


def _tagged(value: Any) -> Any:
    """JSON for nested tuples, lists and dicts with any keys: ``{"t": [...]}``, ``{"d": [[k, v], ...]}``."""
    if isinstance(value, tuple):
        return {"t": [_tagged(item) for item in value]}
    if isinstance(value, list):
        return [_tagged(item) for item in value]
    if isinstance(value, dict):
        return {"d": [[_tagged(k), _tagged(v)] for k, v in value.items()]}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot store {type(value).__name__}")


def _untag(obj: dict[str, Any]) -> Any:
    """``json.load``'s object hook for ``_tagged`` values (inner objects come first)."""
    if "t" in obj:
        return tuple(obj["t"])
    if "d" in obj:
        return {tuple(k) if isinstance(k, list) else k: v for k, v in obj["d"]}
    return obj


_LARK_TABLES: Memo[Any] = Memo("lark", size=4, encode=_tagged, decode=lambda tables: tables, object_hook=_untag)
