"""The relational schema, one module per domain. Importing this package registers every model
on FAB's declarative base (the metadata Alembic compares against)."""
from app.models.region import Region  # noqa: F401
from app.models.reference import Mineral, MineSizeThreshold  # noqa: F401
from app.models.enterprise import Enterprise, Mine  # noqa: F401
from app.models.agency import Agency  # noqa: F401
from app.models.user import GreenMineUser  # noqa: F401
from app.models.predeclaration import PreDeclaration  # noqa: F401
from app.models.responsibility import ResponsiblePerson  # noqa: F401
from app.models.application import Application, ApplicationWindow  # noqa: F401
from app.models.attachment import Attachment  # noqa: F401
from app.models.indicator import IndicatorEvidence, IndicatorItem, IndicatorVersion  # noqa: F401
from app.models.log import TransitionLog  # noqa: F401
from app.models.account import AccountEvent, LoginThrottle  # noqa: F401
from app.models.notice import Notice  # noqa: F401
from app.models.audit import AuditEntry  # noqa: F401
from app.models.notification import Notification  # noqa: F401
from app.models.evaluation import AgencyAssignment, AgencyConflict, EvaluationScore, ProvinceIndicatorAdoption  # noqa: F401,E501
from app.models.review import Objection, PublicNotice, ReviewDecision, ReviewMeeting  # noqa: F401
from app.models.directory import AnomalyEntry, Certificate, DirectoryEntry, NationalRecommendation  # noqa: F401
from app.models.demozone import DemoZoneApplication  # noqa: F401
from app.models.spotcheck import (  # noqa: F401
    Inspector, ProblemLead, SelfCheck, SpotCheck, SpotCheckCampaign, SpotCheckConfirmation, SpotCheckTeam,
    SpotCheckTeamMember,
)
from app.models.certification import (  # noqa: F401
    CertificationApplication, CertificationBody, CertificationCertificate, CertificationPause, CertificationScore,
    CertificationTeamMember, SurveillanceAudit,
)
from app.models.fraud import FraudFinding  # noqa: F401
