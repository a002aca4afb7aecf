"""Each role's own duties and rights, short and plain, with the law's paragraph (shown on /me/duties).

[(text, paragraph)] per role; texts are lazy (flask_babel.lazy_gettext) so each person reads them in their
language. Sources: arbeidsmiljøloven (AML) §§ 2-1, 2-3, 3-1, 3-2, 3-5, 5-1, 5-2, 6-1 to 6-3, 6-5.
"""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..authz import MANAGER, LEADS, STAFF, required_permission, roles_with

DUTIES = {
    "worker": [
        (_l("Use the protective equipment the site requires."), "AML § 2-3 (2) a"),
        (_l("Take care, for yourself and for others."), "AML § 2-3 (1)"),
        (_l("Report faults, dangers and injuries at once, to your foreman or in the app."), "AML § 2-3 (2) b–d"),
        (_l("Check in when you arrive and out when you leave: the site keeps a list of everyone."),
         "byggherreforskriften § 15"),
    ],
    "verneombud": [
        (_l("Watch over the working environment and the workers' safety: walk the site, take part in planning."),
         "AML § 6-2"),
        (_l("Represent the workers in matters of safety and health."), "AML § 6-2"),
    ],
    "foreman": [
        (_l("Act for the employer: see that the work is planned and done safely."), "AML § 2-1, § 3-1"),
        (_l("See that everyone has the training and equipment the work needs."), "AML § 3-2"),
        (_l("Follow up reported dangers and deviations by their deadline."), "internkontrollforskriften § 5"),
        (_l("Hold safety walkarounds with the verneombud, on schedule."), "AML § 3-1"),
        (_l("Have HMS training yourself."), "AML § 3-5"),
    ],
    "manager": [
        (_l("The employer carries the overall duty for systematic HMS work at every level."), "AML § 2-1, § 3-1"),
        (_l("Have HMS training yourself, and see that everyone has the competence the work needs."),
         "AML § 3-2, § 3-5"),
        (_l("Register every injury, and notify Arbeidstilsynet and the police at once of a serious one."),
         "AML § 5-1, § 5-2"),
        (_l("See that a verneombud is elected where five or more people work, and give them time and training."),
         "AML § 6-1, § 6-5"),
        (_l("Keep a daily list of everyone working on the site."), "byggherreforskriften § 15"),
    ],
}

RIGHTS = {
    "worker": [
        (_l("You may stop work and leave when you believe there is acute danger to life or health."),
         "AML § 2-3 (3)"),
        (_l("You have the right to take part in the HMS work, and to be heard."), "AML § 2-3 (1), § 3-1"),
        (_l("You may elect a verneombud and go to them with any concern."), "AML § 6-1"),
    ],
    "verneombud": [
        (_l("You may stop work when you believe there is immediate danger to life or health."), "AML § 6-3"),
        (_l("You have the time you need for the role, paid by the employer."), "AML § 6-5 (1)"),
        (_l("You have the right to at least 40 hours of training."), "AML § 6-5 (1)"),
        (_l("You have the right to the information you need, and to take part in planning."), "AML § 6-2"),
    ],
    "foreman": [
        (_l("You may stop work where it is not safe."), "AML § 2-1"),
        (_l("You have the right to the HMS training the role needs."), "AML § 3-5"),
    ],
    "manager": [
        (_l("Arbeidstilsynet gives guidance as well as orders: you may ask them."), "AML § 18-1"),
    ],
}

ROLE_NAMES = {
    "worker": _l("Worker"),
    "verneombud": _l("Safety representative (verneombud)"),
    "foreman": _l("Foreman"),
    "manager": _l("Manager (the employer)"),
}

SECTION_NAMES = {
    "employer": _l("The employer"),
    "workers": _l("The workers"),
    "verneombud": _l("The safety representative (verneombud)"),
    "arbeidstilsynet": _l("Arbeidstilsynet's orders"),
}

STATUS_NAMES = {
    "met": _l("Met"),
    "at_risk": _l("At risk"),
    "not_met": _l("Not met"),
    "untracked": _l("Not yet tracked"),
}

ELECTION_NAMES = {
    "election": _l("Elected by the workers"),
    "union": _l("Appointed by the union"),
    "employer": _l("Appointed by the employer (no one was elected)"),
}

TERM_ROLE_NAMES = {"verneombud": _l("Safety representative (verneombud)"), "deputy": _l("Deputy")}

TERM_STATES = {"current": _l("Current"), "ending": _l("Ends soon"), "ended": _l("Ended"), "future": _l("Starts later")}

SANCTION_NAMES = {"none": _l("No sanction"), "fine": _l("Coercive fine (tvangsmulkt)"),
                  "stop": _l("Stop order (stansing)")}

# The 40-hour verneombud course (AML § 6-5), from the competence records, as the register shows it.
COURSE_STATES = {"done": _l("Done"), "waiting": _l("Waiting for approval"), "missing": _l("Not recorded")}


def who_does(endpoint):
    """Who does the fix made on `endpoint`'s page, in the current language, for a person whose role may not open
    it (authz.may_open): from the roles its permission grants (authz.PERMISSIONS). "" when anyone may."""
    permission = required_permission(endpoint)
    if permission is None:
        return ""
    roles = set(roles_with(permission))
    if roles == set(MANAGER):
        return _("A manager does this.")
    if roles == set(LEADS):
        return _("A foreman or a manager does this.")
    if roles == set(STAFF):
        return _("A foreman, the verneombud or a manager does this.")
    return _("Someone with another role on the site does this.")
