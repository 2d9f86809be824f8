"""Pre-declarations: list, detail with workflow buttons and process history."""
from flask import g
from flask_appbuilder.models.sqla.filters import FilterEqualFunction
from flask_babel import lazy_gettext as _l
from wtforms.validators import Optional as OptionalValidator

from app.models import PreDeclaration
from app.services import choices, photo_checklist, predeclarations, uploads
from app.views.formatting import formatters, region_name
from app.views.widgets import region_select_field
from app.web.base import ScopedModelView
from app.web.datamodel import ListInterface
from app.web.labels import PREDECLARATION_LABELS


def _own_enterprise_id():
    return getattr(g.user, "enterprise_id", None)


class PreDeclarationView(ScopedModelView):
    datamodel = ListInterface(PreDeclaration)
    list_title = _l("Pre-declarations")
    show_title = _l("Pre-declaration")
    add_title = _l("New pre-declaration")
    edit_title = _l("Edit pre-declaration")
    list_columns = ["enterprise", "licence_no", "mine", "year", "status_label", "region"]
    show_columns = ["enterprise", "mine", "licence_no", "region", "year", "status_label",
                    "submitted_at", "decided_at", "decision_comment"]
    add_columns = ["mine", "region_code", "year"]
    edit_columns = ["region_code", "year"]
    search_columns = ["year", "status"]
    order_columns = ["year"]
    base_order = ("id", "desc")
    # An enterprise picks among its own mines only.
    add_form_query_rel_fields = {"mine": [["enterprise_id", FilterEqualFunction, _own_enterprise_id]]}
    formatters_columns = dict(formatters(datetimes=("submitted_at", "decided_at"), optional=("decision_comment",)),
                              region=region_name)
    label_columns = dict(PREDECLARATION_LABELS)
    # Optional in the form although the column is not null: empty means the mine's own region.
    # Chosen by name among the counties of the provinces where the enterprise has mines.
    add_form_extra_fields = edit_form_extra_fields = {
        "region_code": region_select_field(
            _l("Region (county level)"), "PreDeclarationView",
            description=_l("Only when the region is chosen down to county level can the city and "
                           "county authorities see the pre-declaration. Empty: the mine's region."),
            validators=[OptionalValidator()],
        ),
    }
    search_choices = {"region": choices.search_mine_provinces_leaf_regions}

    record_rule = predeclarations.record_rule
    show_template = "gm/predeclaration_show.html"

    def render_template(self, template, **kwargs):
        # The detail page shows the photo checklist (SPEC C2) with an upload form per item
        # while the pre-declaration is 未提交 (C3).
        if template == self.show_template and "pk" in kwargs:
            item = self.get_scoped_or_404(kwargs["pk"])
            checklist = photo_checklist.status(item)
            kwargs.update(
                checklist=checklist,
                checklist_missing=[entry for entry in checklist if not entry.complete],
                checklist_owner=item,
                checklist_image_limit=uploads.size_text(uploads.config("UPLOAD_IMAGE_MAX_BYTES")),
                checklist_editable=self.appbuilder.sm.has_access("can_upload", "AttachmentView")
                and uploads.may_upload(photo_checklist.OWNER_TYPE, item, g.user),
            )
        return super().render_template(template, **kwargs)
