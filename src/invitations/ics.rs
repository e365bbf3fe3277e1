//! The calendar event (RFC 5545) sent with an invitation and with each announced change:
//! UTC times (no zone to get wrong), the host unit as organizer, the venue, the personal
//! link, and a reminder two hours before.
//!
//! `METHOD:PUBLISH`, with no ATTENDEE: a calendar's "Accept/Decline" buttons would email a
//! reply to the organizer's address, which nobody reads. The answer is given on the personal
//! page, whose link is in the description and the URL. An update keeps the UID and carries
//! a higher SEQUENCE, so calendars replace the event instead of adding a second one.

use icalendar::{Alarm, Calendar, Component, Event, EventLike, Property, Trigger};

use crate::dialogues::model::Dialogue;

pub struct IcsFacts<'a> {
    pub uid: &'a str,
    pub organizer_name: &'a str,
    pub organizer_email: &'a str,
    pub link: &'a str,
    pub reminder_text: &'a str,
}

/// A parameter value (RFC 5545 §3.1), always quoted. A quoted value may hold anything but
/// DQUOTE and control characters, so those are replaced, and the quotes keep `;`, `:` and
/// `,` inside the value: a name can never add parameters such as `ROLE` or `SENT-BY`.
fn quoted_parameter(value: &str) -> String {
    let clean: String = value
        .chars()
        .map(|c| match c {
            '"' => '\'',
            c if crate::text::is_control(c) => ' ',
            c => c,
        })
        .collect();
    format!("\"{}\"", clean.trim())
}

/// Text for a TEXT property: line breaks are escaped by the library; other control
/// characters (never accepted by the input rules, but possible in older rows) become spaces.
fn clean_text(value: &str) -> String {
    value
        .replace("\r\n", "\n")
        .chars()
        .map(|c| {
            if c != '\n' && crate::text::is_control(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// A calendar-address property (ORGANIZER) with its parameters written here.
/// `icalendar` quotes a parameter value only when it holds `:` or `;`, and never removes a
/// DQUOTE from it, so the parameters go into the property's name, already quoted; the
/// library still folds the line.
fn address_property(name: &str, params: &[(&str, String)], email: &str) -> Property {
    let mut head = name.to_string();
    for (key, value) in params {
        head.push(';');
        head.push_str(key);
        head.push('=');
        head.push_str(value);
    }
    let email: String = email
        .chars()
        .filter(|c| !crate::text::is_control(*c))
        .collect();
    Property::new(head, format!("mailto:{email}"))
}

/// The `.ics` text for one invitee: the dialogue as it stands, at its current sequence.
pub fn invitation_event(dialogue: &Dialogue, facts: &IcsFacts<'_>) -> String {
    let organizer = address_property(
        "ORGANIZER",
        &[("CN", quoted_parameter(facts.organizer_name))],
        facts.organizer_email,
    );
    let event = Event::new()
        .uid(facts.uid)
        .summary(&clean_text(&dialogue.title))
        .description(&clean_text(&format!(
            "{}\n{}",
            dialogue.host_unit, facts.link
        )))
        .location(&clean_text(&dialogue.venue))
        .url(facts.link)
        .starts(dialogue.starts_at.and_utc())
        .ends(dialogue.ends_at.and_utc())
        .timestamp(dialogue.updated_at.and_utc())
        .sequence(u32::try_from(dialogue.calendar_sequence).unwrap_or(0))
        .append_property(organizer)
        .alarm(Alarm::display(
            &clean_text(facts.reminder_text),
            Trigger::before_start(chrono::Duration::hours(2)),
        ))
        .done();
    let mut calendar = Calendar::new();
    calendar
        .append_property(Property::new("METHOD", "PUBLISH"))
        .push(event);
    calendar.done().to_string()
}
