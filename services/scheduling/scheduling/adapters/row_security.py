"""Row-level security of scheduling's tables (ttct.privacy.tenancy; docs/security.md lists what is covered and why).

Not covered: `bookings` (lecturers and venues held at every centre: a clash must be seen, and named, whichever
centre holds the other booking), `lecturers` (the province's register), and each centre's reference data
(`programmes`, `catalogues`, `venues`), which name no learner. A lecturer's timetable spans the province's
centres by design: its route reads `sessions` under `tenancy.province_wide()`.
"""
from ttct.privacy.tenancy import by_centre, protect

SCHEMA = [protect(table, by_centre()) for table in ("classes", "sessions")]
