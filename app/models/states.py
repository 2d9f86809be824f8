"""The states and actions of every workflow, with the labels users see.

They are data: the models show a record's status by its label (``WorkflowRecord.status_label``),
the services' transition table (app.services.workflow: which action leads from which state to
which, who may take it, its guards and effects) names only the states and actions declared here,
and the screens label buttons and log rows with them. Each model with a workflow names it in its
``workflow_name``.
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

STATES: dict[str, dict[str, Any]] = {
    "predeclaration": {
        "draft": _l("Not submitted"),
        "submitted": _l("Submitted"),
        "passed": _l("Passed"),
        "rejected": _l("Not passed"),
    },
    "application": {
        "draft": _l("Not submitted"),
        "submitted": _l("Submitted, awaiting the county"),
        "county_passed": _l("Passed by the county, awaiting the city"),
        "city_recommended": _l("Recommended by the city, awaiting the province"),
        "accepted": _l("Accepted by the province"),
        "returned": _l("Returned for revision"),
        "self_evaluated": _l("Self-evaluation submitted, awaiting the agency draw"),
        "under_assessment": _l("Under third-party assessment"),
        "assessed": _l("Assessed, awaiting the collective review"),
        "rectifying": _l("Rectification ordered"),
        "review_passed": _l("Passed the collective review, awaiting the public notice"),
        "in_notice": _l("In public notice"),
        "listed": _l("Listed in the directory"),
        "not_selected": _l("Not selected"),
        # A finding of falsified materials ended it (seed 001 三(三): 取消遴选资格).
        "disqualified": _l("Disqualified for falsified materials"),
    },
    "objection": {"open": _l("Open"), "upheld": _l("Upheld"), "dismissed": _l("Dismissed")},
    "directory": {"listed": _l("Listed"), "removed": _l("Removed")},
    "recommendation": {"recommended": _l("Recommended"), "accepted": _l("Listed nationally"),
                       "declined": _l("Declined")},
    "anomaly": {"listed": _l("On the anomaly list"), "released": _l("Released")},
    "agency": {"active": _l("In good standing"), "disqualified": _l("Disqualified")},
    "demozone": {
        "draft": _l("Not submitted"),
        "submitted": _l("Submitted, awaiting the city"),
        "city_passed": _l("Passed by the city, awaiting the province"),
        "confirmed": _l("Confirmed by the province"),
        "returned": _l("Returned for revision"),
    },
    "self_check": {"draft": _l("Not submitted"), "submitted": _l("Submitted"),
                   "returned": _l("Returned for revision")},
    # "Closed" is a finished case here (已办结), not a closed mine (闭坑): message contexts.
    "problem_lead": {"open": _l("Open"), "closed": lazy_pgettext("problem lead state", "Closed")},
    "spot_check_campaign": {"planned": _l("Planned"), "drawn": _l("Mines and inspectors drawn"),
                            "closed": lazy_pgettext("spot-check campaign state", "Closed")},
    "spot_check": {
        "assigned": _l("Awaiting the on-site check"),
        "recorded": _l("Recorded, awaiting the result"),
        "retained": _l("Retained"),
        "rectifying": _l("Rectification ordered"),
        "rechecked": _l("Re-checked, awaiting the result"),
        "removed": _l("Removed from the directory"),
    },
    "certification": {
        "draft": _l("Not submitted"),
        "submitted": _l("Submitted, awaiting acceptance"),
        "returned": _l("Returned for completion"),
        "rejected": _l("Not accepted"),
        "under_evaluation": _l("Accepted, under evaluation"),
        "rectifying": _l("Rectification requested"),
        "certified": _l("Certified"),
        "not_certified": _l("Not certified"),
    },
    "certification_certificate": {"valid": _l("Valid"), "revoked": _l("Revoked")},
    "surveillance": {
        "planned": _l("Planned"),
        "maintained": _l("Certificate maintained"),
        "upgraded": _l("Certificate upgraded"),
        "downgraded": _l("Certificate downgraded"),
        "revoked": _l("Certificate revoked"),
    },
}

ACTIONS: dict[str, dict[str, Any]] = {
    "predeclaration": {
        "submit": _l("Submit"),
        "withdraw": _l("Withdraw"),
        "approve": _l("Pass"),
        "reject": _l("Reject"),
        "revise": _l("Revise and resubmit"),
    },
    "application": {
        "submit": _l("Submit"),
        "withdraw": _l("Withdraw"),
        "county_pass": _l("Pass the initial review"),
        "city_recommend": _l("Recommend to the province"),
        "province_accept": _l("Accept"),
        "return": _l("Return for revision"),
        "submit_self_evaluation": _l("Submit the self-evaluation"),
        "assign_agency": _l("Draw a third-party agency"),
        "submit_assessment": _l("Submit the assessment"),
        "review_pass": _l("Pass the collective review"),
        "review_fail": _l("Fail the collective review"),
        "order_rectification": _l("Order rectification"),
        "submit_rectification": _l("Submit the rectification"),
        "start_notice": _l("Put in public notice"),
        "list": _l("List in the directory"),
        "reject_after_notice": _l("Not selected after the notice"),
        "disqualify": _l("Disqualify for falsified materials"),
    },
    "objection": {"uphold": _l("Uphold"), "dismiss": _l("Dismiss")},
    "directory": {"remove": _l("Remove from the directory")},
    "recommendation": {"accept": _l("List nationally"), "decline": _l("Decline")},
    "anomaly": {"release": _l("Release from the anomaly list")},
    "agency": {"disqualify": _l("Disqualify")},
    "demozone": {
        "submit": _l("Submit"),
        "city_pass": _l("Pass the city review"),
        "confirm": lazy_pgettext("workflow action", "Confirm"),
        "return": _l("Return for revision"),
    },
    "self_check": {"submit": _l("Submit"), "return": _l("Return for revision")},
    "problem_lead": {"close": lazy_pgettext("problem lead action", "Close")},
    "spot_check_campaign": {"draw": _l("Draw mines and inspectors"), "close": _l("Close the campaign")},
    "spot_check": {
        "submit_record": _l("Submit the record"),
        "retain": _l("Retain"),
        "order_rectification": _l("Order rectification"),
        "remove": _l("Remove from the directory"),
        "submit_recheck": _l("Submit the re-check"),
        "pass_recheck": _l("Rectified: retain"),
        "fail_recheck": _l("Not rectified: remove"),
    },
    "certification": {
        "submit": _l("Submit"),
        "withdraw": _l("Withdraw"),
        "return": _l("Return for completion"),
        "reject": _l("Do not accept"),
        "accept": _l("Accept the application"),
        "request_rectification": _l("Request rectification"),
        "submit_rectification": _l("Submit the rectification"),
        "certify": _l("Certify with the grade reached"),
        "refuse": _l("Do not certify"),
    },
    "certification_certificate": {"revoke": _l("Revoke the certificate")},
    "surveillance": {
        "maintain": _l("Maintain the certificate"),
        "upgrade": _l("Upgrade the certificate"),
        "downgrade": _l("Downgrade the certificate"),
        "revoke": _l("Revoke the certificate"),
    },
}


def state_label(workflow: str, state: str) -> str:
    """The label of a state of a workflow; an unknown workflow or state shows as it is stored."""
    return str(STATES.get(workflow, {}).get(state, state))


def action_label(workflow: str, action: str) -> str:
    return str(ACTIONS.get(workflow, {}).get(action, action))


class WorkflowRecord:
    """A record whose ``status`` follows the workflow its class names in ``workflow_name``."""

    workflow_name: str

    @property
    def status_label(self) -> str:
        return state_label(self.workflow_name, self.status)
