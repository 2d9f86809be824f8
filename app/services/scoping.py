"""The scope rule: which records a user may see and touch. One rule, two adapters.

- ``scope_filter(model, user)``: a SQL condition for lists, counts, exports and the REST API.
- ``check_access(user, record, action)``: the same rule for one loaded record (show, edit,
  delete, actions, downloads, PDFs); raises AccessDenied.

and, derived from it, which rows a related field may offer as choices (``choice_filter`` /
``can_choose``): the scope rule for records, everything for reference data, only the accounts
the user may know about, nothing else.

The user's scope comes from his roles (``app.services.roles.ROLES[...].scope``):
  all        national authority and the info-centre admin: every record;
  province / city / county: the GB/T 2260 prefix of the account's region (2, 4 or 6 digits);
  enterprise: the records of the user's own enterprise;
  agency / inspector: what they are assigned (the evaluation and spot-check issues register
             the assignment paths below); nothing else;
  certifier: the certification records of the user's certification body;
  none / anything unknown: nothing. Deny by default: a record without a region, a model
             without a declared path, a user without a binding, are seen by nobody but ``all``.

``SCOPE_PATHS`` declares, per model, the columns through which a record belongs to a region
or an enterprise. It is the only place that knows this.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from app.services import codes
from app.services.exceptions import AccessDenied
from app.services.roles import AGENCY, ALL, CERTIFIER, CITY, COUNTY, ENTERPRISE, INSPECTOR, PROVINCE, ROLES

READ, EDIT, DELETE, ACT, DOWNLOAD, EXPORT, LINK = (
    "read", "edit", "delete", "act", "download", "export", "link",
)
_LEVEL_OF_SCOPE = {PROVINCE: codes.PROVINCE, CITY: codes.PREFECTURE, COUNTY: codes.COUNTY}


@dataclass(frozen=True)
class Scope:
    """What one user may reach. The union of what each of his roles gives."""

    everything: bool = False
    region_prefixes: tuple[str, ...] = ()
    enterprise_ids: tuple[int, ...] = ()
    agency_ids: tuple[int, ...] = ()
    inspector_user_ids: tuple[int, ...] = ()
    certification_body_ids: tuple[int, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (
            self.everything
            or self.region_prefixes
            or self.enterprise_ids
            or self.agency_ids
            or self.inspector_user_ids
            or self.certification_body_ids
        )


@dataclass(frozen=True)
class ScopePath:
    """How records of one model belong to a region, an enterprise, an agency, an inspector.

    ``region`` and ``enterprise`` name columns of the model. ``agency`` and ``inspector`` are
    functions (ids) -> SQL condition and (record, ids) -> bool, for assignment tables.
    """

    region: Optional[str] = None
    enterprise: Optional[str] = None
    # The column naming the certification body whose certifiers reach the record.
    certification_body: Optional[str] = None
    # Records that belong to another record (a mine's responsible persons) share its scope:
    # (foreign-key column, relationship, parent model).
    parent: Optional[tuple[str, str, type]] = None
    agency_sql: Optional[Callable[[tuple[int, ...]], ColumnElement]] = None
    agency_check: Optional[Callable[[Any, tuple[int, ...]], bool]] = None
    inspector_sql: Optional[Callable[[tuple[int, ...]], ColumnElement]] = None
    inspector_check: Optional[Callable[[Any, tuple[int, ...]], bool]] = None


@lru_cache(maxsize=None)
def _scope_paths() -> dict[type, ScopePath]:
    from app.models import (
        AgencyAssignment,
        AgencyConflict,
        AnomalyEntry,
        Application,
        ApplicationWindow,
        Certificate,
        DemoZoneApplication,
        DirectoryEntry,
        Enterprise,
        EvaluationScore,
        FraudFinding,
        IndicatorEvidence,
        Mine,
        NationalRecommendation,
        Notice,
        Objection,
        PreDeclaration,
        ProvinceIndicatorAdoption,
        PublicNotice,
        ResponsiblePerson,
        ReviewDecision,
        ReviewMeeting,
    )
    from app.models.certification import (
        CertificationApplication,
        CertificationCertificate,
        CertificationPause,
        CertificationScore,
        CertificationTeamMember,
        SurveillanceAudit,
    )
    from app.models.spotcheck import (
        Inspector,
        ProblemLead,
        SelfCheck,
        SpotCheck,
        SpotCheckCampaign,
        SpotCheckConfirmation,
        SpotCheckTeam,
        SpotCheckTeamMember,
    )

    def assigned_applications(agency_ids):
        return Application.id.in_(select(AgencyAssignment.application_id)
                                  .where(AgencyAssignment.agency_id.in_(agency_ids)))

    def assigned_to(record, agency_ids) -> bool:
        return record.assignment is not None and record.assignment.agency_id in agency_ids

    def teams_of(user_ids):
        return (select(SpotCheckTeamMember.team_id).join(Inspector, Inspector.id == SpotCheckTeamMember.inspector_id)
                .where(Inspector.user_id.in_(user_ids)))

    def on_team(team, user_ids) -> bool:
        return team is not None and any(m.inspector.user_id in user_ids for m in team.members)

    owned = dict(region="region_code", enterprise="enterprise_id")
    return {
        Enterprise: ScopePath(region="region_code", enterprise="id"),
        Mine: ScopePath(**owned),
        PreDeclaration: ScopePath(**owned),
        # An agency reaches the applications it was drawn for (and, through them, their files,
        # evidence and scores).
        Application: ScopePath(**owned, agency_sql=assigned_applications, agency_check=assigned_to),
        EvaluationScore: ScopePath(parent=("application_id", "application", Application)),
        AgencyAssignment: ScopePath(parent=("application_id", "application", Application)),
        Objection: ScopePath(parent=("application_id", "application", Application)),
        AgencyConflict: ScopePath(parent=("enterprise_id", "enterprise", Enterprise)),
        ProvinceIndicatorAdoption: ScopePath(region="province_code"),
        ReviewMeeting: ScopePath(region="province_code"),
        ReviewDecision: ScopePath(parent=("meeting_id", "meeting", ReviewMeeting)),
        PublicNotice: ScopePath(region="province_code"),
        DirectoryEntry: ScopePath(**owned),
        Certificate: ScopePath(**owned),
        NationalRecommendation: ScopePath(**owned),
        AnomalyEntry: ScopePath(**owned),
        # A finding of falsified materials is the authorities' record (its region), not the
        # enterprise's (app.services.fraud: the province and the national level read it).
        FraudFinding: ScopePath(region="region_code"),
        DemoZoneApplication: ScopePath(**owned),
        ApplicationWindow: ScopePath(region="province_code"),
        ResponsiblePerson: ScopePath(parent=("mine_id", "mine", Mine)),
        IndicatorEvidence: ScopePath(parent=("application_id", "application", Application)),
        # Managing notices: an authority keeps those addressed to its region's subtree. (Who
        # reads them is app.services.notices.visible_condition: the regions below.)
        Notice: ScopePath(region="region_code"),
        # Spot checks (SPEC H1-H6). A campaign belongs to its organiser's region (the national
        # one to nobody below); the drawn inspectors reach the campaign and the records of their
        # teams; a mine's records are its county's and its enterprise's as well.
        SelfCheck: ScopePath(**owned),
        ProblemLead: ScopePath(**owned),
        Inspector: ScopePath(region="pool_region_code", inspector_sql=lambda ids: Inspector.user_id.in_(ids),
                             inspector_check=lambda record, ids: record.user_id in ids),
        SpotCheckCampaign: ScopePath(
            region="region_code",
            inspector_sql=lambda ids: SpotCheckCampaign.id.in_(
                select(SpotCheckTeam.campaign_id).where(SpotCheckTeam.id.in_(teams_of(ids)))),
            inspector_check=lambda record, ids: any(on_team(team, ids) for team in record.teams)),
        SpotCheckTeam: ScopePath(parent=("campaign_id", "campaign", SpotCheckCampaign)),
        SpotCheckTeamMember: ScopePath(parent=("team_id", "team", SpotCheckTeam)),
        SpotCheck: ScopePath(**owned, inspector_sql=lambda ids: SpotCheck.team_id.in_(teams_of(ids)),
                             inspector_check=lambda record, ids: on_team(record.team, ids)),
        SpotCheckConfirmation: ScopePath(parent=("check_id", "check", SpotCheck)),
        # Certification (SPEC G1-G4): the mine's enterprise and region, and the body applied to.
        CertificationApplication: ScopePath(**owned, certification_body="body_id"),
        CertificationTeamMember: ScopePath(parent=("certification_id", "certification", CertificationApplication)),
        CertificationPause: ScopePath(parent=("certification_id", "certification", CertificationApplication)),
        CertificationScore: ScopePath(parent=("certification_id", "certification", CertificationApplication)),
        CertificationCertificate: ScopePath(**owned, certification_body="body_id"),
        SurveillanceAudit: ScopePath(parent=("certificate_id", "certificate", CertificationCertificate)),
    }


@lru_cache(maxsize=None)
def _unscoped_reference() -> frozenset[type]:
    """Reference data every signed-in user may read (permissions still decide who edits)."""
    from app.models import (Agency, CertificationBody, IndicatorItem, IndicatorVersion, Mineral, MineSizeThreshold,
                            Region)

    # The agencies' and certification bodies' registries are public within the system (name,
    # credit code, qualification, status); who may change them is a permission.
    return frozenset({Region, Mineral, MineSizeThreshold, IndicatorVersion, IndicatorItem, Agency,
                      CertificationBody})


def scope_path(model: type) -> Optional[ScopePath]:
    return _scope_paths().get(model)


def is_scoped(model: type) -> bool:
    return model not in _unscoped_reference()


# ---------------------------------------------------------------------------
# The user's scope
# ---------------------------------------------------------------------------
def user_scope(user) -> Scope:
    """The union of the scopes of the user's roles; empty for anonymous or unbound users."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return Scope()
    everything = False
    prefixes: set[str] = set()
    enterprises: set[int] = set()
    agencies: set[int] = set()
    inspectors: set[int] = set()
    bodies: set[int] = set()
    for role in getattr(user, "roles", ()):
        definition = ROLES.get(role.name)
        if definition is None:
            continue
        kind = definition.scope
        if kind == ALL:
            everything = True
        elif kind in _LEVEL_OF_SCOPE:
            region = getattr(user, "region", None)
            if region is not None and region.level == _LEVEL_OF_SCOPE[kind]:
                prefixes.add(codes.scope_prefix(region.code, region.level))
            elif region is not None and kind == COUNTY and region.is_leaf:
                # A prefecture-level city without counties (东莞市) acts as its own county.
                prefixes.add(region.code)
        elif kind == ENTERPRISE and getattr(user, "enterprise_id", None):
            enterprises.add(user.enterprise_id)
        elif kind == AGENCY and getattr(user, "agency_id", None):
            agencies.add(user.agency_id)
        elif kind == INSPECTOR:
            inspectors.add(user.id)
        elif kind == CERTIFIER and getattr(user, "certification_body_id", None):
            bodies.add(user.certification_body_id)
    return Scope(
        everything=everything,
        region_prefixes=tuple(sorted(prefixes)),
        enterprise_ids=tuple(sorted(enterprises)),
        agency_ids=tuple(sorted(agencies)),
        inspector_user_ids=tuple(sorted(inspectors)),
        certification_body_ids=tuple(sorted(bodies)),
    )


