"""The roster's rules, pure: seats, quotas (chỉ tiêu), the waiting list, promotion, withdrawal, transfer."""
from __future__ import annotations

import random
from datetime import date
from uuid import uuid4

import pytest
from enrolment.domain import roster as r
from ttct.contracts import LearnerEnrolled
from ttct.contracts.learner_waitlisted import LearnerWaitlisted
from ttct.contracts.learner_withdrawn import LearnerWithdrawn
from ttct.contracts.organisation_quota_set import OrganisationQuotaSet
from ttct.contracts.types import SendingOrganisation
from ttct.domain.errors import NotFound, Rejected
from ttct.privacy.personal import PersonalData, legacy_sealed, seal

pytestmark = pytest.mark.unit
ORGS = {code: SendingOrganisation(code=code, name=f"Đảng ủy {code}") for code in ("xa-a", "xa-b", "xa-c")}


def facts(capacity=3, cancelled=False, class_id=None):
    return r.ClassFacts(class_id=class_id or uuid4(), title="Lớp Sơ cấp LLCT", capacity=capacity,
                        cancelled=cancelled)


def member(org="xa-a", name="Nguyễn Văn An"):
    learner = uuid4()
    return r.Member(learner, seal(bytes(32), learner, PersonalData(full_name=name, date_of_birth=date(1990, 1, 2)),
                                  bytes(12)), ORGS[org])


def apply(roster, events):
    for event in events:
        roster = r.evolve(roster, event)
    return roster


def admit(f, roster, *members):
    for m in members:
        roster = apply(roster, r.decide_admit(m, f, roster))
    return roster


def quota(f, roster, org, n):
    events = r.decide_set_quota(org, r.SetQuota(quota=n), f, roster)
    return apply(roster, events), events


def test_seats_fill_in_order_then_learners_wait_with_their_position():
    f, roster = facts(capacity=2), r.Roster()
    events = []
    for m in (member(), member(), member(), member()):
        [event] = r.decide_admit(m, f, roster)
        events.append(event)
        roster = r.evolve(roster, event)
    assert [type(e) for e in events] == [LearnerEnrolled, LearnerEnrolled, LearnerWaitlisted, LearnerWaitlisted]
    assert [e.seat_number for e in events[:2]] == [1, 2] and [e.position for e in events[2:]] == [1, 2]
    assert roster.seats_taken == 2 and len(roster.waiting) == 2


def test_an_organisation_beyond_its_quota_waits_while_others_still_get_seats():
    f, roster = facts(capacity=5), r.Roster()
    roster, _ = quota(f, roster, "xa-a", 1)
    a1, a2, b1 = member("xa-a"), member("xa-a"), member("xa-b")
    roster = admit(f, roster, a1)
    [over] = r.decide_admit(a2, f, roster)
    assert isinstance(over, LearnerWaitlisted) and over.position == 1
    assert r.wait_reason(f, roster, "xa-a") == "over-quota" and r.wait_reason(f, roster, "xa-b") is None
    roster = apply(roster, [over])
    [seated] = r.decide_admit(b1, f, roster)
    assert isinstance(seated, LearnerEnrolled) and seated.seat_number == 2


def test_already_enrolled_and_already_waiting_are_refused():
    f, roster = facts(capacity=1), r.Roster()
    seated, waiting = member(), member()
    roster = admit(f, roster, seated, waiting)
    with pytest.raises(Rejected) as refused:
        r.decide_admit(seated, f, roster)
    assert refused.value.code == "already-enrolled"
    with pytest.raises(Rejected) as refused:
        r.decide_admit(waiting, f, roster)
    assert refused.value.code == "already-waiting" and refused.value.extra["position"] == 1


def test_a_cancelled_class_takes_no_more_learners_and_no_quota_changes():
    f = facts(cancelled=True)
    with pytest.raises(Rejected) as refused:
        r.decide_admit(member(), f, r.Roster())
    assert refused.value.code == "class-cancelled" and "hủy" in refused.value.detail_vi
    with pytest.raises(Rejected):
        r.decide_set_quota("xa-a", r.SetQuota(quota=2), f, r.Roster())


def test_a_withdrawal_promotes_the_first_waiting_learner_into_the_freed_seat_in_the_same_decision():
    f, roster = facts(capacity=2), r.Roster()
    first, second, w1, w2 = member(), member(), member(), member()
    roster = admit(f, roster, first, second, w1, w2)
    events = r.decide_withdraw(first.learner_id, "ốm", f, roster)
    assert isinstance(events[0], LearnerWithdrawn) and events[0].reason == "ốm"
    [promotion] = events[1:]
    assert isinstance(promotion, LearnerEnrolled) and promotion.from_waiting_list
    assert promotion.learner_id == w1.learner_id and promotion.seat_number == 1  # the freed seat
    roster = apply(roster, events)
    assert [m.learner_id for m in roster.waiting] == [w2.learner_id] and roster.seats_taken == 2


