"""What the report's codes are called in the person's language."""
from flask_babel import gettext as _


def reported_kinds():
    """The kinds a person picks on the report form."""
    return {
        "hazard": _("Hazardous condition"),
        "near_miss": _("Near miss"),
        "injury": _("Injury"),
        "property_damage": _("Property damage"),
        "environment": _("Environment"),
    }


def kinds():
    """Every kind a report can have: the reported ones, and those made by other records and followed up as
    reports: a walkaround's finding (fieldapp/rounds) and a meeting's decision (fieldapp/meetings)."""
    return {**reported_kinds(), "finding": _("Walkaround finding"), "decision": _("Meeting decision")}


def categories():
    return {
        "falls": _("Falls"),
        "falling_objects": _("Falling objects"),
        "electrical": _("Electrical"),
        "machines_tools": _("Machines and tools"),
        "vehicles_traffic": _("Vehicles and traffic"),
        "lifting": _("Lifting"),
        "chemicals_dust": _("Chemicals and dust"),
        "fire": _("Fire"),
        "order_tidiness": _("Order and tidiness"),
        "protective_equipment": _("Protective equipment"),
        "other": _("Other"),
    }


def severities():
    return {"low": _("Low"), "medium": _("Medium"), "high": _("High")}


def statuses():
    return {"open": _("Open"), "in_progress": _("In progress"), "closed": _("Closed")}

