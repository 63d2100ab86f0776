"""Figures (số liệu): per centre and for the whole province, per year, the classes, learner places, pass rates and
grade distribution, per programme type and per sending organisation; a projection of the SCHEDULING and
ENROLMENT streams and of assessment's own results, that `python -m assessment.figures rebuild` computes again from
them.

Here because assessment already reads the scheduling and enrolment streams and owns the results: every fact the
figures count arrives here anyway. tally.py says what is counted and how, projection.py how the tables follow the
events, rebuild.py how they are computed again.
"""
from assessment.figures.projection import Projecting, chained
from assessment.figures.rebuild import rebuild
from assessment.figures.routes import router
from assessment.figures.tables import SCHEMA

__all__ = ["SCHEMA", "Projecting", "chained", "rebuild", "router"]
