"""Access to the province-level lecturer register, which has no centre in its path.

Reading needs `lecturers:read` (centre staff and lecturers of the province, province admins). Registering needs
`lecturers:write` and a province-admin or centre-staff role: any centre's staff may add a lecturer, since
lecturers are shared by all centres of the province. The province itself is the token's (checked on every call).
"""
from __future__ import annotations

from fastapi import Depends
from ttct.auth import Forbidden, Principal, Role, principal, require

_WRITERS = (Role.province_admin, Role.centre_staff)


def province_access(permission: str):
    async def check(caller: Principal = Depends(principal)) -> Principal:
        require(permission, caller)
        if permission.endswith(":write") and caller.role not in _WRITERS:
            raise Forbidden(f"only province admins and centre staff may {permission.replace(':', ' ')}",
                            f"Chỉ quản trị cấp tỉnh và cán bộ trung tâm mới có quyền {permission}")
        return caller

    return Depends(check)
