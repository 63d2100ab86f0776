from ttct.papers.settings import PaperSettings


class SchedulingSettings(PaperSettings):
    """The common settings and those of the papers (CENTRES, PAPER_FONT_FILE)."""

    service_name: str = "scheduling"
