"""The key vault against real PostgreSQL, as a reading service sees it: a learner's name opens with their key, shows
as erased once the key is destroyed, and a blob the vault has never heard of fails loudly (a misconfigured
KEY_VAULT_URL must not turn every learner into an erased one for good)."""
from uuid import uuid4

import pytest
from ttct.privacy.personal import KeyNotInVault, KeyRing, KeyVault, PersonalData, legacy_sealed, random_nonce, seal

pytestmark = pytest.mark.integration


async def test_a_reader_opens_names_until_erasure_and_refuses_a_key_its_vault_never_had(pool):
    vault = KeyVault(pool)
    await vault.migrate()
    ring = KeyRing(vault)
    learner, stranger = uuid4(), uuid4()
    data = PersonalData(full_name="Đỗ Thị Hằng Nga", date_of_birth="1990-02-03")
    sealed = seal(await vault.key_for(learner, "hau-loc"), learner, data, random_nonce())

    await ring.prefetch([type("Event", (), {"personal": sealed})()])
    assert await ring.open(sealed) == data

    assert await vault.destroy(learner, "hau-loc") is True
    await ring.prefetch([type("Event", (), {"personal": sealed})()])
    assert await ring.open(sealed) is None  # erased: a tombstone, shown as erased

    elsewhere = seal(bytes(32), stranger, data, random_nonce())  # sealed with a key from another vault
    with pytest.raises(KeyNotInVault):
        await ring.open(elsewhere)
    # a v1 event's clear name (upcast) still reads without any key
    assert (await ring.open(legacy_sealed(stranger, "Đỗ Thị Hằng Nga"))).full_name == "Đỗ Thị Hằng Nga"


async def test_keys_are_made_once_even_when_writers_race_for_the_same_new_learners(pool):
    import asyncio

    vault = KeyVault(pool)
    await vault.migrate()
    learners = [uuid4() for _ in range(20)]
    answers = await asyncio.gather(*(vault.keys_for(learners, "hau-loc") for _ in range(8)))
    assert all(answer == answers[0] for answer in answers)  # every writer got the one key each learner has
    assert len(answers[0]) == 20 and len(set(answers[0].values())) == 20
    assert await vault.keys_for(learners[:3], "hau-loc") == {i: answers[0][i] for i in learners[:3]}


async def test_a_batch_asks_the_vault_once_even_for_learners_without_a_key(pool, monkeypatch):
    vault = KeyVault(pool)
    await vault.migrate()
    ring = KeyRing(vault)
    blobs = [legacy_sealed(uuid4(), f"Học viên {i}") for i in range(50)]  # v1 history: no key rows
    asked = []
    real_keys, real_answers = vault.keys, vault.answers

    async def counted(real, ids):
        asked.append(len(set(ids)))
        return await real(ids)

    monkeypatch.setattr(vault, "keys", lambda ids: counted(real_keys, ids))
    monkeypatch.setattr(vault, "answers", lambda ids: counted(real_answers, ids))
    await ring.prefetch([type("Event", (), {"personal": b})() for b in blobs])
    names = [(await ring.open(b)).full_name for b in blobs]
    assert names == [f"Học viên {i}" for i in range(50)] and asked == [50]
