"""REST API (/api/v1/...): FAB ModelRestApi classes with the same scope as the screens.

Every API lists its columns explicitly: FAB would otherwise expose and allow filtering on
every column of the model.
"""
from flask import g
from flask_appbuilder.api import expose as api_expose, protect, safe

from app.models import Application, Enterprise, Mine, Mineral, PreDeclaration, Region, ResponsiblePerson
from app.services import applications, predeclarations, registry, responsibility, scoping
from app.web.base import DescribedModelRestApi, ScopedModelRestApi
from app.web.datamodel import ListInterface, ListLoading

READ_ONLY = {"can_get", "can_info"}


class RegionApi(ListLoading, DescribedModelRestApi):
    resource_name = "region"
    datamodel = ListInterface(Region)
    base_permissions = READ_ONLY
    list_columns = show_columns = ["code", "name", "level", "parent_code", "is_leaf"]
    search_columns = ["code", "name", "level", "parent_code"]
    order_columns = ["code", "level"]


class MineralApi(DescribedModelRestApi):
    resource_name = "mineral"
    datamodel = ListInterface(Mineral)
    base_permissions = READ_ONLY
    list_columns = show_columns = ["id", "name", "mineral_class", "subclass", "note"]
    search_columns = ["name", "mineral_class", "subclass"]
    order_columns = ["name", "sort_order"]


class EnterpriseApi(ScopedModelRestApi):
    resource_name = "enterprise"
    datamodel = ListInterface(Enterprise)
    list_columns = ["id", "name", "uscc", "region_code"]
    show_columns = ["id", "name", "uscc", "economic_type", "legal_representative", "contact_person",
                    "address", "mobile", "phone", "fax", "email", "postcode", "region_code"]
    add_columns = edit_columns = show_columns[1:]
    search_columns = ["name", "uscc", "region_code"]
    order_columns = ["name", "uscc"]

    add_required = ("name", "uscc", "region_code")
    record_rule = registry.enterprise_rule


class MineApi(ScopedModelRestApi):
    resource_name = "mine"
    datamodel = ListInterface(Mine)
    list_columns = ["id", "name", "licence_no", "enterprise_id", "mineral_id", "size", "region_code",
                    "production_status", "max_depth_m", "workers_per_shift"]
    show_columns = ["id", "name", "address", "licence_no", "enterprise_id", "employees", "mineral_id",
                    "mining_method", "production_scale", "area_km2", "issuing_authority", "size",
                    "region_code", "licence_valid_from", "licence_valid_to", "is_new_or_expanded",
                    "production_started_on", "design_capacity", "development_method", "max_depth_m", "workers_per_shift",
                    "production_status", "supervision_level", "latitude", "longitude",
                    "principal_name", "principal_phone"]
    add_columns = edit_columns = [c for c in show_columns if c != "id"]
    search_columns = ["name", "licence_no", "enterprise_id", "mineral_id", "size", "region_code",
                      "production_status", "development_method", "supervision_level", "design_capacity",
                      "max_depth_m", "workers_per_shift"]
    order_columns = ["name", "licence_no", "max_depth_m", "workers_per_shift"]

    add_required = ("name", "licence_no", "enterprise_id", "region_code")
    record_rule = registry.mine_rule

    @api_expose("/<int:pk>/location", methods=["POST"])
    @protect()
    @safe
    def location(self, pk):
        """Set the mine's position (SPEC B5): body ``{"latitude": 37.8, "longitude": 112.5}``.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: the position was saved}
            404: {$ref: '#/components/responses/404'}
            422: {description: the position is refused}
        """
        def save(mine, body):
            responsibility.set_location(mine, g.user, body.get("latitude"), body.get("longitude"))
            return self.response(200, latitude=mine.latitude, longitude=mine.longitude)

        return self.act_on(pk, scoping.EDIT, save)

    @api_expose("/<int:pk>/responsible", methods=["POST"])
    @protect()
    @safe
    def responsible(self, pk):
        """Set the responsible person of one level (SPEC B4):
        body ``{"level": "county", "name": "...", "post": "...", "phone": "..."}``.
        ---
        post:
          parameters:
          - {in: path, name: pk, schema: {type: integer}}
          responses:
            200: {description: the person was saved}
            403: {description: not this user's level}
            404: {$ref: '#/components/responses/404'}
        """
        def save(mine, body):
            person = responsibility.set_person(mine, str(body.get("level", "")), g.user, body.get("name"),
                                               body.get("post"), body.get("phone"))
            return self.response(200, id=person.id, level=person.level, name=person.name)

        return self.act_on(pk, scoping.EDIT, save)


