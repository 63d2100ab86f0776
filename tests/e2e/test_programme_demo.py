"""The programme demo's scenario (`make demo-programme`): a whole programme from the plan to the year's figures,
every step checked by the scenario itself (it raises DemoFailed), and the class result report reaching one sending
organisation by a signed webhook through two failed attempts (the delivery log shows them) and another by email
with the report as a PDF."""
import subprocess
import sys
import uuid

import pytest
from ttct_dev.mailbox import pdf_text
from ttct_dev.programme_demo import (
    BY_EMAIL_LEARNERS,
    CAPACITY,
    FAIL_WITH,
    PAPERS,
    REPORT_TITLE,
    play,
)

pytestmark = pytest.mark.e2e


async def test_a_whole_programme_from_the_plan_to_the_year_s_figures(services, issuer, receiver):
    # a centre and organisations of its own, so the figures and the notices the scenario checks exactly are not
    # shared with the session's other tests. No mailbox: the session's services have no SMTP_HOST, so they queue
    # no email; the email part (and the PDF) is proven by the command test below, on the demo's own stack.
    suffix = uuid.uuid4().hex[:6]
    story = await play(services.urls, issuer, centre=f"hau-loc-{suffix}", receiver=receiver, org_suffix=f"-{suffix}")
    assert len(story.learners) == CAPACITY and len(story.certificates) == 4
    total = story.figures["total"]
    assert (total["classes"], total["places"], total["results"]["passed"]) == (2, CAPACITY, 4)
    assert total["results"]["pass_rate"] == round(4 / 6, 4)
    # the report reached the webhook organisation once, with the id its failed attempts carried
    code = story.by_webhook["code"]
    reports = [r for r in receiver.received[code] if r.payload["type"] == "class.result_report"]
    assert [(r.webhook_id, r.verified) for r in reports] == [(story.report_webhook_id, True)]
    assert [(a["attempt_no"], a["status_code"], a["outcome"]) for a in story.report_attempts] == [
        *((i + 1, status, "retry") for i, status in enumerate(FAIL_WITH)), (len(FAIL_WITH) + 1, 204, "delivered")]
    assert {a["notice_id"] for a in story.report_attempts} == {story.report_webhook_id}
    assert all(a["latency_ms"] is not None and a["attempted_at"] for a in story.report_attempts)
    assert story.report_pdf is None  # no mailbox, no email


def test_the_programme_demo_command_passes_on_its_own_stack(tmp_path):
    done = subprocess.run([sys.executable, "-m", "ttct_dev.programme_demo", "--output", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, check=False)
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    assert "409 lecturer-clash" in out and "PASS: a whole programme" in out
    # by webhook, verified, after two failures that the delivery log shows, with one webhook-id
    assert "signature verified (standardwebhooks): «Thông báo kết quả học tập»" in out
    assert "GET /v1/organisations/xa-hoa-loc/deliveries" in out
    report_lines = [line for line in out.splitlines() if line.endswith("← the report")]
    # "<time> class.result_report <try> <HTTP> <ms> <outcome> <error> ← the report"
    assert [(f[1], f[2], f[3], f[5]) for f in (line.split() for line in report_lines)] == [
        ("class.result_report", "1", "503", "retry"), ("class.result_report", "2", "503", "retry"),
        ("class.result_report", "3", "204", "delivered")]
    assert "delivered on attempt 3" in out and "one notice, not 3" in out
    # by email, the PDF saved to the folder the demo names, its text read back
    assert f"Emailed reports are saved to {tmp_path}" in out
    pdf = tmp_path / "thong-bao-ket-qua-xa-lien-loc.pdf"
    assert f"saved to {pdf}" in out and "email log:" in out and "SMTP 250" in out
    text = pdf_text(pdf.read_bytes())
    assert REPORT_TITLE.upper() in text and "Đảng ủy xã Liên Lộc" in text and all(n in text for n in BY_EMAIL_LEARNERS)
    assert (tmp_path / "thong-bao-ket-qua-xa-lien-loc.eml").exists()
    assert "the head of its party committee (bithu@lienloc.example.vn) receives it too" in out
    # it ends by writing the class's papers to the same folder, each read back
    for _, _, name, says in PAPERS:
        assert (tmp_path / name).stat().st_size > 1000 and name in out
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in pdf_text((tmp_path / "danh-sach-hoc-vien.pdf").read_bytes())
    assert "GIẤY CHỨNG NHẬN" in pdf_text((tmp_path / "giay-chung-nhan.pdf").read_bytes())