def test_promotion_skips_a_waiting_learner_whose_organisation_is_at_its_quota():
    f, roster = facts(capacity=3), r.Roster()
    roster, _ = quota(f, roster, "xa-a", 2)
    a1, a2, b1 = member("xa-a"), member("xa-a"), member("xa-b")
    a3, b2 = member("xa-a"), member("xa-b")
    roster = admit(f, roster, a1, a2, b1, a3, b2)  # a3 waits (quota), b2 waits (full)
    assert [m.learner_id for m in roster.waiting] == [a3.learner_id, b2.learner_id]
    events = r.decide_withdraw(b1.learner_id, "chuyển công tác", f, roster)
    promoted = [e for e in events if isinstance(e, LearnerEnrolled)]
    assert [e.learner_id for e in promoted] == [b2.learner_id]  # a3 is first but xa-a would exceed its quota
    roster = apply(roster, events)
    # when a seat of xa-a frees up, a3 (first in order and now eligible) is promoted
    events = r.decide_withdraw(a1.learner_id, "ốm", f, roster)
    assert [e.learner_id for e in events if isinstance(e, LearnerEnrolled)] == [a3.learner_id]


def test_withdrawing_a_waiting_learner_frees_no_seat_and_promotes_nobody():
    f, roster = facts(capacity=1), r.Roster()
    seated, w1, w2 = member(), member(), member()
    roster = admit(f, roster, seated, w1, w2)
    events = r.decide_withdraw(w1.learner_id, "không tham gia", f, roster)
    assert [type(e) for e in events] == [LearnerWithdrawn]
    roster = apply(roster, events)
    assert roster.waiting_position(w2.learner_id) == 1 and roster.seats_taken == 1


def test_withdrawing_someone_not_in_the_class_is_not_found():
    with pytest.raises(NotFound) as refused:
        r.decide_withdraw(uuid4(), "x", facts(), r.Roster())
    assert refused.value.code == "learner-not-in-class"


def test_raising_a_quota_promotes_that_organisation_s_waiting_learners_into_free_seats():
    f, roster = facts(capacity=4), r.Roster()
    roster, _ = quota(f, roster, "xa-a", 1)
    a1, a2, a3 = member("xa-a"), member("xa-a"), member("xa-a")
    roster = admit(f, roster, a1, a2, a3)
    assert roster.seats_taken == 1 and len(roster.waiting) == 2
    roster, events = quota(f, roster, "xa-a", 2)
    assert isinstance(events[0], OrganisationQuotaSet) and events[0].quota == 2
    assert [e.learner_id for e in events[1:]] == [a2.learner_id]
    roster, events = quota(f, roster, "xa-a", None)  # no quota at all
    assert [e.learner_id for e in events[1:]] == [a3.learner_id]
    assert r.decide_set_quota("xa-a", r.SetQuota(quota=None), f, roster) == []  # unchanged: nothing to say


def test_lowering_a_quota_unseats_nobody():
    f, roster = facts(capacity=4), r.Roster()
    a1, a2 = member("xa-a"), member("xa-a")
    roster = admit(f, roster, a1, a2)
    roster, events = quota(f, roster, "xa-a", 1)
    assert len(events) == 1 and roster.seats_taken == 2
    [event] = r.decide_admit(member("xa-a"), f, roster)
    assert isinstance(event, LearnerWaitlisted)


def test_a_cancelled_class_promotes_nobody_on_withdrawal():
    class_id = uuid4()
    open_, roster = facts(capacity=1, class_id=class_id), r.Roster()
    seated, waiting = member(), member()
    roster = admit(open_, roster, seated, waiting)
    events = r.decide_withdraw(seated.learner_id, "transferred", facts(capacity=1, class_id=class_id,
                                                                      cancelled=True), roster)
    assert [type(e) for e in events] == [LearnerWithdrawn]


def test_transfer_is_an_arrival_in_the_target_and_a_departure_from_the_source():
    """The two halves of a transfer as the service layer runs them: admit in the target (waiting if it is
    full), then withdraw from the source with reason "transferred", which promotes there."""
    source_f, target_f = facts(capacity=1), facts(capacity=1)
    source = admit(source_f, r.Roster(), mover := member(), waiting := member())
    target = admit(target_f, r.Roster(), member())
    [arrival] = r.decide_admit(source.member(mover.learner_id), target_f, target)
    assert isinstance(arrival, LearnerWaitlisted) and arrival.class_id == target_f.class_id  # target is full
    assert arrival.personal == mover.personal and arrival.sending_organisation == mover.sending_organisation
    departure = r.decide_withdraw(mover.learner_id, "transferred", source_f, source)
    assert departure[0].reason == "transferred"
    assert [e.learner_id for e in departure[1:]] == [waiting.learner_id]
    # repeating it is harmless: the learner is in the target already and no longer in the source
    target = apply(target, [arrival])
    source = apply(source, departure)
    assert target.holds(mover.learner_id) and not source.holds(mover.learner_id)


