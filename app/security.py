"""FAB's security manager with our user model, user screen, login and logout.

What FAB offers around the account rules (app.services.accounts, app.services.users) and is
switched off or replaced here: its password forms (``/resetpassword/form``, where the admin
types any user's new password; ``/resetmypassword/form``, one's own without the current one)
and its profile form (``/userinfoeditview/form``) are not served (404): ``/account/password``,
``/account/users`` and ``/account/profile`` are the way. Its security REST API
(``/api/v1/security/users|roles|permissions|...``) is off (``FAB_ADD_SECURITY_API = False``) and
replaced by ``/api/v1/user`` (app.api.users). Logout is a POST with CSRF that ends the session
on the server. Roles come from the account only, not from FAB's groups (whose screen is not
served). Roles are declared in app.services.roles: the role screen is read-only, and FAB's screens
of permissions and views/menus are off (config). Every screen here speaks Chinese: the accounts'
labels, roles by their names, the login statistics as a table.
"""
from __future__ import annotations

from flask import current_app, g, has_request_context, redirect, request, session, url_for
from flask_appbuilder import BaseView, ModelView
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import Role
from flask_appbuilder.security import views as fab_views
from flask_appbuilder.security.views import UserDBModelView
from flask_appbuilder.views import expose
from flask_appbuilder.widgets import ListWidget, RenderTemplateWidget, ShowWidget
from flask_babel import lazy_gettext as _l
from flask_login import logout_user
from wtforms import StringField
from wtforms.fields.core import UnboundField
from wtforms.validators import Optional as OptionalValidator

from app.models.user import GreenMineUser
from app.services import choices as region_choices
from app.services import users
from app.services.exceptions import DomainError
from app.services.roles import role_label
from app.views.formatting import region_name
from app.views.widgets import region_select_field
from app.web.base import SearchChoices

# Where auth_user_db leaves a lock-out refusal for the login views (HTML and REST).
LOGIN_REFUSAL = "gm_login_refusal"
# The request's cache of its user's role permissions (GreenMineSecurityManager).
_PERMISSION_CACHE = "gm.role_permissions"


def _role_name(role: Role) -> str:
    return role_label(role.name)


def _roles_by_name(*form_classes) -> None:
    """The role choices of FAB's forms read as the roles' names (省级自然资源主管部门): FAB labels
    each choice with str(role), which is its code. (Shown values go through
    app.views.formatting.display_value; the code stays what is stored and logged.)"""
    for form_class in form_classes:
        field = getattr(form_class, "roles", None)
        if isinstance(field, UnboundField):
            field.kwargs["get_label"] = _role_name

# The labels of the account's columns, on every screen that shows accounts (the user list, page,
# forms and search, the role page's user list, the user statistics). FAB labels only some of
# them (and the others by their column names, in English); "Is Active?" reads 是否激活？ where
# an administrator expects 启用.
USER_LABELS = dict(
    UserDBModelView.label_columns,
    active=_l("Enabled"),
    last_login=_l("Last login"),
    phone=_l("Mobile"),
    region=_l("Region"),
    region_code=_l("Region"),
    enterprise=_l("Enterprise"),
    enterprise_uscc=_l("Enterprise USCC"),
    agency=_l("Agency"),
    certification_body=_l("Certification body"),
    must_change_password=_l("Must change password"),
)