# ---------------------------------------------------------------------------
# Adapter 1: the query filter
# ---------------------------------------------------------------------------
def region_condition(column, prefixes: Iterable[str]) -> ColumnElement:
    """``column`` lies under one of the prefixes. A range, not LIKE, so that a plain b-tree
    index on the code serves it on every database and collation (codes are 6 digits)."""
    conditions = []
    for prefix in prefixes:
        if len(prefix) >= 6:
            conditions.append(column == prefix)
        else:
            pad = 6 - len(prefix)
            conditions.append(and_(column >= prefix + "0" * pad, column <= prefix + "9" * pad))
    return or_(*conditions) if conditions else false()


def scope_filter(model: type, user) -> ColumnElement:
    """The SQL condition selecting the rows of ``model`` that ``user`` may see."""
    if not is_scoped(model):
        return true() if getattr(user, "is_authenticated", False) else false()
    scope = user_scope(user)
    if scope.everything:
        return true()
    path = scope_path(model)
    if path is None or scope.is_empty:
        return false()
    if path.parent is not None:
        foreign_key, _relationship, parent = path.parent
        return getattr(model, foreign_key).in_(select(parent.id).where(scope_filter(parent, user)))
    conditions: list[ColumnElement] = []
    if path.region and scope.region_prefixes:
        conditions.append(region_condition(getattr(model, path.region), scope.region_prefixes))
    if path.enterprise and scope.enterprise_ids:
        conditions.append(getattr(model, path.enterprise).in_(scope.enterprise_ids))
    if path.agency_sql and scope.agency_ids:
        conditions.append(path.agency_sql(scope.agency_ids))
    if path.inspector_sql and scope.inspector_user_ids:
        conditions.append(path.inspector_sql(scope.inspector_user_ids))
    if path.certification_body and scope.certification_body_ids:
        conditions.append(getattr(model, path.certification_body).in_(scope.certification_body_ids))
    return or_(*conditions) if conditions else false()


