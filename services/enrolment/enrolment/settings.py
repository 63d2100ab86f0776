from ttct.papers import settings as papers


class EnrolmentSettings(papers.PaperSettings):
    """The common settings and those of the papers (CENTRES, PAPER_FONT_FILE)."""

    service_name: str = "enrolment"
