"""Assessment: learners' scores and grade bands (and, later, attendance, schemes and certificates)."""
