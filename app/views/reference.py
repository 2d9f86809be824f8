"""Read-only screens for the reference data (regions, minerals, size thresholds), and what the
reference screens share: the working notes (which figures are inferred, and why) that only the
users who may see them are shown (issue 18, point 7)."""
from __future__ import annotations

from flask import g
from flask_appbuilder import ModelView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from app.models import Mineral, MineSizeThreshold, Region
from app.services import reference
from app.views.formatting import blank_if_none
from app.web.base import ChoiceSearch
from app.web.datamodel import ListInterface, ListLoading
from app.web.labels import MINERAL_LABELS, REGION_LABELS

READ_ONLY = {"can_list", "can_show"}


def inferred_mark(inferred) -> Markup:
    """A list's cell: the 推定值 mark on a row whose figures are inferred, else nothing."""
    if not inferred:
        return Markup("")
    return Markup('<span class="label label-warning gm-inferred">%s</span>') % _("Inferred value")


def threshold_mineral(key) -> str:
    """A size-table row's mineral: a mineral's name, or the catch-all of a whole class (stored
    as "类:贵金属") as people say it: 贵金属类（其他矿种）."""
    key = key or ""
    if key.startswith(reference.CLASS_KEY_PREFIX):
        return _("%(name)s (other minerals of the class)", name=key[len(reference.CLASS_KEY_PREFIX):])
    return key


def provenance(value) -> Markup:
    """A detail page's row: how the figures are known (``provenance`` of the model: inferred or
    read in the official text, and the source note)."""
    inferred, note = value
    if inferred:
        mark = inferred_mark(True)
    else:
        mark = Markup('<span class="label label-success gm-confirmed">%s</span>') % _("As in the official text")
    return mark + (Markup(" ") + escape(note) if note else Markup(""))


class WorkingNotes:
    """Views of reference data: the columns in ``working_note_columns`` (the 推定值 mark and the
    source note) are left out of the list and of the detail page for a user who does not see
    working notes (an enterprise: ``reference.shows_working_notes``); the REST APIs do not list
    them at all."""

    working_note_columns: tuple[str, ...] = ()

    def _hides_working_notes(self) -> bool:
        return bool(self.working_note_columns) and not reference.shows_working_notes(g.user)

    def _get_list_widget(self, *args, **kwargs):
        widgets = super()._get_list_widget(*args, **kwargs)  # type: ignore[misc]
        if self._hides_working_notes():
            values = widgets["list"].template_args
            values["include_columns"] = [c for c in values["include_columns"] if c not in self.working_note_columns]
        return widgets

    def _get_show_widget(self, *args, **kwargs):
        widgets = super()._get_show_widget(*args, **kwargs)  # type: ignore[misc]
        if self._hides_working_notes():
            values = widgets["show"].template_args
            kept = [(column, value) for column, value in zip(values["include_columns"], values["value_columns"])
                    if column not in self.working_note_columns]
            values["include_columns"] = [column for column, _value in kept]
            values["value_columns"] = [value for _column, value in kept]
            if values.get("fieldsets"):
                values["fieldsets"] = [
                    (title, dict(spec, fields=[f for f in spec["fields"] if f not in self.working_note_columns]))
                    for title, spec in values["fieldsets"]
                ]
        return widgets


class RegionView(ChoiceSearch, ListLoading, ModelView):
    datamodel = ListInterface(Region)
    base_permissions = READ_ONLY
    list_title = show_title = _l("Administrative regions")
    list_columns = ["code", "display_name", "level_label", "parent", "is_leaf"]
    show_columns = ["code", "name", "full_name", "level_label", "parent", "is_leaf"]
    search_columns = ["code", "name", "level"]
    order_columns = ["code", "level"]
    base_order = ("code", "asc")
    label_columns = dict(REGION_LABELS)


class MineralView(ChoiceSearch, ListLoading, ModelView):
    datamodel = ListInterface(Mineral)
    base_permissions = READ_ONLY
    list_title = show_title = _l("Mineral catalogue")
    list_columns = ["name", "mineral_class", "subclass", "note", "added"]
    show_columns = list_columns
    search_columns = ["name", "mineral_class", "subclass"]
    order_columns = ["name", "mineral_class"]
    base_order = ("sort_order", "asc")
    page_size = 50
    label_columns = dict(MINERAL_LABELS)


class MineSizeThresholdView(WorkingNotes, ChoiceSearch, ListLoading, ModelView):
    """The 矿山生产建设规模分类一览表 (国土资发〔2004〕208号): remarks for every user; the rows
    whose figures are inferred carry the 推定值 mark and the source note for staff."""

    datamodel = ListInterface(MineSizeThreshold)
    base_permissions = READ_ONLY
    list_title = show_title = _l("Mine size thresholds")
    list_columns = ["mineral_key", "use", "mining_method", "unit", "large_min", "medium_min", "remark", "inferred"]
    show_columns = ["mineral_key", "use", "mining_method", "unit", "large_min", "medium_min", "remark", "provenance"]
    working_note_columns = ("inferred", "provenance")
    search_columns = ["mineral_key", "use", "mining_method"]
    page_size = 50
    label_columns = {
        "mineral_key": _l("Mineral"),
        "use": _l("Use"),
        "mining_method": _l("Mining method"),
        "unit": _l("Unit"),
        "large_min": _l("Large from"),
        "medium_min": _l("Medium from"),
        "remark": _l("Remarks"),
        "inferred": _l("Inferred value"),
        "provenance": _l("Source of the figures"),
        "mineral": _l("Mineral"),
        "source_note": _l("Source note"),
    }
    formatters_columns = {"remark": blank_if_none, "inferred": inferred_mark, "provenance": provenance,
                          "mineral_key": threshold_mineral}
