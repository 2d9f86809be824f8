"""The data interface of every list: pages that cost the same at any page size and table size.

FAB's ``SQLAInterface.query`` counts with ``SELECT count(*) FROM (SELECT <every column> …)`` and
loads the page with whatever the relationships' ``lazy`` says. Ours:

- loads the many-to-one relations a list shows (its ``list_columns``, or the REST ``columns``)
  with one ``SELECT … WHERE key IN (…)`` each (selectin), so that a page of 100 rows takes as
  many statements as a page of 10, and the page query itself joins nothing;
- counts only the primary key;
- on PostgreSQL, where the planner expects more than ``LIST_EXACT_COUNT_LIMIT`` rows, shows the
  planner's estimate instead of counting them all (``EstimatedCount``, shown as 约 N): the
  exact count of a national list grows with the table, and nobody pages through 100,000 rows;
- a column with a closed list of values is searched by "equal" and "not equal" only
  (``EscapedLikeFilterConverter.convert``);
- its "contains", "starts with", "ends with" filters (and their negations) match the value as
  literal text (``EscapedLikeFilterConverter``): FAB puts it into LIKE as it comes, so a search
  for ``%`` matched every row.
"""
from __future__ import annotations

import copy
from typing import Any, Optional, Sequence

from flask import current_app, g
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla import filters as fab_filters
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Load, selectinload
from sqlalchemy.sql.expression import ClauseElement, Executable

from app.errors import InvalidArgument
from app.services import scoping, search_text
from app.web import closed_lists


class EstimatedCount(int):
    """A row count from the planner's statistics, not from counting: pages are computed from
    it like from any count; it is shown as an approximation."""

    def __html__(self) -> str:
        return str(escape(_("about %(count)s", count=f"{int(self):,}")))


class _Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON) <statement>``, with the statement's parameters bound as usual."""

    inherit_cache = False

    def __init__(self, statement) -> None:
        self.statement = statement


@compiles(_Explain, "postgresql")
def _compile_explain(element: _Explain, compiler, **kw) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


def _root(column: str) -> str:
    return column.split(".", 1)[0]


class _LiteralTextFilter:
    """FAB's LIKE filter with the value matched as text (``app.services.search_text``)."""

    match: Any  # search_text.contains, starts_with or ends_with
    negated = False
    model: Any
    column_name: str

    def apply(self, query, value):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            # A REST filter's value may be any JSON value; FAB would concatenate it with "%".
            raise InvalidArgument(_("The value of a text filter must be text."))
        query, field = fab_filters.get_field_setup_query(query, self.model, self.column_name)
        condition = type(self).match(field, str(value))
        return query.filter(~condition if self.negated else condition)


class FilterStartsWith(_LiteralTextFilter, fab_filters.FilterStartsWith):
    match = search_text.starts_with


class FilterNotStartsWith(_LiteralTextFilter, fab_filters.FilterNotStartsWith):
    match = search_text.starts_with
    negated = True


class FilterEndsWith(_LiteralTextFilter, fab_filters.FilterEndsWith):
    match = search_text.ends_with


class FilterNotEndsWith(_LiteralTextFilter, fab_filters.FilterNotEndsWith):
    match = search_text.ends_with
    negated = True


class FilterContains(_LiteralTextFilter, fab_filters.FilterContains):
    match = search_text.contains


class FilterNotContains(_LiteralTextFilter, fab_filters.FilterNotContains):
    match = search_text.contains
    negated = True


class _ListValueFilter:
    """FAB's ``in`` / ``not_in`` iterate over the value: a REST filter's single number was a
    TypeError (500) and a single string was taken letter by letter. One value is a list of one."""

    def apply(self, query, value):
        return super().apply(query, value if isinstance(value, list) else [value])  # type: ignore[misc]


class FilterIn(_ListValueFilter, fab_filters.FilterIn):
    pass


class FilterNotIn(_ListValueFilter, fab_filters.FilterNotIn):
    pass


_REPLACED_FILTERS = {
    fab_filters.FilterStartsWith: FilterStartsWith, fab_filters.FilterNotStartsWith: FilterNotStartsWith,
    fab_filters.FilterEndsWith: FilterEndsWith, fab_filters.FilterNotEndsWith: FilterNotEndsWith,
    fab_filters.FilterContains: FilterContains, fab_filters.FilterNotContains: FilterNotContains,
    fab_filters.FilterIn: FilterIn, fab_filters.FilterNotIn: FilterNotIn,
}


class EscapedLikeFilterConverter(fab_filters.SQLAFilterConverter):
    """FAB's filters per column type, with the LIKE filters replaced by the literal-text ones
    and ``in`` / ``not_in`` by the ones above, in the same places (the HTML search's
    ``_flt_<index>_<column>`` names them by their position; the REST ``opr`` by their
    ``arg_name``, which is kept)."""

    conversion_table = tuple(
        (test, [_REPLACED_FILTERS.get(filter_class, filter_class) for filter_class in filter_classes])
        for test, filter_classes in fab_filters.SQLAFilterConverter.conversion_table
    )

    # A column with a closed list of values (a workflow's state, a level: app.web.closed_lists)
    # is searched like FAB's enums: equal to one of its values (the first, default operator of
    # the search form) or not; text filters on its codes mean nothing to its readers.
    closed_list_filters = (fab_filters.FilterEqual, fab_filters.FilterNotEqual)

    def convert(self, col_name):
        if closed_lists.has_closed_list(getattr(self.datamodel, "obj", None), col_name):
            return [filter_class(col_name, self.datamodel) for filter_class in self.closed_list_filters]
        return super().convert(col_name)


