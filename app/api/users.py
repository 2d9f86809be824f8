"""The admin's user API, in place of FAB's security API (``FAB_ADD_SECURITY_API`` is off): the same
rules as `flask gm create-user` and the admin's user screen (app.services.users), passwords only
as one-time passwords (app.services.accounts). Only the admin role holds its permissions
(app.services.roles.USER_ADMINISTRATION).

  GET  /api/v1/user/?page=0&page_size=20&search=&role=   accounts by username, with the count
  GET  /api/v1/user/<id>                                 one account
  POST /api/v1/user/                                     create: 201, the account and its one-time
                                                         password, answered this once
  PUT  /api/v1/user/<id>                                 profile, active flag, roles, binding
  POST /api/v1/user/<id>/reset_password                  a new one-time password, answered once

No password hash, credentials version or other secret is ever answered, and no password is
accepted: a new account and a reset get a random one that must be changed at the next sign-in.
A change of roles, binding or active flag ends the account's sessions and API tokens.
"""
from __future__ import annotations

from flask import g, request
from flask_appbuilder.api import BaseApi, expose, protect, safe

from app.services import accounts, users
from app.services.exceptions import DomainError
from app.web.base import JsonRefusals

MAX_PAGE_SIZE = 100
# Past any real list of accounts; keeps OFFSET inside the database's integer range.
MAX_PAGE = 100_000


def _as_json(user) -> dict:
    """What the admin may read of an account: no password hash, no credentials version."""
    return {
        "id": user.id,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "phone": user.phone,
        "active": bool(user.active),
        "roles": sorted(role.name for role in user.roles),
        "region_code": user.region_code,
        "enterprise_id": user.enterprise_id,
        "enterprise_uscc": user.enterprise.uscc if user.enterprise is not None else None,
        "agency": user.agency.name if user.agency is not None else None,
        "certification_body": user.certification_body.name if user.certification_body is not None else None,
        "must_change_password": bool(user.must_change_password),
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "created_on": user.created_on.isoformat() if user.created_on else None,
    }


class UserApi(JsonRefusals, BaseApi):
    resource_name = "user"
    openapi_spec_tag = "Users"
    method_permission_name = {"list_accounts": "get", "show_account": "get", "create_account": "post",
                              "update_account": "put", "reset_password": "reset_password"}

    @staticmethod
    def _not_stored(response):
        # The answer holds a password that is shown once: no cache may keep it.
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/", methods=["GET"])
    @protect()
    @safe
    def list_accounts(self):
        """Accounts by username.
        ---
        get:
          parameters:
          - {in: query, name: page, schema: {type: integer, minimum: 0}}
          - {in: query, name: page_size, schema: {type: integer, minimum: 1, maximum: 100}}
          - {in: query, name: search, schema: {type: string}}
          - {in: query, name: role, schema: {type: string}}
          responses:
            200:
              description: one page of accounts and their count
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      count: {type: integer}
                      result: {type: array, items: {type: object}}
        """
        page = min(max(request.args.get("page", 0, type=int) or 0, 0), MAX_PAGE)
        page_size = min(max(request.args.get("page_size", 20, type=int) or 20, 1), MAX_PAGE_SIZE)
        rows, count = users.list_accounts(request.args.get("search"), request.args.get("role"), page, page_size)
        return self.response(200, result=[_as_json(user) for user in rows], count=count)

    @expose("/<user_id>", methods=["GET"])
    @protect()
    @safe
    def show_account(self, user_id):
        """One account.
        ---
        get:
          parameters:
          - {in: path, name: user_id, schema: {type: integer}}
          responses:
            200:
              description: the account
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      result: {type: object}
            404: {$ref: '#/components/responses/404'}
        """
        try:
            return self.response(200, result=_as_json(users.get_account(user_id)))
        except DomainError as exc:
            return self.refusal(exc)

    @expose("/", methods=["POST"])
    @protect()
    @safe
    def create_account(self):
        """Create an account, bound like `flask gm create-user`; it gets a one-time password.
        ---
        post:
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    username: {type: string}
                    first_name: {type: string}
                    last_name: {type: string}
                    email: {type: string}
                    phone: {type: string}
                    active: {type: boolean}
                    roles: {type: array, items: {type: string}}
                    region_code: {type: string}
                    enterprise_uscc: {type: string}
                    agency: {type: string}
                    certification_body: {type: string}
          responses:
            201:
              description: the account and its one-time password (answered only now)
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      result: {type: object}
                      one_time_password: {type: string}
            422:
              description: the account breaks a rule (the message says which)
        """
        try:
            user, password = users.create_account(g.user, request.get_json(silent=True))
        except DomainError as exc:
            return self.refusal(exc)
        return self._not_stored(self.response(201, id=user.id, result=_as_json(user), one_time_password=password))

    @expose("/<user_id>", methods=["PUT"])
    @protect()
    @safe
    def update_account(self, user_id):
        """Change an account's profile, active flag, roles or binding; never its password.
        ---
        put:
          parameters:
          - {in: path, name: user_id, schema: {type: integer}}
          requestBody:
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    first_name: {type: string}
                    last_name: {type: string}
                    email: {type: string}
                    phone: {type: string}
                    active: {type: boolean}
                    roles: {type: array, items: {type: string}}
                    region_code: {type: string}
                    enterprise_uscc: {type: string}
                    agency: {type: string}
                    certification_body: {type: string}
          responses:
            200:
              description: the account as saved
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      result: {type: object}
            404: {$ref: '#/components/responses/404'}
            422:
              description: the change breaks a rule (the message says which)
        """
        try:
            user = users.update_account(g.user, user_id, request.get_json(silent=True))
        except DomainError as exc:
            return self.refusal(exc)
        return self.response(200, result=_as_json(user))

    @expose("/<user_id>/reset_password", methods=["POST"])
    @protect()
    @safe
    def reset_password(self, user_id):
        """A random one-time password that must be changed at the next sign-in; the account's
        sessions and tokens end.
        ---
        post:
          parameters:
          - {in: path, name: user_id, schema: {type: integer}}
          responses:
            200:
              description: the one-time password (answered only now)
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      id: {type: integer}
                      username: {type: string}
                      one_time_password: {type: string}
            404: {$ref: '#/components/responses/404'}
        """
        try:
            users.get_account(user_id)
            user, password = accounts.reset_password(g.user, user_id)
        except DomainError as exc:
            return self.refusal(exc)
        return self._not_stored(self.response(200, id=user.id, username=user.username, one_time_password=password))

