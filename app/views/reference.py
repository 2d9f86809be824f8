"""Read-only screens for the reference data (regions, minerals, size thresholds)."""
from flask_appbuilder import ModelView
from flask_babel import lazy_gettext as _l

from app.models import Mineral, MineSizeThreshold, Region
from app.web.datamodel import ListInterface, ListLoading

READ_ONLY = {"can_list", "can_show"}


class RegionView(ListLoading, ModelView):
    datamodel = ListInterface(Region)
    base_permissions = READ_ONLY
    list_title = show_title = _l("Administrative regions")
    list_columns = ["code", "display_name", "level_label", "parent", "is_leaf"]
    show_columns = ["code", "name", "full_name", "level_label", "parent", "is_leaf"]
    search_columns = ["code", "name", "level"]
    order_columns = ["code", "level"]
    base_order = ("code", "asc")
    label_columns = {
        "code": _l("Code"),
        "name": _l("Name"),
        "display_name": _l("Name"),
        "full_name": _l("Full name"),
        "level": _l("Level"),
        "level_label": _l("Level"),
        "parent": _l("Parent region"),
        "is_leaf": _l("County level"),
    }


class MineralView(ListLoading, ModelView):
    datamodel = ListInterface(Mineral)
    base_permissions = READ_ONLY
    list_title = show_title = _l("Mineral catalogue")
    list_columns = ["name", "mineral_class", "subclass", "note", "added"]
    show_columns = list_columns
    search_columns = ["name", "mineral_class", "subclass"]
    order_columns = ["name", "mineral_class"]
    base_order = ("sort_order", "asc")
    page_size = 50
    label_columns = {
        "name": _l("Mineral"),
        "mineral_class": _l("Class"),
        "subclass": _l("Sub-class"),
        "note": _l("Uses and remarks"),
        "added": _l("Added to the catalogue"),
        "sort_order": _l("Order"),
    }


class MineSizeThresholdView(ListLoading, ModelView):
    datamodel = ListInterface(MineSizeThreshold)
    base_permissions = READ_ONLY
    list_title = show_title = _l("Mine size thresholds")
    list_columns = ["mineral_key", "use", "mining_method", "unit", "large_min", "medium_min", "note"]
    show_columns = list_columns
    search_columns = ["mineral_key", "use", "mining_method"]
    page_size = 50
    label_columns = {
        "mineral_key": _l("Mineral"),
        "mineral_id": _l("Mineral"),
        "use": _l("Use"),
        "mining_method": _l("Mining method"),
        "unit": _l("Unit"),
        "large_min": _l("Large from"),
        "medium_min": _l("Medium from"),
        "note": _l("Remarks"),
    }