def apply_scope(query, model: type, user):
    return query.filter(scope_filter(model, user))


# ---------------------------------------------------------------------------
# Adapter 2: one record
# ---------------------------------------------------------------------------
def _in_region(code: Optional[str], prefixes: Iterable[str]) -> bool:
    return bool(code) and any(code.startswith(prefix) for prefix in prefixes)


def can_access(user, record, action: str = READ) -> bool:
    """The same rule as ``scope_filter``, evaluated on a loaded record (its current values).

    ``action`` is one of READ, EDIT, DELETE, ACT, DOWNLOAD, EXPORT, LINK. Scope is the same
    for every action today; what a role may *do* is decided by its permissions and, for status
    changes, by the transition table.
    """
    if record is None:
        return False
    model = type(record)
    if not is_scoped(model):
        return bool(getattr(user, "is_authenticated", False))
    scope = user_scope(user)
    if scope.everything:
        return True
    path = scope_path(model)
    if path is None or scope.is_empty:
        return False
    if path.parent is not None:
        return can_access(user, getattr(record, path.parent[1]), action)
    if path.region and _in_region(getattr(record, path.region), scope.region_prefixes):
        return True
    if path.enterprise and getattr(record, path.enterprise) in scope.enterprise_ids:
        return True
    if path.agency_check and scope.agency_ids and path.agency_check(record, scope.agency_ids):
        return True
    if path.inspector_check and scope.inspector_user_ids and path.inspector_check(
        record, scope.inspector_user_ids
    ):
        return True
    if path.certification_body and getattr(record, path.certification_body) in scope.certification_body_ids:
        return True
    return False