class GreenMineUserView(SearchChoices, UserDBModelView):
    """The admin's user screen: FAB's, plus the fields that bind an account to its scope.

    The initial password typed here obeys the policy and must be changed at the first sign-in
    (the admin knows it); later passwords come from a reset (``/account/users``), never from
    this screen. No FAB groups: a role reached through a group would skip the binding rule."""

    _binding_fields = ["phone", "region_code", "enterprise_uscc", "agency", "certification_body"]
    # Family name before given name, as Chinese names are written (and the profile page asks).
    add_columns = ["last_name", "first_name", "username", "active", "email", "roles",
                   "password", "conf_password"] + _binding_fields
    edit_columns = ["last_name", "first_name", "username", "active", "email", "roles"] + _binding_fields
    # FAB's "a role or a group" check reads the groups field, which is not on these forms; a
    # missing role is refused by app.services.users.apply_binding.
    validators_columns: dict = {}
    list_columns = ["username", "last_name", "first_name", "roles", "region", "enterprise", "active"]
    show_fieldsets = [
        (_l("User info"), {"fields": ["username", "active", "roles", "login_count", "phone"]}),
        (_l("Scope"), {"fields": ["region", "enterprise", "agency", "certification_body", "must_change_password"]}),
        (_l("Personal Info"), {"fields": ["last_name", "first_name", "email"], "expanded": True}),
        (_l("Audit Info"), {"fields": ["last_login", "fail_login_count", "created_on", "changed_on"],
                            "expanded": False}),
    ]
    search_columns = ["username", "last_name", "first_name", "email", "active", "roles"]
    label_columns = dict(USER_LABELS)
    description_columns = {
        "region_code": _l("Type part of the name: a province for province users, a city for city users, "
                          "a county for county users."),
        "enterprise_uscc": _l("For enterprise users: the enterprise's unified social credit code."),
    }
    # The region chosen by its name from a search (3,000+ regions: no select box of them all);
    # the enterprise by its credit code as text (10,000s of enterprises).
    add_form_extra_fields = dict(
        UserDBModelView.add_form_extra_fields,
        region_code=region_select_field(_l("Region"), "GreenMineUserView",
                                        labeler=region_choices.region_choice_text_with_level,
                                        validators=[OptionalValidator()]),
        enterprise_uscc=StringField(_l("Enterprise USCC"), validators=[OptionalValidator()],
                                    widget=BS3TextFieldWidget()),
    )
    edit_form_extra_fields = {
        "region_code": add_form_extra_fields["region_code"],
        "enterprise_uscc": add_form_extra_fields["enterprise_uscc"],
    }

    formatters_columns = {"region": region_name}

    # The region field's search: whoever may list the accounts may search the regions.
    search_choices = {"region": region_choices.search_regions}

    def _init_forms(self):
        super()._init_forms()
        _roles_by_name(self.add_form, self.edit_form, self.search_form)

    def _refusing(self, call, *args, **kwargs) -> None:
        try:
            call(*args, **kwargs)
        except DomainError:
            self.datamodel.session.rollback()
            raise

    def _check_binding(self, item: GreenMineUser) -> None:
        # A change of roles, binding or active flag ends the account's sessions (apply_binding).
        self._refusing(
            users.apply_binding,
            item,
            role_names=[role.name for role in item.roles],
            region_code=item.region_code,
            enterprise_uscc=getattr(item, "pending_enterprise_uscc", None),
            agency=item.agency,
            certification_body=item.certification_body,
            actor=g.user,
        )

    def pre_add(self, item: GreenMineUser) -> None:
        from app.services import accounts

        self._check_binding(item)
        # Instead of FAB's pre_add, which only hashes: the policy, the forced change, the event.
        self._refusing(accounts.set_password, item, item.password, g.user, must_change=True,
                       event="account_created")

    def pre_update(self, item: GreenMineUser) -> None:
        self._check_binding(item)
        super().pre_update(item)

    # FAB's buttons on the show and "your user information" pages led to its password and profile
    # forms, which are not served: the same buttons lead to ours.
    @action("resetpasswords", _l("Reset Password"), "", "fa-lock", multiple=False)
    def resetpasswords(self, item):
        return redirect(url_for("AccountView.users", user=item.id))

    @action("resetmypassword", _l("Reset my password"), "", "fa-lock", multiple=False)
    def resetmypassword(self, item):
        return redirect(url_for("AccountView.password"))

    @action("userinfoedit", _l("Edit User"), "", "fa-edit", multiple=False)
    def userinfoedit(self, item):
        return redirect(url_for("AccountView.profile"))


