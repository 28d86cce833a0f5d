"""English wording. Plain words for staff and residents: no rule ids, no jargon.

Advice follows common building-safety practice: 119 is fire and rescue in
China, 110 the police; lifts are never used during a fire or a flood.
"""

from __future__ import annotations

from edge_agent.text.catalog import Catalog, frozen

EN = Catalog(
    lang="en",
    level_names=frozen(
        {
            "blue": "Blue warning",
            "yellow": "Yellow warning",
            "orange": "Orange warning",
            "red": "Red warning",
            "none": "No warning",
        }
    ),
    level_detail=frozen(
        {
            "blue": "minor",
            "yellow": "moderate",
            "orange": "severe",
            "red": "extreme",
        }
    ),
    hazard_what=frozen(
        {
            "smoke": "Smoke detected",
            "water": "High water level",
            "crowd": "Overcrowding",
            "air_quality": "Poor air quality",
            "generic": "Unusual sensor reading",
            "device": "Sensor problem",
        }
    ),
    hazard_normal=frozen(
        {
            "smoke": "no more smoke is detected",
            "water": "the water level is back to normal",
            "crowd": "the crowd is back to a safe size",
            "air_quality": "the air quality is back to normal",
            "generic": "the reading is back to normal",
            "device": "the sensor is working again",
        }
    ),
    quantity_label=frozen(
        {
            "smoke": "Smoke reading",
            "water": "Water level",
            "crowd": "Crowd",
            "air_quality": "Fine dust (PM2.5)",
            "generic": "Reading",
            "device": "Last reading",
        }
    ),
    event_name=frozen(
        {
            "smoke": "Smoke",
            "water": "High water",
            "crowd": "Overcrowding",
            "air_quality": "Poor air quality",
            "generic": "Unusual reading",
            "device": "Sensor fault",
        }
    ),
    fault_phrase=frozen(
        {
            "stale": "No data from the sensor",
            "stuck": "Sensor reading is stuck",
            "out_of_range": "Sensor gives impossible readings",
            "bad_frames": "Sensor sends garbled data",
            "other": "Sensor fault",
        }
    ),
    fault_phrase_dur=frozen(
        {
            "stale": "No data from the sensor for {dur}",
            "stuck": "Sensor reading has not changed for {dur}",
            "out_of_range": "Sensor has given impossible readings for {dur}",
            "bad_frames": "Sensor has sent garbled data for {dur}",
            "other": "Sensor fault for {dur}",
        }
    ),
    fault_advice=frozen(
        {
            "stale": (
                "Check the sensor's power supply and cable. No data from a sensor does NOT "
                "mean all is clear: until it works again, check the area in person."
            ),
            "stuck": (
                "The sensor may be blocked, dirty or broken: inspect and clean it. Until it "
                "is fixed it cannot warn you, so check the area in person."
            ),
            "out_of_range": (
                "Check the sensor's wiring and mounting. Until it is fixed it cannot warn "
                "you, so check the area in person."
            ),
            "bad_frames": (
                "Check the cable and connectors and keep the cable away from power lines. "
                "Until it is fixed it may miss a real danger."
            ),
            "other": (
                "Check the sensor, its cable and power. Until it is fixed it cannot warn "
                "you, so check the area in person."
            ),
        }
    ),
    fault_urgency=frozen(
        {
            "blue": "Arrange a check within the day.",
            "yellow": "Arrange a check within a few hours.",
            "orange": "Send someone to check it now.",
            "red": "Send someone now and keep watch over the area until it is fixed.",
        }
    ),
    advice=frozen(
        {
            "smoke": frozen(
                {
                    "blue": "Check the area for a smell of smoke or burning and keep watching.",
                    "yellow": (
                        "Send someone to check the area now: look for smoke, a burning smell "
                        "or overheated equipment. Keep fire exits clear."
                    ),
                    "orange": (
                        "Check the area now and be ready to evacuate. Do not use lifts. If you "
                        "see fire or thick smoke, call 119."
                    ),
                    "red": (
                        "Evacuate the area now by the stairs, not the lifts, and call 119. "
                        "Do not go back in."
                    ),
                }
            ),
            "water": frozen(
                {
                    "blue": "Check drains and pumps and watch whether the water keeps rising.",
                    "yellow": (
                        "Clear the drains, start the pumps, get sandbags ready and warn "
                        "drivers parked underground."
                    ),
                    "orange": (
                        "Move vehicles out of the underground garage now. Put sandbags at the "
                        "entrances and keep people out of the lowest level."
                    ),
                    "red": (
                        "Keep everyone out of the underground garage and basement. Do not try "
                        "to move cars now. Switch off power to flooded areas only if it is safe. "
                        "Call 119 if anyone is trapped."
                    ),
                }
            ),
            "crowd": frozen(
                {
                    "blue": "The crowd is growing: watch the entrances and keep walkways clear.",
                    "yellow": (
                        "Slow down entry and send staff to guide people and keep them moving."
                    ),
                    "orange": (
                        "Stop admitting people. Open extra exits and guide people out calmly."
                    ),
                    "red": (
                        "Stop all entry now, open every exit, spread the crowd out and call "
                        "110 for help."
                    ),
                }
            ),
            "air_quality": frozen(
                {
                    "blue": (
                        "Children, older people and people with asthma or heart disease should "
                        "limit time outdoors."
                    ),
                    "yellow": (
                        "Close windows and run air purifiers if you have them. Sensitive "
                        "people should stay indoors."
                    ),
                    "orange": (
                        "Avoid outdoor activity. Wear a well-fitting mask (N95/KN95) outside."
                    ),
                    "red": (
                        "Stay indoors with windows closed and cancel outdoor activities. Seek "
                        "medical help if breathing becomes difficult."
                    ),
                }
            ),
            "generic": frozen(
                {
                    "blue": "Keep an eye on this reading.",
                    "yellow": "Send someone to check the area.",
                    "orange": "Check the area now and follow your site's emergency plan.",
                    "red": (
                        "Follow your site's emergency plan now. Call 110 or 119 if anyone is "
                        "in danger."
                    ),
                }
            ),
            # Device advice is built from fault_advice + fault_urgency; these are
            # used only when a device event carries no recognisable fault.
            "device": frozen(
                {
                    "blue": "Check the sensor within the day.",
                    "yellow": "Check the sensor within a few hours.",
                    "orange": "Check the sensor now.",
                    "red": "Check the sensor now and keep watch over the area until it is fixed.",
                }
            ),
        }
    ),
    cleared_advice=frozen(
        {
            "smoke": (
                "If people were evacuated, wait until staff say it is safe before going back in."
            ),
            "water": (
                "Check the garage and basement for damage and debris before moving vehicles back."
            ),
            "crowd": "Entry can go back to normal; keep watching the entrances.",
            "air_quality": "Windows can be opened again.",
            "generic": "No further action is needed.",
            "device": "The sensor's readings can be trusted again.",
        }
    ),
    title=frozen(
        {
            "raised": "{level}: {what} – {where}",
            "escalated": "Raised to {level}: {what} – {where}",
            "deescalated": "Lowered to {level}: {what} – {where}",
            "cleared": "All clear: {normal} – {where}",
            "acknowledged": "Acknowledged, {level}: {what} – {where}",
            "resolved": "Closed, {level}: {what} – {where}",
            "acknowledged_nolevel": "Acknowledged: {what} – {where}",
            "resolved_nolevel": "Closed: {what} – {where}",
        }
    ),
    opening=frozen(
        {
            "raised": "{what} at {where}.",
            "escalated": "{what} at {where} is getting worse: now {level}.",
            "deescalated": "{what} at {where} is easing: lowered to {level}. It is not over yet.",
            "cleared": "All clear at {where}: {normal}.",
            "acknowledged": (
                "{what} at {where}: acknowledged by {by}. The alert stays open until it clears."
            ),
            "resolved": "{what} at {where}: closed by {by}{verdict}.",
        }
    ),
    verdict=frozen({"true_alarm": " as a real event", "false_alarm": " as a false alarm"}),
    unit_names=frozen(
        {
            "m": "m",
            "cm": "cm",
            "mm": "mm",
            "ug/m3": "µg/m³",
            "persons": "people",
            "persons/m2": "people/m²",
            "%": "%",
            "ppm": "ppm",
            "degC": "°C",
        }
    ),
    durations=frozen({"s": "{n} s", "min": "{n} min", "h": "{n} h"}),
    months=frozen(
        {
            str(i): name
            for i, name in enumerate(
                (
                    "Jan",
                    "Feb",
                    "Mar",
                    "Apr",
                    "May",
                    "Jun",
                    "Jul",
                    "Aug",
                    "Sep",
                    "Oct",
                    "Nov",
                    "Dec",
                ),
                start=1,
            )
        }
    ),
    words=frozen(
        {
            # location
            "building": "Building {b}",
            "floor": "floor {f}",
            "place_sep": ", ",
            "unknown_place": "an unknown location",
            # how bad
            "level_line": "{level} ({detail}).",
            "reading": "{label}: {value}",
            "rising": "rising {amount} in {window}",
            "falling": "falling {amount} in {window}",
            "trend_sep": ", ",
            "limit": " (limit for this level: {limit})",
            "anomaly": ", unusual compared with recent readings",
            "sentence_end": ".",
            # labels
            "todo": "What to do: {advice}",
            "note": "Note: {note}",
            "sensor": "Sensor: {sensor}",
            "someone": "staff",
            # time
            "time": "Time: {hhmm} UTC, {date}{unsynced}",
            "date": "{day} {month} {year}",
            "unsynced": " (the node's clock is not synchronised: the time may be wrong)",
            "time_unknown": "Time: unknown",
            "line_sep": "\n",
            "space": " ",
        }
    ),
)
