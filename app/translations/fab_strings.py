"""Strings that Flask-AppBuilder shows but its own zh catalogue lacks (FAB 5.3.0).

This module is never imported: it exists so that `pybabel extract` puts these messages in
our catalogue, which Flask-Babel merges after FAB's, filling FAB's gaps.
"""
from flask_babel import lazy_gettext as _l

FAB_STRINGS = [
    _l("Database Error"),
    _l("Not a valid choice"),
    _l("Must have at least two capital letters, one special character, two digits, three lower case "
       "letters and a minimal length of 10."),
    _l("Contains (insensitive)"),
    _l("Start with"),
    # FAB's zh reads 以开始 / 以结束 (not Chinese word order): ours win over FAB's.
    _l("Starts with"),
    _l("Not Starts with"),
    _l("Ends with"),
    _l("Not Ends with"),
    # A record having one of the chosen related rows (a user with a role): FAB's zh 多重关联.
    _l("Relation as Many"),
    _l("In"),
    _l("Not In"),
    _l("Either select a role or a group"),
    _l("List Groups"),
    _l("Edit User Information"),
    _l("User information changed"),
    _l("Groups"),
    _l("The user's password for authentication"),
    _l("It's not a good policy to remove a user, just make it inactive"),
    _l("User(s) exists in the role, cannot delete"),
    _l("Show Group"),
    _l("Add Group"),
    _l("Edit Group"),
    _l("User(s) exists in the group, cannot delete"),
    _l("Add"),
    _l("Edit"),
    _l("Show"),
    _l("Delete"),
    _l("Are you sure you want to delete this item?"),
    _l("Sign In with "),
    # Menu names registered by FAB's security manager
    _l("Security"),
    _l("List Users"),
    _l("List Roles"),
    _l("User's Statistics"),
]
