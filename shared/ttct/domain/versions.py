"""Optimistic concurrency for clients: an aggregate's version is its ETag, and a change sent with If-Match is
decided only on the version the client read (checked inside the decision, so a concurrent writer makes it fail)."""
from __future__ import annotations

from ttct.domain.errors import PreconditionFailed


def if_match_tags(if_match: str | None) -> frozenset[str] | None:
    """The entity tags an If-Match header names (weak or strong alike), or None without the header."""
    if if_match is None:
        return None
    return frozenset(t.strip().removeprefix("W/").strip('"') for t in if_match.split(","))


def check_version(tags: frozenset[str] | None, version: int, what: str) -> None:
    """Refuse (412) unless `tags` is None (no If-Match), `*` on something that exists, or names `version`."""
    if tags is None or (version > 0 and ("*" in tags or str(version) in tags)):
        return
    if version == 0:
        raise PreconditionFailed(f"{what} does not exist, so it cannot match If-Match",
                                 f"{what} không tồn tại nên không khớp If-Match", current_version=None)
    raise PreconditionFailed(f"{what} has changed since you read it (now version {version}); reload it and try again",
                             f"{what} đã được người khác thay đổi (phiên bản hiện tại {version}); vui lòng tải lại "
                             "và thử lại", current_version=version)
