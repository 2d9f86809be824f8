"""The stock Flask-AppBuilder peer of the benchmark: what a newcomer writes over the same tables.

Plain ``ModelView`` / ``ModelRestApi`` classes over Mine and Application with FAB's defaults
(no search_columns: FAB offers every column, related ones as select boxes listing every row;
default add/edit forms; no eager loading beyond the model's own) and a naive scope filter:
``base_filters`` with FAB's FilterStartsWith on region_code and the user's region code with its
trailing zeros stripped. Registered on an app built by the product's create_app() with the same
config (so the same users, login and security manager), in its own process: one AppBuilder per
process (DESIGN.md). Used by bench/run.py (``--target peer``, started as a child process) and
by hand:

    DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:5432/gm_bench \
        .venv/bin/python -c "import sys; sys.path[:0]=['.','bench']; import stock_peer; stock_peer.create_peer_app().run(port=8090)"

Permissions for the peer views are added to the county, province and national roles of the
benchmark database (`flask gm sync-roles` removes them again).
"""
from __future__ import annotations

from flask import g
from flask_appbuilder import ModelRestApi, ModelView
from flask_appbuilder.models.sqla.filters import FilterStartsWith
from flask_appbuilder.models.sqla.interface import SQLAInterface


def naive_prefix() -> str:
    code = getattr(g.user, "region_code", None) or ""
    while code.endswith("00"):
        code = code[:-2]
    return code


class FilterStartsWithFunction(FilterStartsWith):
    """FAB's FilterStartsWith with the value computed per request (like FAB's FilterEqualFunction)."""

    name = "Starts with (function)"

    def apply(self, query, func):
        return super().apply(query, func())


def create_peer_app(overrides=None):
    from app import create_app
    from app.extensions import db
    from app.models import Application, Mine

    class StockMineView(ModelView):
        datamodel = SQLAInterface(Mine)
        base_filters = [["region_code", FilterStartsWithFunction, naive_prefix]]
        list_columns = ["name", "licence_no", "enterprise", "mineral", "size", "production_status", "region"]

    class StockApplicationView(ModelView):
        datamodel = SQLAInterface(Application)
        base_filters = [["region_code", FilterStartsWithFunction, naive_prefix]]
        list_columns = ["year", "enterprise_name", "mine_name", "licence_no", "status", "region", "submitted_at"]

    class StockMineApi(ModelRestApi):
        resource_name = "stockmine"
        datamodel = SQLAInterface(Mine)
        base_filters = [["region_code", FilterStartsWithFunction, naive_prefix]]

    class StockApplicationApi(ModelRestApi):
        resource_name = "stockapplication"
        datamodel = SQLAInterface(Application)
        base_filters = [["region_code", FilterStartsWithFunction, naive_prefix]]

    app = create_app(overrides)
    with app.app_context():
        ab = app.appbuilder
        ab.add_view_no_menu(StockMineView)
        ab.add_view_no_menu(StockApplicationView)
        ab.add_api(StockMineApi)
        ab.add_api(StockApplicationApi)
        sm = ab.sm
        grants = [("can_list", "StockMineView"), ("can_show", "StockMineView"), ("can_add", "StockMineView"),
                  ("can_edit", "StockMineView"), ("can_list", "StockApplicationView"),
                  ("can_get", "StockMineApi"), ("can_get", "StockApplicationApi"), ("can_put", "StockMineApi")]
        for role_name in ("county", "province", "national"):
            role = sm.find_role(role_name)
            for permission, view in grants:
                pv = sm.add_permission_view_menu(permission, view)
                if pv not in role.permissions:
                    sm.add_permission_role(role, pv)
        db.session.commit()
    return app
