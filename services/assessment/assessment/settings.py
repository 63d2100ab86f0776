from ttct.operations.settings import ServiceSettings


class AssessmentSettings(ServiceSettings):
    service_name: str = "assessment"
