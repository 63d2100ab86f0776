"""Access to the province's directory of sending organisations, which has no centre in its path.

Reading needs `organisations:read`. Registering or changing an organisation needs `organisations:write` and the
role of province admin or centre staff: the staff of any centre of the province may register any organisation
(an organisation sends learners to its district centre and to others, and the directory is one for the
province); the token's province is checked on every call. Organisations themselves may not edit the directory.
"""
from __future__ import annotations

from fastapi import Depends
from ttct.auth import Forbidden, Principal, Role, principal, require

_WRITERS = (Role.province_admin, Role.centre_staff)


def directory_access(permission: str):
    async def check(caller: Principal = Depends(principal)) -> Principal:
        require(permission, caller)
        if permission.endswith(":write") and caller.role not in _WRITERS:
            raise Forbidden(f"only province admins and centre staff may {permission.replace(':', ' ')}",
                            f"Chỉ quản trị cấp tỉnh và cán bộ trung tâm mới có quyền {permission}")
        return caller

    return Depends(check)
