"""Enrolment: learners, their sending organisations, and who holds a seat in which class."""
