"""What a lecturer may write: attendance and scores of their own teaching only (the centre's staff, any class of
the centre). Their token names them in the province's register (claim `lecturer_id`); assessment knows who
teaches each session from scheduling's SessionScheduled."""
from __future__ import annotations

from uuid import UUID

from fastapi import Request
from ttct.http.auth import Forbidden, Principal, Role

from assessment.adapters import facts


async def own_teaching(request: Request, caller: Principal, centre: str, class_id: UUID,
                       session_id: UUID | None = None) -> None:
    if caller.role is not Role.lecturer:
        return
    if caller.lecturer_id is None:
        raise Forbidden("a lecturer's token must name the lecturer (claim lecturer_id) to record anything",
                        "Mã truy cập của giảng viên phải ghi mã giảng viên (lecturer_id) mới được ghi nhận")
    if not await facts.teaches(request.app.state.runtime.pool, centre, class_id, caller.lecturer_id, session_id):
        what = f"session {session_id}" if session_id else f"any session of class {class_id}"
        what_vi = f"buổi học {session_id}" if session_id else f"buổi nào của lớp {class_id}"
        raise Forbidden(f"lecturer {caller.lecturer_id} does not teach {what}: a lecturer records only their own "
                        "sessions and classes", f"Giảng viên {caller.lecturer_id} không dạy {what_vi}: giảng viên "
                        "chỉ ghi nhận cho buổi học, lớp học của mình", code="not-your-teaching")