def reachable_records(user, keys: dict[type, Iterable[Any]]) -> set[tuple[type, str]]:
    """Which of the records named by (model, keys) exist and lie in ``user``'s scope, as
    (model, key as text): ``scope_filter`` for records of several models at once, in one
    statement whatever their number (a log page links the records its reader may open)."""
    from sqlalchemy import Integer, String, cast, literal, union_all
    from sqlalchemy import inspect as sa_inspect

    selects = []
    for model, wanted in keys.items():
        key_column = sa_inspect(model).primary_key[0]
        if isinstance(key_column.type, Integer):
            values = {int(key) for key in map(str, wanted) if key.isdigit() and is_record_id(int(key))}
        else:
            values = {str(key) for key in wanted}
        if values:
            selects.append(select(literal(model.__name__).label("kind"), cast(key_column, String).label("key"))
                           .where(key_column.in_(values), scope_filter(model, user)))
    if not selects:
        return set()
    from app.extensions import db

    models = {model.__name__: model for model in keys}
    return {(models[kind], key) for kind, key in db.session.execute(union_all(*selects))}


def check_access(user, record, action: str = READ) -> None:
    """Raise AccessDenied unless ``user`` may perform ``action`` on ``record``."""
    if not can_access(user, record, action):
        raise AccessDenied(_l("You do not have access to this record."))


