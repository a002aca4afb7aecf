"""The protective-equipment catalogue: names in every UI language and an icon for each built-in item."""
from collections import namedtuple

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from ..db import ReusedSelect
from ..i18n import localized
from ..models import Equipment, SiteEquipment

LABELS = {
    "helmet": _l("Helmet"),
    "safety_shoes": _l("Safety shoes"),
    "hi_vis": _l("High-visibility clothing"),
    "safety_glasses": _l("Safety glasses"),
    "hearing_protection": _l("Hearing protection"),
    "gloves": _l("Gloves"),
    "fall_arrest": _l("Fall-arrest harness"),
    "respiratory_protection": _l("Respiratory protection"),
}

# 24x24 outline drawings, stroke only: they read at a glance in sunlight and need no font.
ICONS = {
    "helmet": "M3 17h18M5 17a7 7 0 0 1 14 0M9 10.5V7.5a3 3 0 0 1 6 0v3",
    "safety_shoes": "M4 6h5v7l6 2c3 1 5 2 5 4v1H4zM4 17h16",
    "hi_vis": "M8 3 4 6v15h16V6l-4-3-4 4zM4 12h16M4 16h16",
    "safety_glasses": "M2 10h20M4 10v3a3 3 0 0 0 6 0v-3M14 10v3a3 3 0 0 0 6 0v-3M10 12h4",
    "hearing_protection": "M5 14a7 7 0 0 1 14 0M3 13h4v7H3zM17 13h4v7h-4z",
    "gloves": "M7 21v-9L5 9V5M9 12V3M12 12V2M15 12V3M18 12V6M7 21h10l1-9",
    "fall_arrest": "M12 2a2 2 0 1 1 0 4 2 2 0 0 1 0-4M8 8h8l-1 6H9zM9 14l-2 8M15 14l2 8M12 6v16",
    "respiratory_protection": "M4 9c2-4 14-4 16 0v4c-2 5-14 5-16 0zM9 12h6M8 15h8M2 9h2M20 9h2",
    "custom": "M12 3 4 6v6c0 5 4 8 8 9 4-1 8-4 8-9V6zM9 12l2 2 4-4",
}


def label(item):
    """The item's name in the request's language: built-in items from the catalogues, an organization's own
    from its `names` (falling back to bokmål, then English: fieldapp/i18n.py localized())."""
    if item.builtin:
        return str(LABELS.get(item.key, item.key))
    return localized(item.names, str(get_locale() or "nb")) or item.key


def icon(item):
    return ICONS.get(item.key) or ICONS["custom"]


def catalogue(organization):
    """Built-in items and the organization's own, in display order."""
    return list(Equipment.select()
                .where(Equipment.builtin | (Equipment.organization == organization))
                .order_by(Equipment.sort_order, Equipment.id))


EquipmentName = namedtuple("EquipmentName", "key builtin names")


def _names_query(organization_id):
    return (Equipment.select(Equipment.key, Equipment.builtin, Equipment.names)
            .where(Equipment.builtin | (Equipment.organization == organization_id))
            .order_by(Equipment.sort_order, Equipment.id))


# The on-site list, polled every 15 s by every open phone, names the missing items: SQL built once (db.ReusedSelect).
_NAMES = ReusedSelect(_names_query, [(Equipment.organization, -7_000_000_005)])


def names(organization_id):
    """{item key: label()} for catalogue(organization_id), in display order: one query, no model objects."""
    return {key: label(EquipmentName(key, builtin, item_names))
            for key, builtin, item_names in _NAMES.rows(organization_id)}


def required_for(site):
    return list(Equipment.select().join(SiteEquipment)
                .where(SiteEquipment.site == site)
                .order_by(Equipment.sort_order, Equipment.id))
