"""Learners' personal data, crypto-shredded (issue 7).

Every event that says who a learner is carries their name and birth date sealed (`SealedPersonalData`) with a
key of their own. The keys live in the key vault, a database outside every event store (`KEY_VAULT_URL`), so an
erasure destroys one key and every copy of the data becomes unreadable: in the event stores, the JetStream
streams, dead letters, backups of either. Readers open the data when they project and store only the name
their purpose needs; once the key is gone they store `ERASED` instead, so a rebuilt projection shows the learner
as erased too.

`seal` and `unseal` are pure (the caller gives the key and the nonce); `KeyVault` is the adapter, `KeyRing`
the readers' per-batch view of it.
"""
from __future__ import annotations

import base64
import binascii
import contextvars
import os
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar
from datetime import date
from uuid import UUID

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pydantic import BaseModel

from ttct.contracts.types import LearnerProfile, PersonalData, SealedPersonalData, legacy_clear
from ttct.privacy.tenancy import keep_session

__all__ = ["ERASED", "KeyDestroyed", "KeyRing", "KeyVault", "LearnerProfile", "PersonalData", "SealedPersonalData", "birth_date",
           "display_name", "legacy_clear", "legacy_sealed", "random_nonce", "seal", "seal_all", "unseal"]

ERASED = "(đã xoá theo yêu cầu / erased on request)"
"""What every view shows instead of the name of a learner whose data were erased."""

KEY_BYTES, NONCE_BYTES = 32, 12
M = TypeVar("M", PersonalData, LearnerProfile)  # what a sealed blob holds

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS learner_keys (
        learner_id uuid PRIMARY KEY,
        centre     text NOT NULL,
        key        bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        erased_at  timestamptz,
        CHECK ((key IS NULL) = (erased_at IS NOT NULL))
    )
    """,
]


class KeyNotInVault(Exception):
    """A sealed blob whose learner has no row in the vault at all: a misconfigured vault, not an erasure."""


class KeyDestroyed(Exception):
    """The learner's key was destroyed: nothing can be sealed for them any more."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _unb64(text: str) -> bytes:
    # base64.urlsafe_b64decode without its Python layers (it is called twice per name a reader opens); the same
    # decoding: non-ASCII text is a ValueError, characters outside the alphabet are skipped as it skips them
    return binascii.a2b_base64(text.encode("ascii").translate(_FROM_URLSAFE) + b"=" * (-len(text) % 4))


