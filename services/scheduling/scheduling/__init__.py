"""Scheduling: a centre's classes (and, later, programmes, sessions and lecturers)."""
