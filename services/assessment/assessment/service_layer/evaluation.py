"""Course evaluation's command handlers: read the class's facts, decide (pure), append with the views."""
from __future__ import annotations

from uuid import UUID

import secrets
from collections.abc import Sequence

import asyncpg
from ttct.contracts import Envelope, EventMetadata
from ttct.domain.errors import NotFound, Rejected
from ttct.eventsourcing.aggregates import Aggregates
from ttct.operations.runtime import Runtime
from ttct.privacy import tenancy

from assessment.adapters import evaluation_codes as codes
from assessment.adapters import evaluations
from assessment.adapters import facts as fx
from assessment.domain import evaluation as ev
from assessment.domain.facts import ClassFacts, class_unknown


def aggregates(rt: Runtime) -> Aggregates[ev.Evaluations]:
    return rt.aggregates(ev.Evaluations, ev.evolve)


async def known_class(rt: Runtime, centre: str, class_id: UUID) -> ClassFacts:
    found = await fx.class_facts(rt.pool, centre, class_id)
    if found is None:
        raise class_unknown(class_id)
    return found


async def evaluate(rt: Runtime, forms: Aggregates[ev.Evaluations], centre: str, class_id: UUID,
                   command: ev.EvaluateCourse, metadata: EventMetadata) -> UUID:
    facts = await known_class(rt, centre, class_id)
    learners = await fx.learners_ever(rt.pool, centre, class_id)
    lecturers = await fx.lecturers(rt.pool, centre, class_id)
    evaluation_id = rt.new_id()
    await forms.execute(ev.stream_id(class_id),
                        lambda s: ev.decide_evaluation(command, facts, learners, lecturers, s, evaluation_id),
                        metadata, project=evaluations.project)
    return evaluation_id


async def review(rt: Runtime, forms: Aggregates[ev.Evaluations], centre: str, class_id: UUID,
                 command: ev.ReviewClass, metadata: EventMetadata) -> None:
    facts = await known_class(rt, centre, class_id)
    await forms.execute(ev.stream_id(class_id), lambda _: ev.decide_review(command, facts), metadata,
                        project=evaluations.project)


CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a slip without doubt
CODE_LENGTH = 10  # 50 bits: guessing a valid code among a province's is hopeless


def new_code() -> str:
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{code[:5]}-{code[5:]}"


async def issue_codes(rt: Runtime, forms: Aggregates[ev.Evaluations], centre: str, class_id: UUID,
                      command: ev.IssueEvaluationCodes) -> list[str]:
    """New one-time codes for the class's learners; shown here once (only their hashes are kept)."""
    facts = await known_class(rt, centre, class_id)
    async with rt.pool.acquire() as conn, conn.transaction():
        # one issuer per class at a time, so two at once cannot both issue the last places
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"evaluation-codes:{class_id}")
        state, _ = await forms.load(ev.stream_id(class_id))
        count = ev.codes_to_issue(command, facts, await fx.learners_ever(conn, centre, class_id), state.forms,
                                  await codes.unused(conn, centre, class_id))
        now = rt.clock()
        if command.replace_unused:
            await codes.void_unused(conn, centre, class_id, now)
        issued = [new_code() for _ in range(count)]
        await codes.issue(conn, centre, class_id, issued, now)
    return issued


def _code_unknown() -> NotFound:
    return NotFound("this evaluation code is not known: check it against the slip",
                    "Mã phiếu khảo sát không đúng: vui lòng kiểm tra lại mã in trên phiếu",
                    code="evaluation-code-unknown")


def _code_used() -> Rejected:
    return Rejected("this evaluation code has been used (or withdrawn by the centre): each code is for one form",
                    "Mã phiếu khảo sát này đã được dùng (hoặc đã bị trung tâm hủy): mỗi mã chỉ dùng cho một phiếu",
                    code="evaluation-code-used")


async def class_of_code(rt: Runtime, code: str) -> tuple[str, ClassFacts, dict[UUID, str]]:
    """The centre, class and lecturers a learner's code is for; refused if the code is unknown or used."""
    with tenancy.lookup(codes.code_hash(code)):  # row-level security: this one code, nothing of any centre else
        row = await codes.find(rt.pool, code)
    if row is None:
        raise _code_unknown()
    if row["used_at"] is not None or row["voided_at"] is not None:
        raise _code_used()
    centre, class_id = row["centre"], row["class_id"]
    with tenancy.scoped(tenancy.tenant(centres=frozenset({centre}))):  # the code proved which centre's class
        return centre, await known_class(rt, centre, class_id), await fx.lecturers(rt.pool, centre, class_id)


async def evaluate_with_code(rt: Runtime, forms: Aggregates[ev.Evaluations], code: str, command: ev.EvaluateCourse,
                             metadata_for) -> tuple[UUID, UUID]:
    """A learner's own form, sent with their code: entered as staff would enter it, and the code used in the
    same transaction."""
    centre, facts, _ = await class_of_code(rt, code)

    async def project(conn: asyncpg.Connection, envelopes: Sequence[Envelope]) -> None:
        if not await codes.use(conn, code, rt.clock()):
            raise _code_used()
        await evaluations.project(conn, envelopes)

    with tenancy.scoped(tenancy.tenant(centres=frozenset({centre}))):
        learners = await fx.learners_ever(rt.pool, centre, facts.class_id)
        lecturers = await fx.lecturers(rt.pool, centre, facts.class_id)
        evaluation_id = rt.new_id()
        await forms.execute(ev.stream_id(facts.class_id),
                            lambda s: ev.decide_evaluation(command, facts, learners, lecturers, s, evaluation_id),
                            metadata_for(centre), project=project)
    return evaluation_id, facts.class_id
