"""A search-as-you-type select for large, scoped choice lists (enterprises, regions).

FAB's select boxes render every row (50,000 enterprises, 3,000 regions) into the page, and its
AJAX widget loads them all at once. This field renders only the current value and asks a
scoped JSON endpoint for at most a page of matches as the user types.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from flask import g, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape
from wtforms import Field
from wtforms.validators import ValidationError

from app.extensions import db
from app.services import choices, scoping


class SearchSelectWidget:
    def __call__(self, field: "SearchSelectField", **kwargs: Any) -> Markup:
        key = field.key()
        option = ""
        if key not in (None, ""):
            option = f'<option value="{escape(key)}" selected>{escape(field.label_of_current())}</option>'
        script = url_for("static", filename="js/gm-search-select.js")
        # (Babel does not extract strings inside f-string expressions: translate first.)
        placeholder = _("Type to search")
        return Markup(
            f'<select id="{escape(field.id)}" name="{escape(field.name)}" class="form-control gm-search-select" '
            f'data-endpoint="{escape(field.endpoint())}" data-placeholder="{escape(placeholder)}">'
            f'<option value=""></option>{option}</select>'
            f'<script src="{script}" defer></script>'
        )


class SearchSelectField(Field):
    """A form field whose value is one row of ``model``, chosen through a JSON endpoint.

    ``as_key``: the form's data is the key itself (for a code column such as region_code);
    otherwise the ORM object (for a relationship such as enterprise).
    """

    widget = SearchSelectWidget()

    def __init__(self, label=None, validators=None, model=None, key_attr: str = "id",
                 endpoint: Optional[Callable[[], str]] = None, labeler: Callable[[Any], str] = str,
                 as_key: bool = False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.model = model
        self.key_attr = key_attr
        self._endpoint = endpoint
        self.labeler = labeler
        self.as_key = as_key

    def endpoint(self) -> str:
        return self._endpoint() if self._endpoint else ""

    def key(self):
        if self.data is None:
            return None
        return self.data if self.as_key else getattr(self.data, self.key_attr)

    def label_of_current(self) -> str:
        row = db.session.get(self.model, self.data) if self.as_key else self.data
        return self.labeler(row) if row is not None else str(self.data)

    def process_formdata(self, valuelist):
        raw = (valuelist[0] if valuelist else "") or ""
        raw = raw.strip()
        if not raw:
            self.data = None
            return
        row = db.session.get(self.model, int(raw) if self.key_attr == "id" and raw.isdigit() else raw)
        if row is None:
            self.data = raw if self.as_key else None
            raise ValidationError(_("Not a valid choice"))
        if not scoping.can_choose(g.user, row):
            # A row the search would not have offered: refused like one that does not exist,
            # and not shown back (its name would tell what lies outside the user's scope).
            self.data = None
            raise ValidationError(_("Not a valid choice"))
        self.data = raw if self.as_key else row

    def _value(self):
        key = self.key()
        return "" if key is None else str(key)


def region_select_field(label, view_endpoint: str, choices_field: str = "region",
                        labeler: Callable[[Any], str] = choices.region_choice_text, **kwargs) -> SearchSelectField:
    """A region chosen by its name from the view's scoped search (``search_choices[choices_field]``
    of ``view_endpoint``); the form's data is the region's code, shown by its full name."""
    from app.models import Region

    return SearchSelectField(
        label, model=Region, key_attr="code", as_key=True,
        endpoint=lambda: url_for(f"{view_endpoint}.choices", field=choices_field),
        labeler=labeler, **kwargs,
    )