class ResponsiblePersonApi(ScopedModelRestApi):
    """Read-only: persons are set through /api/v1/mine/<id>/responsible (one rule per level)."""

    resource_name = "responsibleperson"
    datamodel = ListInterface(ResponsiblePerson)
    base_permissions = READ_ONLY
    list_columns = show_columns = ["id", "mine_id", "level", "name", "post", "phone", "created_at", "replaced_at"]
    search_columns = ["mine_id", "level", "name"]
    order_columns = ["id", "created_at"]


class PreDeclarationApi(ScopedModelRestApi):
    resource_name = "predeclaration"
    datamodel = ListInterface(PreDeclaration)
    list_columns = show_columns = ["id", "enterprise_id", "mine_id", "region_code", "year", "status",
                                   "submitted_at", "decided_at", "decision_comment"]
    add_columns = ["mine_id", "region_code", "year"]
    edit_columns = ["region_code", "year"]
    search_columns = ["enterprise_id", "mine_id", "region_code", "year", "status"]
    order_columns = ["year", "id"]

    # The region defaults to the mine's.
    add_required = ("mine_id", "year")
    record_rule = predeclarations.record_rule


class ApplicationApi(ScopedModelRestApi):
    """Green-mine applications (D1-D10). POST takes a ``predeclaration_id`` only: the service
    fills the rest from the pre-declaration and the registry; PUT changes the form's fields
    while 未提交 or returned; POST …/<id>/transition runs the review chain."""

    resource_name = "application"
    datamodel = ListInterface(Application)
    _FORM = ["enterprise_name", "mine_name", "mine_address", "licence_no", "uscc", "economic_type", "employees",
             "mineral_name", "mining_method", "production_scale", "area_km2", "issuing_authority", "mine_size",
             "legal_representative", "contact_person", "contact_address", "mobile", "phone", "fax", "email",
             "postcode", "greening_coverage_pct", "land_restoration_pct", "mining_recovery_pct",
             "processing_recovery_pct", "utilisation_pct", "water_treatment_pct", "tailings_produced",
             "tailings_used", "waste_rock_produced", "waste_rock_used", "industrial_output", "utilisation_output",
             "energy_per_unit", "rnd_share_pct", "self_evaluation_unit", "situation_environment",
             "situation_development", "situation_utilisation", "situation_energy", "situation_innovation",
             "situation_management", "cond_valid_licence", "cond_no_penalty", "cond_not_anomalous",
             "cond_no_protected_area", "cond_reserves_three_years", "cond_plan_reviewed", "conditions_note"]
    list_columns = ["id", "predeclaration_id", "enterprise_id", "mine_id", "region_code", "year", "status",
                    "submitted_at", "enterprise_name", "mine_name", "licence_no"]
    show_columns = ["id", "predeclaration_id", "enterprise_id", "mine_id", "region_code", "year", "status",
                    "submitted_at"] + _FORM
    add_columns = ["predeclaration_id"]
    edit_columns = _FORM
    search_columns = ["enterprise_id", "mine_id", "region_code", "year", "status", "licence_no"]
    order_columns = ["year", "id", "submitted_at"]

    add_required = ("predeclaration_id",)
    record_rule = applications.record_rule


def register(appbuilder) -> None:
    """Every REST API of the application, registered here and nowhere else (the screens are
    registered by app/views; the two share app/web)."""
    from app.api import (
        attachments,
        certificates,
        certification,
        directory,
        evaluation,
        fraud,
        notifications,
        selection,
        selfchecks,
        spotchecks,
        statistics,
        surveillance,
        users,
    )

    for api_class in (
        statistics.StatisticsApi,
        attachments.AttachmentApi,
        # Evaluation and agencies (E1-E3), selection (E4, E5, E8), directory and certificates (E6, F1, F2, F4).
        evaluation.IndicatorVersionApi, evaluation.IndicatorItemApi, evaluation.ProvinceIndicatorAdoptionApi,
        evaluation.AgencyApi, evaluation.AgencyConflictApi, evaluation.EvaluationApi,
        selection.ReviewMeetingApi, selection.PublicNoticeApi, selection.ObjectionApi, selection.DemoZoneApplicationApi,
        directory.DirectoryEntryApi, directory.NationalRecommendationApi, directory.AnomalyEntryApi,
        fraud.FraudFindingApi,
        certificates.CertificateApi,
        # Spot checks (H1-H6).
        selfchecks.SelfCheckApi, selfchecks.ProblemLeadApi,
        spotchecks.InspectorApi, spotchecks.SpotCheckCampaignApi, spotchecks.SpotCheckApi,
        # Certification (G1-G4).
        certification.CertificationBodyApi, certification.CertificationApplicationApi,
        surveillance.CertificationCertificateApi, surveillance.SurveillanceAuditApi,
        notifications.NotificationApi,
        # The registry, the green-mine process and the administrator's user API.
        RegionApi, MineralApi, EnterpriseApi, MineApi, ResponsiblePersonApi, PreDeclarationApi, ApplicationApi,
        users.UserApi,
    ):
        appbuilder.add_api(api_class)
