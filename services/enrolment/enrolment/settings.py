from ttct.papers.settings import PaperSettings


class EnrolmentSettings(PaperSettings):
    """The common settings and those of the papers (CENTRES, PAPER_FONT_FILE)."""

    service_name: str = "enrolment"
