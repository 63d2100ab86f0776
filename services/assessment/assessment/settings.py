from pydantic import Field
from ttct.papers import settings as papers


class AssessmentSettings(papers.PaperSettings):
    """The common settings, those of the papers (CENTRES, PAPER_FONT_FILE) and where certificates are verified."""

    service_name: str = "assessment"
    certificate_verification_url: str | None = Field(
        default=None, pattern=r"^https?://[^\s]+$",
        description="the public verification page a certificate's QR code leads to, the certificate's verification "
                    "code appended as the last path segment; unset: this service's own public route "
                    "(http://HTTP_HOST:HTTP_PORT/v1/public/certificates), which suits a local run only")

    @property
    def verification_url(self) -> str:
        return (self.certificate_verification_url
                or f"http://{self.http_host}:{self.http_port}/v1/public/certificates").rstrip("/")
