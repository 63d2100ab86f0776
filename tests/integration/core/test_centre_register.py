"""The province's register of centres as every service keeps it (ttct.centres), on PostgreSQL: a centre's name on
a day through a registration and a rename dated ahead, the successions followed to the end of a chain, the
register's reading for the access check, and events applied twice changing nothing."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from ttct import centres
from ttct.contracts import EventMetadata, read_event
from ttct.contracts.centre_registered import CentreRegistered
from ttct.contracts.centre_renamed import CentreRenamed
from ttct.contracts.centres_merged import CentresMerged
from ttct.eventsourcing.eventstore import make_envelopes
from ttct.papers.settings import CentreProfile

pytestmark = pytest.mark.integration
DECISION = {"number": "1703/QĐ-UBND", "signed_on": "2026-06-15"}
HAU_LOC, NGA_SON, HOANG_HOA = "Trung tâm Chính trị huyện Hậu Lộc", "Trung tâm Chính trị huyện Nga Sơn", \
    "Trung tâm Chính trị huyện Hoằng Hóa"


async def apply(pool, stream: str, events: list) -> None:
    meta = EventMetadata(province="thanh-hoa", centre="hau-loc", correlation_id=uuid.uuid4())
    envelopes = make_envelopes(stream, 0, events, meta, now=datetime(2026, 6, 20, tzinfo=UTC), new_id=uuid.uuid4)
    for _ in range(2):  # a redelivery writes the same rows again
        async with pool.acquire() as conn:
            for envelope in envelopes:
                await centres.project(conn, envelope, read_event(envelope))


async def test_names_over_time_and_successions_through_a_chain(pool):
    async with pool.acquire() as conn:
        for statement in centres.SCHEMA:
            await conn.execute(statement)
    await apply(pool, "enrolment:centre:hau-loc", [
        CentreRegistered(code="hau-loc", name=HAU_LOC, address="Hậu Lộc", parent_body="Huyện ủy Hậu Lộc",
                         effective_on=date(2026, 1, 1)),
        CentreRenamed(code="hau-loc", name="Trung tâm Chính trị khu vực Hậu Lộc", previous_name=HAU_LOC,
                      effective_on=date(2026, 7, 1), decision=DECISION)])
    for code, name in (("nga-son", NGA_SON), ("hoang-hoa", HOANG_HOA)):
        await apply(pool, f"enrolment:centre:{code}", [
            CentreRegistered(code=code, name=name, effective_on=date(2026, 1, 1))])
    # Nga Sơn becomes a site of Hoằng Hóa in June, Hoằng Hóa merges into Hậu Lộc in August
    await apply(pool, "enrolment:centre:hoang-hoa", [CentresMerged(
        successor_code="hoang-hoa", successor_name=HOANG_HOA, predecessor_codes=["nga-son"],
        predecessor_names=[NGA_SON], kind="site", effective_on=date(2026, 6, 1), decision=DECISION)])
    await apply(pool, "enrolment:centre:hau-loc", [CentresMerged(
        successor_code="hau-loc", successor_name=HAU_LOC, predecessor_codes=["hoang-hoa"],
        predecessor_names=[HOANG_HOA], kind="merged", effective_on=date(2026, 8, 1), decision=DECISION)])

    names = await centres.names_on(pool, [("hau-loc", date(2025, 5, 1)), ("hau-loc", date(2026, 6, 30)),
                                          ("hau-loc", date(2026, 7, 1)), ("nga-son", date(2026, 9, 1)),
                                          ("tinh-gia", date(2026, 9, 1))])
    assert names == {("hau-loc", date(2025, 5, 1)): HAU_LOC, ("hau-loc", date(2026, 6, 30)): HAU_LOC,
                     ("hau-loc", date(2026, 7, 1)): "Trung tâm Chính trị khu vực Hậu Lộc",
                     ("nga-son", date(2026, 9, 1)): NGA_SON}  # a centre never registered has no name here
    # the rename keeps the address and the parent body; a paper takes the register's name, the setting the rest
    assert await pool.fetchval("SELECT parent_body FROM centre_names WHERE code = 'hau-loc' AND valid_from = "
                               "'2026-07-01'") == "Huyện ủy Hậu Lộc"
    paper = await centres.on_paper(pool, CentreProfile(name="Tên cũ", place="Hậu Lộc"), "hau-loc", date(2026, 7, 2))
    assert (paper.name, paper.superior, paper.place) == ("Trung tâm Chính trị khu vực Hậu Lộc", "Huyện ủy Hậu Lộc",
                                                        "Hậu Lộc")
    unregistered = CentreProfile(name="Trung tâm Chính trị huyện Tĩnh Gia")
    assert await centres.on_paper(pool, unregistered, "tinh-gia", date(2026, 7, 2)) == unregistered

    july = await centres.successions(pool, date(2026, 7, 15))
    assert {c: (s.successor_code, s.kind) for c, s in july.items()} == {"nga-son": ("hoang-hoa", "site")}
    september = await centres.successions(pool, date(2026, 9, 1))
    assert {c: (s.successor_code, s.kind) for c, s in september.items()} == {
        "nga-son": ("hau-loc", "site"), "hoang-hoa": ("hau-loc", "merged")}  # the chain's end, the own kind

    register = centres.Register(lambda: pool, lambda: date(2026, 9, 1))
    assert (await register.in_force()).keys() == {"nga-son", "hoang-hoa"}
