"""Row-level security of enrolment's tables (ttct.privacy.tenancy; docs/security.md lists what is covered and why).

Not covered: `learners` and `learner_aliases` (the province's learner registry: ids and hashes only, looked up by
exact key when any centre enrols someone), `organisations` (the province's register of sending organisations).
"""
from ttct.privacy.tenancy import by_centre, protect

SCHEMA = [protect(table, by_centre()) for table in ("classes", "enrolments", "waiting_list", "quotas")]
