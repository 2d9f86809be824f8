"""REST API (/api/v1/...): FAB ModelRestApi classes with the same scope as the screens.

Every API lists its columns explicitly: FAB would otherwise expose and allow filtering on
every column of the model.
"""
from flask_appbuilder import ModelRestApi
from flask_appbuilder.models.sqla.interface import SQLAInterface

from app.models import Enterprise, Mine, Mineral, PreDeclaration, Region
from app.services import predeclarations, registry
from app.views.base import ScopedModelRestApi

READ_ONLY = {"can_get", "can_info"}


class RegionApi(ModelRestApi):
    resource_name = "region"
    datamodel = SQLAInterface(Region)
    base_permissions = READ_ONLY
    list_columns = show_columns = ["code", "name", "level", "parent_code", "is_leaf"]
    search_columns = ["code", "name", "level", "parent_code"]
    order_columns = ["code", "level"]


class MineralApi(ModelRestApi):
    resource_name = "mineral"
    datamodel = SQLAInterface(Mineral)
    base_permissions = READ_ONLY
    list_columns = show_columns = ["id", "name", "mineral_class", "subclass", "note"]
    search_columns = ["name", "mineral_class", "subclass"]
    order_columns = ["name", "sort_order"]


class EnterpriseApi(ScopedModelRestApi):
    resource_name = "enterprise"
    datamodel = SQLAInterface(Enterprise)
    list_columns = ["id", "name", "uscc", "region_code"]
    show_columns = ["id", "name", "uscc", "economic_type", "legal_representative", "contact_person",
                    "address", "mobile", "phone", "fax", "email", "postcode", "region_code"]
    add_columns = edit_columns = show_columns[1:]
    search_columns = ["name", "uscc", "region_code"]
    order_columns = ["name", "uscc"]

    record_rule = registry.enterprise_rule


class MineApi(ScopedModelRestApi):
    resource_name = "mine"
    datamodel = SQLAInterface(Mine)
    list_columns = ["id", "name", "licence_no", "enterprise_id", "mineral_id", "size", "region_code"]
    show_columns = ["id", "name", "address", "licence_no", "enterprise_id", "employees", "mineral_id",
                    "mining_method", "production_scale", "area_km2", "issuing_authority", "size",
                    "region_code", "licence_valid_from", "licence_valid_to"]
    add_columns = edit_columns = [c for c in show_columns if c not in ("id", "size")]
    search_columns = ["name", "licence_no", "enterprise_id", "mineral_id", "size", "region_code"]
    order_columns = ["name", "licence_no"]

    record_rule = registry.mine_rule


class PreDeclarationApi(ScopedModelRestApi):
    resource_name = "predeclaration"
    datamodel = SQLAInterface(PreDeclaration)
    list_columns = show_columns = ["id", "enterprise_id", "mine_id", "region_code", "year", "status",
                                   "submitted_at", "decided_at", "decision_comment"]
    add_columns = ["mine_id", "region_code", "year"]
    edit_columns = ["region_code", "year"]
    search_columns = ["enterprise_id", "mine_id", "region_code", "year", "status"]
    order_columns = ["year", "id"]

    record_rule = predeclarations.record_rule