# ---------------------------------------------------------------------------
# Adapter 3: what a form, a REST ``_info`` or a search-as-you-type field may offer as a choice
# ---------------------------------------------------------------------------
# A select box or a REST ``_info`` lists rows the user did not ask for by id: a county user
# must not page through the country's mines there, nor through every login. Which rows of a
# model a user may be offered:
#   - records with a scope path: exactly the scope rule (``scope_filter``);
#   - shared reference data (``_unscoped_reference``: regions, minerals, size thresholds, the
#     indicator catalogue, the agencies' and certification bodies' registries): everything, to
#     any signed-in user. The seeds load them from public sources (app/data/) or as national
#     registries, and the scope rule already lets every signed-in user read them;
#   - accounts: those the user may know about (``account_choice_condition``);
#   - anything else (FAB's roles, permissions, groups; logs; messages): only the info-centre
#     administrator, whose own screens edit them. Deny by default.
def _signed_in(user) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False)) and bool(
        getattr(user, "is_active", False))


def administers_accounts(user) -> bool:
    """The info-centre administrator (the role that holds every permission): the only one who
    may list every account, role and permission."""
    return _signed_in(user) and any(
        getattr(ROLES.get(role.name), "all_permissions", False) for role in getattr(user, "roles", ()))


def _is_account_model(model: type) -> bool:
    from flask_appbuilder.security.sqla.models import User

    return isinstance(model, type) and issubclass(model, User)


@lru_cache(maxsize=None)
def _inspector_role_names() -> tuple[str, ...]:
    return tuple(sorted(name for name, role in ROLES.items() if role.scope == INSPECTOR))


def account_choice_condition(user) -> ColumnElement:
    """The accounts (rows of ``ab_user``) that ``user`` may be offered, as a condition on
    ``GreenMineUser``.

    - the info-centre administrator: every account (his user screens);
    - everybody: his own account;
    - an authority that keeps an inspector pool, i.e. who sees records by region (county, city
      and province users: their region's subtree) or every record (national): the accounts
      holding the inspector role bound to a region in that scope, or to none (an inspector
      account need not be bound; it may join any pool), which the pool form picks from.
    No other account: enterprise, agency, inspector and certifier users pick none, and nobody
    but the administrator sees the country's logins."""
    from flask_appbuilder.security.sqla.models import Role

    from app.models import GreenMineUser

    if not _signed_in(user):
        return false()
    if administers_accounts(user):
        return true()
    conditions: list[ColumnElement] = [GreenMineUser.id == user.id]
    scope = user_scope(user)
    if scope.everything or scope.region_prefixes:
        holds_inspector_role = GreenMineUser.roles.any(Role.name.in_(_inspector_role_names()))
        where = true() if scope.everything else or_(
            GreenMineUser.region_code.is_(None), region_condition(GreenMineUser.region_code, scope.region_prefixes))
        conditions.append(and_(holds_inspector_role, where))
    return or_(*conditions)


