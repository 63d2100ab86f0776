"""What assessment prints, from its own views and what it projects of scheduling's and enrolment's events: the
attendance sheet of a session (for signatures), the class's attendance summary, its score sheet, the result
report of each sending organisation, the certificates, and the centre's (or the province's) year report.

Each module builds plain papers and workbooks (`ttct.papers.model`); the routes (entrypoints/papers.py) read the
views and hand them over.
"""