def _menu_labels(permissions) -> str:
    """The menus a role's permissions open, by their labels, in menu order: one line per menu
    category (分类：项、项), what the role may reach in words its administrator reads."""
    from app.views.formatting import LIST_SEPARATOR

    opened = {pv.view_menu.name for pv in permissions if pv.permission.name == "menu_access"}
    lines: list[str] = []
    for item in current_app.appbuilder.menu.get_list():
        if item.name not in opened:
            continue
        children = [str(child.label) for child in item.childs if child.name in opened]
        lines.append(f"{item.label}：{LIST_SEPARATOR.join(children)}" if children else str(item.label))
    return "\n".join(lines)


class RoleModelView(ModelView):
    """The admin's role screen, read-only: the roles are declared in app.services.roles and
    written by ``flask gm sync-roles``, which would undo any change made here (FAB's screen
    edits, copies and deletes them). Each role by its name (省级), with the menus it opens and,
    on its page, its users. (The class keeps FAB's name, as its endpoint.)"""

    route_base = "/roles"
    include_route_methods = {"list", "show"}
    base_permissions = ["can_list", "can_show"]
    list_title = _l("List Roles")
    show_title = _l("Show Role")
    list_widget = ListWidget
    show_widget = ShowWidget
    list_columns = ["name", "user"]
    show_columns = ["name", "permissions"]
    # Nine roles, listed in the order they are declared: nobody needs to search them. (FAB
    # fills an empty search_columns with every column; the exclusions leave it empty, and the
    # template leaves the search panel out.)
    list_template = "gm/list_without_search.html"
    search_exclude_columns = ["name", "permissions", "user", "groups"]
    base_order = ("id", "asc")
    label_columns = {"name": _l("Role"), "user": _l("Number of users"), "permissions": _l("Menus the role opens")}
    formatters_columns = {
        "name": role_label,
        "user": len,
        "permissions": _menu_labels,
    }


class UserStatsTableWidget(RenderTemplateWidget):
    template = "gm/user_stats_table.html"


class UserStatsChartView(fab_views.UserStatsChartView):
    """FAB's logins per user, as a table (FAB's chart needs Google's servers) with Chinese labels:
    FAB names its two charts in English ("Login Count") and, building the chart, labels each
    series by its column name."""

    chart_widget = UserStatsTableWidget
    # FAB's "Group by" (分组) before the buttons that choose the figure shown.
    group_by_label = _l("Figure")
    definitions = [
        {"label": _l("Login count"), "group": "username", "series": ["login_count"]},
        {"label": _l("Failed login count"), "group": "username", "series": ["fail_login_count"]},
    ]
    search_columns = GreenMineUserView.search_columns

    def __init__(self, **kwargs):
        self.label_columns = dict(USER_LABELS)
        super().__init__(**kwargs)
        # FAB's chart view has just labelled the series by their column names.
        self.label_columns.update(USER_LABELS)

    def _init_forms(self):
        super()._init_forms()
        _roles_by_name(self.search_form)


class UserGroupModelView(fab_views.UserGroupModelView):
    """FAB's groups screen, not served (no route; its menu item is taken out in
    GreenMineSecurityManager.register_views): a role reached through a group would skip the
    binding rule, and roles come from the account only (get_user_roles)."""

    include_route_methods: set = set()


class _NotServed(BaseView):
    """Takes the place of one of FAB's security forms that this product does not serve: no route
    (its URL is a 404), no permission (sync-roles removes the old ones)."""

    default_view = None


class ResetPasswordView(_NotServed):
    """FAB's: the admin types any user's new password, with no forced change and without ending
    the user's sessions. Ours: /account/users issues a one-time password."""


class ResetMyPasswordView(_NotServed):
    """FAB's: one's own new password without the current one. Ours: /account/password."""


class UserInfoEditView(_NotServed):
    """FAB's: one's own name. Ours: /account/profile (name, mobile, e-mail, checked and logged)."""


