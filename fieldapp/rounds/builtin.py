"""The built-in building-site walkaround checklist. Its wording is English msgids, translated when shown, so it
exists in every UI language; a version stores {"msgid": text} for each title and item (rounds.service.text).

Sources: byggherreforskriften (SHA plan, oversiktsliste § 15), byggherreforskriften § 15 and
forskrift om utførelse av arbeid (chapter 17 scaffolding: guard rail at 1 m with knee and toe boards,
a scaffold sign at each access, inspection after storms; chapter 21-22 excavation; chapter 23 fall protection),
internkontrollforskriften § 5 (the substance register), AML § 3-1 (first aid, emergency preparedness).
"""


def _l(text):
    """Marks a msgid for extraction (pybabel -k _l); the text is translated when a round shows it."""
    return text


KEY = "building_site"
NAME = _l("Building site walkaround")

# (section key, category of its findings (models.REPORT_CATEGORIES), title, [(item key, text)])
SECTIONS = [
    ("fence", "other", _l("Site fence and access"), [
        ("fence_closed", _l("The site fence is whole and closed; gates are locked after hours")),
        ("fence_signs", _l("Signs at the entrance: site name, contact person, required protective equipment")),
        ("fence_visitors", _l("Visitors report in and are accompanied")),
    ]),
    ("walkways", "vehicles_traffic", _l("Traffic and walkways"), [
        ("walk_marked", _l("Walkways are marked and kept clear")),
        ("walk_separated", _l("Pedestrians are separated from vehicles")),
        ("walk_stairs", _l("Stairs and ramps are safe, with handrails")),
    ]),
    ("lighting", "other", _l("Lighting"), [
        ("light_work", _l("Work areas are well lit")),
        ("light_walkways", _l("Walkways, stairs and escape routes are lit")),
        ("light_emergency", _l("Emergency lighting works where it is needed")),
    ]),
    ("electrical", "electrical", _l("Electrical installations and tools"), [
        ("el_boards", _l("Site distribution boards are closed, marked and inspected")),
        ("el_cables", _l("Cables are undamaged and hung up or protected from traffic")),
        ("el_tools", _l("Hand tools and leads are undamaged")),
        ("el_rcd", _l("Earth-leakage protection (RCD) is in place")),
    ]),
    ("order", "order_tidiness", _l("Order and storage"), [
        ("order_tidy", _l("The site is tidy: no loose material in walkways")),
        ("order_storage", _l("Material is stored stably and away from edges")),
        ("order_waste", _l("Waste is sorted and removed regularly")),
    ]),
    ("lifting", "lifting", _l("Cranes and lifting"), [
        ("lift_inspected", _l("Cranes and lifting gear are inspected and marked")),
        ("lift_zone", _l("The area under loads is closed off")),
        ("lift_operator", _l("Operators and signallers have the required training")),
    ]),
    ("scaffolding", "falls", _l("Scaffolding"), [
        ("scaf_guardrail", _l("Guard rail at 1 m, with knee and toe boards")),
        ("scaf_sign", _l("A scaffold sign at each access")),
        ("scaf_inspected", _l("Inspected after assembly, regularly and after storms")),
        ("scaf_decking", _l("Decking is complete and secured; ladders and stairs are fixed")),
        ("scaf_anchored", _l("Anchored to the building as the supplier's instructions say")),
    ]),
    ("falls", "falls", _l("Fall protection and openings"), [
        ("fall_edges", _l("Edges and floor openings have guard rails or covers")),
        ("fall_covers", _l("Covers are fixed and marked")),
        ("fall_harness", _l("Harnesses and anchor points are used where guard rails are not possible")),
    ]),
    ("excavation", "falls", _l("Excavation"), [
        ("exc_slopes", _l("Trenches are sloped or shored")),
        ("exc_edges", _l("Edges are fenced off and spoil is kept back from them")),
        ("exc_access", _l("Safe ways in and out of the excavation")),
    ]),
    ("fire", "fire", _l("Fire and hot work"), [
        ("fire_permit", _l("Hot work has a permit and a fire watch")),
        ("fire_extinguishers", _l("Fire extinguishers are in place and checked")),
        ("fire_escape", _l("Escape routes are open and marked")),
        ("fire_gas", _l("Gas cylinders are stored upright and secured")),
    ]),
    ("machines", "machines_tools", _l("Machines and traffic separation"), [
        ("mach_checked", _l("Machines are checked and their guards in place")),
        ("mach_zones", _l("Machine work zones are closed off from people on foot")),
        ("mach_reversing", _l("Reversing is signalled or supervised")),
    ]),
    ("ppe", "protective_equipment", _l("Protective equipment in use"), [
        ("ppe_helmet", _l("Helmets and safety shoes are worn")),
        ("ppe_hivis", _l("High-visibility clothing is worn")),
        ("ppe_task", _l("Eye, hearing and breathing protection is used where the work needs it")),
    ]),
    ("first_aid", "other", _l("First aid and emergency preparedness"), [
        ("aid_kit", _l("First-aid kits and eye wash are in place and full")),
        ("aid_plan", _l("The emergency plan and phone numbers are posted")),
        ("aid_people", _l("People trained in first aid are on site")),
    ]),
    ("documents", "other", _l("Documents"), [
        ("doc_hms_cards", _l("Everyone wears a valid HMS card")),
        ("doc_attendance", _l("The attendance list is kept up to date")),
        ("doc_sha", _l("The SHA plan is available and up to date")),
        ("doc_substances", _l("The substance register and safety data sheets are available")),
    ]),
]


def sections():
    """The checklist as a version stores it: [{"key", "category", "title": {"msgid"}, "items": [...]}]."""
    return [{"key": key, "category": category, "title": {"msgid": title},
             "items": [{"key": item_key, "text": {"msgid": text}} for item_key, text in items]}
            for key, category, title, items in SECTIONS]