def test_a_freed_seat_number_is_given_again_before_a_new_one():
    f, roster = facts(capacity=3), r.Roster()
    a, b, c = member(), member(), member()
    roster = admit(f, roster, a, b)
    roster = apply(roster, r.decide_withdraw(a.learner_id, "x", f, roster))
    [event] = r.decide_admit(c, f, roster)
    assert event.seat_number == 1
    roster = apply(roster, [event])
    assert sorted(seat for _, seat in roster.seated.values()) == [1, 2]


def test_random_histories_never_overfill_exceed_a_quota_or_leave_an_eligible_learner_waiting_by_a_free_seat():
    rng = random.Random(7)
    for _ in range(200):
        f, roster, history = facts(capacity=rng.randint(1, 6)), r.Roster(), []
        for _ in range(40):
            op = rng.random()
            try:
                if op < 0.55:
                    events = r.decide_admit(member(rng.choice(list(ORGS))), f, roster)
                elif op < 0.8 and (roster.seated or roster.waiting):
                    who = rng.choice([*roster.seated, *(m.learner_id for m in roster.waiting)])
                    events = r.decide_withdraw(who, "x", f, roster)
                else:
                    events = r.decide_set_quota(rng.choice(list(ORGS)),
                                                r.SetQuota(quota=rng.choice([None, 0, 1, 2, 3])), f, roster)
            except Rejected:
                continue
            before = roster
            roster = apply(roster, events)
            history.extend(events)
            assert roster.seats_taken <= f.capacity
            seats = [seat for _, seat in roster.seated.values()]
            assert len(set(seats)) == len(seats)
            for code, n in roster.per_organisation.items():
                quota_ = roster.quotas.get(code)
                grew = n > before.per_organisation.get(code, 0)
                assert quota_ is None or n <= quota_ or not grew  # a lowered quota unseats nobody
            if roster.seats_taken < f.capacity:
                assert not any(roster.within_quota(m.organisation) for m in roster.waiting)
            promoted = [e.learner_id for e in events if isinstance(e, LearnerEnrolled) and e.from_waiting_list]
            eligible_order = [m.learner_id for m in before.waiting if m.learner_id in promoted]
            assert promoted == eligible_order  # promotions follow the waiting list's order
        # the whole history folded at once (a stream read from the store) is the roster evolved event by event
        assert r.fold(r.Roster(), history) == roster
        assert r.fold(r.fold(r.Roster(), history[:len(history) // 2]), history[len(history) // 2:]) == roster


def test_identity_is_kept_national_id_then_party_card_then_name_birth_date_and_organisation():
    def cmd(name="Nguyễn Văn An", **kw):
        return r.EnrolLearner(full_name=name, date_of_birth=date(1990, 1, 2), sending_organisation={"code": "xa-a"}, **kw)

    assert r.identity_key(cmd(national_id="038090000001")) == r.identity_key(cmd("Nguyen Van An",
                                                                                national_id="038090000001"))
    assert r.identity_key(cmd(party_card_number="42012345")) == r.identity_key(cmd("X", party_card_number="42012345"))
    decomposed = "Nguye\u0302\u0303n Va\u0306n An"
    assert cmd(decomposed).full_name == "Nguyễn Văn An"  # stored NFC
    assert r.identity_key(cmd(decomposed)) == r.identity_key(cmd())
    lid = uuid4()
    assert isinstance(r.decide_enrol(cmd(), lid, legacy_sealed(lid, "An"), facts(), r.Roster(),
                                   organisation=ORGS["xa-a"])[0], LearnerEnrolled)


def test_a_class_whose_programme_requires_a_dispatch_decision_refuses_an_enrolment_citing_none_and_keeps_the_one_cited():
    from ttct.contracts.types import DispatchDecision
    from ttct.domain.errors import Invalid
    requiring = r.ClassFacts(class_id=uuid4(), title="Lớp cán bộ nguồn", capacity=1, requires_dispatch_decision=True)
    decision = DispatchDecision(number="125-QĐ/ĐU", signed_on=date(2027, 2, 20), signer="Ban Thường vụ Đảng ủy")

    def cmd(name, **kw):
        return r.EnrolLearner(full_name=name, date_of_birth=date(1990, 1, 2), sending_organisation={"code": "xa-a"},
                              **kw)

    lid = uuid4()
    with pytest.raises(Invalid) as refused:
        r.decide_enrol(cmd("An"), lid, legacy_sealed(lid, "An"), requiring, r.Roster(), organisation=ORGS["xa-a"])
    assert refused.value.code == "dispatch-decision-required"
    assert refused.value.extra["errors"][0]["field"] == "body.dispatch_decision"
    roster = r.Roster()
    for name in ("An", "Bình"):  # the second waits: the class has one seat
        lid = uuid4()
        [event] = r.decide_enrol(cmd(name, dispatch_decision=decision), lid, legacy_sealed(lid, name), requiring,
                                 roster, organisation=ORGS["xa-a"])
        assert event.dispatch_decision == decision
        roster = r.evolve(roster, event)
    seated = next(iter(roster.seated))
    _, promoted = r.decide_withdraw(seated, "ốm", requiring, roster)
    assert promoted.from_waiting_list and promoted.dispatch_decision == decision  # the promotion keeps it