class AuthDBView(fab_views.AuthDBView):
    """FAB's login form; when the name or the address is locked, the warning says so. (The
    class keeps FAB's name: it is the endpoint, ``AuthDBView.login``, that FAB and we link to.)"""

    @property
    def invalid_login_message(self):
        refusal = getattr(g, LOGIN_REFUSAL, None)
        return str(refusal) if refusal is not None else _l("Invalid login. Please try again.")

    @expose("/logout/", methods=["GET", "POST"])
    def logout(self):
        """A POST from the navigation bar's form (the CSRF check runs before every POST) ends the
        session on the server (app.services.accounts.logout). A GET, which a link, an image or a
        prefetch can send from anywhere, signs nobody out: it leads to the home page."""
        if request.method != "POST":
            return redirect(self.appbuilder.get_url_for_index)
        from app.services import accounts

        user = self._get_authenticated_user()
        if user is not None:
            accounts.logout(user)
        logout_user()
        session.pop(accounts.SESSION_KEY, None)
        if user is not None:
            self.appbuilder.sm.on_user_logout(user)
        return redirect(current_app.config.get("LOGOUT_REDIRECT_URL", self.appbuilder.get_url_for_index))


class GreenMineSecurityManager(SecurityManager):
    user_model = GreenMineUser
    userdbmodelview = GreenMineUserView
    rolemodelview = RoleModelView
    groupmodelview = UserGroupModelView
    userstatschartview = UserStatsChartView
    authdbview = AuthDBView
    resetpasswordview = ResetPasswordView
    resetmypasswordview = ResetMyPasswordView
    userinfoeditview = UserInfoEditView

    def register_views(self) -> None:
        super().register_views()
        # FAB adds its groups screen whatever the configuration says; ours serves no route.
        security = self.appbuilder.menu.find("Security")
        if security is not None:
            security.childs = [item for item in security.childs if item.name != "List Groups"]

    def get_user_roles(self, user):
        """The account's own roles only. FAB also grants the roles of the account's groups, which
        would carry a role's permissions without the binding that app.services.users.apply_binding
        requires of it (and the scope rule reads ``user.roles`` alone)."""
        if not user.is_authenticated:
            return [self.get_public_role()]
        return list(user.roles)

    def exist_permission_on_roles(self, view_name: str, permission_name: str, role_ids) -> bool:
        """FAB asks the database once per permission check (a page with its menu makes dozens).
        Within a request, load the roles' (permission, view) pairs once and answer from them."""
        if not has_request_context():
            return super().exist_permission_on_roles(view_name, permission_name, role_ids)
        cache = request.environ.setdefault(_PERMISSION_CACHE, {})
        key = tuple(sorted(role_ids))
        if key not in cache:
            from flask_appbuilder.security.sqla.models import assoc_permissionview_role

            rows = (self.session.query(self.permission_model.name, self.viewmenu_model.name)
                    .select_from(self.permissionview_model)
                    .join(self.permission_model).join(self.viewmenu_model)
                    .join(assoc_permissionview_role,
                          assoc_permissionview_role.c.permission_view_id == self.permissionview_model.id)
                    .filter(assoc_permissionview_role.c.role_id.in_(key)))
            cache[key] = frozenset(rows)
        return (permission_name, view_name) in cache[key]

    def auth_user_db(self, username, password):
        """FAB's check (the same message and comparable time for an unknown name and a wrong
        password), behind the lock-out of app.services.login_throttle. Used by the HTML login
        and the REST login alike; a refusal because of the lock is left in ``g`` for them."""
        from app.services import login_throttle

        address = request.remote_addr if has_request_context() else None
        try:
            login_throttle.check(username, address)
        except login_throttle.LoginLocked as refusal:
            if has_request_context():
                setattr(g, LOGIN_REFUSAL, refusal)
            return None
        user = super().auth_user_db(username, password)
        if user is None:
            login_throttle.record_failure(username, address)
        else:
            login_throttle.clear(username)
            self.session.commit()
        return user

    def load_user_jwt(self, _jwt_header, jwt_data):
        """A token issued before the password last changed, or for an account whose reset
        password has not been replaced yet, finds no user (401)."""
        from app.services import accounts

        user = super().load_user_jwt(_jwt_header, jwt_data)
        if user is None or user.must_change_password:
            return None
        if not accounts.credentials_current(user, jwt_data.get(accounts.TOKEN_CLAIM)):
            return None
        return user
