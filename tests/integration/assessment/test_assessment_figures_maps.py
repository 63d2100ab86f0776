"""The figures by either map through the real path: enrolment's OrganisationsMerged and OrganisationDissolved on
JetStream, applied by assessment's consumer handlers beside the places; today's map rolls predecessors into their
successors (through a chain), and a rebuild from the streams gives the same rows, figure_successions included."""
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from assessment.figures import maps, rebuild, tables, tally
from tests.integration.assessment.test_assessment_figures import (  # noqa: F401 (figures: the fixture)
    AT,
    CENTRE,
    YEAR,
    enrolled,
    envelopes,
    figures,
    opened,
    publish,
    until,
)
from ttct.contracts.organisation_dissolved import OrganisationDissolved
from ttct.contracts.organisations_merged import OrganisationsMerged
from ttct.contracts.types import SendingOrganisation

pytestmark = pytest.mark.integration
DECISION = {"number": "1686/QĐ-UBND", "signed_on": "2024-05-14"}
A, B, CELL = (SendingOrganisation(code=c, name=n) for c, n in (
    ("xa-hoa-loc", "Đảng ủy xã Hòa Lộc"), ("xa-hoa-phu", "Đảng ủy xã Hòa Phú"), ("chi-bo-1", "Chi bộ thôn 1")))


async def test_merged_and_dissolved_organisations_roll_up_by_todays_map_and_a_rebuild_keeps_it(
        pool, figures, province):  # noqa: F811 (the fixture)
    js, _ = figures
    class_id = uuid.uuid4()
    places = [enrolled(class_id, n, org) for n, org in enumerate([A, A, B, CELL])]
    await publish(js, [
        *envelopes(province, f"scheduling:class:{class_id}", [opened(class_id, "so_cap_llct", date(YEAR, 3, 4))], AT),
        *envelopes(province, f"enrolment:roster:{class_id}", places, AT),
        # the cell is dissolved into Hòa Lộc, which then merges with Hòa Phú into Hậu Lộc: a chain
        *envelopes(province, "enrolment:organisation:chi-bo-1", [OrganisationDissolved(
            code="chi-bo-1", successor_code="xa-hoa-loc", successor_name=A.name, effective_on=date(YEAR, 6, 1),
            decision=DECISION)], AT + timedelta(days=1)),
        *envelopes(province, "enrolment:organisation:xa-hau-loc", [OrganisationsMerged(
            successor_code="xa-hau-loc", successor_name="Đảng ủy xã Hậu Lộc",
            predecessor_codes=["xa-hoa-loc", "xa-hoa-phu"],
            effective_on=date(YEAR, 7, 1), decision=DECISION)], AT + timedelta(days=2))])

    async def applied():
        return len(await maps.successors(pool, date(YEAR, 12, 31))) == 3
    await until(applied)
    rows = await tables.counts(pool, YEAR, CENTRE)
    recorded = tally.figures(YEAR, CENTRE, rows)
    assert {(x.organisation_code, x.places) for x in recorded.by_organisation} == {
        ("xa-hoa-loc", 2), ("xa-hoa-phu", 1), ("chi-bo-1", 1)}
    mid_year = tally.figures(YEAR, CENTRE, rows, await maps.successors(pool, date(YEAR, 6, 15)))
    assert {(x.organisation_code, x.places) for x in mid_year.by_organisation} == {("xa-hoa-loc", 3), ("xa-hoa-phu", 1)}
    today = tally.figures(YEAR, CENTRE, rows, await maps.successors(pool, datetime.now(UTC).date()))
    assert [(x.organisation_code, x.organisation_name, x.places) for x in today.by_organisation] == [
        ("xa-hau-loc", "Đảng ủy xã Hậu Lộc", 4)]
    assert today.total == recorded.total

    before = await tables.snapshot(pool)
    await pool.execute("DELETE FROM figure_successions")  # a damaged projection
    await rebuild(pool, js, province)
    assert await tables.snapshot(pool) == before