def escape_like_in_every_filter() -> None:
    """FAB's own views (users, roles, permissions) filter through ``SQLAInterface`` itself:
    give it the same converter as ours (called once by the app factory)."""
    SQLAInterface.filter_converter_class = EscapedLikeFilterConverter


class ListInterface(SQLAInterface):
    """``SQLAInterface`` with the list query described in the module docstring."""

    filter_converter_class = EscapedLikeFilterConverter

    def __init__(self, obj, session=None) -> None:
        super().__init__(obj, session)
        self.list_relations: tuple[str, ...] = ()

    def get(self, id, filters=None, *args, **kwargs):  # noqa: A002 (FAB's signature)
        """FAB's REST item routes take the key as ``<int:pk>``; a model whose key is text (a
        region's code) is looked up by that text: PostgreSQL has no ``varchar = integer`` (the
        query failed, a 500), where SQLite compared them silently."""
        if isinstance(id, int) and not self.is_pk_composite() and self._key_is_text():
            id = str(id)
        return super().get(id, filters, *args, **kwargs)

    def _key_is_text(self) -> bool:
        try:
            return self.obj.__mapper__.primary_key[0].type.python_type is str
        except NotImplementedError:
            return False

    def for_list(self, columns: Sequence[str]) -> "ListInterface":
        """A copy for one view, which eager-loads the relations among the view's columns."""
        clone = copy.copy(self)
        clone.list_relations = self._relations_among(columns)
        return clone

    def get_related_interface(self, col_name: str) -> "ChoiceInterface":
        """Choices of a related field are offered through the choice rule (see ChoiceInterface)."""
        return ChoiceInterface(self.get_related_model(col_name))

    def _relations_among(self, columns: Sequence[str]) -> tuple[str, ...]:
        roots = dict.fromkeys(_root(column) for column in columns)
        return tuple(name for name in roots
                     if self.is_relation_many_to_one(name) or self.is_relation_one_to_one(name))

    # --- count -----------------------------------------------------------------------------
    def query_count(self, query, filters=None, select_columns: Optional[list[str]] = None) -> int:
        query = self.apply_filters(query, self.get_inner_filters(filters))
        keys = query.with_entities(self.get_pk()).order_by(None).statement
        estimate = self._estimated_rows(keys)
        if estimate is not None:
            return EstimatedCount(estimate)
        return self.session.execute(select(func.count()).select_from(keys.subquery())).scalar_one()

    def _estimated_rows(self, statement) -> Optional[int]:
        """The planner's row estimate when it is above the exact-count limit, else None."""
        limit = current_app.config.get("LIST_EXACT_COUNT_LIMIT")
        if not limit or self.session.get_bind().dialect.name != "postgresql":
            return None
        plan = self.session.execute(_Explain(statement)).scalar_one()
        rows = int(plan[0]["Plan"]["Plan Rows"])
        return rows if rows > limit else None

    # --- page ------------------------------------------------------------------------------
    def query(self, filters=None, order_column: str = "", order_direction: str = "", page=None,
              page_size=None, select_columns: Optional[list[str]] = None,
              outer_default_load: bool = False) -> tuple[int, list[Any]]:
        query = self.session.query(self.obj)
        count = self.query_count(query, filters, select_columns)
        query = self.apply_all(query, filters, order_column, order_direction, page, page_size,
                               select_columns, outer_default_load)
        if select_columns is None:
            relations = self.list_relations
        else:
            # FAB joins the relations of dotted columns itself (contains_eager).
            relations = self._relations_among([column for column in select_columns if "." not in column])
        for name in relations:
            relation = getattr(self.obj, name)
            query = query.options(selectinload(relation))
            if select_columns is not None:
                # FAB's load_only on the selected columns would defer the foreign key the
                # selectin load reads, and load it row by row.
                query = query.options(Load(self.obj).load_only(
                    *(getattr(self.obj, column.key) for column in relation.property.local_columns)))
        rows = query.all()
        # FAB's apply_all adds entities for dotted columns: the rows are then tuples.
        name = self.obj.__name__
        if rows and hasattr(rows[0], name) and not isinstance(rows[0], self.obj):
            return count, [getattr(row, name) for row in rows]
        return count, rows


class ChoiceFilter(BaseFilter):
    """The choice rule of the current user (``scoping.choice_filter``) as a FAB filter. Applied
    at query time: FAB builds its forms once, at registration, but queries their choices on
    every request."""

    name = "choice"

    def apply(self, query, value):
        return query.filter(scoping.choice_filter(self.model, getattr(g, "user", None)))


class ChoiceInterface(ListInterface):
    """The interface FAB queries for the choices of a related field: the REST ``_info``
    (``ModelRestApi._get_list_related_field``: values and count, any page), the HTML add, edit
    and search forms' select boxes (``GeneralModelConverter``) and FAB's AJAX select field.
    Every query through it is restricted to the rows the current user may be offered."""

    def _with_choice_rule(self, filters):
        filters = filters.copy() if filters is not None else self.get_filters()
        return filters.add_filter_list([[self.get_pk_name(), ChoiceFilter, None]])

    def query(self, filters=None, *args, **kwargs):
        return super().query(self._with_choice_rule(filters), *args, **kwargs)

    def get(self, id, filters=None, *args, **kwargs):  # noqa: A002 (FAB's signature)
        return super().get(id, self._with_choice_rule(filters), *args, **kwargs)


class ListLoading:
    """Mixin for views and APIs: the view's own copy of its ``ListInterface`` loads the
    relations its list shows."""

    datamodel: Any
    list_columns: list

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(self.datamodel, ListInterface):
            self.datamodel = self.datamodel.for_list(self.list_columns)

    def pre_get_list(self, data: dict) -> None:
        """REST lists say whether their ``count`` is the planner's estimate."""
        data["count_is_estimate"] = isinstance(data.get("count"), EstimatedCount)
