"""The people's words for the APIs' codes (message ids in English; the catalogues give the Vietnamese)."""
from __future__ import annotations


def N_(message: str) -> str:
    """Marks a message for the catalogue (pybabel extract -k N_); the page translates it where it shows it."""
    return message


PROGRAMME_TYPES = {
    "so_cap_llct": N_("Elementary political theory"),
    "ket_nap_dang": N_("Political theory for those about to join the Party"),
    "dang_vien_moi": N_("New Party members"),
    "chuyen_de": N_("Topics for key officials"),
    "nghiep_vu": N_("Party, government and mass-organisation work"),
    "quoc_phong_an_ninh": N_("Defence and security"),
    "ky_nang": N_("Communication skills"),
    "trien_khai_nghi_quyet": N_("Implementing resolutions"),
    "can_bo_nguon": N_("Officials in the succession plan"),
}

CLASS_STATUSES = {
    "planned": N_("Planned"),
    "open": N_("Open for enrolment"),
    "in_progress": N_("In progress"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
}

SESSION_STATUSES = {"scheduled": N_("Scheduled"), "cancelled": N_("Cancelled")}

ATTENDANCE = {"present": N_("Present"), "absent": N_("Absent"), "excused": N_("Excused")}

# What a class page offers next in each status; the service still decides (and refuses, in its own words).
CLASS_STEPS = {
    "planned": (("open", N_("Open the class for enrolment")), ("cancel", N_("Cancel the class"))),
    "open": (("start", N_("Start the class")), ("cancel", N_("Cancel the class"))),
    "in_progress": (("complete", N_("Complete the class")), ("cancel", N_("Cancel the class"))),
}
STEP_DONE = {"open": N_("The class is open for enrolment."), "start": N_("The class has started."),
             "complete": N_("The class is completed."), "cancel": N_("The class has been cancelled.")}

IMPORT_ROWS = {"would-enrol": N_("Will be enrolled"), "would-wait": N_("Will wait for a seat"),
               "already-enrolled": N_("Already in the class"), "already-waiting": N_("Already waiting"),
               "error": N_("Error"), "enrolled": N_("Enrolled"), "waitlisted": N_("Waiting for a seat")}
WAIT_REASONS = {"class-full": N_("the class is full"), "over-quota": N_("over the organisation's quota")}

GRADE_BANDS = {"xuat_sac": N_("Excellent"), "gioi": N_("Very good"), "kha": N_("Good"), "trung_binh": N_("Average"),
               "khong_dat": N_("Not passed")}
CONDUCT = {"tot": N_("Good conduct"), "kha": N_("Fairly good conduct"), "trung_binh": N_("Average conduct"),
           "yeu": N_("Poor conduct")}
# a notice's delivery status in the organisation's log
NOTICE_STATUSES = {"delivered": N_("Delivered"), "pending": N_("Being sent"), "held": N_("Held for the digest"),
                   "digested": N_("Sent in a digest"), "failed": N_("Failed"), "no_endpoint": N_("No webhook address"),
                   "cancelled": N_("Cancelled")}
NOTICE_TYPES = {
    "enrolment.confirmed": N_("Enrolment confirmed"), "enrolment.promoted": N_("Given a seat from the waiting list"),
    "enrolment.waitlisted": N_("On the waiting list"), "class.cancelled": N_("Class cancelled"),
    "attendance.absent": N_("Absent from a session"), "attendance.eligibility_lost": N_("No longer eligible"),
    "attendance.eligibility_restored": N_("Eligible again"), "class.result_report": N_("Result report"),
    "learner.result_recorded": N_("Score recorded"), "class.digest": N_("Digest"),
    "endpoint.disabled": N_("Webhook address disabled"), "webhook.test": N_("Test notice")}
RECIPIENTS = {"organisation": N_("The organisation"), "head": N_("Head of the party committee"),
              "contacts": N_("Every contact"), "test": N_("Test")}
ATTEMPT_OUTCOMES = {"delivered": N_("Delivered"), "retry": N_("Will be retried"), "failed": N_("Failed"),
                    "endpoint_gone": N_("Address gone (410)"), "interrupted": N_("Interrupted")}
CHANNEL_MODES = {"immediate": N_("Every notice as it happens"), "digest": N_("One digest per class")}

WHEN_FULL = {"waiting-list": N_("Learners wait for a seat on the waiting list"),
             "refuse": N_("Learners are refused once every seat is taken")}

LECTURER_KINDS = {"in_house": N_("The centre's lecturers"), "part_time": N_("Part-time lecturers"),
                  "collaborator": N_("Collaborators"), "party_leader": N_("Party committee leaders"),
                  None: N_("Kind not recorded")}

# what a download link offers: the services' papers (PDF) and their tables
FILE_FORMATS = {"xlsx": N_("Excel table (XLSX)"), "csv": N_("CSV table"), "pdf": N_("Paper to print (PDF)")}

GENDERS = {"male": N_("Male"), "female": N_("Female")}