def may_know_account(user, account) -> bool:
    """``account_choice_condition`` for one loaded account."""
    if not _signed_in(user) or account is None:
        return False
    if administers_accounts(user) or account.id == user.id:
        return True
    scope = user_scope(user)
    if not (scope.everything or scope.region_prefixes):
        return False
    if not {role.name for role in account.roles} & set(_inspector_role_names()):
        return False
    region_code = getattr(account, "region_code", None)
    return scope.everything or region_code is None or _in_region(region_code, scope.region_prefixes)


def _is_choice_record(model: type) -> bool:
    """Records a form may offer by the scope rule: reference data and models with a path."""
    return not is_scoped(model) or scope_path(model) is not None


def choice_filter(model: type, user) -> ColumnElement:
    """The SQL condition selecting the rows of ``model`` that may be offered to ``user`` as the
    choices of a related field (select boxes, search widgets, REST ``_info``, AJAX searches)."""
    if not _signed_in(user):
        return false()
    if _is_account_model(model):
        from app.models import GreenMineUser

        condition = account_choice_condition(user)
        if model is GreenMineUser:
            return condition
        # FAB's own User class maps the same table (its roles and groups screens).
        return model.id.in_(select(GreenMineUser.id).where(condition))
    if _is_choice_record(model):
        return scope_filter(model, user)
    return true() if administers_accounts(user) else false()


def can_choose(user, record) -> bool:
    """``choice_filter`` for one loaded row: may ``record`` be offered to ``user`` as a choice
    (or be shown as the chosen value of a form he sent)?"""
    if record is None or not _signed_in(user):
        return False
    model = type(record)
    if _is_account_model(model):
        return may_know_account(user, record)
    if _is_choice_record(model):
        return can_access(user, record, READ)
    return administers_accounts(user)


MAX_ID = 2**31 - 1  # the id columns are 32-bit integers on PostgreSQL


def is_record_id(value) -> bool:
    """A value that can be an integer primary key: an int (not a bool) in 1..MAX_ID."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def check_reference_types(record) -> None:
    """Every foreign key that a form or body set holds a value of its column's kind (an id, a
    code), before any rule looks it up: ``{"mine_id": [1]}`` is refused, not a 500."""
    from sqlalchemy import Integer, String
    from sqlalchemy import inspect as sa_inspect

    from app.services.exceptions import ValidationFailed

    for column in sa_inspect(type(record)).columns:
        if not column.foreign_keys:
            continue
        value = getattr(record, column.key, None)
        if value is None:
            continue
        if isinstance(column.type, Integer) and isinstance(value, str) and value.isdigit():
            value = int(value)
            setattr(record, column.key, value)
        valid = (is_record_id(value) if isinstance(column.type, Integer)
                 else isinstance(value, str) and len(value) <= (column.type.length or 255)
                 if isinstance(column.type, String) else True)
        if not valid:
            raise ValidationFailed(_l("This is not a valid reference to a record."), field=column.key)


def check_related_access(user, record) -> None:
    """Every scoped record that ``record`` points to must be reachable by ``user``.

    IDs in a form or request body are checked like IDs in a path: a county user cannot
    attach a mine to an enterprise he cannot see, an enterprise user cannot file for
    another enterprise's mine.
    """
    from sqlalchemy import inspect as sa_inspect

    mapper = sa_inspect(type(record))
    for relationship in mapper.relationships:
        if relationship.uselist or relationship.direction.name != "MANYTOONE":
            continue
        target = relationship.mapper.class_
        if not is_scoped(target) or scope_path(target) is None:
            continue
        related = getattr(record, relationship.key)
        if related is not None:
            check_access(user, related, LINK)
        # The foreign key may have been set directly (a request body) without the
        # relationship following: check the row it names, too.
        values = [getattr(record, column.key, None) for column in relationship.local_columns]
        if all(value is None for value in values):
            continue
        from app.extensions import db

        named = db.session.get(target, values[0] if len(values) == 1 else tuple(values))
        if named is None:
            raise AccessDenied(_l("You do not have access to this record."))
        if named is not related:
            check_access(user, named, LINK)
