"""Row-level security of assessment's tables (ttct.privacy.tenancy; docs/security.md lists what is covered and why).

Tables without a centre of their own follow their class: a row is seen when its class is (the policy reads
`class_facts`, or `figure_classes`, under their own policies). Certificates may also be read, by a public
verification, when the scope is the lookup of their verification code, and a class's evaluation code by a learner holding it.
"""
from ttct.privacy.tenancy import by_centre, protect, through

_BY_CENTRE = ("class_facts", "class_sessions", "class_learners", "schemes", "scores", "final_results",
              "finalised_classes", "figure_classes", "course_evaluations", "course_evaluation_lecturers",
              "class_reviews")

SCHEMA = [
    *(protect(table, by_centre()) for table in _BY_CENTRE),
    *(protect(table, through("class_id", "class_facts")) for table in ("conduct", "attendance", "eligibility_lost",
                                                                        "eligibility_rechecks")),
    *(protect(table, through("class_id", "figure_classes")) for table in ("figure_places", "figure_results")),
    protect("certificates", by_centre(), lookup="verification_code = ttct_lookup()"),
    # a learner's one-time evaluation code is looked up by its hash, from a public route (evaluation_codes.py)
    protect("evaluation_codes", by_centre(), lookup="code_hash = ttct_lookup()"),
]