def _plain(data: BaseModel) -> bytes:
    # padded to a multiple of 64 bytes, so a blob's length does not tell a short name from a long one
    text = data.model_dump_json().encode()
    return text.ljust(-(-len(text) // 64) * 64)


def _associated(learner_id: UUID) -> bytes:
    """What a blob authenticates besides its data: the learner id's canonical text, `str(learner_id)` encoded, built
    from its 32 hex digits (a third quicker than `UUID.__str__`; a rebuild opens one name per event)."""
    h = learner_id.int.to_bytes(16, "big").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}".encode()


def seal(key: bytes, learner_id: UUID, data: PersonalData | LearnerProfile, nonce: bytes) -> SealedPersonalData:
    """`data` encrypted with the learner's key; the learner id is authenticated with it, so a blob copied onto
    another learner's event does not open. A nonce must never be used twice with one key: give 12 random bytes."""
    if len(key) != KEY_BYTES or len(nonce) != NONCE_BYTES:
        raise ValueError("AES-256-GCM needs a 32-byte key and a 12-byte nonce")
    sealed = AESGCM(key).encrypt(nonce, _plain(data), _associated(learner_id))
    return SealedPersonalData(learner_id=learner_id, nonce=_b64(nonce), ciphertext=_b64(sealed))


def unseal(key: bytes | None, sealed: SealedPersonalData, model: type[M] = PersonalData) -> M | None:
    """The data (a `model`: the name and birth date, or the learner's profile), or None when the learner was erased
    (no key) or the blob does not open with the key."""
    if key is None:
        return None
    # the model's validator itself (`model_validate_json` is the same behind a Python layer): a rebuild opens
    # every learner's name
    if sealed.scheme == "clear-v1":
        return model.__pydantic_validator__.validate_json(_unb64(sealed.ciphertext))
    try:
        plain = AESGCM(key).decrypt(_unb64(sealed.nonce), _unb64(sealed.ciphertext), _associated(sealed.learner_id))
    except (InvalidTag, ValueError):
        return None
    return model.__pydantic_validator__.validate_json(plain)


def display_name(data: PersonalData | None) -> str:
    return data.full_name if data is not None else ERASED


def birth_date(data: PersonalData | None) -> date | None:
    return data.date_of_birth if data is not None else None


def random_nonce() -> bytes:
    return os.urandom(NONCE_BYTES)


_NO_ROW = object()
_UNASKED = object()


class KeyVault:
    """The learners' keys (table `learner_keys` in the key-vault database). An erased learner keeps a row
    without a key (a tombstone), so "erased" and "never had a key" (a v1 learner) stay apart.

    No cache: an erasure must take effect at once in every replica, and one query per batch is cheap.
    """

    def __init__(self, pool: asyncpg.Pool | None = None, *, new_key: Callable[[], bytes] = lambda: os.urandom(32)):
        self.pool = pool
        self._new_key = new_key

    async def connect(self, url: str, *, max_size: int = 3) -> None:
        # No reset on release: the vault keeps no session state (no SET, session lock, LISTEN or cursor), and
        # asyncpg's default reset is a round trip more on every use (RESET ALL, unlocks, UNLISTEN), one and a half
        # per enrolment through HTTP.
        self.pool = await asyncpg.create_pool(url, min_size=1, max_size=max_size, reset=keep_session)
        await self.migrate()

    async def migrate(self) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(7243013)")
            for statement in SCHEMA:
                await conn.execute(statement)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    @property
    def _pool(self) -> asyncpg.Pool:
        if self.pool is None:
            raise RuntimeError("the key vault is not connected (KEY_VAULT_URL)")
        return self.pool

    _GET_OR_MAKE = (
        "WITH made AS (INSERT INTO learner_keys (learner_id, centre, key)"
        " SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[]) ON CONFLICT (learner_id) DO NOTHING"
        " RETURNING learner_id, key)"
        " SELECT learner_id, key FROM made"
        " UNION ALL SELECT k.learner_id, k.key FROM learner_keys k"
        " WHERE k.learner_id = ANY($1::uuid[]) AND k.learner_id NOT IN (SELECT learner_id FROM made)")

    async def key_for(self, learner_id: UUID, centre: str) -> bytes:
        """The learner's key, made on first use (race-safe). Raises `KeyDestroyed` after an erasure."""
        return (await self.keys_for([learner_id], centre))[learner_id]

    async def keys_for(self, learner_ids: Iterable[UUID], centre: str) -> dict[UUID, bytes]:
        """Keys for many learners, making the missing ones: one statement (a round trip on every enrolment)."""
        ids = sorted(set(learner_ids))
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(self._GET_OR_MAKE, ids, [centre] * len(ids), [self._new_key() for _ in ids])
            found = {r["learner_id"]: r["key"] for r in rows}
            if len(found) < len(ids):
                # A key another writer made after this statement's snapshot was taken: ON CONFLICT skipped it
                # and the snapshot cannot see it. A fresh statement does.
                rows = await conn.fetch("SELECT learner_id, key FROM learner_keys WHERE learner_id = ANY($1::uuid[])",
                                        ids)
                found = {r["learner_id"]: r["key"] for r in rows}
        erased = [i for i in ids if found.get(i) is None]
        if erased:
            raise KeyDestroyed(", ".join(map(str, erased)))
        return found

    async def keys(self, learner_ids: Iterable[UUID]) -> dict[UUID, bytes | None]:
        """The keys there are, in one query: None for an erased learner, absent for one who never had a key."""
        ids = list({learner_id.int: learner_id for learner_id in learner_ids}.values())  # distinct; ints hash in C
        if not ids:
            return {}
        rows = await self._pool.fetch("SELECT learner_id, key FROM learner_keys WHERE learner_id = ANY($1::uuid[])",
                                      ids)
        return {learner_id: key for learner_id, key in rows}

    async def answers(self, learner_ids: Sequence[UUID]) -> list[bytes | object | None]:
        """`keys` for a reader's batch: for each of these (distinct) learners in order, their key, None if erased,
        or `_NO_ROW` if they never had one; no learner id is read back and made a UUID again."""
        rows = await self._pool.fetch(
            "SELECT k.learner_id IS NOT NULL, k.key FROM unnest($1::uuid[]) WITH ORDINALITY AS u(learner_id, n)"
            " LEFT JOIN learner_keys k ON k.learner_id = u.learner_id ORDER BY u.n", learner_ids)
        return [key if known else _NO_ROW for known, key in rows]

    async def centre_of(self, learner_id: UUID) -> str | None:
        return await self._pool.fetchval("SELECT centre FROM learner_keys WHERE learner_id = $1", learner_id)

    async def destroy(self, learner_id: UUID, centre: str) -> bool:
        """Destroy the learner's key (leave a tombstone); True if a key was destroyed now."""
        async with self._pool.acquire() as conn:
            destroyed = await conn.fetchval(
                "WITH gone AS (UPDATE learner_keys SET key = NULL, erased_at = now()"
                " WHERE learner_id = $1 AND key IS NOT NULL RETURNING 1) SELECT count(*) FROM gone", learner_id)
            await conn.execute("INSERT INTO learner_keys (learner_id, centre, key, erased_at) VALUES ($1, $2, NULL,"
                               " now()) ON CONFLICT (learner_id) DO NOTHING", learner_id, centre)
            # The old row version still holds the key on disk until vacuumed: vacuum now (the table is small).
            # WAL and backups keep it until they expire (docs/security.md).
            try:
                await conn.execute("VACUUM learner_keys")
            except asyncpg.PostgresError:
                pass
        return bool(destroyed)


async def seal_all(vault: KeyVault, centre: str, items: dict[UUID, PersonalData | LearnerProfile],
                   nonce: Callable[[], bytes] = random_nonce) -> dict[UUID, SealedPersonalData]:
    """Each learner's data sealed with their key (made on first use), the keys fetched in one round trip.
    Raises `KeyDestroyed` if one of them was erased."""
    keys = await vault.keys_for(items, centre) if items else {}
    return {learner: seal(keys[learner], learner, data, nonce()) for learner, data in items.items()}


_BATCH: contextvars.ContextVar[dict[int, bytes | object | None] | None] = contextvars.ContextVar(
    "ttct_keyring_batch", default=None)
"""The keys of the consumer's batch by learner id, the id as its integer (`UUID.int`): a uuid.UUID hashes in Python,
its integer in C, and a batch looks each learner up twice or more."""


class KeyRing:
    """Readers' access to the vault: the keys of a consumer batch fetched in one query (`prefetch`, called by the
    consumer before it applies the batch), then opened from memory. Scoped to the batch (a context variable of
    the consumer's task), so a key destroyed by an erasure is never used by a later batch."""

    def __init__(self, vault: KeyVault | None = None) -> None:
        self.vault = vault or KeyVault()

    async def prefetch(self, events: Iterable[object]) -> None:
        ids = {sealed.learner_id.int: sealed.learner_id for event in events
               if (sealed := getattr(event, "personal", None)) is not None}
        # "no row" is an answer too: without it, every v1 learner (no key) cost one more query (a rebuild of v1
        # history fell from 7,000 to 1,400 events/s)
        _BATCH.set(dict(zip(ids, await self.vault.answers(list(ids.values())), strict=True)) if ids else {})

    def forget(self, learner_id: UUID) -> None:
        """After an erasure: this batch no longer holds the learner's key."""
        batch = _BATCH.get()
        if batch is not None and learner_id.int in batch:
            batch[learner_id.int] = None

    async def open(self, sealed: SealedPersonalData, model: type[M] = PersonalData) -> M | None:
        return (await self.open_all([sealed], model))[0]

    async def open_all(self, blobs: Sequence[SealedPersonalData], model: type[M] = PersonalData) -> list[M | None]:
        """`open` of each blob, in order: for a batched handler, which opens a run's names at once (one await for
        the run, and the keys this batch's prefetch does not hold asked for in one query, not one per blob)."""
        batch = _BATCH.get() or {}
        keys = [batch.get(sealed.learner_id.int, _UNASKED) for sealed in blobs]
        unasked = {sealed.learner_id for sealed, key in zip(blobs, keys) if key is _UNASKED}
        if unasked:  # not in this batch's prefetch (e.g. a handler outside a consumer)
            found = await self.vault.keys(unasked)
            keys = [found.get(sealed.learner_id, _NO_ROW) if key is _UNASKED else key
                    for sealed, key in zip(blobs, keys)]
        return [_opened(key, sealed, model) for key, sealed in zip(keys, blobs)]


def _opened(key: bytes | object | None, sealed: SealedPersonalData, model: type[M]) -> M | None:
    if key is _NO_ROW:  # never had a key: only a v1 (clear) blob opens
        if sealed.scheme == "clear-v1":
            return unseal(b"", sealed, model)
        # Sealed, yet the vault has no row (not even an erasure's tombstone): this is not the vault that
        # sealed it (KEY_VAULT_URL differs from enrolment's). Fail loudly (retries, then a dead letter that
        # can be replayed once the setting is fixed) rather than project the learner as erased for good.
        raise KeyNotInVault(f"learner {sealed.learner_id}: no key in this service's key vault; is KEY_VAULT_URL "
                            "the vault enrolment uses?")
    return unseal(key, sealed, model)  # type: ignore[arg-type]


def legacy_sealed(learner_id: UUID, full_name: str, date_of_birth: date | None = None) -> SealedPersonalData:
    """The blob an upcast v1 event carries ("clear-v1": readable without a key until the learner is erased).
    For tests and tools that stand in for a producer and have no key vault; producers seal with `seal`."""
    return SealedPersonalData.model_validate(legacy_clear(learner_id, full_name, date_of_birth))
