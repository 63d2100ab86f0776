"""Row-level security of notification's tables (ttct.privacy.tenancy; docs/security.md lists what is covered and why).

A sending organisation sees its own rows; a centre, the rows of its centre where a table has one. Tables without
either follow the row they belong to (a delivery its notice, an attempt its delivery, an attendance mark the
organisation's learner), under that row's own policy. Not covered: `classes` and `organisations` (the province's
class calendar and organisation register, copied from other services' events: no learner in them).
"""
from ttct.privacy.tenancy import by_centre, by_organisation, protect, through

SCHEMA = [
    protect("organisation_learners", by_centre(), by_organisation()),
    protect("notices", by_centre(), by_organisation()),
    *(protect(table, by_organisation()) for table in ("final_results", "webhook_endpoints", "channel_preferences")),
    protect("attendance", through(("class_id", "learner_id"), "organisation_learners")),
    protect("deliveries", through("notice_id", "notices")),
    protect("email_deliveries", through("notice_id", "notices")),
    protect("delivery_attempts", through("delivery_id", "deliveries")),
    protect("email_attempts", through("delivery_id", "email_deliveries")),
]
