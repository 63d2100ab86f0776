"""Personal-data protection: learners' data sealed with per-learner keys, the access log, row-level security per centre or organisation."""
