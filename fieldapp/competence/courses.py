"""The built-in course types and site tasks: keys stored in records, names translated in code, rules per type.

The employer must see that every worker has the training the work needs (AML § 2-1, § 3-2 (1) b); the
regulations on performing work (forskrift om utførelse av arbeid) chapter 10 name equipment that needs
documented training, § 10-3 certified training (cranes, trucks, earth-moving machines).
"""
from flask import current_app
from flask_babel import lazy_gettext as _l


class Course:
    """A built-in course type. key: what records store; validity_months: None for no expiry (a setting may
    override it, `setting`); blocks: whether a site requirement of it blocks check-in by default."""

    def __init__(self, key, name, validity_months, rule, setting=None, blocks=True):
        self.key = key
        self.name = name
        self.validity_months = validity_months
        self.rule = rule
        self.setting = setting
        self.blocks = blocks
        self.builtin = True


BUILTIN = [
    # HMS-kortforskriften (forskrift om HMS-kort på bygge- og anleggsplasser) § 6: valid two years, and only
    # while the person is employed by the employer that ordered it. Expired card: warn by default.
    Course("hms_card", _l("HMS card"), 24, _l("Valid 2 years, and only while employed"), blocks=False),
    # AML § 3-5: the employer's own HMS training; no expiry.
    Course("hms_training", _l("Employer's HMS training"), None, _l("AML § 3-5, no expiry")),
    # AML § 6-5: the verneombud and the AMU members have at least 40 hours of training; no expiry.
    Course("verneombud_40h", _l("Safety representative and AMU course (40 hours)"), None,
           _l("AML § 6-5, 40 hours, no expiry")),
    Course("first_aid", _l("First aid"), 24, _l("Validity is a setting, 2 years by default"),
           setting="COMPETENCE_FIRST_AID_MONTHS"),
    # Forskrift om utførelse av arbeid § 17-1 (work at height) and chapter 17.
    Course("fall_protection", _l("Fall protection and work at height"), None, _l("Documented training")),
    # Forskrift om utførelse av arbeid § 17-4: scaffolding training by level.
    Course("scaffold_user", _l("Scaffolding: user training"), None, _l("Documented training")),
    Course("scaffold_2_5", _l("Scaffolding: 2 to 5 m"), None, _l("Documented training")),
    Course("scaffold_5_9", _l("Scaffolding: 5 to 9 m"), None, _l("Documented training")),
    Course("scaffold_9", _l("Scaffolding: over 9 m"), None, _l("Documented training")),
    # Norsk brannvernforening's hot work certificate (Varme arbeider): 5 years.
    Course("hot_work", _l("Hot work certificate"), 60, _l("Norsk brannvernforening, 5 years")),
    # Forskrift om utførelse av arbeid § 10-3: certified training, no statutory expiry.
    Course("crane_mobile", _l("Mobile crane (certified)"), None, _l("§ 10-3 certified training, no expiry")),
    Course("crane_tower", _l("Tower crane (certified)"), None, _l("§ 10-3 certified training, no expiry")),
    Course("crane_loader", _l("Loader crane (certified)"), None, _l("§ 10-3 certified training, no expiry")),
    Course("truck", _l("Truck (certified)"), None, _l("§ 10-3 certified training, no expiry")),
    Course("earth_moving", _l("Earth-moving machines (certified)"), None,
           _l("§ 10-3 certified training, no expiry")),
    # Statens vegvesen's handbook N301: work on and near roads.
    Course("road_work", _l("Work on and near roads"), 60, _l("Handbook N301 course")),
]
BY_KEY = {course.key: course for course in BUILTIN}

# The tasks a person can be given on a site; a requirement for a task applies to those given it.
TASKS = {
    "crane_operator": _l("Crane operator"),
    "truck_driver": _l("Truck driver"),
    "machine_operator": _l("Machine operator"),
    "scaffolder": _l("Scaffolder"),
    "hot_work": _l("Hot work"),
    "work_at_height": _l("Work at height"),
    "road_work": _l("Work on and near roads"),
}


def builtin_validity(course):
    """Months a built-in course is valid (a setting may override it), or None."""
    if course.setting:
        return current_app.config.get(course.setting, course.validity_months)
    return course.validity_months
