"""One's own account (SPEC A2) and password resets by an authority (A4). Rules in
app.services.accounts; these routes only load, call and report."""
from __future__ import annotations

from flask import abort, current_app, flash, g, make_response, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.services import accounts
from app.services.exceptions import AccessDenied, DomainError


class AccountView(BaseView):
    route_base = "/account"
    default_view = "profile"
    method_permission_name = {"profile": "profile", "password": "profile", "users": "reset", "reset": "reset"}

    @expose("/profile", methods=["GET", "POST"])
    @has_access
    def profile(self):
        error = None
        if request.method == "POST":
            try:
                accounts.update_profile(g.user, request.form.get("first_name"), request.form.get("last_name"),
                                        request.form.get("phone"), request.form.get("email"))
            except DomainError as exc:
                error = exc
            else:
                flash(_("Your profile was saved."), "success")
                return redirect(url_for("AccountView.profile"))
        return self.render_template("gm/account_profile.html", title=_("My profile"), error=error,
                                    values=request.form if request.method == "POST" else None)

    @expose("/password", methods=["GET", "POST"])
    @has_access
    def password(self):
        error = None
        if request.method == "POST":
            try:
                accounts.change_password(g.user, request.form.get("current_password"),
                                         request.form.get("new_password"), request.form.get("confirm_password"))
            except DomainError as exc:
                error = exc
            else:
                # This session goes on with the new credentials; every other one has ended.
                session[accounts.SESSION_KEY] = g.user.credentials_version
                flash(_("Your password was changed."), "success")
                return redirect(self.appbuilder.get_url_for_index)
        return self.render_template("gm/account_password.html", title=_("Change password"), error=error,
                                    must_change=bool(g.user.must_change_password))

    @expose("/users", methods=["GET"])
    @has_access
    def users(self):
        # ?user=<id>: the one account the admin's user screen links to (its "reset password").
        user_id = request.args.get("user", type=int)
        if user_id is not None and not 0 < user_id < 2**31:
            user_id = 0
        return self.render_template("gm/account_users.html", title=_("Reset passwords"),
                                    users=accounts.resettable_users(g.user, user_id))

    @expose("/reset/<int:user_id>", methods=["POST"])
    @has_access
    def reset(self, user_id):
        try:
            user, password = accounts.reset_password(g.user, user_id)
        except AccessDenied:
            abort(404)
        # Shown once, on this response only (not cached); it is stored nowhere.
        response = make_response(self.render_template("gm/account_reset_done.html", title=_("Reset passwords"),
                                                      user=user, password=password))
        response.headers["Cache-Control"] = "no-store"
        return response


# The menu category of the account pages: shown in the user's menu on the right of the bar, not
# in the bar itself (app/templates/appbuilder/navbar_menu.html and navbar_right.html).
ACCOUNT_MENU = "Account"


def register(appbuilder) -> None:
    current_app.jinja_env.globals["gm_account_menu"] = ACCOUNT_MENU
    appbuilder.add_view(AccountView, "My profile", label=_l("My profile"), icon="fa-user", category=ACCOUNT_MENU,
                        category_label=_l("My account"), category_icon="fa-user-circle")
    appbuilder.add_link("Change password", href="/account/password", label=_l("Change password"),
                        icon="fa-key", category=ACCOUNT_MENU)
    appbuilder.add_link("Reset passwords", href="/account/users", label=_l("Reset passwords"),
                        icon="fa-unlock-alt", category=ACCOUNT_MENU)
