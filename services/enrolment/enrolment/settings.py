from pydantic import Field
from ttct.papers import settings as papers


class EnrolmentSettings(papers.PaperSettings):
    """The common settings, those of the papers (CENTRES, PAPER_FONT_FILE) and LISTS_AT_ONCE."""

    service_name: str = "enrolment"
    lists_at_once: int = Field(
        default=4, ge=1,
        description="how many organisations' lists (a batch or a file) one process checks, decides and stores at "
                    "once; more wait their turn. A list keeps the CPU busy, so more at once adds memory, not "
                    "speed: a quarter of a province's year with 64 lists in flight peaked at 189-195 MiB with all "
                    "of them at once, at 130 MiB four at a time, in the same time (docs/performance.md)")
