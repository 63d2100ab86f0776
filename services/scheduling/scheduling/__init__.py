"""Scheduling: programmes, classes, sessions, lecturers and venues."""
