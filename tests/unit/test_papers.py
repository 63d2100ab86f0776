"""The shared papers module (ttct.papers): the party document's heading, tables that print the Vietnamese way,
certificates whose QR code decodes to their verification, spreadsheets with Vietnamese headers, and which format a
request gets. Every PDF's text is read back (NFC, diacritics intact) and its pages kept as PNG test artifacts."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from ttct.papers import certificates, labels, pdf, reports, spreadsheets
from ttct.papers.http import Format, NotAcceptable, negotiate, slug
from ttct.papers.model import Column, Paper, Sheet, Text, Workbook
from ttct.papers.settings import CentreProfile, PaperSettings
from ttct_dev.paper_checks import csv_rows, qr_codes, render_pages, vietnamese_text, xlsx_rows

pytestmark = pytest.mark.unit

HAU_LOC = CentreProfile(name="Trung tâm Chính trị huyện Hậu Lộc", superior="Huyện ủy Hậu Lộc", place="Hậu Lộc",
                        director="Nguyễn Văn Hùng")
ORG = {"code": "xa-hoa-loc", "name": "Đảng ủy xã Hoa Lộc"}


def line(name: str, score: str | None, band: str | None, certificate: str | None = None) -> dict:
    return {"learner_id": f"id-{name}", "full_name": name, "eligible": score is not None, "sessions_attended": 4,
            "sessions_counted": 5, "final_score": Decimal(score) if score else None, "grade_band": band,
            "passed": score is not None and band != "khong_dat", "conduct": "tot", "certificate_number": certificate}


LINES = [line("Nguyễn Văn Đức", "8.5", "gioi", "hau-loc/2026/00001"), line("Lê Văn An", None, None),
         line("Phạm Thị Ánh", "9.2", "xuat_sac", "hau-loc/2026/00002"), line("Trần Thị Dung", "4.0", "khong_dat")]


def test_the_party_heading_date_line_and_numbers_print_the_vietnamese_way():
    assert labels.date_line("Hậu Lộc", date(2026, 2, 5)) == "Hậu Lộc, ngày 05 tháng 02 năm 2026"
    assert labels.date_line("Hậu Lộc", date(2026, 12, 21)) == "Hậu Lộc, ngày 21 tháng 12 năm 2026"
    assert labels.date_line(None, date(2026, 3, 1)) == "Ngày 01 tháng 3 năm 2026"
    assert (labels.score(Decimal("8.5")), labels.score(7), labels.score(None)) == ("8,5", "7,0", "—")
    assert labels.weekday(date(2026, 12, 3)) == "Thứ Năm, 03/12/2026"
    assert labels.ratio(2 / 3) == "66,7%"
    assert slug("Danh sách học viên - Lớp Sơ cấp LLCT khóa 1") == "danh-sach-hoc-vien-lop-so-cap-llct-khoa-1"


def test_a_result_report_reads_back_with_the_heading_sorted_names_and_a_signature():
    paper = reports.paper(HAU_LOC, date(2026, 12, 21), reports.ReportedClass(
        "Lớp Sơ cấp lý luận chính trị khóa 1", "so_cap_llct", date(2026, 12, 1), date(2026, 12, 20)), ORG, LINES)
    data = pdf.render([paper])
    text = vietnamese_text(data)
    for expected in ("HUYỆN ỦY HẬU LỘC", "TRUNG TÂM CHÍNH TRỊ HUYỆN HẬU LỘC", "ĐẢNG CỘNG SẢN VIỆT NAM",
                     "Hậu Lộc, ngày 21 tháng 12 năm 2026", "THÔNG BÁO KẾT QUẢ HỌC TẬP", "Kính gửi: Đảng ủy xã Hoa Lộc",
                     "Chương trình: Sơ cấp lý luận chính trị", "từ ngày 01/12/2026 đến ngày 20/12/2026",
                     "Không đủ điều kiện", "Xuất sắc", "8,5", "Nơi nhận:", "GIÁM ĐỐC", "Nguyễn Văn Hùng", "Trang 1/1"):
        assert expected in text, expected
    names = ["Lê Văn An", "Phạm Thị Ánh", "Trần Thị Dung", "Nguyễn Văn Đức"]  # given names: An, Ánh, Dung, Đức
    assert [text.index(n) for n in names] == sorted(text.index(n) for n in names)
    assert len(render_pages(data, "unit-result-report")) == 1


def test_a_long_table_repeats_its_header_and_numbers_every_page():
    rows = tuple((i, f"Học viên thứ {i} Nguyễn Thị Ngọc Ánh", date(1990, 1, 1 + i % 28)) for i in range(1, 121))
    sheet = Sheet("Dài", (Column("STT", 0.5, "int"), Column("Họ và tên", 3), Column("Ngày sinh", 1, "date")), rows)
    data = pdf.render([Paper(HAU_LOC.heading(date(2026, 12, 1), "DS/TTCT"), "Danh sách học viên", body=(sheet,),
                             signatures=(HAU_LOC.signature(),))])
    text = vietnamese_text(data)
    pages = render_pages(data, "unit-long-list")
    assert len(pages) >= 3 and f"Trang {len(pages)}/{len(pages)}" in text
    assert text.count("Họ và tên") == len(pages)  # the header on every page
    assert "Học viên thứ 120 Nguyễn Thị Ngọc Ánh" in text and "29/01/1990" not in text and "28/01/1990" in text


def test_a_certificate_shows_its_learner_and_its_qr_code_leads_to_its_verification():
    cert = certificates.Certificate(
        number="hau-loc/2026/00001", verification_code="7F3A-91C2-0B5D-44E1",
        verification_url="https://xacminh.example.vn/v1/public/certificates/7F3A-91C2-0B5D-44E1",
        full_name="Nguyễn Thị Thu Hương", programme="Sơ cấp lý luận chính trị",
        class_title="Lớp Sơ cấp lý luận chính trị khóa 1 năm 2026", issued_on=date(2026, 12, 21),
        organisation="Đảng ủy xã Hoa Lộc", starts_on=date(2026, 12, 1), ends_on=date(2026, 12, 20), grade="Giỏi")
    revoked = certificates.Certificate(**{**cert.__dict__, "number": "hau-loc/2026/00002", "revoked": True,
                                          "verification_url": "https://xacminh.example.vn/v1/public/certificates/X"})
    data = certificates.render([cert, revoked], HAU_LOC)
    text = vietnamese_text(data)
    for expected in ("GIẤY CHỨNG NHẬN", "Nguyễn Thị Thu Hương", "Đảng ủy xã Hoa Lộc", "Sơ cấp lý luận chính trị",
                     "Xếp loại: Giỏi", "Số: hau-loc/2026/00001", "Mã xác minh: 7F3A-91C2-0B5D-44E1",
                     "Hậu Lộc, ngày 21 tháng 12 năm 2026", "ĐÃ THU HỒI"):
        assert expected in text, expected
    first, second = render_pages(data, "unit-certificates")
    assert qr_codes(first) == [cert.verification_url]
    assert qr_codes(second) == [revoked.verification_url]


def test_spreadsheets_keep_dates_and_numbers_and_name_their_columns_in_vietnamese():
    sheet = reports.sheet(ORG, LINES)
    book = Workbook("Thông báo kết quả học tập", (sheet, Sheet("Ngày", (Column("Ngày sinh", kind="date"),),
                                                               ((date(1990, 5, 17),),))))
    rows = xlsx_rows(spreadsheets.xlsx(book))
    assert [r["Họ và tên"] for r in rows] == ["Lê Văn An", "Phạm Thị Ánh", "Trần Thị Dung", "Nguyễn Văn Đức"]
    assert rows[1] | {"Mã học viên": None} == {
        "STT": 2, "Mã học viên": None, "Họ và tên": "Phạm Thị Ánh", "Mã đơn vị": "xa-hoa-loc",
        "Đơn vị cử học viên": "Đảng ủy xã Hoa Lộc", "Số buổi có mặt": 4, "Số buổi tính": 5,
        "Đủ điều kiện dự thi": "Có", "Điểm": 9.2, "Xếp loại": "Xuất sắc", "Kết quả": "Đạt", "Rèn luyện": "Tốt",
        "Số giấy chứng nhận": "hau-loc/2026/00002"}
    assert "Chuyên cần" not in rows[0]  # a printed column ("4/5") only
    dates = xlsx_rows(spreadsheets.xlsx(book), "Ngày")
    assert dates[0]["Ngày sinh"].date() == date(1990, 5, 17)
    text = csv_rows(spreadsheets.csv_bytes(sheet))
    assert text[0]["Họ và tên"] == "Lê Văn An" and text[0]["Điểm"] == "" and text[1]["Điểm"] == "9.2"


def test_the_format_is_the_query_s_else_the_accept_header_s_else_the_first_offered():
    offered = (Format.pdf, Format.xlsx, Format.csv)
    assert negotiate(offered, None, None) is Format.pdf
    assert negotiate(offered, "csv", "application/pdf") is Format.csv
    assert negotiate(offered, None, "text/csv") is Format.csv
    assert negotiate(offered, None, "text/html, application/xhtml+xml, */*;q=0.8") is Format.pdf
    assert negotiate(offered, None, "application/pdf;q=0.5, application/vnd.openxmlformats-officedocument"
                                    ".spreadsheetml.sheet") is Format.xlsx
    with pytest.raises(NotAcceptable) as refused:
        negotiate(offered, None, "application/json")
    assert refused.value.status == 406 and "application/pdf" in refused.value.detail_vi


def test_a_centre_s_profile_comes_from_centres_or_the_older_centre_names(monkeypatch):
    monkeypatch.setenv("CENTRE_NAMES", '{"hau-loc": "Trung tâm Chính trị huyện Hậu Lộc"}')
    for key, value in {"PROVINCE_CODE": "thanh-hoa", "DATABASE_URL": "postgresql://x/y",
                       "AUTH_PUBLIC_KEY_FILE": "/dev/null"}.items():
        monkeypatch.setenv(key, value)
    settings = PaperSettings(service_name="test")
    assert settings.centre_profile("hau-loc").name == "Trung tâm Chính trị huyện Hậu Lộc"
    assert settings.centre_profile("nga-son").name == "Trung tâm Chính trị nga-son"
    monkeypatch.setenv("CENTRES", '{"hau-loc": {"name": "Trung tâm Chính trị huyện Hậu Lộc", "place": "Hậu Lộc"}}')
    assert PaperSettings(service_name="test").centre_profile("hau-loc").place == "Hậu Lộc"


def test_text_blocks_and_an_empty_table_still_make_a_paper():
    data = pdf.render([Paper(HAU_LOC.heading(date(2026, 1, 9)), "Báo cáo", lines=("Năm 2026",),
                             body=(Text("Chưa có số liệu."), Sheet("Trống", (Column("Số lớp", kind="int"),), ())))])
    assert "Chưa có số liệu." in vietnamese_text(data) and "Hậu Lộc, ngày 09 tháng 01 năm 2026" in vietnamese_text(data)
