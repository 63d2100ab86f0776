from pydantic import Field
from ttct.papers.settings import PaperSettings


class AssessmentSettings(PaperSettings):
    """The common settings, those of the papers (CENTRES, PAPER_FONT_FILE) and where certificates are verified."""

    service_name: str = "assessment"
    certificate_verification_url: str = Field(
        default="http://127.0.0.1:8003/v1/public/certificates",
        pattern=r"^https?://[^\s]+$",
        description="the public verification page a certificate's QR code leads to; the certificate's verification "
                    "code is appended as the last path segment (production: the public site's address)")
