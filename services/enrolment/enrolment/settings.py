from ttct.settings import ServiceSettings


class EnrolmentSettings(ServiceSettings):
    service_name: str = "enrolment"
